#!/usr/bin/env bash
# Measures every performance goal of docs/performance.md ("Where the goals
# stand") for one or more builds, side by side in one sitting, and prints
# the lines each figure comes from, prefixed with the build.
#
#   go build -o /tmp/gt-before ./cmd/globaltables     # on the older commit
#   go build -o /tmp/gt-after ./cmd/globaltables      # on this one
#   scripts/goals.sh /tmp/gt-before /tmp/gt-after      # ~25 min for two builds
#   ONLY="repl catchup" ROUNDS=1 scripts/goals.sh /tmp/gt-after
#
# The machine's noise moves every figure by 10-30 % from one minute to the
# next, so builds run alternated (ROUNDS times each, default 2) and only
# side-by-side ratios mean anything. The load average is printed with each
# step. Steps (ONLY picks some; default all):
#   api      goal 1: scripts/bench.sh with fsync on and with NO_SYNC=1
#            (server CPU per operation, against dynalite and a null endpoint)
#   repl     goals 2 and 3: bench replication, 3 regions, 1,000 writes/s
#   seven    goal 5: bench replication with 7 regions (the last build only)
#   catchup  goal 6: bench catchup --mode cut and --mode resync
#   idle     goal 4: scripts/idle.sh, every build side by side
# The last build given runs the client side (bench replication and catchup
# take --region-binary for the others), so all builds meet the same client.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/goals.sh BINARY... (globaltables builds to compare)" >&2; exit 2; }
bins=()
for b in "$@"; do
  [ -x "$b" ] || { echo "$b: not an executable globaltables build" >&2; exit 2; }
  bins+=("$(readlink -f "$b")")
done
client=${bins[-1]}
ROUNDS=${ROUNDS:-2}
ONLY=${ONLY:-api repl seven catchup idle}

# ordered R: the builds in the order round R runs them, reversed every other
# round, so that no build always goes first: bench.sh measures its
# endpoints one after the other, and the same code measured 5-17 % worse
# when second in four runs out of four (probably the first's background
# work, Badger's flushes and compactions, running on into the second's).
# An even ROUNDS balances the order. Use: mapfile -t order < <(ordered R).
ordered() { if (($1 % 2)); then printf '%s\n' "${bins[@]}"; else printf '%s\n' "${bins[@]}" | tac; fi; }

step() { printf '\n=== %s (load average %s, %s)\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%H:%M:%S)"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
# tagged BIN CMD...: runs CMD and prefixes every line it prints with BIN's name.
tagged() { local b=$1; shift; "$@" 2>&1 | sed "s|^|$(basename "$b"): |"; }

# A step that fails says so and the others still run.
failed() { echo "(this step failed: exit $?)"; }

if want api; then
  for r in $(seq 1 "$ROUNDS"); do
    mapfile -t order < <(ordered "$r")
    step "goal 1: server CPU per operation, fsync on, round $r"
    BINS="${order[*]}" DURATION=${DURATION:-20s} scripts/bench.sh | grep -v '^installing' || failed
    step "goal 1: server CPU per operation, --no-sync, round $r"
    NO_SYNC=1 BINS="${order[*]}" DURATION=${DURATION:-20s} scripts/bench.sh | grep -v '^installing' || failed
  done
fi

if want repl; then
  for r in $(seq 1 "$ROUNDS"); do
    mapfile -t order < <(ordered "$r")
    for b in "${order[@]}"; do
      step "goals 2 and 3: 3 regions, 1,000 writes/s, round $r"
      tagged "$b" "$client" bench replication --rates 1000 --duration 20s --region-binary "$b" |
        grep -E 'CPU per replicated|achieved|all links|read round trip' || failed
    done
  done
fi

if want seven; then
  step "goal 5: 7 regions, 1,000 writes/s"
  tagged "$client" "$client" bench replication --regions 7 --rates 1000 --duration 20s --probe-rate 5 |
    grep -vE '\| [0-9]{4}-[0-9]{2}-[0-9]{2}T' || failed
fi

if want catchup; then
  for mode in cut resync; do
    for r in $(seq 1 "$ROUNDS"); do
      mapfile -t order < <(ordered "$r")
      for b in "${order[@]}"; do
        step "goal 6: catch-up, --mode $mode, round $r"
        tagged "$b" "$client" bench catchup --mode "$mode" --region-binary "$b" |
          grep -E 'caught up|re-sync of' || failed
      done
    done
  done
fi

if want idle; then
  step "goal 4: idle regions, side by side"
  DURATION=60 SETTLE=15 scripts/idle.sh "${bins[@]}" || failed
fi
