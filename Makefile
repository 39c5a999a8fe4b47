# otelcol-logx: `make run` builds and runs the collector, `make test` tests it.
# Every tool is installed here, pinned, into ./bin; nothing is needed by hand
# but Go and (for some tests) Debian packages that scripts/deps.sh installs.

GO          ?= go
BIN         := $(CURDIR)/bin
BUILD       := $(CURDIR)/_build
OTELCOL     := $(BUILD)/otelcol-logx
OCB_VERSION := v0.162.0
STATICCHECK_VERSION := v0.7.0
OCB         := $(BIN)/builder-$(OCB_VERSION)
STATICCHECK := $(BIN)/staticcheck-$(STATICCHECK_VERSION)
CONFIGS     := $(wildcard configs/*.yaml)
# The state directory of configs/default.yaml (sockets, FIFOs, queues).
export LOGX_STATE_DIR ?= $(CURDIR)/.state
GOTEST_FLAGS ?= -race -timeout 20m

.PHONY: all build build-pgo run test unit-test validate-configs dist-test deps bench lint fmt builder-config deps clean

all: build

$(OCB):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	mv $(BIN)/builder $@

$(STATICCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN)/staticcheck $@

## builder-config: regenerate builder-config.yaml from components/ and go.mod
builder-config:
	$(GO) run ./components/cmd/genbuilder

## build: OCB -> _build/otelcol-logx
build: $(OCB)
	$(OCB) --config builder-config.yaml

## build-pgo: the same, with the profile in distribution/pgo/default.pgo
build-pgo: $(OCB)
	$(OCB) --config builder-config.yaml --skip-compilation
	cd $(BUILD) && CGO_ENABLED=0 $(GO) build -trimpath -pgo=$(CURDIR)/distribution/pgo/default.pgo -o otelcol-logx .

## run: build, then run the collector on configs/default.yaml until Ctrl-C
run: build
	@mkdir -p $(LOGX_STATE_DIR)
	$(OTELCOL) --config configs/default.yaml

## test: unit and end-to-end tests with -race, then validate every config
test: deps unit-test validate-configs dist-test

## deps: Debian packages the tests need (syslog-ng, systemd-journal-remote, zstd, ...)
deps:
	bash scripts/deps.sh

unit-test:
	$(GO) test $(GOTEST_FLAGS) ./...

validate-configs: build
	@mkdir -p $(LOGX_STATE_DIR)
	@for f in $(CONFIGS); do \
		echo "validate $$f"; \
		$(OTELCOL) validate --config $$f || exit 1; \
	done

## dist-test: the built binary lists every component of components/
dist-test: build
	LOGX_BIN=$(OTELCOL) $(GO) test -tags dist -run TestBinaryListsEveryComponent -count=1 ./components/

## bench: Go benchmarks (ns/op and allocs/op)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## lint: gofmt, go vet, staticcheck
lint: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BUILD) $(LOGX_STATE_DIR)
