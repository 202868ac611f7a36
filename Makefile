# The README's commands. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     ?= bin/lab
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 60s

.PHONY: help build test unit race fuzz fuzz-check check-generated generate plan fmt fmt-check bench image up down up-swarm down-swarm screenshots soak-self \
	smoke baseline stress spike soak leak-test compare

.DEFAULT_GOAL := help

help: ## list the targets
	@echo "make TARGET [DURATION=… USERS=… RATE=… WORKERS=… HOST=… SHAPE=… LEAK=…]"
	@echo
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/lab (static, no cgo)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X lab/cli.version=$(VERSION)" -o $(BIN) .

# The scenarios: each applies one shipped plan against the bundled shop.
# lab's exit code (0 every budget met, 1 breached or inconclusive, 2 bad
# plan or input, 3 the run could not be carried out) is the "Error N" make
# prints; make itself exits 2 for any failing recipe (GNU make's rule), so
# a step that needs the code itself runs bin/lab apply plans/<name>.hcl.
# The overrides are the plans' variables: DURATION (the stages keep their
# proportions), USERS, RATE, WORKERS, LEAK (the leak-test shop's leak per
# checkout); SHAPE picks a shape (--shape); HOST points the plan at your
# own service and leaves the bundled shop off. LAB_FLAGS adds any other
# lab apply flag (--ui, --metrics off, --results DIR…).
LAB_FLAGS ?=
SCENARIO_ARGS = $(if $(DURATION),-var duration=$(DURATION)) $(if $(USERS),-var users=$(USERS)) \
	$(if $(RATE),-var rate=$(RATE)) $(if $(WORKERS),-var workers=$(WORKERS)) $(if $(LEAK),-var leak=$(LEAK)) \
	$(if $(HOST),-var host=$(HOST) --no-sut) $(if $(SHAPE),--shape $(SHAPE)) $(LAB_FLAGS)

smoke: build ## 30 s, 10 users, the whole funnel: every change should pass it
	$(BIN) apply plans/smoke.hcl $(SCENARIO_ARGS)

stress: build ## 6 min of users in steps (SHAPE=arrivals: a ramp of arrivals) up to the shop's knee
	$(BIN) apply plans/stress.hcl $(SCENARIO_ARGS)

spike: build ## 6 min: 20 users, 200 for a minute at 2 min, back to 20
	$(BIN) apply plans/spike.hcl $(SCENARIO_ARGS)

soak: build ## 1 h of steady users: slow leaks, drifting tails
	$(BIN) apply plans/soak.hcl $(SCENARIO_ARGS)

leak-test: build ## 10 min against a shop leaking 50KB per checkout (LEAK=0: none): the leak gate fails
	$(BIN) apply plans/leak-test.hcl $(SCENARIO_ARGS)

# baseline runs plans/$(PLAN).hcl (plans/baseline.hcl unless PLAN is set)
# and, when every budget is met, keeps the run as results/<plan>/baseline:
# what compare and the plan's regression block compare with. A run that
# breached its budgets is no baseline, and the one kept before stays.
baseline: build ## run a plan (PLAN=baseline) and keep it as the baseline compare and regression blocks use
	@plan=$(or $(PLAN),baseline); set -e; $(BIN) apply plans/$$plan.hcl $(SCENARIO_ARGS); \
	ln -sfn "$$(readlink results/$$plan/latest)" results/$$plan/baseline.tmp && mv -T results/$$plan/baseline.tmp results/$$plan/baseline; \
	echo "results/$$plan/baseline -> $$(readlink results/$$plan/baseline)"

compare: build ## compare the plan's latest run (PLAN=baseline) with its kept baseline: exit 1 names what got worse
	@plan=$(or $(PLAN),baseline); \
	if [ ! -e results/$$plan/baseline ]; then echo "no baseline kept for $$plan: make baseline PLAN=$$plan first" >&2; exit 2; fi; \
	$(BIN) compare results/$$plan/baseline results/$$plan/latest

plan: generate ## rewrite generated/ (plan.txt, compose, Kubernetes, Grafana) for every plan

fmt: build ## format the Go code and the plans
	gofmt -w $$(git ls-files '*.go')
	$(BIN) fmt plans

