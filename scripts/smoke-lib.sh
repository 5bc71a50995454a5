# Shared by the smoke scripts (source it): a work folder removed on exit with
# the region started in it, start_region to start a region and learn its
# endpoint, and check to count answers. The caller sets `name` (for
# messages) and `bin` first.

export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fails=0 passes=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then passes=$((passes+1)); else fails=$((fails+1)); echo "FAIL $1: want [$2] got [$3]" >&2; fi
}

# start_region ARGS...: runs `$bin region ARGS...` with its log in $work/log,
# and sets endpoint to the URL the region logs once it serves.
start_region() {
  : >"$work/log"
  "$bin" region "$@" >"$work/log" 2>&1 &
  pid=$!
  endpoint=""
  for _ in $(seq 1 100); do
    endpoint=$(grep -o 'endpoint=https\?://[0-9.:]*' "$work/log" | head -1 | cut -d= -f2 || true)
    [ -n "$endpoint" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/log"; echo "$name: region exited" >&2; exit 1; }
    sleep 0.1
  done
  cat "$work/log"
  echo "$name: region did not start" >&2
  exit 1
}

# finish prints the tally and fails if any check failed.
finish() {
  echo "$name: $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
