#!/usr/bin/env bash
# Builds the benchmark's real-history workload: a repo with COMMITS commits (default 2000) that edit
# a set of text files, repacked so most blob and tree versions are stored as deltas.
# Invariants:
# - Same arguments, same object ids (scripts/bench-history.mjs is seeded and dates are fixed).
# - OUTDIR is complete or absent: the repo is built in a temp dir and moved into place at the end.
# Usage: gen-history.sh OUTDIR [COMMITS] [FILES]
set -euo pipefail
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [COMMITS] [FILES]" >&2; exit 2; }
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -e "$OUT" ] && { echo "gen-history: $OUT already exists" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
TMP="$OUT.tmp.$$"
trap 'rm -rf "$TMP"' EXIT

git init -q -b main "$TMP"
git -C "$TMP" config gc.auto 0
node "$HERE/bench-history.mjs" "${2:-2000}" "${3:-150}" | git -C "$TMP" fast-import --quiet
git -C "$TMP" repack -q -a -d -f --window=10 --depth=50
git -C "$TMP" checkout -q main
mv "$TMP" "$OUT"
trap - EXIT
echo "gen-history: $OUT: $(git -C "$OUT" rev-list --count main) commits, $(git -C "$OUT" count-objects -v | sed -n 's/^size-pack: //p') KiB packed, main=$(git -C "$OUT" rev-parse main)" >&2
