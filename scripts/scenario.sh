#!/usr/bin/env bash
# Runs the slow scenario tests: end-to-end failure scenarios (crashes during a
# replica join or an index backfill, outages past the tombstone horizon, full
# disks, runaway clocks, several NATS servers) that take too long for
# `make test`. They carry the build tag `scenario` and are named
# TestScenario_*. CI runs them after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the packages that have scenario tests, so that the output ends on
# tests that ran rather than on packages with nothing to run.
pkgs=$(grep -rl --include='*_test.go' '^//go:build scenario' . | xargs -n1 dirname | sort -u)
if [ -z "$pkgs" ]; then
  echo "no scenario tests found" >&2
  exit 1
fi
go test -race -count=1 -tags scenario -run '^TestScenario_' -timeout 45m $pkgs
