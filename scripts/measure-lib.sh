# Shared by bench.sh, idle.sh and mem.sh (source it from the repository root): a work folder and the processes
# started in it (add their PIDs to pids), both cleaned up on exit, and
# readers of a process's CPU time and resident memory from /proc.

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# ticks PID: utime+stime of PID in clock ticks (fields 14 and 15; the
# command name in field 2 may hold spaces, so count from the closing paren).
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# rss_mb PID: resident MB, total/anonymous (the rest is mapped files,
# Badger's tables and logs, which the kernel can drop and read again).
rss_mb() { awk '/^VmRSS:/ {t = $2} /^RssAnon:/ {a = $2} END {printf "%d/%d", t / 1024, a / 1024}' "/proc/$1/status"; }

# wait_endpoint LOG: prints the endpoint a region logged as endpoint=URL.
wait_endpoint() {
  local url=""
  for _ in $(seq 1 600); do
    url=$(grep -o 'endpoint=http://[0-9.:]*' "$1" | head -1 | cut -d= -f2 || true)
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { cat "$1" >&2; echo "no endpoint in $1" >&2; exit 1; }
  echo "$url"
}
