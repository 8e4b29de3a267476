#!/usr/bin/env bash
# `npm run bench`: times the stock git client against edgegit (`wrangler dev`) and against git's own
# http-backend in one git-bench.sh run, same workloads, and prints a markdown table of medians and
# ratios. `npm run bench -- --scale [N...]` instead pushes and clones big synthetic repos (default
# 5k 20k 50k files, ~10 KB each) and reports each one's times and the user workerd's peak RSS;
# `npm run bench -- --profile [WORKLOAD]` samples the Worker's CPU during a push and a clone (5k).
# `npm run bench -- --sizes [CASE...]` pushes and clones the awkward repos of test/e2e/sizes.test.ts
# (scripts/bench-sizes.mjs: a 30 MB blob, 20,000 files in a directory, a tree 200 deep, a 1 MB commit
# message, 5,000 refs, 10,000 commits) and reports each operation's isolate and RSS peaks.
# `npm run bench -- --long` runs the model-based history test of test/e2e/model/ at length
# (scripts/model-test.mjs: LONG_SEEDS, default 1,2,3,4, of LONG_OPS operations, default 2000, each
# protocol in turn) and reports objects sent against git's upload-pack; a failing seed prints its replay.
# Invariants:
# - The server runs from a snapshot of the sources taken at start, with its own port, persist dir
#   and process group, so edits made meanwhile never hot-reload it and it is always stopped at exit.
# - Workloads are deterministic and cached under $BENCH_WORK; the history one is scripts/gen-history.sh.
# Env: GIT_BENCH_DIR (../shared/bench), BENCH_WORK, RUNS, OPS, BENCH_HISTORY (repo path), BENCH_VARS
#      ("K=V K=V" wrangler vars), and everything git-bench.sh reads; for --scale and --sizes,
#      PROFILE_HEAP_SERIES, PROFILE_HEAP_SNAPSHOT_AT and PROFILE_HEAP_GC_EVERY (bench-profile.mjs).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GIT_BENCH_DIR=$(cd "${GIT_BENCH_DIR:-$ROOT/../shared/bench}" && pwd)
export BENCH_WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/git-bench}
export PATH="$ROOT/node_modules/.bin:$PATH" # Node 22 for wrangler
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI=true NO_COLOR=1
mkdir -p "$BENCH_WORK"
log() { echo "[bench] $*" >&2; }

