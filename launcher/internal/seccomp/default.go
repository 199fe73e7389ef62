package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Default returns docker's default profile (moby's profiles/seccomp, with
// the changes below) resolved for caps, the container's effective
// capabilities ("CAP_SYS_ADMIN"): what docker only allows with a
// capability is allowed here only when caps holds it.
//
//	CAP_SYS_ADMIN       mount, umount2, unshare, setns, the new mount API,
//	                    clone with CLONE_NEW* flags, clone3, bpf,
//	                    perf_event_open, sethostname, quotactl, syslog, ...
//	CAP_SYS_BOOT        reboot
//	CAP_SYS_MODULE      init_module, finit_module, delete_module
//	CAP_SYS_PTRACE      kcmp, pidfd_getfd, process_madvise
//	CAP_SYS_TIME        settimeofday, stime, clock_settime(64)
//	CAP_SYS_PACCT       acct
//	CAP_SYS_RAWIO       iopl, ioperm
//	CAP_SYS_NICE        mbind, get/set_mempolicy, set_mempolicy_home_node
//	CAP_SYS_CHROOT      chroot
//	CAP_SYS_TTY_CONFIG  vhangup
//	CAP_SYSLOG          syslog
//	CAP_DAC_READ_SEARCH open_by_handle_at
//	CAP_BPF, CAP_PERFMON  bpf, perf_event_open
//
// Everything else off the allowlist fails with EPERM (keyctl, add_key,
// kexec_*, swapon, userfaultfd, io_uring, ...). clone3 fails with ENOSYS
// without CAP_SYS_ADMIN, so libc falls back to clone(2), whose flags the
// filter can see. Where docker has loosened its profile we keep the
// stricter rule: unshare needs CAP_SYS_ADMIN (the newest moby profile
// allows it to everyone, leaving the kernel to refuse namespaces).
func Default(caps []string) *specs.LinuxSeccomp {
	p, err := resolve(defaultProfile(), caps, func(kernelVersion) (bool, error) { return true, nil })
	if err != nil {
		panic(fmt.Sprintf("seccomp: the default profile does not resolve: %v", err))
	}
	return p
}

// Address families socket(2) may not create: AF_ALG reaches the kernel's
// crypto code (CVE-2026-31431), AF_VSOCK the host's virtual machines.
// Families past AF_MCTP did not exist when the profile was written.
const (
	afAlg   = 38
	afVsock = 40
	afMctp  = 45
)

// cloneNamespaces are the clone(2) flags that make namespaces.
const cloneNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

func defaultProfile() *dockerProfile {
	eperm, enosys := uint(unix.EPERM), uint(unix.ENOSYS)
	allow := func(names ...string) dockerSyscall {
		return dockerSyscall{Names: names, Action: specs.ActAllow}
	}
	withCap := func(c string, names ...string) dockerSyscall {
		s := allow(names...)
		s.Includes = &condition{Caps: []string{c}}
		return s
	}
	arg0 := func(op specs.LinuxSeccompOperator, v uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: 0, Value: v, Op: op}
	}
	socket := func(args ...specs.LinuxSeccompArg) dockerSyscall {
		s := allow("socket")
		s.Args = args
		return s
	}
	personality := func(v uint64) dockerSyscall {
		s := allow("personality")
		s.Args = []specs.LinuxSeccompArg{arg0(specs.OpEqualTo, v)}
		return s
	}
	cloneWithoutNamespaces := allow("clone")
	cloneWithoutNamespaces.Args = []specs.LinuxSeccompArg{{Index: 0, Value: cloneNamespaces, ValueTwo: 0, Op: specs.OpMaskedEqual}}
	cloneWithoutNamespaces.Excludes = &condition{Caps: []string{"CAP_SYS_ADMIN"}}
	clone3NoSys := dockerSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys,
		Excludes: &condition{Caps: []string{"CAP_SYS_ADMIN"}}}

	return &dockerProfile{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &eperm,
		ArchMap: []archMapEntry{
			{Arch: specs.ArchX86_64, SubArches: []specs.Arch{specs.ArchX86, specs.ArchX32}},
			{Arch: specs.ArchAARCH64, SubArches: []specs.Arch{specs.ArchARM}},
		},
		Syscalls: []dockerSyscall{
			allow(defaultAllowlist...),
			socket(arg0(specs.OpLessThan, afAlg)),
			socket(arg0(specs.OpGreaterThan, afAlg), arg0(specs.OpLessThan, afVsock)),
			socket(arg0(specs.OpGreaterThan, afVsock), arg0(specs.OpLessEqual, afMctp)),
			// Linux's default, the query, and the 32-bit ones (PER_LINUX32,
			// UNAME26) that uname -m and setarch i386 need.
			personality(0x0), personality(0x8), personality(0x20000), personality(0x20008), personality(0xffffffff),
			withCap("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
			withCap("CAP_SYS_ADMIN", "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
				"fspick", "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr",
				"mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl",
				"quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"),
			cloneWithoutNamespaces,
			clone3NoSys,
			withCap("CAP_SYS_BOOT", "reboot"),
			withCap("CAP_SYS_CHROOT", "chroot"),
			withCap("CAP_SYS_MODULE", "delete_module", "init_module", "finit_module"),
			withCap("CAP_SYS_PACCT", "acct"),
			// As docker on kernels from 4.8, where ptrace can no longer
			// get around the filter: strace and gdb work in a container.
			allow("ptrace", "process_vm_readv", "process_vm_writev"),
			withCap("CAP_SYS_PTRACE", "kcmp", "pidfd_getfd", "process_madvise"),
			withCap("CAP_SYS_RAWIO", "iopl", "ioperm"),
			withCap("CAP_SYS_TIME", "settimeofday", "stime", "clock_settime", "clock_settime64"),
			withCap("CAP_SYS_TTY_CONFIG", "vhangup"),
			withCap("CAP_SYS_NICE", "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
			withCap("CAP_SYSLOG", "syslog"),
			withCap("CAP_BPF", "bpf"),
			withCap("CAP_PERFMON", "perf_event_open"),
		},
	}
}

// defaultAllowlist is what docker allows every container, whatever its
// capabilities (moby/profiles seccomp/default_linux.go, less unshare).
// Names other architectures use are harmless here: the compiler skips
// names x86 does not have.
var defaultAllowlist = []string{
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "cachestat",
	"capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
	"clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
	"dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
	"exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
	"fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
	"fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
	"fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
	"futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu",
	"getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
	"getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
	"getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
	"getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
	"get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
	"io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
	"io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
	"listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
	"lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
	"memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
	"mmap", "mmap2", "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
	"mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
	"mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
	"munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
	"pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
	"pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
	"prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2",
	"read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename",
	"renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction",
	"rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
	"sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
	"sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
	"sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
	"seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
	"sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
	"setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
	"setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
	"set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat",
	"shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
	"sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
	"statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee",
	"tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
	"timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
	"timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
	"truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
	"utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
	"write", "writev",
}
