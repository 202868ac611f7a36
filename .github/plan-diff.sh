#!/usr/bin/env bash
# The semantic diff of every plan against a base revision, for a pull
# request's job summary: each changed plan's budgets, stages and topology,
# a loosened budget marked LOOSENED. Exits 1 when a budget is loosened,
# unless ALLOW_LOOSENED=true (the pull request carries the label that
# allows it). Plans new since BASE have nothing to compare with.
#   BASE=origin/main .github/plan-diff.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:?BASE is the revision to compare with, e.g. origin/main}
LAB=${LAB:-bin/lab}
out=${GITHUB_STEP_SUMMARY:-/dev/stdout}
loosened=0
{
	echo "### Plans against ${BASE}"
	echo
} >>"$out"
for plan in plans/*.hcl; do
	case $plan in *.workload.hcl | *.shapes.hcl) continue ;; esac
	if ! git cat-file -e "$BASE:$plan" 2>/dev/null; then
		echo "- \`$plan\`: new in this change" >>"$out"
		continue
	fi
	set +e
	diff=$("$LAB" plan "$plan" --against "git:$BASE" --fail-on-loosened --out "$(mktemp -d)" 2>&1)
	code=$?
	set -e
	case $code in
	0) ;;
	1) loosened=1 ;;
	*) echo "$diff" >&2; exit "$code" ;;
	esac
	{
		echo "<details><summary><code>$plan</code>$([ "$code" = 1 ] && echo ' — a budget is LOOSENED')</summary>"
		echo
		echo '```'
		echo "$diff"
		echo '```'
		echo "</details>"
	} >>"$out"
done
if [ "$loosened" = 1 ]; then
	if [ "${ALLOW_LOOSENED:-false}" = true ]; then
		echo "A budget is loosened; the label allows it." | tee -a "$out"
	else
		echo "A budget is loosened: a reviewer who agrees adds the label 'loosen-budgets'." | tee -a "$out" >&2
		exit 1
	fi
fi