SERVER_PGID="" SNAP="" PERSIST="" GIT_URL=""
# stop_server [keep]: with "keep", the persist dir stays for the next start_server.
stop_server() {
  if [ -n "$SERVER_PGID" ]; then
    kill -TERM -- "-$SERVER_PGID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$SERVER_PGID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$SERVER_PGID" 2>/dev/null || true
    SERVER_PGID=""
  fi
  [ -n "$SNAP" ] && rm -rf "$SNAP"
  SNAP=""
  [ "${1:-}" = keep ] && return
  [ -n "$PERSIST" ] && rm -rf "$PERSIST"
  PERSIST=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# start_server: sets PORT, INSPECTOR, BASE_URL (no credentials), GIT_URL (with a write token), SERVER_PGID.
# Auth is on, as in production: a random admin secret, and a write token made with it. Storage is
# a new persist dir, or the one a `stop_server keep` left.
start_server() {
  SNAP=$(mktemp -d "${TMPDIR:-/tmp}/edgegit-bench-src.XXXXXX")
  [ -n "$PERSIST" ] || PERSIST=$(mktemp -d "${TMPDIR:-/tmp}/edgegit-bench-state.XXXXXX")
  local admin
  admin="egt_$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')"
  printf 'ADMIN_TOKEN=%s\n' "$admin" > "$SNAP/.bench-secrets.env"
  mkdir -p "$SNAP/.registry"
  for f in actors engine protocol client wrangler.jsonc package.json tsconfig.json; do
    [ -e "$ROOT/$f" ] && cp -r "$ROOT/$f" "$SNAP/"
  done
  ln -s "$ROOT/node_modules" "$SNAP/node_modules"
  PORT=$(free_port)
  local vars=()
  INSPECTOR=$(free_port)
  for kv in ${BENCH_VARS:-}; do vars+=(--var "${kv/=/:}"); done
  (cd "$SNAP" && WRANGLER_REGISTRY_PATH="$SNAP/.registry" exec setsid wrangler dev --ip 127.0.0.1 --port "$PORT" \
    --inspector-port "$INSPECTOR" --persist-to "$PERSIST" --log-level warn --show-interactive-dev-session=false \
    --env-file "$SNAP/.bench-secrets.env" "${vars[@]}") > "$BENCH_WORK/wrangler.log" 2>&1 &
  SERVER_PGID=$!
  BASE_URL="http://127.0.0.1:$PORT"
  for _ in $(seq 300); do
    if curl -sf "$BASE_URL/healthz" > /dev/null 2>&1; then
      local token
      token=$(curl -sf -X POST "$BASE_URL/admin/tokens" -H "Authorization: Bearer $admin" -H 'content-type: application/json' \
        -d '{"name":"bench","scopes":["write"]}' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
      [ -n "$token" ] || { log "could not create a write token"; exit 1; }
      GIT_URL="http://bench:$token@127.0.0.1:$PORT"
      log "wrangler dev ready at $BASE_URL (pgid $SERVER_PGID)"
      return 0
    fi
    kill -0 "$SERVER_PGID" 2>/dev/null || { cat "$BENCH_WORK/wrangler.log" >&2; log "wrangler dev exited"; exit 1; }
    sleep 0.2
  done
  log "wrangler dev not ready after 60 s"; exit 1
}

# The workerd that runs our code: in the server's process group, not the proxy bound to $PORT.
user_workerd() {
  local pid
  for pid in $(pgrep -g "$SERVER_PGID" -f 'workerd serve'); do
    grep -q -- "entry=127.0.0.1:$PORT" "/proc/$pid/cmdline" 2>/dev/null || { echo "$pid"; return; }
  done
}
peak_rss_mb() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

machine() {
  echo "Machine: $(nproc) cores ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem/ {print $2}') GiB RAM, $(git --version), $(node --version), $(date -u '+%Y-%m-%d %H:%M UTC')"
}

bench() {
  local hist=${BENCH_HISTORY:-$BENCH_WORK/sources/edgegit-history-2000}
  [ -d "$hist/.git" ] || "$ROOT/scripts/gen-history.sh" "$hist" 2000
  [ $# -ge 1 ] || set -- 100 1k 5k "history=$hist"
  export OPS=${OPS:-push clone clone-bare clone-depth1 clone-blobless ls-remote fetch-noop push-incr fetch-incr}
  start_server
  local errlog="$BENCH_WORK/bench.err" results
  { "$GIT_BENCH_DIR/git-bench.sh" "$GIT_URL,refserver" "$@" 2>&1 1>&3 | sed "s#$GIT_URL#edgegit#g" | tee "$errlog" >&2; } 3> "$BENCH_WORK/git-bench.md"
  results=$(sed -n 's/.*results: \([^ ]*\.tsv\).*/\1/p' "$errlog" | tail -1)
  [ -f "$results" ] || { log "git-bench wrote no results"; exit 1; }
  local wd
  wd=$(user_workerd)
  echo
  machine
  echo "Runs: ${RUNS:-5} per workload and target; edgegit = \`wrangler dev\` ($BASE_URL), http-backend = refserver.mjs. Results: $results"
  [ -n "$wd" ] && echo "Peak RSS of the user workerd over the whole run: $(peak_rss_mb "$wd") MB"
  echo
  sed -i "s#$GIT_URL#edgegit#g" "$results" "${results%.tsv}.raw.tsv"
  node "$ROOT/scripts/bench-table.mjs" "$results" edgegit refserver
}

# Peak memory of the Worker isolate while a command runs: "total (JS heap+buffers)" in MB.
isolate_peak() {
  PROFILE_HEAP=1 PROFILE_RSS_PID=$(user_workerd) node "$ROOT/scripts/bench-profile.mjs" "$INSPECTOR" "$@" |
    awk '{gsub(/[,):]/, "", $6); gsub(/[,):]/, "", $8); print $1 " (" $6 "+" $8 ")"}'
}

# One fresh server per size and operation, so each peak belongs to that size and operation alone.
scale() {
  [ $# -ge 1 ] || set -- 5k 20k 50k
  local spec n src t0 t1 t2 t3 c rss_push rss_clone heap_push heap_clone
  machine
  echo
  echo "| files | pack MB | push s | clone s | user workerd peak RSS: push, MB | clone, MB | isolate peak, JS heap + buffers: push, MB | clone, MB |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for spec in "$@"; do
    n=${spec,,}; n=${n%k}; [ "$n" != "${spec,,}" ] && n=$((n * 1000))
    src="$BENCH_WORK/sources/scale-$n"
    if [ ! -d "$src/.git" ]; then
      rm -rf "$src.tmp" && mkdir -p "$src.tmp"
      node "$ROOT/scripts/bench-scale-files.mjs" "$src.tmp" "$n" >&2
      (cd "$src.tmp" && git init -q -b main && git add -A && GIT_AUTHOR_DATE='1767225600 +0000' GIT_COMMITTER_DATE='1767225600 +0000' \
        git -c user.name=bench -c user.email=bench@example.invalid commit -q -m "scale $n files" && git repack -q -a -d)
      mv "$src.tmp" "$src"
    fi
    c=$(mktemp -d "${TMPDIR:-/tmp}/edgegit-scale-clone.XXXXXX")
    # The push and the clone each on a server of their own (same storage), so each peak is its own.
    start_server
    t0=${EPOCHREALTIME/./}
    heap_push=$(isolate_peak -- git -C "$src" push -q "$GIT_URL/bench/scale-$n.git" main)
    t1=${EPOCHREALTIME/./}
    rss_push=$(peak_rss_mb "$(user_workerd)")
    stop_server keep
    start_server
    t2=${EPOCHREALTIME/./}
    heap_clone=$(isolate_peak -- git clone -q --bare "$BASE_URL/bench/scale-$n.git" "$c/clone.git")
    t3=${EPOCHREALTIME/./}
    rss_clone=$(peak_rss_mb "$(user_workerd)")
    git -C "$c/clone.git" fsck --no-progress >&2
    [ "$(git -C "$c/clone.git" rev-parse main)" = "$(git -C "$src" rev-parse main)" ] || { log "clone of $n files is wrong"; exit 1; }
    printf '| %s | %s | %.1f | %.1f | %s | %s | %s | %s |\n' "$n" "$(du -m "$src"/.git/objects/pack/*.pack | awk '{print $1}')" \
      "$(( (t1 - t0) / 1000 ))e-3" "$(( (t3 - t2) / 1000 ))e-3" "$rss_push" "$rss_clone" "$heap_push" "$heap_clone"
    rm -rf "$c"
    stop_server
  done
}

# Like scale(): each case's push and clone on a server of their own, so each peak is its own.
sizes() {
  [ $# -ge 1 ] || set -- blob-30mb wide-20k deep-200 message-1mb refs-5k history-10k
  local name src c t0 t1 t2 t3 rss_push rss_clone heap_push heap_clone objects
  machine
  echo
  echo "| case | objects | refs | pack MB | push s | clone s | isolate peak, JS heap + buffers: push, MB | clone, MB | user workerd peak RSS: push, MB | clone, MB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for name in "$@"; do
    src="$BENCH_WORK/sources/size-$name"
    if [ ! -d "$src/.git" ]; then
      rm -rf "$src.tmp"
      node "$ROOT/scripts/bench-sizes.mjs" "$src.tmp" "$name" >&2
      mv "$src.tmp" "$src"
    fi
    c=$(mktemp -d "${TMPDIR:-/tmp}/edgegit-sizes-clone.XXXXXX")
    start_server
    t0=${EPOCHREALTIME/./}
    heap_push=$(isolate_peak -- git -C "$src" push -q "$GIT_URL/bench/size-$name.git" 'refs/heads/*:refs/heads/*')
    t1=${EPOCHREALTIME/./}
    rss_push=$(peak_rss_mb "$(user_workerd)")
    stop_server keep
    start_server
    t2=${EPOCHREALTIME/./}
    heap_clone=$(isolate_peak -- git clone -q --bare "$BASE_URL/bench/size-$name.git" "$c/clone.git")
    t3=${EPOCHREALTIME/./}
    rss_clone=$(peak_rss_mb "$(user_workerd)")
    git -C "$c/clone.git" fsck --no-progress >&2
    [ "$(git -C "$c/clone.git" for-each-ref | sha1sum)" = "$(git -C "$src" for-each-ref | sha1sum)" ] || { log "clone of $name has other refs"; exit 1; }
    objects=$(git -C "$src" count-objects -v | awk '/^in-pack:/ {print $2}')
    printf '| %s | %s | %s | %s | %.1f | %.1f | %s | %s | %s | %s |\n' "$name" "$objects" "$(git -C "$src" for-each-ref | wc -l)" \
      "$(du -m "$src"/.git/objects/pack/*.pack | awk '{print $1}')" "$(( (t1 - t0) / 1000 ))e-3" "$(( (t3 - t2) / 1000 ))e-3" \
      "$heap_push" "$heap_clone" "$rss_push" "$rss_clone"
    rm -rf "$c"
    stop_server
  done
}

profile() {
  local spec=${1:-5k} c url src n
  if [ -d "$spec/.git" ]; then src=$spec; else
    n=${spec,,}; n=${n%k}; [ "$n" != "${spec,,}" ] && n=$((n * 1000))
    src="$BENCH_WORK/workloads/synth-$n"
    [ -d "$src/.git" ] || "$GIT_BENCH_DIR/gen-workload.sh" "$src" "$n" >&2
  fi
  start_server
  url="$GIT_URL/bench/profile.git"
  c=$(mktemp -d "${TMPDIR:-/tmp}/edgegit-profile.XXXXXX")
  machine
  git -C "$src" push -q "$GIT_URL/bench/warmup.git" main # JIT and actor start-up are not the push's
  node "$ROOT/scripts/bench-profile.mjs" "$INSPECTOR" -- git -C "$src" push -q "$url" main \
    -- git clone -q --bare "$url" "$c/bare.git" -- git clone -q "$url" "$c/full" -- git ls-remote -q "$url"
  rm -rf "$c"
}

long() {
  start_server
  machine
  local seeds=${LONG_SEEDS:-1,2,3,4} rc=0
  for proto in 2 0; do
    echo "protocol v$proto, seeds $seeds, ${LONG_OPS:-2000} operations each:"
    node "$ROOT/scripts/model-test.mjs" --server "$GIT_URL" --seeds "$seeds" --ops "${LONG_OPS:-2000}" \
      --check-every "${LONG_CHECK_EVERY:-50}" --protocol "$proto" --quiet || rc=1
  done
  return $rc
}

case "${1:-}" in
  --long) shift; long "$@" ;;
  --scale) shift; scale "$@" ;;
  --profile) shift; profile "$@" ;;
  --sizes) shift; sizes "$@" ;;
  *) bench "$@" ;;
esac
