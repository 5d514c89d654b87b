# mxmigrate: the two commands a newcomer needs are `make demo` and `make test`.
GO       ?= go
BIN      := bin/mxmigrate
WORK     := .mxmigrate
DEMO_OUT := $(WORK)/demo
SAMPLE   := testdata/sample.tar.gz
# Tests start real servers; with this set a missing one fails instead of skipping.
TEST_ENV := MXTEST_REQUIRE_SERVERS=1
TEST_FLAGS ?= -timeout 45m

.PHONY: build demo test test-deps vet fmt fuzz sample bench bench-data clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/mxmigrate

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

test: test-deps
	$(TEST_ENV) $(GO) test $(TEST_FLAGS) ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt would change the files above"; exit 1; }

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
