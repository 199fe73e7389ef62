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

.PHONY: all build minimal-image example-image run test unit e2e fuzz vet bench bench-init clean

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

bench: build
	scripts/bench-launcher.sh

bench-init: minimal-image
	scripts/bench-init.sh

clean:
	rm -rf $(OUT)
