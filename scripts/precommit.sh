#!/usr/bin/env bash
# Checks a change before it is committed: formatting, vet, and the Go tests.
# Exits non-zero on the first failure, so `scripts/precommit.sh && git commit`
# commits only a green tree.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lint.sh
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! go test -race -count=1 -timeout 20m ./... >"$out" 2>&1; then
  grep -v '^ok\|no test files' "$out" >&2
  echo "precommit: tests fail" >&2
  exit 1
fi
