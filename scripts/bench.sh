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
# SERVER CPU/OP is each server process's CPU time over the measured phase
# divided by its operations: on a small machine the SDK client, not the
# server, bounds operations per second, so this is the server's figure.
#
#   BINS="/tmp/gt-before /tmp/gt-after" scripts/bench.sh   # compare builds, same run
#   NO_SYNC=1 scripts/bench.sh                            # regions with --no-sync
#   PROCS=1 scripts/bench.sh                              # regions with GOMAXPROCS=1
#   DYNALITE=0 BINS="/tmp/a /tmp/b" scripts/bench.sh      # builds only (and the null row), no dynalite
#
# PROCS sets GOMAXPROCS for the regions only (not for the bench client). To
# compare it with the default in one run, list a wrapper in BINS:
#   printf '#!/bin/sh\nexec env GOMAXPROCS=1 /tmp/gt-after "$@"\n' >/tmp/gt-after-p1
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
with_dynalite=1
[ "${DYNALITE:-1}" = 0 ] && with_dynalite=
if [ -n "$with_dynalite" ] && [ ! -x "$cache/node_modules/.bin/dynalite" ]; then
  echo "installing dynalite $DYNALITE_VERSION into $cache"
  mkdir -p "$cache"
  npm install --silent --prefix "$cache" "dynalite@$DYNALITE_VERSION" >/dev/null
fi

. scripts/measure-lib.sh

read -r -a bins <<<"${BINS:-bin/globaltables}"
sync_flag=()
[ -n "${NO_SYNC:-}" ] && sync_flag=(--no-sync)
region_env=()
[ -n "${PROCS:-}" ] && region_env=("GOMAXPROCS=$PROCS")
endpoints=() server_pids=()
for i in "${!bins[@]}"; do
  : >"$work/region$i.log"
  env "${region_env[@]}" "${bins[$i]}" region --name us-east-1 --listen 127.0.0.1:0 --data "$work/region$i" "${sync_flag[@]}" >"$work/region$i.log" 2>&1 &
  pids+=($!)
  server_pids+=($!)
  endpoints+=(--endpoint "$(wait_endpoint "$work/region$i.log")")
  echo "globaltables ${bins[$i]}: ${endpoints[-1]} (Badger, ${sync_flag[*]:-fsync per commit}${PROCS:+, GOMAXPROCS=$PROCS})"
done

if [ -n "$with_dynalite" ]; then
  dport=$((20000 + RANDOM % 20000))
  "$cache/node_modules/.bin/dynalite" --port "$dport" --path "$work/dynalite" >"$work/dynalite.log" 2>&1 &
  pids+=($!)
  server_pids+=($!)
  endpoints+=(--endpoint "http://127.0.0.1:$dport")
  up=
  for _ in $(seq 1 600); do
    (echo >"/dev/tcp/127.0.0.1/$dport") 2>/dev/null && { up=1; break; }
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$up" ]; then
    cat "$work/dynalite.log" >&2
    echo "dynalite did not answer on port $dport within 30 s (log above); run again, or DYNALITE=0 to leave it out" >&2
    exit 1
  fi
  echo "dynalite $DYNALITE_VERSION: http://127.0.0.1:$dport (LevelDB on disk)"
fi

: >"$work/null.log"
bin/globaltables bench null-endpoint >"$work/null.log" 2>&1 &
pids+=($!)
server_pids+=($!)
null=$(wait_endpoint "$work/null.log")

echo "load: $WORKERS workers, 50% GetItem / 50% PutItem, 200-byte items, $DURATION measured after a 2 s warmup; load average $(cut -d' ' -f1-3 /proc/loadavg)"
bin/globaltables bench "${endpoints[@]}" \
  --endpoint "$null" --server-pid "$(IFS=,; echo "${server_pids[*]}")" \
  --workers "$WORKERS" --duration "$DURATION" --item-size 200 --read-ratio 0.5 "$@"
echo "(the last row is a built-in endpoint that answers without doing any work: the most this client can drive on this machine)"
