import ArgumentParser
import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGKit
import Indexing
import Store

/// `git rag upload file|archive|repo`: index content that is not the current repository.
struct UploadCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "upload",
    abstract: "Index a single file, an archive or a remote repository into a collection.",
    subcommands: [UploadFileCommand.self, UploadArchiveCommand.self, UploadRepoCommand.self]
  )
}

struct UploadFileCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "file",
    abstract: "Index one text file; uploading it again replaces its previous chunks, other files stay.",
    discussion: "The file is refused if it is missing, a directory, binary, over the size limit or holds a secret."
  )

  @Argument(help: "The file to index.")
  var path: String

  @Argument(help: "The collection to index it into.")
  var collection: String

  @Option(help: "Path to store it under (default: the path relative to the current folder, else the file name).")
  var name: String?

  @Flag(help: "Print the summary as JSON.")
  var json = false
  @OptionGroup var global: GlobalOptions

  @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    if runtime.runtime != nil {
      let input = try runtime.localInput(path, what: "file")
      let stored = name ?? Self.storedPath(URL(fileURLWithPath: input.path))
      try await runtime.submit(
        operation: .uploadFile, arguments: [input.path, collection, "--name", stored] + (json ? ["--json"] : []),
        context: context, volumes: input.volumes)
      return
    }
    let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
      .standardizedFileURL
    let source = try SingleFileSource(
      url: url, path: name ?? Self.storedPath(url), maxFileSize: try context.maxFileSize(), allowance: try context.secretAllowance())
    let report = try await UploadRun(context: context, collection: collection).run { try await $0.upsertFiles(source: source) }
    UploadRun.print(report, json: json, quiet: global.quiet)
  }

  /// `url` relative to the current folder when it is inside it, else its file name.
  static func storedPath(_ url: URL) -> String {
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.resolvingSymlinksInPath().path
    let full = url.resolvingSymlinksInPath().path
    if full.hasPrefix(cwd + "/") { return String(full.dropFirst(cwd.count + 1)) }
    return url.lastPathComponent
  }
}

struct UploadArchiveCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "archive",
    abstract: "Index a tar, tar.gz/.tgz, tar.bz2, tar.xz or zip archive; it replaces the collection's content.",
    discussion: """
      The archive is read as a stream: nothing is extracted to disk. Entries with absolute paths, `..` \
      components, symlinks, hard links and device entries are skipped with a reason.
      """
  )

  @Argument(help: "The archive.")
  var path: String

  @Argument(help: "The collection to index it into.")
  var collection: String

  @Option(name: .customLong("max-entries"), help: "Refuse archives with more entries than this (default 50000).")
  var maxEntries = 50_000

  @Option(name: .customLong("max-total-size"), help: "Refuse archives that expand to more bytes than this (default 1 GiB).")
  var maxTotalSize = 1 << 30

  @Option(name: .customLong("max-ratio"), help: "Refuse entries that expand more than this many times their compressed size (default 200).")
  var maxRatio = 200

  @Flag(help: "Print the summary as JSON.")
  var json = false
  @OptionGroup var global: GlobalOptions

  @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    if runtime.runtime != nil {
      let input = try runtime.localInput(path, what: "archive")
      let limits = ["--max-entries", String(maxEntries), "--max-total-size", String(maxTotalSize), "--max-ratio", String(maxRatio)]
      try await runtime.submit(
        operation: .uploadArchive, arguments: [input.path, collection] + limits + (json ? ["--json"] : []),
        context: context, volumes: input.volumes)
      return
    }
    var limits = ArchiveLimits()
    limits.maxEntries = maxEntries
    limits.maxTotalBytes = maxTotalSize
    limits.maxRatio = maxRatio
    let source = try ArchiveSource(url: URL(fileURLWithPath: path), limits: limits, maxFileSize: try context.maxFileSize())
    if !global.quiet {
      for (entry, reason) in source.skipped { Console.info("Skipped \(entry.debugDescription): \(reason)") }
    }
    let report = try await UploadRun(context: context, collection: collection).run { engine in
      try await engine.sync(source: source)
    }
    UploadRun.print(report, json: json, quiet: global.quiet)
  }
}

