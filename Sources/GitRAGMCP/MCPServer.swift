import Foundation
import GitRAGCore
import GitRAGKit
import Indexing
import Logging
import MCP

/// `git rag mcp`: the index as Model Context Protocol tools over stdio, for coding agents.
///
/// One `IndexSession` lives as long as the server, so the store stays open and the model stays
/// loaded between calls. Tools: `search`, `status`, `sync`. Results are the `--json` shapes
/// (`docs/json.md`); errors are tool errors carrying the command line's one-line message.
public enum GitRAGMCPServer {
  /// Serves until the client closes stdin.
  public static func run(overrides: SettingOverrides) async throws {
    let context = try CommandContext(options: overrides, requireRepository: false)
    let tools = ToolHandler(session: try IndexSession(context: context))
    let server = Server(
      name: "git-rag", version: GitRAGVersion.current, title: "git-rag: search this repository",
      instructions: """
        Hybrid (keyword + vector) search over this git repository, including uncommitted edits. \
        Use `search` to find code or docs by meaning or by identifier, `status` to see whether the \
        index is behind HEAD, and `sync` to bring it up to date.
        """,
      capabilities: .init(tools: .init(listChanged: false)))
    await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: ToolHandler.tools) }
    await server.withMethodHandler(CallTool.self) { params in
      await tools.call(params) { progress in try? await server.notify(ProgressNotification.message(progress)) }
    }
    // Load the model while the client initialises: the first search then finds it warm.
    Task { await tools.warmUp() }
    try await server.start(transport: StdioTransport())
    await server.waitUntilCompleted()
  }
}

