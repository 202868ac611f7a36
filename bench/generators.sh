#!/usr/bin/env bash
# Generator CPU per request, lab side by side with the peers a user would
# pick, in one run on this machine: the target (bench/target, fasthttp, 60
# bytes) pinned to core 0, each generator pinned to core 1, 64 connections,
# DUR seconds, REPS repetitions, medians. The figure that compares tools is
# the generator's CPU time (user + system) per completed request.
#
# Needs: wrk and hey (Debian packages wrk, hey), Locust (python3-locust), and
# vegeta: GOBIN=/tmp/benchtools go install github.com/tsenart/vegeta/v12@v12.13.0
#
#   bench/generators.sh            # DUR=10 REPS=3 CONNS=64
#   TOOLS="lab lab-metrics" REPS=5 bench/generators.sh   # what serving metrics costs
#   TOOLS="lab lab-ui" REPS=7 bench/generators.sh        # metrics and the live page, both watched
#   LAB_REF=/tmp/lab-old TOOLS="lab lab-ref wrk" bench/generators.sh   # this tree against another build
#   TOOLS="lab lab-jar wrk" REPS=5 bench/generators.sh   # what a cookie jar costs per request
#
# Repetitions go round the tools (one run of each, then the next round), so
# a machine that slows down slows every tool alike.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10}
REPS=${REPS:-3}
CONNS=${CONNS:-64}
VEGETA=${VEGETA:-/tmp/benchtools/vegeta}
TOOLS=${TOOLS:-"lab lab-metrics lab-worker wrk hey vegeta locust"}
tmp=$(mktemp -d)
url=http://127.0.0.1:9099/

go build -o "$tmp/target" ./bench/target
CGO_ENABLED=0 go build -o "$tmp/lab" .
taskset -c 0 "$tmp/target" -listen 127.0.0.1:9099 &
target=$!
trap 'kill $target 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5

# run TOOL: prints "requests cpu_seconds maxrss_kb"
# lab_apply BINARY FLAG…: lab's run of the plan, pinned to core 1 and
# timed (sets n, in run's scope).
lab_apply() {
	local bin=$1
	shift
	taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$t" "$bin" apply "${plan:-bench/plans/closed.hcl}" \
		-var users="$CONNS" -var duration="${DUR}s" --quiet --results "$tmp/results" "$@" >"$out" 2>&1
	n=$(awk '$1 == "total" {print $2}' "$out")
}

