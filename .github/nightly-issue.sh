#!/usr/bin/env bash
# Opens the nightly regression issue, or comments on the one still open,
# with the comparison's table and a link to the night's run: one issue
# for a regression however many nights it lasts, closed by whoever fixes
# it. Needs gh, and GH_TOKEN with issues: write (the workflow's token).
#   .github/nightly-issue.sh results/compare.md
set -euo pipefail
table=${1:?the comparison Markdown that lab compare --summary wrote}
label=nightly-regression
title="Nightly: the baseline scenario regressed"
run="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
body=$(
	if [ -s "$table" ]; then
		cat "$table"
	else
		echo "The comparison wrote no table: see the run."
	fi
	echo
	echo "[The night's run]($run)"
)
gh label create "$label" --color B60205 --description "lab's nightly comparison failed or could not decide" --force >/dev/null
open=$(gh issue list --label "$label" --state open --limit 1 --json number --jq '.[0].number // empty')
if [ -n "$open" ]; then
	gh issue comment "$open" --body "$body"
	echo "commented on issue #$open"
else
	gh issue create --title "$title" --label "$label" --body "$body"
fi
