import ArgumentParser
import Embedding
import Foundation
import Git
import GitRAGCore

/// `git rag`: keeps a retrieval index of a git repository fresh.
public struct GitRAGCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "git-rag",
    abstract: "Keep a retrieval (RAG) index of a git repository fresh, and search it.",
    discussion: """
      Run it as `git rag <command>` inside a repository. Start with `git rag sync`, then \
      `git rag search "your question"`. Settings come from flags, then the environment \
      (GIT_RAG_*, MODEL_NAME, API_TOKEN, QDRANT_URL, ...), then git config (rag.store, \
      rag.collection, rag.embedder, ...).
      """,
    version: GitRAGVersion.current,
    subcommands: [
      SyncCommand.self, SearchCommand.self, StatusCommand.self, CollectionCommand.self,
      InspectCommand.self, EmbedCommand.self, ModelCommand.self, HooksCommand.self, CICommand.self,
      UploadCommand.self, WorkerCommand.self, ManualCommand.self, MCPCommand.self, PushCommand.self, PullCommand.self,
      CompletionCommand.self,
    ]
  )

  public init() {}

  /// Process-wide settings that must precede any thread (the local model's BLAS library reads
  /// its thread count from the environment when it loads), then libgit2's initialisation on a
  /// thread of its own. Call first thing in `main`.
  public static func prepareProcess() {
    Trace.mark("main")
    LocalEmbedder.prepareProcess()
    LibGit2.initializeInBackground()
  }

  /// `git rag sync …`, which hooks run after every commit, parsed as that command alone: building
  /// the tree of every command first costs a few milliseconds of reflection. Anything this does
  /// not accept (help, a mistake) goes through the full parse, which words the message.
  static func fastParse(_ arguments: [String]) -> ParsableCommand? {
    guard arguments.first == "sync" else { return nil }
    return try? SyncCommand.parse(Array(arguments.dropFirst()))
  }

  /// Parses the command line, runs the command, and turns errors into one line and an exit code.
  public static func runMain(_ arguments: [String]? = nil) async -> Int32 {
    do {
      let given = SearchCommand.coalescingQueryWords(arguments ?? Array(CommandLine.arguments.dropFirst()))
      var command = try fastParse(given) ?? parseAsRoot(given)
      Trace.mark("arguments parsed")
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
      return 0
    } catch let error as UserFacingError {
      Console.error(error.errorDescription ?? "\(error)")
      return error.exitCode
    } catch let error as CocoaError where error.code == .fileReadNoSuchFile || error.code == .fileNoSuchFile {
      Console.error("File not found: \(error.userInfo[NSFilePathErrorKey] ?? "?"). Check the path.")
      return ExitStatus.failure
    } catch {
      let code = exitCode(for: error)
      if code == .success || code.rawValue == 0 {
        print(fullMessage(for: error))
        return 0
      }
      if code == .validationFailure {
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        return 2
      }
      let message = fullMessage(for: error)
      if error is ExitCode { return code.rawValue }
      // Other errors (not one of ours) exit like ours: ExitStatus.failure, not ArgumentParser's 1.
      let status = code == .failure ? ExitStatus.failure : code.rawValue
      if message.isEmpty { return status }
      Console.error(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
      return status
    }
  }
}