run() {
	local tool=$1 out="$tmp/out" t="$tmp/time"
	case $tool in
	lab)
		lab_apply "$tmp/lab" --metrics off ;;
	lab-metrics)
		# The same with metrics served and scraped every second (Prometheus
		# scrapes every 15 s by default) by one curl process, as a scraper
		# elsewhere would: the scrapes' cost is lab's.
		curl -s --rate 1/s "http://127.0.0.1:9097/metrics?n=[1-100000]" >/dev/null 2>&1 &
		local scraper=$!
		lab_apply "$tmp/lab" --metrics 127.0.0.1:9097
		kill $scraper
		wait $scraper 2>/dev/null || true ;;
	lab-jar)
		# A cookie jar: a login per user, the session cookie parsed from
		# every answer and sent with every request (bench/plans/session.hcl).
		plan=bench/plans/session.hcl lab_apply "$tmp/lab" --metrics off ;;
	lab-ref)
		# Another build of lab (LAB_REF=path/to/binary, built from an earlier
		# commit, say), the same plan: did a change cost the engine anything?
		lab_apply "$LAB_REF" --metrics off ;;
	lab-ui)
		# The same with the metrics scraped and the live page open: one
		# curl process asks /api/state once a second, as the page's script
		# does, and lab draws the charts and judges the budgets for it.
		curl -s --rate 1/s "http://127.0.0.1:9097/metrics?n=[1-100000]" >/dev/null 2>&1 &
		local scraper=$!
		curl -s --rate 1/s "http://127.0.0.1:9096/api/state?n=[1-100000]" >/dev/null 2>&1 &
		local viewer=$!
		lab_apply "$tmp/lab" --metrics 127.0.0.1:9097 --ui 127.0.0.1:9096
		kill $scraper $viewer
		wait $scraper $viewer 2>/dev/null || true ;;
	lab-worker)
		# The same load from one worker process, its master beside the
		# target: what a worker of a distributed run costs per request.
		"$tmp/lab" apply bench/plans/closed.hcl -var users="$CONNS" -var duration="${DUR}s" --quiet \
			--results "$tmp/results" --metrics off --workers 1 --remote-workers --listen 127.0.0.1:9098 >"$out" 2>&1 &
		local master=$!
		taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$t" "$tmp/lab" worker --master 127.0.0.1:9098 >/dev/null 2>&1
		wait $master
		n=$(awk '$1 == "total" {print $2}' "$out") ;;
	wrk)
		taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$t" wrk -t1 -c"$CONNS" -d"${DUR}s" "$url" >"$out" 2>&1
		n=$(awk '/requests in/ {print $1}' "$out") ;;
	hey)
		taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$t" hey -z "${DUR}s" -c "$CONNS" -cpus 1 "$url" >"$out" 2>&1
		n=$(awk '/\[200\]/ {print $2}' "$out") ;;
	vegeta)
		echo "GET $url" | taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$t" "$VEGETA" attack -rate=0 \
			-workers="$CONNS" -max-workers="$CONNS" -duration="${DUR}s" -output "$tmp/vegeta.bin" >"$out" 2>&1
		n=$("$VEGETA" report -type=json "$tmp/vegeta.bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])') ;;
	locust)
		taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$t" locust -f bench/locustfile.py --headless -u "$CONNS" -r "$CONNS" \
			-t "${DUR}s" --host "${url%/}" --csv "$tmp/locust" --only-summary >"$out" 2>&1
		n=$(awk -F, '$2 == "Aggregated" {print $3}' "$tmp/locust_stats.csv") ;;
	esac
	read -r u s m <"$t"
	echo "$n $(python3 -c "print($u + $s)") $m"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf "%-8s %12s %14s %10s\n" tool "requests/s" "CPU-µs/req" "peak RSS"
declare -A cpu rates cpus rss
for _ in $(seq "$REPS"); do
	for tool in $TOOLS; do
		read -r n c m < <(run "$tool")
		rates[$tool]+="$(python3 -c "print(round($n / $DUR))") "
		cpus[$tool]+="$(python3 -c "print(round($c * 1e6 / $n, 2))") "
		rss[$tool]+="$m "
	done
done
for tool in $TOOLS; do
	r=$(printf "%s\n" ${rates[$tool]} | median)
	c=$(printf "%s\n" ${cpus[$tool]} | median)
	m=$(printf "%s\n" ${rss[$tool]} | median)
	cpu[$tool]=$c
	printf "%-8s %12s %14s %8sMB   (CPU-µs/req runs: %s)\n" "$tool" "$r" "$c" "$((m / 1024))" "${cpus[$tool]}"
done
if [ -n "${cpu[wrk]:-}" ] && [ -n "${cpu[lab]:-}" ]; then
	echo
	for tool in $TOOLS; do
		python3 -c "print('%-8s %.2fx wrk, lab is %.2fx cheaper' % ('$tool', ${cpu[$tool]} / ${cpu[wrk]}, ${cpu[$tool]} / ${cpu[lab]}))"
	done
fi
if [ -n "${cpu[lab-jar]:-}" ] && [ -n "${cpu[lab]:-}" ]; then
	python3 -c "print('lab-jar: %.2fx the CPU per request of lab without a jar' % (${cpu[lab-jar]} / ${cpu[lab]}))"
fi
if [ -n "${cpu[lab-metrics]:-}" ] && [ -n "${cpu[lab]:-}" ]; then
	python3 -c "print('lab-metrics: %+.1f%% CPU per request against lab without metrics' % ((${cpu[lab-metrics]} / ${cpu[lab]} - 1) * 100))"
fi
if [ -n "${cpu[lab-ui]:-}" ] && [ -n "${cpu[lab]:-}" ]; then
	python3 -c "print('lab-ui: %+.1f%% CPU per request against lab without metrics or live page' % ((${cpu[lab-ui]} / ${cpu[lab]} - 1) * 100))"
fi
