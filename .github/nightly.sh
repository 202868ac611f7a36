#!/usr/bin/env bash
# The nightly run (.github/workflows/lab.yml, job nightly): what a team
# wakes up to. Each part is judged and lab appends its verdict tables to
# the job summary itself.
#  1. The soak must meet its budgets.
#  2. The leak demo: the shop leaks by design, so the leak gate must FAIL
#     it (exit 1). A pass means the leak hunter missed a real leak; exit 2
#     or 3 that the demo could not run. Either fails the night.
#  3. The baseline scenario, judged by its regression block against the
#     run kept the night before (restored from the cache into KEPT), and
#     compared with it (lab compare) for the regression alone. Tonight's
#     run replaces the kept one only when it met every budget; the first
#     night keeps its run.
# It exits 1 when any part failed. Outputs, in $GITHUB_OUTPUT:
#   kept=true       a new baseline is in KEPT (the workflow saves it)
#   regressed=true  the comparison failed or could not decide (the workflow
#                   opens or updates the nightly issue, with compare.md)
# A shorter night, for a test or by hand: LAB (the binary), RESULTS,
# KEPT, SOAK_PLAN, LEAK_PLAN, BASELINE_PLAN, and SOAK_ARGS, LEAK_ARGS,
# BASELINE_ARGS (more lab apply arguments, split on spaces).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 3
LAB=${LAB:-bin/lab}
RESULTS=${RESULTS:-results}
KEPT=${KEPT:-$RESULTS/kept}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
output=${GITHUB_OUTPUT:-/dev/null}
failed=()
kept=false
regressed=false

note() {
	echo "$*"
	echo "$*" >>"$summary"
}

apply() {
	"$LAB" apply "$@" --results "$RESULTS" --quiet --metrics off
}

# 1. The soak.
read -r -a args <<<"${SOAK_ARGS:--var duration=45m}"
apply "${SOAK_PLAN:-plans/soak.hcl}" "${args[@]}"
code=$?
if [ "$code" -ne 0 ]; then
	failed+=("the soak did not meet its budgets (exit $code)")
fi

# 2. The leak demo, which must fail.
read -r -a args <<<"${LEAK_ARGS:-}"
apply "${LEAK_PLAN:-plans/leak-test.hcl}" "${args[@]}"
code=$?
case $code in
1) note "The leak demo failed its budgets, as it must: the shop leaks by design." ;;
0) failed+=("the leak demo passed: the leak hunter missed the shop's leak") ;;
*) failed+=("the leak demo could not run (exit $code)") ;;
esac

# 3. The baseline scenario against last night's.
plan=${BASELINE_PLAN:-plans/baseline.hcl}
name=$(basename "$plan" .hcl)
base="$KEPT/$name"
read -r -a args <<<"${BASELINE_ARGS:-}"
apply "$plan" -var "baseline=$base" "${args[@]}"
code=$?
latest="$RESULTS/$name/latest"
if [ -e "$base/result.json" ]; then
	# The regression alone, its table for the issue; the summary has it
	# already, from the regression block.
	GITHUB_STEP_SUMMARY='' "$LAB" compare "$base" "$latest" --summary "$RESULTS/compare.md" >/dev/null
	ccode=$?
	if [ "$ccode" -ne 0 ]; then
		regressed=true
		failed+=("the baseline scenario regressed against last night's run, or the comparison could not decide (lab compare exit $ccode)")
	fi
else
	note "No baseline kept yet: tonight's run of $plan becomes it if it meets its budgets."
fi
if [ "$code" -eq 0 ] && [ -e "$latest/result.json" ]; then
	mkdir -p "$KEPT"
	rm -rf "$base.new"
	cp -RL "$latest" "$base.new" && rm -rf "$base" && mv "$base.new" "$base" && kept=true
	note "Tonight's run of $plan is the new baseline."
elif [ "$code" -ne 0 ]; then
	failed+=("the baseline scenario did not meet its budgets (exit $code): the kept baseline stays")
fi

{
	echo "kept=$kept"
	echo "regressed=$regressed"
} >>"$output"
if [ ${#failed[@]} -gt 0 ]; then
	note ""
	note "**The night failed:**"
	for f in "${failed[@]}"; do
		note "- $f"
	done
	exit 1
fi
note "The night passed."
