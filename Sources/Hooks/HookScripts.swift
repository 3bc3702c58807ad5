import Foundation

/// The git hook scripts `git rag hooks install` writes: one template, filled in per hook name
/// (as git-lfs does), byte for byte the files in `hooks/`.
///
/// A test proves each filled-in text equals its file, so the repository's `hooks/` and the binary
/// never drift.
public enum HookScripts {
  /// The marker line every hook script carries, with its version: `# git-rag hook v2`.
  public static let marker = "# git-rag hook v"

  /// The current hook version; a hook with a lower one is ours and gets replaced.
  public static let version = 2

  /// What differs between hooks: when the sync starts, and a guard that may end the hook first.
  struct Hook {
    let when: String
    var guardLines = ""
  }

  /// The hooks git-rag installs.
  static let hooks: [String: Hook] = [
    "post-checkout": Hook(
      when: "after a branch checkout",
      guardLines: "# Only branch checkouts (third argument 1), not file checkouts.\n" + #"[ "${3:-}" = 1 ] || exit 0"# + "\n"),
    "post-commit": Hook(when: "after each commit"),
    "post-merge": Hook(when: "after a merge or pull"),
    "post-rewrite": Hook(when: "after an amend or rebase"),
  ]

  /// Hook name (`post-commit`, …) to script text.
  public static let all: [String: String] = hooks.reduce(into: [:]) { $0[$1.key] = script(hook: $1.key, $1.value) }

  /// The one template: `{{version}}`, `{{hook}}`, `{{when}}` and `{{guard}}` are filled in. Safe
  /// under `set -eu` and `pipefail` (a chained block runs inside the user's shell): every
  /// variable has a default and no line pipes.
  ///
  /// A log that cannot be written is reported once, with a marker in the git directory that is
  /// cleared when the log is writable again; the sync then runs without a log.
  static let template = #"""
    #!/bin/sh
    # git-rag hook v{{version}} ({{hook}})
    # Written by `git rag hooks install`; `git rag hooks uninstall` removes it.
    # Starts `git-rag sync` in the background {{when}} and returns at once.
    # Set GIT_RAG_SKIP_HOOKS=1 to skip it; its output goes to <git common dir>/rag/hook.log.
    [ "${GIT_RAG_SKIP_HOOKS:-}" = 1 ] && exit 0
    {{guard}}command -v git-rag >/dev/null 2>&1 || { echo "git-rag: not found on PATH; install it or remove this hook (git rag hooks uninstall)" >&2; exit 0; }
    git_dir="$(git rev-parse --git-common-dir 2>/dev/null)" || exit 0
    rag_log="$git_dir/rag/hook.log"
    [ -d "$git_dir/rag" ] || mkdir -p "$git_dir/rag" 2>/dev/null || :
    # Keep the log under 1 MiB: the previous one is kept as hook.log.1.
    if [ -s "$rag_log" ] && [ "$(wc -c <"$rag_log")" -gt 1048576 ]; then mv -f "$rag_log" "$rag_log.1" 2>/dev/null || :; fi
    # A log that cannot be written is reported once (the marker goes when it is writable again).
    # `true`, not `:`: a failed redirection of a special built-in ends a POSIX shell.
    if { true >>"$rag_log"; } 2>/dev/null; then
      [ ! -e "$git_dir/rag-hook-log-unwritable" ] || rm -f "$git_dir/rag-hook-log-unwritable"
    else
      [ -e "$git_dir/rag-hook-log-unwritable" ] || echo "git-rag: cannot write $rag_log; background syncs run without a log until it is writable" >&2
      { true >"$git_dir/rag-hook-log-unwritable"; } 2>/dev/null || :
      rag_log=/dev/null
    fi
    # Detached, in its own session and process group, so the hook never waits on the sync.
    if command -v setsid >/dev/null 2>&1; then
      setsid git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &
    else
      (set -m 2>/dev/null; nohup git-rag sync --quiet --from-hook </dev/null >>"$rag_log" 2>&1 &)
    fi
    exit 0

    """#

  /// The template filled in for `hook`.
  static func script(hook name: String, _ hook: Hook) -> String {
    template.replacingOccurrences(of: "{{version}}", with: String(version))
      .replacingOccurrences(of: "{{hook}}", with: name)
      .replacingOccurrences(of: "{{when}}", with: hook.when)
      .replacingOccurrences(of: "{{guard}}", with: hook.guardLines)
  }
}