# Everything CI checks: vet, the unit tests of every package, the
# end-to-end tests (e2e/: bin/lab and the real tools beside it), the
# packages with concurrency again under the race detector, every fuzz
# target for a bounded time, and that generated/ matches plans/. The
# end-to-end tests mostly wait on light runs: three of them go at once.
test: build ## what CI runs: vet, gofmt, every test, -race, fuzzing, generated/ up to date (about 19 min)
	$(GO) vet ./...
	$(MAKE) fmt-check
	$(GO) test -p 1 -count=1 -timeout 12m $(UNIT_PKGS)
	$(GO) test -count=1 -parallel 4 -timeout 15m ./e2e
	$(MAKE) race
	$(MAKE) fuzz
	$(MAKE) check-generated

# The screenshots in docs/screenshots, taken by the browser tests (Debian's
# chromium): the live page during a spike run, report.html of a leaking run.
screenshots: ## the browser tests' screenshots into docs/screenshots
	$(GO) test -count=1 -run 'TestLivePageInBrowser|TestLeakEndToEnd' ./e2e -args -docs

# Every package but e2e: needs nothing but Go (no Docker, nginx, Chromium),
# and says how long it took.
UNIT_PKGS = $$($(GO) list ./... | grep -v '^lab/e2e$$')
unit: ## every package but e2e, with Go alone (under 3 minutes)
	@start=$$(date +%s); $(GO) test -count=1 -short $(UNIT_PKGS) && \
	echo "make unit: passed in $$(( $$(date +%s) - start )) s"

# The engine, the master and workers, the metrics, the memory recording,
# the progress line, the gates' parallel scan of window histograms and the
# shop share state between goroutines (the other packages are pure). Timing
# tests and one-goroutine simulations skip themselves under the detector
# (runtime/needs.NoRace): it slows them tenfold and finds nothing there.
RACE_PKGS = ./runtime/engine ./runtime/tally ./runtime/cluster ./runtime/metrics ./runtime/memory \
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
	./runtime/result:FuzzLoad:3s \
	./runtime/memory:FuzzParseStatus:3s \
	./runtime/memory:FuzzParseMemoryStat:3s \
	./runtime/memory:FuzzParseDockerStats:3s \
	./runtime/memory:FuzzMetricValue:3s \
	./runtime/cluster:FuzzDecodeSync:3s \
	./sut:FuzzShop:3s

# Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a
# failure ("context deadline exceeded", no failing input written:
# go.dev/issue/75804, fixed in Go 1.27): such a target runs once more; a
# real failure writes its input under testdata/fuzz and fails at once.
fuzz: fuzz-check
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; time=$${rest#*:}; \
		for try in 1 2; do \
			echo "fuzz $$pkg $$name $$time"; \
			if out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$time -fuzzminimizetime 3s $$pkg 2>&1); then \
				echo "$$out" | tail -2; break; \
			fi; \
			echo "$$out"; \
			if [ $$try = 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz: the coordinator's own deadline, no failing input (go.dev/issue/75804): once more"; continue; \
			fi; \
			exit 1; \
		done; \
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
generate: build ## the same as make plan
	$(BIN) plan

check-generated: build
	$(BIN) plan --check

# Load on lab itself, too long for make test: SOAK_FULL (10m) at full speed
# against nginx, then SOAK_STEADY (30m) at 2000/s; each checks that no
# sample is lost (result.json, its windows and nginx's log agree) and that
# lab's memory stays bounded. The figures go in docs/BENCHMARKS.md.
soak-self: ## load on lab itself: 10 min at full speed, 30 min steady; memory and lost samples (about 45 min)
	$(GO) test -count=1 -timeout 120m -v -run 'TestSelfLoadFullSpeed|TestSelfSoakProjection' ./e2e -args -soak-self

bench: ## the Go benchmarks (bench/generators.sh runs lab beside wrk, hey, vegeta and Locust)
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The image lab:latest (Dockerfile): FROM scratch around the static binary
# and plans/, so it builds with no registry. The context is laid out in
# build/image/ so that nothing else of the tree is sent to the engine.
IMAGE ?= lab:latest
image: build ## the image lab:latest, FROM scratch
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
up: image ## a plan as containers: make up PLAN=smoke WORKERS=4 (deploy/stack.sh)
	deploy/stack.sh up

down: ## remove what make up made (every stack it started and recorded in .lab/stacks/, or PLAN=… alone)
	deploy/stack.sh down

up-swarm: image ## the same as a Swarm stack
	deploy/stack.sh up-swarm

down-swarm: ## remove the stacks up-swarm started, or PLAN=… alone (and the swarm, if up-swarm made it)
	deploy/stack.sh down-swarm
