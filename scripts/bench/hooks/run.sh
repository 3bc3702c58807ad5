#!/usr/bin/env bash
# Hook latency: how long `.git/hooks/post-commit` takes to return, with a fake git-rag on PATH that
# sleeps (so a hook that waited on the sync would show it). Runs the hook itself RUNS times
# (default 300) in a temporary repository and prints p50/p95/p99/max in milliseconds, plus the same
# for a `git commit` with and without the hook installed, side by side.
#
#   scripts/bench/hooks/run.sh [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
runs="${1:-300}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/bin"
cat > "$work/bin/git-rag" <<'FAKE'
#!/bin/sh
sleep 2
FAKE
chmod +x "$work/bin/git-rag"
export PATH="$work/bin:$PATH" HOME="$work" GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
git init -q -b main "$work/repo"
cd "$work/repo"
git commit -q --allow-empty -m init

now_us() { local t="$EPOCHREALTIME"; echo "${t/./}"; }

# Prints p50/p95/p99/max (ms) of the microsecond samples on stdin.
percentiles() {
  sort -n | awk '{ v[NR] = $1 }
    END {
      n = NR
      i50 = int(n * 0.50 + 0.5); if (i50 < 1) i50 = 1
      i95 = int(n * 0.95 + 0.5); if (i95 < 1) i95 = 1
      i99 = int(n * 0.99 + 0.5); if (i99 < 1) i99 = 1
      printf "p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%d)\n", v[i50]/1000, v[i95]/1000, v[i99]/1000, v[n]/1000, n
    }'
}

time_runs() {  # time_runs COMMAND...: RUNS timings in microseconds, one a line
  local i start end
  for ((i = 0; i < runs; i++)); do
    start=$(now_us); "$@" >/dev/null 2>&1; end=$(now_us)
    echo $((end - start))
  done
}

commits_without=$(time_runs git commit -q --allow-empty -m x | percentiles)
cp "$root/hooks/post-commit" .git/hooks/post-commit
chmod +x .git/hooks/post-commit
hook=$(time_runs .git/hooks/post-commit | percentiles)
commits_with=$(time_runs git commit -q --allow-empty -m x | percentiles)

echo "post-commit hook alone (fake git-rag sleeps 2 s): $hook"
echo "git commit with the hook:                         $commits_with"
echo "git commit without a hook:                        $commits_without"
