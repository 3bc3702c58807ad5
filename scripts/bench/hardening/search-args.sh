#!/usr/bin/env bash
# Time `git rag search` with many unquoted words (argument parsing was quadratic in their number).
# Usage: scripts/bench/hardening/search-args.sh [BINARY] [WORD COUNTS...]
# Prints: words, bytes of the command line, seconds (wall, one run), the "arguments parsed" mark.
set -euo pipefail
binary=${1:-"$(cd "$(dirname "$0")/../../.." && pwd)/.build/release/git-rag"}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 2000 4000 8000 18620)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 GIT_RAG_SKIP_HOOKS=1 XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data"
mkdir -p "$HOME" "$work/repo"
cd "$work/repo"
git init -q
printf 'def parse_words(words):\n    return " ".join(words)\n' > words.py
git add words.py
git -c user.name=b -c user.email=b@example.com commit -qm words
"$binary" sync --embedder none --quiet
printf '%8s %10s %10s %14s\n' words bytes seconds parsed_ms
for n in "${counts[@]}"; do
  mapfile -t words < <(python3 -c "import random,sys; random.seed(1); print('\n'.join('w%d' % random.randrange(10**6) for _ in range(int(sys.argv[1]))))" "$n")
  bytes=$(printf '%s ' "${words[@]}" | wc -c)
  start=$(date +%s.%N)
  parsed=$(GIT_RAG_TRACE=1 "$binary" search --embedder none -k 3 "${words[@]}" parse_words 2>&1 >/dev/null | awk '/arguments parsed/ {print $2}')
  end=$(date +%s.%N)
  printf '%8s %10s %10.2f %14s\n' "$n" "$bytes" "$(echo "$end - $start" | bc)" "$parsed"
done
