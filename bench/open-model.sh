#!/usr/bin/env bash
# What the open model costs while it waits for each arrival's due time: the
# generator's CPU time per request and how late it started arrivals (lag
# p99), at RATES arrivals per second for DUR seconds each, REPS repetitions,
# medians. The target (bench/target) is pinned to core 0, lab to core 1.
# CPU is the run's own figure (result.json generator.cpu_s: the process's
# user + system time from the first arrival to the end of the grace
# period), so start-up is not counted. Last, the floor: the least CPU a
# request costs on this machine at 500/s (one goroutine, one connection, a
# timerfd wait, no statistics: go run ./bench/timers -floor).
#
#   bench/open-model.sh            # RATES="100 500" DUR=10 REPS=3
#   go run ./bench/timers          # the timer overshoot behind the design
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"100 500"}
VEGETA=${VEGETA:-/tmp/benchtools/vegeta}
DUR=${DUR:-10}
REPS=${REPS:-3}
tmp=$(mktemp -d)

go build -o "$tmp/target" ./bench/target
go build -o "$tmp/timers" ./bench/timers
CGO_ENABLED=0 go build -o "$tmp/lab" .
taskset -c 0 "$tmp/target" -listen 127.0.0.1:9099 &
target=$!
trap 'kill $target 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf "%6s %9s %8s %12s %12s %10s   %s\n" rate requests "CPU-s" "CPU-µs/req" "lag p99 µs" "lag max µs" "(CPU-µs/req, lag p99 per run)"
for rate in $RATES; do
	cpus=() lags=() runs=()
	for _ in $(seq "$REPS"); do
		rm -rf "$tmp/results"
		taskset -c 1 "$tmp/lab" apply bench/plans/open.hcl -var rate="$rate/s" -var duration="${DUR}s" \
			--quiet --results "$tmp/results" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
		read -r n cpu lag lagmax < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
n = sum(q["count"] for q in r["requests"])
g = r["generator"]
print(n, g["cpu_s"], g["lag_p99_us"], g["lag_max_us"])' "$tmp"/results/open/latest/result.json)
		c=$(python3 -c "print(round($cpu * 1e6 / $n, 1))")
		cpus+=("$c") lags+=("$lag") runs+=("$c/$lag")
		last="$n $cpu $lagmax"
	done
	read -r n cpu lagmax <<<"$last"
	printf "%6s %9s %8s %12s %12s %10s   %s\n" "$rate/s" "$n" "$cpu" "$(printf "%s\n" "${cpus[@]}" | median)" \
		"$(printf "%s\n" "${lags[@]}" | median)" "$lagmax" "${runs[*]}"
done
echo
echo "floor on this machine (one connection, a timerfd wait, no statistics):"
taskset -c 1 "$tmp/timers" -floor 127.0.0.1:9099
# Below Go: the same loop in C (clock_nanosleep, blocking write and read).
if command -v gcc >/dev/null; then
	gcc -O2 -o "$tmp/floor" bench/floor/floor.c
	taskset -c 1 "$tmp/floor" 500 "$DUR"
fi
# The peer a user would pick for a constant arrival rate: vegeta, CPU of the
# whole process (start-up included) per request.
if [ -x "$VEGETA" ]; then
	for rate in $RATES; do
		echo "GET http://127.0.0.1:9099/" | taskset -c 1 /usr/bin/time -f "%U %S" -o "$tmp/vtime" "$VEGETA" attack \
			-rate="$rate" -duration="${DUR}s" -output "$tmp/vegeta.bin" >/dev/null 2>&1
		read -r u s <"$tmp/vtime"
		p99=$("$VEGETA" report -type=json "$tmp/vegeta.bin" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["latencies"]["99th"]/1000))')
		printf "vegeta      %.1f CPU-µs per request at %s/s (whole process; latency p99 %s µs)\n" \
			"$(python3 -c "print(($u + $s) * 1e6 / ($rate * $DUR))")" "$rate" "$p99"
	done
fi
