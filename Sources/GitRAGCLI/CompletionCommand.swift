import ArgumentParser

/// `git rag completion bash|zsh|fish`: a completion script for both `git-rag` and `git rag`.
struct CompletionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "completion",
    abstract: "Print a shell completion script for `git rag` and `git-rag`.",
    discussion: """
      bash: `git rag completion bash > ~/.local/share/bash-completion/completions/git-rag` \
      (git's own completion must be loaded for `git rag`). zsh: `git rag completion zsh > \
      ~/.zfunc/_git-rag` with ~/.zfunc in fpath. fish: `git rag completion fish > \
      ~/.config/fish/completions/git-rag.fish`.
      """
  )

  @Argument(help: "The shell: bash, zsh or fish.")
  var shell: String

  func validate() throws {
    guard CompletionShell(rawValue: shell) != nil else {
      throw ValidationError("Unknown shell \"\(shell)\". Use bash, zsh or fish.")
    }
  }

  func run() throws {
    print(Self.script(for: CompletionShell(rawValue: shell)!))
  }

  static func script(for shell: CompletionShell) -> String {
    let base = GitRAGCommand.completionScript(for: shell)
    switch shell {
    case .bash:
      // git's completion calls `_git_rag` for `git rag …`: hand it the words as `git-rag …`.
      return base + """

        _git_rag() {
            local -a COMP_WORDS=(git-rag "${COMP_WORDS[@]:2}")
            local COMP_CWORD=$((COMP_CWORD - 1))
            local COMP_LINE="git-rag ${COMP_LINE#*rag }"
            local COMP_POINT=${#COMP_LINE}
            _git-rag git-rag "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        }
        """
    case .zsh:
      // zsh's `_git` completes `git rag …` with the `_git-rag` function this script defines.
      return base
    case .fish:
      return base + """

        complete -c git -n '__fish_seen_subcommand_from rag' -f -a '(complete -C (string join " " git-rag (commandline -opc)[3..-1] (commandline -ct)))'
        """
    default:
      return base
    }
  }
}
