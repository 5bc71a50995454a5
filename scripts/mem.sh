#!/usr/bin/env bash
# Measures what a region holds in memory: its RSS fresh, right after a load,
# and some time later, with the server CPU per operation of that load, for
# several builds or settings side by side.
#
#   scripts/mem.sh                                   # bin/globaltables, defaults
#   scripts/mem.sh /tmp/gt-before /tmp/gt-after      # two builds, same run
#   scripts/mem.sh "/tmp/gt-after --memory-limit-mb 0" "env GOGC=50 /tmp/gt-after"
#
# Each argument is a command (a binary, with flags for `region` after it, or
# an env prefix before it) that runs one region alone (no replication) in
# its own temporary data folder. All start together; after SETTLE seconds
# (default 5) RSS_FRESH is read. Then, one region after the other (ROUNDS
# times, default 1, alternating), `globaltables bench` drives it for
# DURATION (default 20s; 8 workers, 50/50 GetItem/PutItem, ITEM_SIZE-byte items (default 200),
# KEYS distinct keys, default 20000); RSS_LOAD is read as the load ends and
# RSS_LATER AFTER seconds (default 20) later.
set -euo pipefail
cd "$(dirname "$0")/.."
SETTLE=${SETTLE:-5}
DURATION=${DURATION:-20s}
AFTER=${AFTER:-20}
KEYS=${KEYS:-20000}
ITEM_SIZE=${ITEM_SIZE:-200}
ROUNDS=${ROUNDS:-1}
variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
  mkdir -p bin
  go build -o bin/globaltables ./cmd/globaltables
  variants=(bin/globaltables)
fi
. scripts/measure-lib.sh

# The bench client: the first variant's binary (the word before any flag,
# after any env prefix).
client=""
endpoints=()
for i in "${!variants[@]}"; do
  read -r -a cmd <<<"${variants[$i]}"
  bin=""
  for w in "${cmd[@]}"; do
    case "$w" in env | *=*) ;; *) bin=$w; break ;; esac
  done
  [ -n "$client" ] || client=$bin
  # The binary's own words first, then `region`, then the flags after it.
  pre=() post=() seen=""
  for w in "${cmd[@]}"; do
    if [ -z "$seen" ]; then pre+=("$w"); [ "$w" = "$bin" ] && seen=1; else post+=("$w"); fi
  done
  "${pre[@]}" region --name mem$i --listen 127.0.0.1:0 --data "$work/r$i" "${post[@]}" >"$work/r$i.log" 2>&1 &
  pids+=($!)
  endpoints+=("$(wait_endpoint "$work/r$i.log")")
done
sleep "$SETTLE"
declare -A fresh load later cpu
for i in "${!variants[@]}"; do fresh[$i]=$(rss_mb "${pids[$i]}"); done
for round in $(seq 1 "$ROUNDS"); do
  for i in "${!variants[@]}"; do
    out=$("$client" bench --endpoint "${endpoints[$i]}" --server-pid "${pids[$i]}" --keys "$KEYS" \
      --duration "$DURATION" --workers 8 --item-size "$ITEM_SIZE" --read-ratio 0.5 --json)
    load[$i]="${load[$i]:+${load[$i]},}$(rss_mb "${pids[$i]}")"
    cpu[$i]="${cpu[$i]:+${cpu[$i]},}$(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print("%d %d" % (r.get("server_cpu_per_op_ns", 0) / 1000, r.get("ops_per_sec", 0)))' | tr ' ' /)"
  done
  sleep "$AFTER"
  for i in "${!variants[@]}"; do later[$i]="${later[$i]:+${later[$i]},}$(rss_mb "${pids[$i]}")"; done
done
printf 'load: %s of 8 workers, %s keys of %s bytes, per round; RSS_LATER %s s after the round; load average %s\n' \
  "$DURATION" "$KEYS" "$ITEM_SIZE" "$AFTER" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "RSS in MB, total/anonymous; CPU/OP: the region's CPU time per operation in µs / operations per second; one figure per round"
printf '%-46s %9s %14s %14s %14s\n' VARIANT RSS_FRESH RSS_LOAD RSS_LATER CPU/OP
for i in "${!variants[@]}"; do
  printf '%-46s %9s %14s %14s %14s\n' "${variants[$i]}" "${fresh[$i]}" "${load[$i]}" "${later[$i]}" "${cpu[$i]}"
done
