#!/usr/bin/env bash
# gofmt and go vet over the whole module.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
# The scenario tag only adds files, so this vets every file of the module.
go vet -tags scenario ./...
