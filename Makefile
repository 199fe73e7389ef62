# stdcontainer — static Go, no daemon. `make run` and `make test` are the
# two commands a new user needs; everything lands in out/.

GO          ?= go
GOBUILD     := CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '-s -w -buildid='
OUT         := out
BIN         := $(OUT)/bin
GOFILES     := $(shell find . -name '*.go' -not -path './out/*')
GOSRC       := $(GOFILES) go.mod go.sum
FUZZTIME    ?= 10s
export SOURCE_DATE_EPOCH ?= 0

.PHONY: all build minimal-image example-image run test unit e2e fuzz vet bench bench-init matrix clean

all: build

build: $(BIN)/init $(BIN)/mkrootfs $(BIN)/launcher

# The init is built without inlining: 28 KB smaller (its size budget is
# 1,600,000 bytes), at no start-up cost make bench-init can measure.
$(BIN)/init: $(GOSRC)
	$(GOBUILD) -gcflags=all=-l -o $@ ./init

$(BIN)/mkrootfs: $(GOSRC)
	$(GOBUILD) -o $@ ./build

$(BIN)/launcher: $(GOSRC)
	$(GOBUILD) -o $@ ./launcher

# The smallest compliant image: /sbin/init (which runs the RFC probe), os-release,
# passwd/group and the mount points. No resolv.conf: the runtime injects it.
minimal-image: $(BIN)/init $(BIN)/mkrootfs
	$(BIN)/mkrootfs -o $(OUT)/rootfs --name minimal
	$(BIN)/mkrootfs -o $(OUT)/minimal.tar.zst --name minimal
	$(BIN)/mkrootfs -o $(OUT)/minimal.cpio.zst --name minimal
	@du -sb $(OUT)/rootfs $(OUT)/minimal.tar.zst $(OUT)/minimal.cpio.zst

# A runnable image of one static app: the example HTTP server (examples/hello),
# socket-activation aware; run it with
#   out/bin/launcher run --rm --listen tcp:127.0.0.1:8080 out/example
example-image: $(BIN)/init $(BIN)/mkrootfs $(BIN)/hello
	$(BIN)/mkrootfs -o $(OUT)/example --name example --app $(BIN)/hello:/usr/local/bin/hello --cmd /usr/local/bin/hello

$(BIN)/hello: $(GOSRC)
	$(GOBUILD) -o $@ ./examples/hello

# The README's first command: the minimal image's RFC probe, through the launcher.
run: minimal-image $(BIN)/launcher
	@if [ "$$(id -u)" != 0 ]; then echo "make run: the launcher needs root (namespaces, mounts); try: sudo make run" >&2; exit 1; fi
	$(BIN)/launcher run --rm $(OUT)/rootfs

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $(GOFILES))" || { gofmt -l $(GOFILES); echo "gofmt needed on the files above" >&2; exit 1; }

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

# End-to-end tests need root; with STDC_E2E=require they fail instead of skipping.
e2e: build
	$(GO) test -count=1 -timeout 8m ./e2e/

# A short run of every fuzz target (see the script for the one retry).
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

test: vet unit e2e fuzz

# make bench: every benchmark (scripts/bench-*.sh write raw results), then
# scripts/benchreport renders out/bench/report.md and its SVG charts, copies
# them to docs/bench/ and rewrites README.md's block between the bench
# markers. Nothing there is edited by hand.
BENCH       := $(OUT)/bench
BENCH_META   = printf 'date\t%s\nkernel\t%s\ncpus\t%s\nload\t%s\n' "$$(date -u '+%F %H:%M UTC')" "$$(uname -r)" "$$(nproc)" "$$(cut -d' ' -f1-3 /proc/loadavg)"

$(BIN)/tcpbench: $(GOSRC)
	$(GOBUILD) -o $@ ./scripts/tcpbench

$(BIN)/benchreport: $(GOSRC)
	$(GOBUILD) -o $@ ./scripts/benchreport

bench: build minimal-image $(BIN)/tcpbench $(BIN)/benchreport
	rm -rf $(BENCH) && mkdir -p $(BENCH)/raw
	$(BENCH_META) > $(BENCH)/raw/meta.tsv
	STDC_BENCH_RAW=$(BENCH)/raw scripts/bench-launcher.sh
	STDC_BENCH_RAW=$(BENCH)/raw scripts/bench-init.sh
	$(BIN)/benchreport -raw $(BENCH)/raw -out $(BENCH) -docs docs/bench -readme README.md
	@echo "make bench: $(BENCH)/report.md; published to docs/bench/ and README.md"

# Only the init's overhead and the image sizes, printed (nothing published).
bench-init: minimal-image $(BIN)/benchreport
	rm -rf $(OUT)/bench-init && mkdir -p $(OUT)/bench-init/raw
	$(BENCH_META) > $(OUT)/bench-init/raw/meta.tsv
	STDC_BENCH_RAW=$(OUT)/bench-init/raw scripts/bench-init.sh
	$(BIN)/benchreport -raw $(OUT)/bench-init/raw -out $(OUT)/bench-init
	@cat $(OUT)/bench-init/report.md

# The RFC support matrix, measured: the minimal image's probe under the
# launcher and every peer runtime (installed when missing), in a throwaway
# network and mount namespace; writes out/matrix.md, out/matrix.json and
# the README's matrix section.
matrix: build minimal-image $(BIN)/matrix
	scripts/matrix.sh

$(BIN)/matrix: $(GOSRC)
	$(GOBUILD) -o $@ ./scripts/matrix

clean:
	rm -rf $(OUT)