struct UploadRepoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repo",
    abstract: "Clone a repository (ssh, https, http or a local path) and index its HEAD; later uploads are incremental.",
    discussion: """
      Credentials: ssh uses the ssh-agent (SSH_AUTH_SOCK), then ~/.ssh keys (id_ed25519, id_ecdsa, \
      id_rsa, IdentityFile entries of ~/.ssh/config); host keys are checked against ~/.ssh/known_hosts. \
      https uses GITHUB_TOKEN or GIT_RAG_TOKEN (user: GIT_RAG_TOKEN_USER) when the server asks for one. \
      Credentials inside URLs are refused.
      """
  )

  @Argument(help: "git@host:owner/repo, ssh://…, https://…, http://… or a local path.")
  var url: String

  @Argument(help: "The collection to index it into.")
  var collection: String

  @Option(help: "Branch to index (default: the remote's default branch).")
  var branch: String?

  @Option(help: "History depth to fetch (the index then reconciles against its inventory).")
  var depth: Int?

  @Option(help: "Index this commit (a full hex id) of the cloned branch instead of its head.")
  var commit: String?

  @Flag(
    name: .customLong("accept-new-host-key"),
    help: "Trust and record an ssh host key not yet in ~/.ssh/known_hosts (a changed key is always refused).")
  var acceptNewHostKey = false

  @Option(name: .customLong("keep-clone"), help: .hidden)
  var keepClone: String?

  @Flag(help: "Print the summary as JSON.")
  var json = false
  @OptionGroup var global: GlobalOptions

  @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

  func validate() throws {
    if let depth, depth < 1 { throw ValidationError("--depth must be at least 1.") }
    if let commit, ObjectID(hex: commit) == nil {
      throw ValidationError("--commit must be a full 40-character commit id, not \"\(commit)\".")
    }
  }

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    let location = try CloneLocation.parse(url)
    if runtime.runtime != nil {
      if try runtime.runsInContainer(), location.transport == .local {
        throw GitRAGError(
          "\(url) is a path on this machine, which a \(runtime.runtime ?? "") job cannot clone. Give a URL it can reach, or use --runtime local.",
          exitCode: 2)
      }
      var arguments = [location.transport == .local ? location.url : url, collection]
      if let branch { arguments += ["--branch", branch] }
      if let depth { arguments += ["--depth", String(depth)] }
      if let commit { arguments += ["--commit", commit] }
      if acceptNewHostKey { arguments.append("--accept-new-host-key") }
      if json { arguments.append("--json") }
      try await runtime.submit(operation: .uploadRepo, arguments: arguments, context: context)
      return
    }
    if location.transport == .http, !global.quiet {
      Console.info(
        "Warning: \(location.redacted) is unencrypted http; code and any token travel in clear text. Use https:// if the server supports it."
      )
    }
    var clone = CloneOptions(home: UserPaths.home, environment: context.environment)
    clone.connectTimeout = try DeadlineSetting.seconds("GIT_RAG_CONNECT_TIMEOUT", in: context.environment, default: 30)
    clone.idleTimeout = try DeadlineSetting.seconds("GIT_RAG_IDLE_TIMEOUT", in: context.environment, default: 60)
    clone.branch = branch
    clone.acceptNewHostKey = acceptNewHostKey
    let quiet = global.quiet
    clone.onNote = { if !quiet { Console.info($0) } }
    var upload = RemoteRepositoryUpload(location: location, clone: clone)
    upload.depth = depth
    upload.commit = commit
    upload.keepCloneAt = keepClone.map { URL(fileURLWithPath: $0, isDirectory: true) }
    let report = try await UploadRun(context: context, collection: collection).run { try await upload.run(engine: $0) }
    UploadRun.print(report, json: json, quiet: global.quiet)
  }
}

/// The engine, store and lock one upload (or `sync --dir`) writes through.
struct UploadRun {
  let context: CommandContext
  let collection: String

  func run(_ body: (SyncEngine) async throws -> SyncReport) async throws -> SyncReport {
    let lock = SyncLock(directory: context.storeDirectory, collection: collection)
    switch try lock.acquire() {
    case .acquired: break
    case .heldBy(let pid):
      throw GitRAGError("A sync of \(collection) is running (pid \(pid)). Wait for it to finish, then run this again.")
    }
    defer { lock.release() }
    let store = try context.makeStore()
    let recorded = try await store.collectionExists(collection) ? try await store.metadata(collection) : nil
    let embedder = try context.makeEmbedder(recorded: recorded)
    let options = try context.syncOptions(collection: collection, embedder: embedder)
    // Knowing the dimension the collection records spares a probe request when nothing changed.
    await context.prime(embedder, metadata: recorded)
    var engine = SyncEngine(store: store, embedder: embedder, cache: context.makeCache(), options: options)
    let progress = ProgressPrinter(enabled: !context.quiet && Console.stderrIsTerminal)
    engine.onEvent = { progress.handle($0) }
    defer { progress.finish() }
    return try await body(engine)
  }

  static func print(_ report: SyncReport, json: Bool, quiet: Bool) {
    if json {
      Swift.print((try? JSONOutput.encode(Versioned(report))) ?? "{}")
    } else if !quiet {
      Swift.print(TerminalText.safe(report.summary, keepNewlines: true))
    }
  }
}

/// `git rag sync --dir PATH`: a plain folder, reconciled against the collection's inventory.
enum DirectorySync {
  static func run(directory: String, global: GlobalOptions, dryRun: Bool, json: Bool) async throws {
    let context = try CommandContext(options: global, requireRepository: false)
    let source = try DirectorySource(root: URL(fileURLWithPath: directory))
    let collection = global.collection ?? context.environment["GIT_RAG_COLLECTION"] ?? folderCollection(source.root)
    let report = try await UploadRun(context: context, collection: collection).run { engine in
      var engine = engine
      engine.options.dryRun = dryRun
      return try await engine.sync(source: source)
    }
    UploadRun.print(report, json: json, quiet: global.quiet)
  }

  static func folderCollection(_ root: URL) -> String {
    let cleaned = String(
      root.lastPathComponent.unicodeScalars.map {
        CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) ? Character($0) : "-"
      })
    return cleaned.isEmpty ? "default" : cleaned
  }
}
