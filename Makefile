# mxmigrate: the two commands a newcomer needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/mxmigrate
WORK     := .mxmigrate
DEMO_OUT := $(WORK)/demo
SAMPLE   := testdata/sample.tar.gz
# Test dependencies (MinIO, Azurite, staticcheck) are installed here once.
CACHE    ?= $(or $(MXTEST_CACHE),$(HOME)/.cache/mxmigrate)
TEST_FLAGS ?= -race -timeout 75m
# The six targets of `make cross` and `make release`.
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CACHE)/bin/staticcheck-$(STATICCHECK_VERSION)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build demo test test-short test-deps vet cross release fmt fuzz sample bench bench-data clean

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/mxmigrate

# The main job on the embedded default: the committed sample backup into a
# throwaway PostgreSQL under $(WORK) and a local folder, then verification.
demo: build
	scripts/deps.sh postgres
	$(BIN) inspect $(SAMPLE)
	$(BIN) migrate $(SAMPLE) --db local --files "file://$(CURDIR)/$(DEMO_OUT)/files" --create --if-exists drop --report $(DEMO_OUT)-report.json
	$(BIN) verify $(SAMPLE) --db local --files "file://$(CURDIR)/$(DEMO_OUT)/files" --checksums --report $(DEMO_OUT)-verify.json
	@echo "demo: reports in $(DEMO_OUT)-report.json and $(DEMO_OUT)-verify.json; files in $(DEMO_OUT)/files"

test-deps:
	scripts/deps.sh all

# Everything, with -race, against real PostgreSQL, MinIO, Azurite and SQL
# Server (the stand-in in ../shared/mssql-standin, or MSSQL_TEST_DSN): a
# missing server fails; only SQL Server may be absent, and then its tests
# skip saying why (scripts/test.sh).
test: test-deps
	GO=$(GO) scripts/test.sh $(TEST_FLAGS) ./...

# The fast tier: no servers, no child processes, under a minute.
test-short:
	$(GO) test -short ./...

vet: cross $(STATICCHECK)
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }
	$(STATICCHECK) ./...
	$(GO) mod tidy -diff

$(STATICCHECK):
	mkdir -p $(CACHE)/bin/staticcheck.tmp
	GOBIN=$(CACHE)/bin/staticcheck.tmp $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(CACHE)/bin/staticcheck.tmp/staticcheck $@ && rmdir $(CACHE)/bin/staticcheck.tmp

# Every package (tests included) vets, and the binary builds, for each of
# the six targets.
cross:
	@set -e; for p in $(PLATFORMS); do \
	  echo "cross: $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/mxmigrate; \
	done

# The six binaries and their SHA-256 checksums in dist/.
release:
	rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "release: dist/mxmigrate-$(VERSION)-$$os-$$arch$$ext"; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" \
	    -o dist/mxmigrate-$(VERSION)-$$os-$$arch$$ext ./cmd/mxmigrate; \
	done
	cd dist && { sha256sum mxmigrate-* 2>/dev/null || shasum -a 256 mxmigrate-*; } > SHA256SUMS && cat SHA256SUMS

# Runs each fuzz target for a while (FUZZTIME, default 60s).
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./snapshot/pgdump/ -run '^$$' -fuzz '^FuzzReadTOC$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./snapshot/pgdump/ -run '^$$' -fuzz '^FuzzScanData$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s

# Regenerates the committed sample with the real pg_dump.
sample:
	scripts/deps.sh postgres
	$(GO) run ./internal/samplegen/cmd/samplegen -out $(SAMPLE)

clean:
	rm -rf bin $(WORK)

# Benchmarks (bench/README.md): a Mendix-shaped backup made with the real
# pg_dump, cached under bench/data/, then mxmigrate against the manual tools.
SIZE    ?= 1g
RUNS    ?= 3
PROFILE ?=
bench-data:
	$(GO) run ./bench/harness data -size $(SIZE)

bench:
	$(GO) run ./bench/harness run -size $(SIZE) -runs $(RUNS) -profile "$(PROFILE)"
