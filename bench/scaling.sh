#!/usr/bin/env bash
# Workers scale what lab can send, not what it sends: a plan asks RATE
# arrivals per second (open model, bench/plans/open.hcl against
# bench/target) of 1, 2, 4 and 8 workers, each a container of the lab
# image capped at CPUS of a CPU (docker run --cpus), too little for the
# whole rate. Per worker count: the arrivals offered and the requests
# completed per second, their ratio, whether the run was valid (a
# generator that starts arrivals late makes it invalid), and the busiest
# worker's seconds at 90% or more of its CPUs (result.json generator
# cpu_busy_s, of cpus). The ratio grows with the workers until the
# machine itself, target included, runs out of CPU.
#
#   bench/scaling.sh                                   # RATE=12000 DUR=20 CPUS=0.25 COUNTS="1 2 4 8"
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-12000}
DUR=${DUR:-20}
CPUS=${CPUS:-0.25}
COUNTS=${COUNTS:-"1 2 4 8"}
PORT=${PORT:-9098}
tmp=$(mktemp -d)
go build -o "$tmp/target" ./bench/target
make -s image >/dev/null 2>&1
cp build/image/lab "$tmp/lab" # the image's own build: a worker of another build is refused
"$tmp/target" -listen 127.0.0.1:9099 &
target=$!
workers=()
cleanup() {
	kill "$target" 2>/dev/null || true
	if [ ${#workers[@]} -gt 0 ]; then docker rm -f "${workers[@]}" >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
sleep 0.5

printf "%7s %9s %9s %6s %11s %9s %18s\n" workers offered/s achieved/s ratio "lag p99 ms" status "busiest worker"
for n in $COUNTS; do
	"$tmp/lab" apply bench/plans/open.hcl -var rate="$RATE/s" -var duration="${DUR}s" --workers "$n" \
		--remote-workers --listen "127.0.0.1:$PORT" --quiet --metrics off --results "$tmp/r$n" >"$tmp/out$n" 2>&1 &
	master=$!
	sleep 1
	workers=()
	for i in $(seq "$n"); do
		name="lab-scaling-$$-$i"
		docker run -d --rm --network host --cpus "$CPUS" --name "$name" lab:latest worker --master "127.0.0.1:$PORT" >/dev/null
		workers+=("$name")
	done
	wait "$master" || true # an invalid run exits 3: its figures are still what happened
	grep -E "lost|warning" "$tmp/out$n" | sed "s/^/  ($n) /" || true
	if ! find "$tmp/r$n" -name result.json | grep -q .; then cat "$tmp/out$n"; exit 1; fi
	docker rm -f "${workers[@]}" >/dev/null 2>&1 || true
	workers=()
	python3 - "$tmp/r$n" "$n" <<'PY'
import json, os, sys
from datetime import datetime
root, n = sys.argv[1], sys.argv[2]
path = next(os.path.join(d, "result.json") for d, _, fs in os.walk(root) if "result.json" in fs)
run = json.load(open(path))
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
secs = (t(run["end"]) - t(run["start"])).total_seconds()
g = run["generator"]
done = sum(q["count"] for q in run["requests"])
offered, achieved = g["scheduled"] / secs, done / secs
busy = f'{g.get("cpu_busy_s", 0)} s busy of {g.get("cpus", "?")} CPU'
lag = g.get("lag_p99_us", 0) / 1000
print(f"{n:>7} {offered:9.0f} {achieved:9.0f} {achieved / offered:6.2f} {lag:11.1f} {run['status']:>9} {busy:>18}")
PY
done
