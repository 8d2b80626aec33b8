# Release builds of hubtriage. Needs Go, make, and sha256sum (or shasum).
#
#   make dist                          # every platform below and the Lambda zip, into dist/
#   make dist PLATFORMS=linux/amd64    # only the platforms named
#   make dist DIST_DIR=/tmp/out
#   make clean
#
# dist/ then holds hubtriage-<os>-<arch> for each platform, the Lambda
# deployment package hubtriage-lambda.zip (built by deploy/Makefile), and
# SHA256SUMS over all of them (check with `sha256sum -c SHA256SUMS`).
# `hubtriage --version` prints the VCS revision the binary was built from.

PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST_DIR  ?= dist
GO        ?= go
SHA256SUM ?= $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo shasum -a 256)

DIST     := $(abspath $(DIST_DIR))
BINARIES := $(foreach p,$(PLATFORMS),hubtriage-$(subst /,-,$(p)))
LAMBDA   := hubtriage-lambda.zip

.PHONY: dist clean FORCE

dist: $(addprefix $(DIST)/,$(BINARIES) $(LAMBDA))
	cd $(DIST) && $(SHA256SUM) $(BINARIES) $(LAMBDA) > SHA256SUMS
	@echo "built $(DIST): $(BINARIES) $(LAMBDA) SHA256SUMS"

# -buildvcs=auto overrides a GOFLAGS=-buildvcs=false, so that a build from
# a git checkout records its revision.
$(DIST)/$(LAMBDA): FORCE
	$(MAKE) -C deploy zip BUILD_DIR=$(DIST)/lambda-build GO=$(GO)
	mv $(DIST)/lambda-build/$(LAMBDA) $@
	rm -rf $(DIST)/lambda-build

$(DIST)/hubtriage-%: FORCE
	mkdir -p $(DIST)
	GOOS=$(word 1,$(subst -, ,$*)) GOARCH=$(word 2,$(subst -, ,$*)) CGO_ENABLED=0 \
		$(GO) build -trimpath -buildvcs=auto -ldflags='-s -w' -o $@ ./cmd/hubtriage

clean:
	rm -rf $(DIST)
