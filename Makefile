# The README's commands. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     ?= bin/lab
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 60s

.PHONY: build test unit race fuzz fuzz-check check-generated generate fmt-check bench image up down up-swarm down-swarm screenshots

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) .

# Everything CI checks: vet, unit and integration tests, the packages with
# concurrency again under the race detector, every fuzz target for a bounded
# time, and that generated/ matches plans/. The root package's end-to-end
# tests mostly wait on light runs: three of them go at once.
test: build
	$(GO) vet ./...
	$(MAKE) fmt-check
	$(GO) test -p 1 -count=1 -timeout 12m $$($(GO) list ./... | grep -vx lab)
	$(GO) test -count=1 -parallel 3 -timeout 15m .
	$(MAKE) race
	$(MAKE) fuzz
	$(MAKE) check-generated

# The screenshots in docs/screenshots, taken by the browser tests (Debian's
# chromium): the live page during a spike run, report.html of a leaking run.
screenshots:
	$(GO) test -count=1 -run 'TestLivePageInBrowser|TestLeakEndToEnd' -docs .

unit:
	$(GO) test -count=1 -short ./...

# The engine, the master and workers, the metrics, the memory recording,
# the progress line, the gates' parallel scan of window histograms and the
# shop share state between goroutines (the other packages are pure). Timing
# tests and one-goroutine simulations skip themselves under the detector
# (runtime/needs.NoRace): it slows them tenfold and finds nothing there.
RACE_PKGS = ./runtime ./runtime/tally ./runtime/cluster ./runtime/metrics ./runtime/memory \
	./runtime/progress ./gates ./gates/sla ./sut/...
race:
	$(GO) test -race -short -p 1 -count=1 -timeout 10m $(RACE_PKGS)

# Every fuzz target: the plan loader for a minute (the language's bar), the
# others for 3 s each. A target added without a line here fails fuzz-check.
FUZZ_TARGETS = \
	./lang:FuzzLoad:$(FUZZTIME) \
	./lang/units:FuzzUnits:3s \
	./gates/locust:FuzzLoad:3s \
	./gates/hist:FuzzDecode:3s \
	./gates/leak:FuzzAnalyze:3s \
	./gates/regress:FuzzCompare:3s \
	./gates/stats:FuzzHodgesLehmann:3s \
	./gates/stats:FuzzTrend:3s \
	./runtime/memory:FuzzParseStatus:3s \
	./runtime/memory:FuzzParseMemoryStat:3s \
	./runtime/memory:FuzzParseDockerStats:3s \
	./runtime/memory:FuzzMetricValue:3s \
	./runtime/cluster:FuzzDecodeSync:3s \
	./sut:FuzzShop:3s

fuzz: fuzz-check
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; time=$${rest#*:}; \
		echo "fuzz $$pkg $$name $$time"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$time -fuzzminimizetime 3s $$pkg; \
	done

# Every Fuzz function in the tree is listed in FUZZ_TARGETS.
fuzz-check:
	@missing=$$(grep -rhoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed 's/func //' | sort -u | \
		while read f; do echo "$(FUZZ_TARGETS)" | grep -q ":$$f:" || echo "$$f"; done); \
	if [ -n "$$missing" ]; then echo "fuzz targets not in FUZZ_TARGETS: $$missing"; exit 1; fi

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

# The image lab:latest (Dockerfile): FROM scratch around the static binary
# and plans/, so it builds with no registry. The context is laid out in
# build/image/ so that nothing else of the tree is sent to the engine.
IMAGE ?= lab:latest
image: build
	rm -rf build/image && mkdir -p build/image
	cp $(BIN) build/image/lab
	cp -r plans build/image/plans
	docker build -q -f Dockerfile -t $(IMAGE) build/image

# A plan as containers of lab:latest (generated/<plan>/compose.yaml): the
# shop, the master and WORKERS workers. up follows the master, leaves the
# Run in results/<plan>/ and fails when the master does (deploy/stack.sh up
# exits with the master's exit code itself; make turns any failure into 2).
#   make up PLAN=smoke WORKERS=4 DURATION=30s   (also USERS, RATE, SHAPE,
#   LAB_VAR_<name>, LAB_SUT_<KNOB>, MONITORING=1; see deploy/stack.sh)
# down removes every container and network up made; up-swarm and
# down-swarm do the same with docker stack deploy, on a single-node swarm
# made (and later left) only when this node is in none.
up: image
	deploy/stack.sh up

down:
	deploy/stack.sh down

up-swarm: image
	deploy/stack.sh up-swarm

down-swarm:
	deploy/stack.sh down-swarm
