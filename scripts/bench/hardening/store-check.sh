#!/usr/bin/env bash
# Time the store integrity checks: `git rag status` (quick_check, also run before every sync
# records its commit) and `git rag status --check` (integrity_check), on an index of REPO.
# Usage: scripts/bench/hardening/store-check.sh [BINARY] [REPO] [--embedder local|none]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
binary=${1:-"$root/.build/release/git-rag"}
repo=${2:-"$root"}
embedder=${3:-none}
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
cd "$repo"
export GIT_RAG_SKIP_HOOKS=1
"$binary" sync --quiet --embedder "$embedder" --store-path "$store" --collection bench
python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$store/bench.sqlite"
ls -l "$store"/bench.sqlite | awk '{printf "store file: %.1f MB\n", $5 / 1048576}'
for arguments in "status" "status --check"; do
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$binary" $arguments --embedder "$embedder" --store-path "$store" --collection bench >/dev/null
    end=$(date +%s.%N)
    printf '%-16s %6.3f s\n' "$arguments" "$(echo "$end - $start" | bc)"
  done
done
python3 - "$store/bench.sqlite" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
for pragma in ("quick_check", "integrity_check"):
    start = time.perf_counter(); db.execute(f"PRAGMA {pragma}").fetchall()
    print(f"PRAGMA {pragma:16s} {time.perf_counter() - start:6.3f} s")
PY
