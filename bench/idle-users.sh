#!/usr/bin/env bash
# Idle memory per virtual user: every user sends one request, then waits a
# minute. The generator's resident memory is read from /proc at AT seconds
# (after every user has started and sent), for N users and for 1 user; the
# difference divided by N is the memory each waiting user costs.
#
# Needs: Locust (Debian python3-locust) for the comparison.
#
#   bench/idle-users.sh                      # lab at 10,000 and 100,000 users, Locust at 10,000
#   LOCUST_USERS= bench/idle-users.sh        # lab only
#
# lab runs bench/plans/idle.hcl, then (lab+jar) idle-session.hcl: the same
# users logged in once, each keeping its session cookie in its jar.
set -euo pipefail
cd "$(dirname "$0")/.."
AT=${AT:-25}
LAB_USERS=${LAB_USERS:-"10000 100000"}
LOCUST_USERS=${LOCUST_USERS:-10000}
tmp=$(mktemp -d)
go build -o "$tmp/target" ./bench/target
CGO_ENABLED=0 go build -o "$tmp/lab" .
taskset -c 0 "$tmp/target" -listen 127.0.0.1:9099 &
target=$!
trap 'kill $target 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5

# rss_at PID: resident memory in KiB at AT seconds after start.
rss_at() {
	sleep "$AT"
	awk '/VmRSS/ {print $2}' "/proc/$1/status"
}

lab_rss() {
	"$tmp/lab" apply "${plan:-bench/plans/idle.hcl}" -var users="$1" -var duration="$((AT + 5))s" --quiet --results "$tmp/results" >/dev/null 2>&1 &
	local pid=$!
	rss_at $pid
	wait $pid || true
}

locust_rss() {
	locust -f bench/locust_idle.py --headless -u "$1" -r 1000 -t "$((AT + 5))s" --host http://127.0.0.1:9099 --only-summary >/dev/null 2>&1 &
	local pid=$!
	rss_at $pid
	wait $pid || true
}

printf "%-8s %9s %12s %16s\n" tool users "RSS (MiB)" "per user (KiB)"
base=$(lab_rss 1)
for n in $LAB_USERS; do
	r=$(lab_rss "$n")
	printf "%-8s %9s %12s %16s\n" lab "$n" "$((r / 1024))" "$(python3 -c "print(round(($r - $base) / $n, 2))")"
done
plan=bench/plans/idle-session.hcl
base=$(lab_rss 1)
for n in $LAB_USERS; do
	r=$(lab_rss "$n")
	printf "%-8s %9s %12s %16s\n" lab+jar "$n" "$((r / 1024))" "$(python3 -c "print(round(($r - $base) / $n, 2))")"
done
unset plan
if command -v locust >/dev/null && [ -n "$LOCUST_USERS" ]; then
	base=$(locust_rss 1)
	for n in $LOCUST_USERS; do
		r=$(locust_rss "$n")
		printf "%-8s %9s %12s %16s\n" locust "$n" "$((r / 1024))" "$(python3 -c "print(round(($r - $base) / $n, 2))")"
	done
fi
