import ArgumentParser
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGKit
import Indexing
import Store

/// Flags `push` and `pull` share: which remote, which ref, host keys.
struct IndexRefOptions: ParsableArguments {
  @Argument(help: "Remote name or URL (default: rag.remote, else origin).")
  var remote: String?

  @Option(help: "Name of the ref, refs/rag/<name> (default: the collection's name).")
  var name: String?

  @Flag(
    name: .customLong("accept-new-host-key"),
    help: "Trust and record an ssh host key not yet in ~/.ssh/known_hosts (a changed key is always refused).")
  var acceptNewHostKey = false

  @Flag(help: "Print the summary as JSON.")
  var json = false

  func validate() throws {
    if let name, !IndexRef.isValidName(name) {
      throw ValidationError("--name \(name.debugDescription) is not a usable ref name: use letters, digits, '-', '_' and '.'.")
    }
  }
}

/// Where a push or pull goes, resolved from flags and git config.
struct IndexRefTarget {
  let repository: Repository
  let location: CloneLocation
  let transfer: CloneOptions

  init(context: CommandContext, remote: String?, acceptNewHostKey: Bool) throws {
    repository = try context.requireRepository()
    let name = remote ?? repository.config("rag.remote") ?? "origin"
    location = try repository.remoteLocation(name)
    var transfer = CloneOptions(home: UserPaths.home, environment: context.environment)
    transfer.acceptNewHostKey = acceptNewHostKey
    let quiet = context.quiet
    transfer.onNote = { if !quiet { Console.info($0) } }
    self.transfer = transfer
    if location.transport == .http, !quiet {
      Console.info("Warning: \(location.redacted) is unencrypted http; vectors and any token travel in clear text.")
    }
  }

  /// Fetches `refs/rag/<name>` (or the one ref the remote has) into the embedding cache.
  static func pull(context: CommandContext, remote: String?, name: String?, acceptNewHostKey: Bool) async throws -> IndexRef.PullSummary {
    let target = try IndexRefTarget(context: context, remote: remote, acceptNewHostKey: acceptNewHostKey)
    guard let cache = context.makeCache() else {
      throw GitRAGError("The embedding cache is off (GIT_RAG_NO_CACHE=1) or cannot be opened; pulled vectors would have nowhere to go.")
    }
    let collection = context.collection
    let chosen: String
    if let name {
      chosen = name
    } else {
      let available = try IndexRef.names(repository: target.repository, location: target.location, transfer: target.transfer)
      if available.contains(collection) {
        chosen = collection
      } else if available.count == 1 {
        chosen = available[0]
      } else {
        throw IndexRefError.notOnRemote(reference: "refs/rag/\(collection)", remote: target.location.redacted, available: available)
      }
    }
    let embedder = try context.makeEmbedder()
    let ref = IndexRef(repository: target.repository, name: chosen, transfer: target.transfer)
    return try await ref.pull(location: target.location, cache: cache) { manifest in
      await context.prime(embedder, metadata: manifest.asMetadata)
      return try await embedder.fingerprint
    }
  }
}

extension IndexRefManifest {
  /// The collection metadata this manifest implies (what `prime` reads: embedder and dimension).
  var asMetadata: IndexMetadata {
    IndexMetadata(embedder: embedder, dimension: dimension, chunkerVersion: chunker.first ?? "", source: "")
  }
}

struct PushCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "push",
    abstract: "Publish the collection's vectors (no text) to refs/rag/<name> on a git remote.",
    discussion: """
      One git blob per indexed source file holds its chunk hashes and vectors (float16), plus a \
      manifest (indexed commit, embedder, chunker and filter versions). Git shares the blobs across \
      commits, so a later push sends only files that changed. Anyone who can read the remote can \
      read the vectors; chunk text is never published. If another push landed first, its vectors \
      are fetched, merged and the push retried.
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var ref: IndexRefOptions

  @Flag(help: "Replace a remote ref this clone has not seen instead of merging with it (one writer, such as CI).")
  var replace = false

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global)
    let target = try IndexRefTarget(context: context, remote: ref.remote, acceptNewHostKey: ref.acceptNewHostKey)
    let collection = context.collection
    let name = ref.name ?? collection
    guard IndexRef.isValidName(name) else {
      throw GitRAGError("Collection name \(name.debugDescription) cannot name a git ref; pass --name.", exitCode: 2)
    }
    let indexRef = IndexRef(repository: target.repository, name: name, transfer: target.transfer)
    let summary = try await indexRef.push(
      store: try context.makeStore(), collection: collection, location: target.location,
      filterVersion: fileFilterVersion(maxFileSize: try context.maxFileSize()), replace: replace)
    if ref.json {
      print(try JSONOutput.encode(summary))
    } else if !global.quiet {
      if summary.upToDate {
        print("\(summary.reference) on \(summary.remote) is up to date (\(summary.files) files, \(summary.chunks) chunks).")
      } else {
        print(
          "Pushed \(summary.reference) to \(summary.remote): \(summary.files) files, \(summary.chunks) chunks; sent \(summary.objectsSent) objects\(target.location.transport == .local ? "" : ", \(summary.bytesSent) bytes")\(summary.attempts > 1 ? " (\(summary.attempts) attempts: merged a concurrent push)" : "")."
        )
      }
    }
  }
}

struct PullCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pull",
    abstract: "Fetch refs/rag/<name> from a git remote and feed its vectors to the embedding cache.",
    discussion: """
      A plain git fetch or clone never downloads refs/rag; this does. The manifest's format and \
      embedder must match this repository's; a ref that fails any check is refused and nothing is \
      imported. The next git rag sync then embeds only chunks nobody has embedded.
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var ref: IndexRefOptions

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global)
    let summary = try await IndexRefTarget.pull(
      context: context, remote: ref.remote, name: ref.name, acceptNewHostKey: ref.acceptNewHostKey)
    if ref.json {
      print(try JSONOutput.encode(summary))
    } else if !global.quiet, summary.upToDate {
      print(
        "\(summary.reference) from \(summary.remote) was pulled before (\(summary.files) files, \(summary.chunks) chunks); nothing new.")
    } else if !global.quiet {
      print(
        "Pulled \(summary.reference) from \(summary.remote): \(summary.files) files, \(summary.chunks) chunks, \(summary.vectorsImported) vectors into the cache (indexed at \(summary.indexedCommits.first.map { String($0.prefix(12)) } ?? "?"))."
      )
    }
  }
}
