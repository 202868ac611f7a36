#!/usr/bin/env bash
# The shop's own throughput with every knob off, on GET /products/{id}: the
# ceiling that later benchmarks of the load generator must stay under, so the
# shop is never what they measure.
#
# Needs: Go, the Debian package wrk (apt-get install wrk), taskset
# (util-linux) and at least 2 cores. Installs nothing.
# The shop runs pinned to core 0 and wrk to core 1, so they never share one.
#
#   bench/shop.sh                      # 3 runs of 10 s, 64 connections
#   REPS=5 DURATION=30s bench/shop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
SHOP_CPU=${SHOP_CPU:-0}
WRK_CPU=${WRK_CPU:-1}

for tool in wrk taskset go; do
  if ! command -v "$tool" >/dev/null; then
    case $tool in
      wrk) echo "bench/shop.sh: needs wrk (Debian package: wrk)" >&2 ;;
      taskset) echo "bench/shop.sh: needs taskset (Debian package: util-linux)" >&2 ;;
      go) echo "bench/shop.sh: needs Go" >&2 ;;
    esac
    exit 2
  fi
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench/shop.sh: needs 2 cores to pin the shop and wrk apart; this machine has $(nproc)" >&2
  exit 2
fi

work=$(mktemp -d)
shop_pid=""
cleanup() {
  if [ -n "$shop_pid" ] && kill -0 "$shop_pid" 2>/dev/null; then
    kill -TERM "$shop_pid"
    wait "$shop_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -trimpath -o "$work/lab" .

# Every knob off: the defaults, on a free port.
taskset -c "$SHOP_CPU" "$work/lab" sut --listen 127.0.0.1:0 >"$work/shop.log" 2>&1 &
shop_pid=$!
addr=""
for _ in $(seq 100); do
  addr=$(sed -n 's|^listening on http://||p' "$work/shop.log")
  [ -n "$addr" ] && break
  kill -0 "$shop_pid" 2>/dev/null || { cat "$work/shop.log" >&2; exit 3; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "bench/shop.sh: the shop did not start:" >&2; cat "$work/shop.log" >&2; exit 3; }

# Ids 1..500 in turn, so every request is a different product.
cat >"$work/ids.lua" <<'EOF'
local id = 0
request = function()
  id = id % 500 + 1
  return wrk.format("GET", "/products/" .. id)
end
EOF

cpu_ticks() { awk '{print $14 + $15}' "/proc/$shop_pid/stat"; }
hz=$(getconf CLK_TCK)

# A short warm-up, not counted.
taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d2s -s "$work/ids.lua" "http://$addr" >/dev/null

echo "shop: lab sut (all knobs off) pid $shop_pid on core $SHOP_CPU, $addr"
echo "load: taskset -c $WRK_CPU wrk -t1 -c$CONNS -d$DURATION --latency -s ids.lua http://$addr  (GET /products/{1..500})"
rates=()
disturbed=""
for i in $(seq "$REPS"); do
  t0=$(cpu_ticks); s0=$(date +%s.%N)
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$work/ids.lua" "http://$addr" >"$work/wrk.$i"
  t1=$(cpu_ticks); s1=$(date +%s.%N)
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.$i")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.$i")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.$i")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk.$i")
  cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$s0" -v e="$s1" 'BEGIN {printf "%.0f", 100 * (b - a) / hz / (e - s)}')
  printf 'run %d: %s req/s  p50 %s  p99 %s  shop CPU %s%% of one core %s\n' "$i" "$rps" "$p50" "$p99" "$cpu" "$errs"
  rates+=("$rps")
  if [ "$cpu" -lt 90 ]; then
    disturbed=1
  fi
done
median=$(printf '%s\n' "${rates[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "median of $REPS: $median req/s"
if [ -n "${disturbed:-}" ]; then
  # The shop saturates its core when it is the bottleneck; less means another
  # process took core 0 (or wrk could not keep up), so the figure is low.
  echo "note: in some runs the shop had under 90% of its core: something else ran on core $SHOP_CPU; rerun on a quiet machine" >&2
fi
