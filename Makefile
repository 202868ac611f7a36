# The README's commands. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     ?= bin/lab
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 60s

.PHONY: build test unit fuzz check-generated generate fmt-check bench

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) .

# Everything CI checks: vet, unit and integration tests, the parsers' fuzz
# targets for a bounded time, and that generated/ matches plans/.
test: build
	$(GO) vet ./...
	$(MAKE) fmt-check
	$(GO) test -p 1 -count=1 -timeout 12m ./...
	$(MAKE) fuzz
	$(MAKE) check-generated

unit:
	$(GO) test -count=1 -short ./...

# The plan loader for a minute (the issue's bar), the other parsers of user
# input briefly: units, Locust CSV files, stored histograms, shop requests.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 3s ./lang
	$(GO) test -run '^$$' -fuzz '^FuzzUnits$$' -fuzztime 10s ./lang/units
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime 10s ./gates/locust
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 10s ./gates/hist
	$(GO) test -run '^$$' -fuzz '^FuzzShop$$' -fuzztime 10s ./sut

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Rewrites generated/ from plans/ (commit the result so a PR shows its diff).
generate: build
	$(BIN) plan

check-generated: build
	$(BIN) plan --check

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
