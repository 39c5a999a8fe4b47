# otelcol-logx: `make run` builds and runs the collector, `make test` tests it.
# Every tool is installed here, pinned, into ./bin; nothing is needed by hand
# but Go and (for some tests) Debian packages that scripts/deps.sh installs.

GO          ?= go
BIN         := $(CURDIR)/bin
BUILD       := $(CURDIR)/_build
OTELCOL     := $(BUILD)/otelcol-logx
OCB_VERSION := v0.162.0
GOLANGCI_LINT_VERSION := v2.15.0
NFPM_VERSION := v2.43.0
OCB         := $(BIN)/builder-$(OCB_VERSION)
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
NFPM        := $(BIN)/nfpm-$(NFPM_VERSION)
# The Debian version of components.Version: 0.1.0-dev -> 0.1.0~dev.
DEB_VERSION  = $(shell sed -n 's/^\tVersion *= "\(.*\)"/\1/p' components/builderconfig.go | tr - '~')-1
CONFIGS     := $(wildcard configs/*.yaml)
# The state directory of configs/default.yaml (sockets, FIFOs, queues).
export LOGX_STATE_DIR ?= $(CURDIR)/.state
GOTEST_FLAGS ?= -race -timeout 20m

.PHONY: all build build-pgo run test test-unit unit-test validate-configs dist-test deps package package-test alerts-test bench lint fmt builder-config deps clean generate check-generated

all: build

$(OCB):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	mv $(BIN)/builder $@

$(NFPM):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
	mv $(BIN)/nfpm $@

$(GOLANGCI_LINT):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/golangci-lint $@

## builder-config: regenerate builder-config.yaml from components/ and go.mod
builder-config:
	$(GO) run ./components/cmd/genbuilder

## build: OCB -> _build/otelcol-logx
build: $(OCB)
	$(OCB) --config builder-config.yaml

## build-pgo: the same, with the profile in distribution/pgo/default.pgo
build-pgo: $(OCB)
	$(OCB) --config builder-config.yaml --skip-compilation
	cd $(BUILD) && CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -pgo=$(CURDIR)/distribution/pgo/default.pgo -o otelcol-logx .

## run: build, then run the collector on configs/default.yaml until Ctrl-C
run: build
	@mkdir -p $(LOGX_STATE_DIR)
	$(OTELCOL) --config configs/default.yaml

## test-unit: go test -race ./...: needs only Go, any user, installs nothing
test-unit:
	$(GO) test $(GOTEST_FLAGS) ./...

## test: everything CI runs (as root on Debian): the Debian tools the
## interop tests need, every Go test with -tags interop, then the checks of
## the built binary: configs, component list, .deb, alert rules, fault tests
test: deps interop-test validate-configs dist-test package-test alerts-test resilience-test-short partial-failure-test

## deps: Debian packages the tests need (syslog-ng, systemd-journal-remote, zstd, ...)
deps:
	bash scripts/deps.sh

.PHONY: interop-test
interop-test:
	$(GO) test $(GOTEST_FLAGS) -tags interop ./...

# unit-test: the old name of test-unit.
unit-test: test-unit

validate-configs: build
	@mkdir -p $(LOGX_STATE_DIR)
	@for f in $(CONFIGS); do \
		echo "validate $$f"; \
		$(OTELCOL) validate --config $$f || exit 1; \
	done

## dist-test: the built binary lists every component of components/
dist-test: build
	LOGX_BIN=$(OTELCOL) $(GO) test -tags dist -run TestBinaryListsEveryComponent -count=1 ./components/

## package: the .deb (binary built with the profile in distribution/pgo,
## systemd units, default config, sysctl setting, system user)
package: build-pgo $(NFPM)
	@mkdir -p $(BUILD)/package
	gzip -9n < distribution/package/changelog > $(BUILD)/package/changelog.Debian.gz
	gzip -9n < README.md > $(BUILD)/package/README.md.gz
	rm -f $(BUILD)/otelcol-logx_*.deb
	LOGX_DEB_VERSION=$(DEB_VERSION) $(NFPM) package --config distribution/package/nfpm.yaml --packager deb --target $(BUILD)/

## package-test: install the .deb with dpkg, verify units, run it, lintian, remove, purge
package-test: package
	bash distribution/package/test.sh

## overload-test: tenantbuffer at full scale: tenants jump 1,000 -> 40,000 (make test runs a smaller one)
.PHONY: overload-test
overload-test:
	TENANTBUFFER_OVERLOAD=full $(GO) test -race -count=1 -run TestOverloadTenantSpike -v ./exporter/tenantbufferexporter/

## alerts-test: promtool checks and unit-tests the Prometheus alert rules
alerts-test:
	bash scripts/promtool.sh $(BIN)/promtool
	$(BIN)/promtool check rules distribution/prometheus/alerts.yaml
	cd distribution/prometheus && $(BIN)/promtool test rules alerts_test.yaml

## bench: Go benchmarks (ns/op and allocs/op), then the scenarios against
## syslog-ng and rsyslog (bench/run.sh; LOGX_BENCH_LINES=2000000 for the full
## scale). The report goes to _build/bench/results-<time>.md, never to docs/
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	LOGX_BIN=$(OTELCOL) bash bench/run.sh

## bench-doc: append a bench report to docs/performance.md, deliberately:
## the newest _build/bench/results-*.md, or BENCH_RESULTS=<file>
.PHONY: bench-doc pgo-profile
bench-doc:
	@f="$${BENCH_RESULTS:-$$(ls -t $(BUILD)/bench/results-*.md 2>/dev/null | head -1)}"; \
	if [ -z "$$f" ] || [ ! -s "$$f" ]; then echo "bench-doc: no report (make bench first)"; exit 1; fi; \
	cat "$$f" >> docs/performance.md; echo "bench-doc: appended $$f to docs/performance.md"

## pgo-profile: CPU profiles of S1, S4 (stream, datagram, FIFO at 50k/s) and
## S5, merged into distribution/pgo/default.pgo (what build-pgo compiles with)
pgo-profile: build
	LOGX_BIN=$(OTELCOL) bash distribution/pgo/collect.sh

## resilience-test: fault tests against the built binary, full scale, with the
## 10-minute soak: netns + nftables partition, kill -9, disk full (root)
.PHONY: resilience-test resilience-test-short
resilience-test: build
	LOGX_BIN=$(OTELCOL) LOGX_RESILIENCE=full $(GO) test -tags resilience,soak -race -count=1 -timeout 40m -v ./bench/resilience/

## resilience-test-short: the same at reduced scale, without the soak (make test)
resilience-test-short: build
	LOGX_BIN=$(OTELCOL) $(GO) test -tags resilience -race -count=1 -timeout 30m -v ./bench/resilience/

## partial-failure-test: one of six Kafka partitions failing for 60 s at
## 20,000 records/s through tier 2's exporter (make test; interop-test runs
## it under the race detector only at 5,000 records/s for 5 s, the most
## the race detector leaves room for)
.PHONY: partial-failure-test
partial-failure-test:
	LOGX_RESILIENCE=full $(GO) test -count=1 -timeout 10m -v -run '^TestPartialFailureStaysPartial$$' ./exporter/kafkatopicsexporter/

## generate: each component's internal/metadata, generated tests, README
## status and documentation.md from its metadata.yaml (mdatagen, pinned in
## internal/tools/go.mod: its own module, so its older collector
## dependencies stay out of go.mod; `go tool` fetches it on first use)
METADATA_FILES := $(wildcard receiver/*/metadata.yaml exporter/*/metadata.yaml processor/*/metadata.yaml connector/*/metadata.yaml extension/*/metadata.yaml)
generate:
	@for f in $(METADATA_FILES); do \
		echo "mdatagen $$f"; \
		(cd $$(dirname $$f) && $(GO) tool -modfile=$(CURDIR)/internal/tools/go.mod mdatagen metadata.yaml) || exit 1; \
	done

## check-generated: fails when a metadata.yaml and what it generates disagree
check-generated: generate
	@git diff --exit-code -- $(dir $(METADATA_FILES)) || { echo "generated files are out of date: run make generate and commit"; exit 1; }
	@out=$$(git ls-files --others --exclude-standard -- $(dir $(METADATA_FILES))); if [ -n "$$out" ]; then echo "untracked generated files: run make generate and commit:"; echo "$$out"; exit 1; fi

## lint: go.mod tidy, then golangci-lint with .golangci.yml: gofmt and
## goimports, go vet, staticcheck, errcheck, gosec, testifylint (each check
## runs once, there), and generated files up to date
lint: $(GOLANGCI_LINT) check-generated
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	$(GOLANGCI_LINT) run ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BUILD) $(LOGX_STATE_DIR)
