#!/usr/bin/env bash
# Benchmarks a globaltables region against dynalite (a DynamoDB
# implementation on LevelDB, from npm) with the same load in the same run:
# `globaltables bench` drives each endpoint in turn with the AWS SDK for Go.
#
#   scripts/bench.sh                 # 8 workers, 50/50 Get/Put, 200-byte items, 20 s each
#   DURATION=60s WORKERS=8 scripts/bench.sh
#
# A third row measures a built-in endpoint that does no work at all, so the
# client's own cost on this machine is visible: no implementation measured
# with this client can go faster than that row.
#
# Needs node and npm; dynalite is installed once into ~/.cache/globaltables.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
WORKERS=${WORKERS:-8}
DYNALITE_VERSION=${DYNALITE_VERSION:-4.0.0}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/globaltables/dynalite-$DYNALITE_VERSION

mkdir -p bin
go build -o bin/globaltables ./cmd/globaltables
if [ ! -x "$cache/node_modules/.bin/dynalite" ]; then
  echo "installing dynalite $DYNALITE_VERSION into $cache"
  mkdir -p "$cache"
  npm install --silent --prefix "$cache" "dynalite@$DYNALITE_VERSION" >/dev/null
fi

# wait_endpoint LOG: prints the endpoint a process logged as endpoint=URL.
wait_endpoint() {
  local url=""
  for _ in $(seq 1 200); do
    url=$(grep -o 'endpoint=http://[0-9.:]*' "$1" | head -1 | cut -d= -f2 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { cat "$1" >&2; echo "bench: no endpoint in $1" >&2; exit 1; }
  echo "$url"
}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

: >"$work/region.log"
bin/globaltables region --name us-east-1 --listen 127.0.0.1:0 --data "$work/region" >"$work/region.log" 2>&1 &
pids+=($!)
ours=$(wait_endpoint "$work/region.log")

dport=$((20000 + RANDOM % 20000))
"$cache/node_modules/.bin/dynalite" --port "$dport" --path "$work/dynalite" >"$work/dynalite.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  (echo >"/dev/tcp/127.0.0.1/$dport") 2>/dev/null && break
  sleep 0.05
done

: >"$work/null.log"
bin/globaltables bench null-endpoint >"$work/null.log" 2>&1 &
pids+=($!)
null=$(wait_endpoint "$work/null.log")

echo "globaltables: $ours (Badger, fsync per commit)   dynalite $DYNALITE_VERSION: http://127.0.0.1:$dport (LevelDB on disk)"
echo "load: $WORKERS workers, 50% GetItem / 50% PutItem, 200-byte items, $DURATION measured after a 2 s warmup"
bin/globaltables bench --endpoint "$ours" --endpoint "http://127.0.0.1:$dport" \
  --endpoint "$null" --workers "$WORKERS" --duration "$DURATION" --item-size 200 --read-ratio 0.5 "$@"
echo "(the third row is a built-in endpoint that answers without doing any work: the most this client can drive on this machine)"
