#!/usr/bin/env bash
# Re-resolve requirements/lock.txt from pyproject.toml: core dependencies plus the extras
# test, cbs and scale, for CPython 3.11 on Linux x86_64 (what .ci/run and the README's venvs use).
#
#   requirements/refresh.sh                          keep today's pins; add or drop only what pyproject changed
#   requirements/refresh.sh --upgrade                newest versions that pyproject's ranges allow
#   requirements/refresh.sh --upgrade-package pandas one package (and what it needs) to its newest
#
# Needs uv (`pip install uv`, or UV=/path/to/uv). Any further arguments go to `uv pip compile`.
# After a refresh: run the fast suite and compare the demo outputs before committing the new lock.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-uv}"
lock=requirements/lock.txt
work=$(mktemp)
trap 'rm -f "$work"' EXIT
# uv keeps the versions already in its output file, so start from the current lock.
[ -f "$lock" ] && cp "$lock" "$work"
"$UV" pip compile pyproject.toml --extra test --extra cbs --extra scale \
  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
  --annotation-style line --no-header --quiet --output-file "$work" "$@"
{
  cat <<'HEADER'
# Exact versions of every dependency of effectmeting (core and the extras test, cbs, scale) for
# CPython 3.11 on Linux x86_64: the packages the tests and the shipped analyses were checked with.
# Used as pip constraints, so it pins versions without choosing what gets installed:
#     pip install -c requirements/lock.txt -e ".[test]"
# The project itself is not in this file. Do not edit by hand; refresh with one command (needs uv):
#     requirements/refresh.sh              (add --upgrade for the newest versions pyproject allows)
# See requirements/README.md.
HEADER
  cat "$work"
} > "$lock"
echo "wrote $lock ($(grep -c '==' "$lock") pinned packages)"
