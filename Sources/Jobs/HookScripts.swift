/// The git hook scripts `git rag hooks install` writes, byte for byte the files in `hooks/`.
///
/// A test proves each text equals its file, so the repository's `hooks/` and the binary never drift.
public enum HookScripts {
  /// The marker line every hook script carries, with its version: `# git-rag hook v1`.
  public static let marker = "# git-rag hook v"

  /// The current hook version; a hook with a lower one is ours and gets replaced.
  public static let version = 1

  /// Hook name (`post-commit`, …) to script text.
  public static let all: [String: String] = [
    "post-checkout": postCheckout,
    "post-commit": postCommit,
    "post-merge": postMerge,
    "post-rewrite": postRewrite,
  ]

  static let postCheckout = #"""
    #!/bin/sh
    # git-rag hook v1 (post-checkout)
    # Written by `git rag hooks install`; `git rag hooks uninstall` removes it.
    # Starts `git-rag sync` in the background after a branch checkout and returns at once.
    # Set GIT_RAG_SKIP_HOOKS=1 to skip it; its output goes to <git common dir>/rag/hook.log.
    [ "$GIT_RAG_SKIP_HOOKS" = 1 ] && exit 0
    # Only branch checkouts (third argument 1), not file checkouts.
    [ "$3" = 1 ] || exit 0
    command -v git-rag >/dev/null 2>&1 || { echo "git-rag: not found on PATH; install it or remove this hook (git rag hooks uninstall)" >&2; exit 0; }
    rag_dir="$(git rev-parse --git-common-dir 2>/dev/null)/rag" || exit 0
    [ -d "$rag_dir" ] || mkdir -p "$rag_dir" 2>/dev/null || exit 0
    rag_log="$rag_dir/hook.log"
    # Keep the log under 1 MiB: the previous one is kept as hook.log.1.
    if [ -s "$rag_log" ] && [ "$(wc -c <"$rag_log")" -gt 1048576 ]; then mv -f "$rag_log" "$rag_log.1"; fi
    # Detached, in its own session and process group, so the hook never waits on the sync.
    if command -v setsid >/dev/null 2>&1; then
      setsid git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &
    else
      (set -m 2>/dev/null; nohup git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &)
    fi
    exit 0

    """#

  static let postCommit = #"""
    #!/bin/sh
    # git-rag hook v1 (post-commit)
    # Written by `git rag hooks install`; `git rag hooks uninstall` removes it.
    # Starts `git-rag sync` in the background after each commit and returns at once.
    # Set GIT_RAG_SKIP_HOOKS=1 to skip it; its output goes to <git common dir>/rag/hook.log.
    [ "$GIT_RAG_SKIP_HOOKS" = 1 ] && exit 0
    command -v git-rag >/dev/null 2>&1 || { echo "git-rag: not found on PATH; install it or remove this hook (git rag hooks uninstall)" >&2; exit 0; }
    rag_dir="$(git rev-parse --git-common-dir 2>/dev/null)/rag" || exit 0
    [ -d "$rag_dir" ] || mkdir -p "$rag_dir" 2>/dev/null || exit 0
    rag_log="$rag_dir/hook.log"
    # Keep the log under 1 MiB: the previous one is kept as hook.log.1.
    if [ -s "$rag_log" ] && [ "$(wc -c <"$rag_log")" -gt 1048576 ]; then mv -f "$rag_log" "$rag_log.1"; fi
    # Detached, in its own session and process group, so the hook never waits on the sync.
    if command -v setsid >/dev/null 2>&1; then
      setsid git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &
    else
      (set -m 2>/dev/null; nohup git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &)
    fi
    exit 0

    """#

  static let postMerge = #"""
    #!/bin/sh
    # git-rag hook v1 (post-merge)
    # Written by `git rag hooks install`; `git rag hooks uninstall` removes it.
    # Starts `git-rag sync` in the background after a merge or pull and returns at once.
    # Set GIT_RAG_SKIP_HOOKS=1 to skip it; its output goes to <git common dir>/rag/hook.log.
    [ "$GIT_RAG_SKIP_HOOKS" = 1 ] && exit 0
    command -v git-rag >/dev/null 2>&1 || { echo "git-rag: not found on PATH; install it or remove this hook (git rag hooks uninstall)" >&2; exit 0; }
    rag_dir="$(git rev-parse --git-common-dir 2>/dev/null)/rag" || exit 0
    [ -d "$rag_dir" ] || mkdir -p "$rag_dir" 2>/dev/null || exit 0
    rag_log="$rag_dir/hook.log"
    # Keep the log under 1 MiB: the previous one is kept as hook.log.1.
    if [ -s "$rag_log" ] && [ "$(wc -c <"$rag_log")" -gt 1048576 ]; then mv -f "$rag_log" "$rag_log.1"; fi
    # Detached, in its own session and process group, so the hook never waits on the sync.
    if command -v setsid >/dev/null 2>&1; then
      setsid git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &
    else
      (set -m 2>/dev/null; nohup git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &)
    fi
    exit 0

    """#

  static let postRewrite = #"""
    #!/bin/sh
    # git-rag hook v1 (post-rewrite)
    # Written by `git rag hooks install`; `git rag hooks uninstall` removes it.
    # Starts `git-rag sync` in the background after an amend or rebase and returns at once.
    # Set GIT_RAG_SKIP_HOOKS=1 to skip it; its output goes to <git common dir>/rag/hook.log.
    [ "$GIT_RAG_SKIP_HOOKS" = 1 ] && exit 0
    command -v git-rag >/dev/null 2>&1 || { echo "git-rag: not found on PATH; install it or remove this hook (git rag hooks uninstall)" >&2; exit 0; }
    rag_dir="$(git rev-parse --git-common-dir 2>/dev/null)/rag" || exit 0
    [ -d "$rag_dir" ] || mkdir -p "$rag_dir" 2>/dev/null || exit 0
    rag_log="$rag_dir/hook.log"
    # Keep the log under 1 MiB: the previous one is kept as hook.log.1.
    if [ -s "$rag_log" ] && [ "$(wc -c <"$rag_log")" -gt 1048576 ]; then mv -f "$rag_log" "$rag_log.1"; fi
    # Detached, in its own session and process group, so the hook never waits on the sync.
    if command -v setsid >/dev/null 2>&1; then
      setsid git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &
    else
      (set -m 2>/dev/null; nohup git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &)
    fi
    exit 0

    """#
}
