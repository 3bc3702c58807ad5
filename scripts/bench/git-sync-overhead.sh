#!/usr/bin/env bash
# Times the Git module's share of sync overhead on a synthetic repository (release build), next to
# the git command line doing the same work: open + HEAD, a full tree walk, a one-file-commit diff,
# attribute lookups, isDirty, blob reads.
# Usage: scripts/bench/git-sync-overhead.sh [FILES]   (default 20000)
set -euo pipefail
files="${1:-20000}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/git-rag-bench-XXXXXX")"
[[ -n "${GIT_RAG_BENCH_KEEP:-}" ]] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
repo="$work/repo"
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@example.com
git init -q -b main "$repo"

# Commit 1: .gitattributes and FILES files in 3 levels of folders (20 x 20 x n). Commit 2: one file edited.
awk -v n="$files" 'BEGIN {
  print "commit refs/heads/main"; print "committer bench <b@example.com> 1700000000 +0000"
  print "data 7"; print "initial"
  printf "M 100644 inline .gitattributes\ndata 14\npkg01/** -rag\n\n"
  for (i = 0; i < n; i++) {
    body = sprintf("def f%d():\n    return %d\n", i, i)
    printf "M 100644 inline pkg%02d/mod%02d/file_%05d.py\ndata %d\n%s\n", i % 20, int(i / 20) % 20, i, length(body), body
  }
  print "commit refs/heads/main"; print "committer bench <b@example.com> 1700000100 +0000"
  print "data 6"; print "change"
  body = "def f7():\n    return 700\n"
  printf "M 100644 inline pkg07/mod00/file_00007.py\ndata %d\n%s\n", length(body), body
}' | git -C "$repo" fast-import --quiet
git -C "$repo" checkout -q main
# Let the index age past the files' mtimes so no entry is "racily clean" (as in a real checkout).
sleep 1.1; git -C "$repo" status >/dev/null

# A throw-away package holding only the Git module (and the error protocol it uses), built in release.
pkg="$work/pkg"
mkdir -p "$pkg/Sources/GitRAGCore" "$pkg/Sources/GitBench"
ln -s "$root/Sources/CLibGit2" "$pkg/Sources/CLibGit2"
ln -s "$root/Sources/Git" "$pkg/Sources/Git"
ln -s "$root/Sources/GitRAGCore/Errors.swift" "$pkg/Sources/GitRAGCore/Errors.swift"
ln -s "$root/scripts/bench/git-bench/main.swift" "$pkg/Sources/GitBench/main.swift"
cat > "$pkg/Package.swift" <<'SWIFT'
// swift-tools-version:6.1
import PackageDescription
let package = Package(
  name: "GitBench",
  targets: [
    .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2"),
    .target(name: "GitRAGCore"),
    .target(name: "Git", dependencies: ["CLibGit2", "GitRAGCore"]),
    .executableTarget(name: "GitBench", dependencies: ["Git"]),
  ],
  swiftLanguageModes: [.v6]
)
SWIFT
swift build -c release --package-path "$pkg" --scratch-path "$work/build" 2>&1 | grep -E "error|warning" || true

# git, best of 5 runs each (includes process start-up, a few ms).
t() {
  local best=999999999 s e i
  for i in 1 2 3 4 5; do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 <"${input:-/dev/null}"; e=$(date +%s%N)
    (( e - s < best )) && best=$(( e - s ))
  done
  printf 'bench git:   %8.2f ms  %s\n' "$(echo "$best / 1000000" | bc -l)" "${*:3}"
}
t git -C "$repo" rev-parse HEAD
t git -C "$repo" ls-tree -r HEAD
t git -C "$repo" diff-tree -r -M HEAD~1 HEAD
t git -C "$repo" diff-index --quiet HEAD
git -C "$repo" ls-files > "$work/paths"
input="$work/paths" t git -C "$repo" check-attr --stdin rag

"$work/build/release/GitBench" "$repo"
