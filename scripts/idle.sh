#!/usr/bin/env bash
# Measures what idle regions cost: each region's CPU (% of one core) and RSS
# while nothing is written, read from /proc/PID/stat and /proc/PID/status.
#
#   scripts/idle.sh                          # builds bin/globaltables, 3 regions, 30 s
#   DURATION=60 scripts/idle.sh /tmp/gt-before /tmp/gt-after
#
# Each binary given runs its own `up` of the default three-region topology
# (configs/default.hcl, on free ports, in a temporary data folder); when
# several are given they run side by side, so that they share the machine's
# load and their figures can be compared. The regions settle for SETTLE
# seconds (default 10) after they answer; RSS_FRESH is then read, CPU
# sampled for DURATION seconds (default 30), and RSS read again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
SETTLE=${SETTLE:-10}
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  mkdir -p bin
  go build -o bin/globaltables ./cmd/globaltables
  bins=(bin/globaltables)
fi
hz=$(getconf CLK_TCK)
. scripts/measure-lib.sh

# free_port: a TCP port nobody listens on now (the kernel's choice).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

for i in "${!bins[@]}"; do
  b=$(readlink -f "${bins[$i]}")
  d="$work/$i"
  mkdir -p "$d"
  sed -e "s|^data_dir .*|data_dir = \"$d/data\"|" configs/default.hcl |
    awk -v a="$(free_port)" -v b="$(free_port)" -v c="$(free_port)" \
      -v na="$(free_port)" -v nb="$(free_port)" -v nc="$(free_port)" '
      /^ *listen *=/      { n++; sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" (n==1?a:n==2?b:c)) }
      /^ *nats_listen *=/ { m++; sub(/127\.0\.0\.1:[0-9]+/, "127.0.0.1:" (m==1?na:m==2?nb:nc)) }
      { print }' >"$d/topology.hcl"
  "$b" up --config "$d/topology.hcl" >"$d/up.log" 2>&1 &
  pids+=($!)
  echo "$b" >"$d/bin"
done

# Wait until every `up` printed its endpoints (it does once all answer).
for i in "${!bins[@]}"; do
  for _ in $(seq 1 600); do
    grep -q 'http://127.0.0.1' "$work/$i/up.log" 2>/dev/null && [ "$(pgrep -P "${pids[$i]}" | wc -l)" -ge 3 ] && break
    kill -0 "${pids[$i]}" 2>/dev/null || { cat "$work/$i/up.log" >&2; exit 1; }
    sleep 0.1
  done
done
sleep "$SETTLE"

declare -A t0 rss0 name
for i in "${!bins[@]}"; do
  for p in $(pgrep -P "${pids[$i]}"); do
    name[$p]="$i $(tr '\0' ' ' <"/proc/$p/cmdline" | sed -n 's/.*--name \([^ ]*\).*/\1/p')"
    t0[$p]=$(ticks "$p")
    rss0[$p]=$(rss_mb "$p")
  done
done
s0=$(date +%s.%N)
sleep "$DURATION"
s1=$(date +%s.%N)
printf 'idle for %.0f s after %s s settling; load average %s\n' "$(echo "$s1 - $s0" | bc)" "$SETTLE" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "RSS in MB, total/anonymous (the rest is mapped files)"
printf '%-24s %-16s %10s %12s %12s\n' BINARY REGION CPU% RSS_FRESH RSS_END
for p in "${!t0[@]}"; do
  read -r i r <<<"${name[$p]}"
  t1=$(ticks "$p")
  cpu=$(echo "scale=3; 100 * ($t1 - ${t0[$p]}) / $hz / ($s1 - $s0)" | bc)
  printf '%-24s %-16s %10.2f %12s %12s\n' "$(cat "$work/$i/bin")" "$r" "$cpu" "${rss0[$p]}" "$(rss_mb "$p")"
done | sort
