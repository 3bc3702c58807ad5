import ArgumentParser
import GitRAGCore

/// `git rag`: keeps a retrieval index of a git repository fresh.
public struct GitRAGCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "git-rag",
    abstract: "Keep a retrieval (RAG) index of a git repository fresh, and search it.",
    version: GitRAGVersion.current,
    subcommands: []
  )

  public init() {}
}
