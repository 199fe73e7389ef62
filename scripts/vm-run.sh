#!/usr/bin/env bash
# Boot a kernel and an initramfs under qemu and print the serial console.
#
#   scripts/vm-run.sh KERNEL INITRAMFS [APPEND...]
#
# KERNEL is a bzImage (e.g. Debian's /boot/vmlinuz-*, package
# linux-image-amd64), INITRAMFS a newc cpio archive (plain, gzip or zstd, or
# several concatenated). APPEND words are added to the kernel command line
# after "console=ttyS0"; boot our init from an initramfs with
# `rdinit=/sbin/init` (the kernel runs /init by default).
#
# qemu-system-x86_64 runs with TCG (no KVM: /dev/kvm is unusable on our
# hosts), -nographic and -no-reboot, so a guest power-off or reboot ends
# qemu. The console (ttyS0) goes to stdout, and also to $VM_CONSOLE_LOG when
# that is set. Exits with qemu's status: 0 after a guest power-off, 124 when
# the timeout killed it.
#
# Environment:
#   VM_TIMEOUT    seconds before qemu is killed (default 120)
#   VM_MEM        guest memory (default 512M)
#   VM_SMP        guest CPUs (default 1)
#   VM_QEMU_ARGS  more qemu arguments, split on spaces (e.g. a NIC:
#                 "-netdev user,id=n0 -device e1000,netdev=n0")
#   VM_CONSOLE_LOG  a file to copy the console to
#   QEMU          the qemu binary (default qemu-system-x86_64)
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
fi
kernel=$1 initramfs=$2
shift 2
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || { echo "vm-run: $qemu missing (apt-get install -y qemu-system-x86)" >&2; exit 2; }
for f in "$kernel" "$initramfs"; do
  [ -r "$f" ] || { echo "vm-run: cannot read $f" >&2; exit 2; }
done

# shellcheck disable=SC2206 # VM_QEMU_ARGS is split on purpose
extra=(${VM_QEMU_ARGS:-})
cmd=(timeout -k 5 "${VM_TIMEOUT:-120}"
  "$qemu" -accel tcg -m "${VM_MEM:-512M}" -smp "${VM_SMP:-1}"
  -nographic -no-reboot -serial mon:stdio
  -kernel "$kernel" -initrd "$initramfs"
  -append "console=ttyS0 $*"
  "${extra[@]}")

# stdin is /dev/null: the console is output only, and qemu leaves the
# caller's terminal alone.
if [ -n "${VM_CONSOLE_LOG:-}" ]; then
  set +e
  "${cmd[@]}" </dev/null | tee "$VM_CONSOLE_LOG"
  status=${PIPESTATUS[0]}
  exit "$status"
fi
exec "${cmd[@]}" </dev/null