/// Runs the tools one at a time on the session (libgit2 handles are not shared across tasks).
actor ToolHandler {
  private let session: IndexSession
  /// The call before this one: each call waits for it, so calls never interleave on the session
  /// (an actor alone would let them interleave at every `await`).
  private var tail: Task<Void, Never>?

  init(session: IndexSession) { self.session = session }

  private func serially<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
    let previous = tail
    let task = Task {
      await previous?.value
      return await body()
    }
    tail = Task { _ = await task.value }
    return await task.value
  }

  func warmUp() async {
    let session = session
    await serially {
      guard let embedder = try? session.configuredEmbedder() else { return }
      _ = try? await embedder.embed(["warm up"])
    }
  }

  /// The tools the server offers; each handler calls `IndexSession`, as the CLI does (adding a
  /// tool: docs/architecture.md, "Where to add things").
  static let tools: [Tool] = [
    Tool(
      name: "search",
      description: """
        Search this repository's index (committed files, plus uncommitted edits unless committed_only). \
        Returns chunks (or files) best first, each with path, line range, symbol, the chunk text with \
        its indentation, score, the commit and blob id it was indexed at, whether the file changed \
        since, and whether it comes from the working tree.
        """,
      inputSchema: .object([
        "type": "object",
        "properties": .object([
          "query": .object(["type": "string", "description": "Words, identifiers, a question or a whole bug report."]),
          "k": .object([
            "type": "integer", "minimum": 1, "maximum": .int(SearchOptions.maxResults), "description": "How many results (default 10).",
          ]),
          "files": .object(["type": "boolean", "description": "One row per file, scored from its best chunks."]),
          "path": .object([
            "type": "string",
            "description": "Only paths matching this glob: `*` within a folder, `**` across folders, `{a,b}` alternatives.",
          ]),
          "language": .object(["type": "string", "description": "Only chunks of this language (python, swift, markdown, ...)."]),
          "committed_only": .object(["type": "boolean", "description": "Search HEAD's index only, without uncommitted edits."]),
        ]),
        "required": .array(["query"]),
      ]),
      annotations: .init(readOnlyHint: true, openWorldHint: false)),
    Tool(
      name: "status",
      description: "The index against HEAD: indexed commit, commits behind, files changed in the working tree, whether a sync is running.",
      inputSchema: .object(["type": "object", "properties": .object([:])]),
      annotations: .init(readOnlyHint: true, openWorldHint: false)),
    Tool(
      name: "sync",
      description:
        "Bring the index up to HEAD (only what changed since the last indexed commit). Waits for a sync already running. Sends progress notifications.",
      inputSchema: .object(["type": "object", "properties": .object([:])]),
      annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
  ]

  func call(_ params: CallTool.Parameters, progress: @escaping @Sendable (ProgressNotification.Parameters) async -> Void) async
    -> CallTool.Result
  {
    let session = session
    return await serially { await Self.run(params, session: session, progress: progress) }
  }

  private static func run(
    _ params: CallTool.Parameters, session: IndexSession, progress: @escaping @Sendable (ProgressNotification.Parameters) async -> Void
  ) async -> CallTool.Result {
    do {
      let arguments = params.arguments ?? [:]
      switch params.name {
      case "search":
        let response = try await session.search(try Self.searchOptions(arguments))
        return try Self.result(Versioned(response))
      case "status":
        return try Self.result(Versioned(try await session.status()))
      case "sync":
        let token = params._meta?.progressToken
        let (events, continuation) = AsyncStream.makeStream(of: SyncEvent.self)
        // One task forwards events in order; the sync never waits on the client.
        let forwarding = Task {
          for await event in events {
            guard let token, case let .indexed(done) = event else { continue }
            // Bytes of the files written, which chunks and tokens follow (files differ a thousandfold).
            let (progressed, total) = done.totalBytes > 0 ? (done.bytes, done.totalBytes) : (done.files, done.totalFiles)
            await progress(
              .init(
                progressToken: token, progress: Double(progressed), total: Double(total),
                message: "\(done.files)/\(done.totalFiles) files, \(done.chunks) chunks"))
          }
        }
        let report: SyncReport
        do {
          report = try await session.syncWaiting { continuation.yield($0) }
          continuation.finish()
        } catch {
          continuation.finish()
          throw error
        }
        await forwarding.value
        return try Self.result(Versioned(report))
      default:
        return Self.failure("Unknown tool \"\(params.name)\". The tools are search, status and sync.")
      }
    } catch let error as UserFacingError {
      return Self.failure(error.errorDescription ?? "\(error)")
    } catch {
      return Self.failure("\(error)")
    }
  }

  /// The `search` tool's arguments, checked as the command line checks its flags.
  static func searchOptions(_ arguments: [String: Value]) throws -> SearchOptions {
    func string(_ name: String) throws -> String? {
      guard let value = arguments[name], !value.isNull else { return nil }
      guard let text = value.stringValue else { throw GitRAGError("\(name) must be a string.", exitCode: ExitStatus.usage) }
      return text
    }
    func bool(_ name: String) throws -> Bool {
      guard let value = arguments[name], !value.isNull else { return false }
      guard let flag = value.boolValue else { throw GitRAGError("\(name) must be true or false.", exitCode: ExitStatus.usage) }
      return flag
    }
    var options = SearchOptions(query: try string("query") ?? "")
    if let k = arguments["k"], !k.isNull {
      guard let number = k.intValue ?? k.doubleValue.flatMap({ $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }) else {
        throw GitRAGError("k must be a whole number between 1 and \(SearchOptions.maxResults).", exitCode: ExitStatus.usage)
      }
      options.limit = number
    }
    options.files = try bool("files")
    options.pathGlob = try string("path")
    options.language = try string("language")
    options.committedOnly = try bool("committed_only")
    try options.validate()
    return options
  }

  /// A result as JSON text (the `--json` shape), also given as structured content.
  static func result<T: Encodable>(_ value: T) throws -> CallTool.Result {
    let text = try JSONContract.encode(value, pretty: false)
    let structured = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    return CallTool.Result(
      content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: Optional<Value>.some(structured), isError: false)
  }

  static func failure(_ message: String) -> CallTool.Result {
    CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], structuredContent: nil as Value?, isError: true)
  }
}
