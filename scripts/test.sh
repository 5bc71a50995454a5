#!/usr/bin/env bash
# Runs every test the project has: the Go tests with the race detector, then
# the AWS CLI smoke tests (an open region, then one that wants signatures
# over TLS) against a freshly built binary. Laptops and CI run this same
# script.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/lint.sh
go test -race -count=1 -timeout 20m ./...

mkdir -p bin
go build -o bin/globaltables ./cmd/globaltables
scripts/smoke.sh bin/globaltables
scripts/smoke-auth.sh bin/globaltables
