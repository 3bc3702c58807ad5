import ArgumentParser
import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGKit
import Indexing
import Store

struct SyncCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sync",
    abstract: "Bring the index up to HEAD: embed only what changed since the last indexed commit.",
    discussion: """
      The first sync indexes every tracked file of HEAD. Later syncs diff the last indexed commit \
      against HEAD and touch only added, modified, deleted and renamed files. When the last commit is \
      gone (a shallow CI clone, a force-push), the store's inventory is compared with HEAD's tree.
      """
  )

  @Flag(help: "Print the plan (files, chunks to embed, chunks reused, estimated tokens) and write nothing.")
  var dryRun = false

  @Flag(help: "Drop the collection and index from scratch (needed after changing the embedder).")
  var reindex = false

  @Flag(help: "Print the summary as JSON.")
  var json = false

  @Flag(help: "First run git rag pull: import the vectors published under refs/rag on the remote (rag.remote, else origin).")
  var pull = false

  @Flag(name: .customLong("from-hook"), help: .hidden)
  var fromHook = false

  @Option(name: .long, help: "Index this commit instead of HEAD.")
  var commit: String?

  @Option(help: "With a container --runtime: the remote the job clones (default origin); the current branch must be pushed there.")
  var remote: String?
  @Option(name: .customLong("dir"), help: "Index a plain folder (not a git repository) instead; honours its .gitignore.")
  var dir: String?
  @OptionGroup var global: GlobalOptions
  @OptionGroup var runtime: RuntimeOptions

  func run() async throws {
    let started = ContinuousClock.now
    global.bootstrapLogging()
    if fromHook, ProcessInfo.processInfo.environment["GIT_RAG_SKIP_HOOKS"] == "1" { return }
    if try runtime.runsInContainer() {
      // A container has neither this working tree nor its git config: the job clones the
      // remote at the pushed commit and runs with this command's resolved settings.
      let context = try CommandContext(options: global, requireRepository: false)
      if let dir {
        throw GitRAGError(
          "A \(runtime.runtime ?? "") job cannot read the folder \(dir) on this machine. Pack it (tar czf) and use `git rag upload archive … --runtime docker`, or use --runtime local.",
          exitCode: 2)
      }
      let source = try context.pushedSourceArguments(remote: remote ?? "origin", commit: commit)
      try await runtime.submit(operation: .uploadRepo, arguments: source, context: context)
      return
    }
    if runtime.runtime != nil {
      // The local runtime runs the worker here, in this working tree, with this environment.
      let context = try CommandContext(options: global, requireRepository: false)
      let arguments = Array(CommandLine.arguments.drop { $0 != "sync" }.dropFirst())
      try await runtime.submit(operation: .sync, arguments: RuntimeOptions.jobArguments(arguments), context: context)
      return
    }
    if let dir { return try await DirectorySync.run(directory: dir, global: global, dryRun: dryRun, json: json) }
    let context = try CommandContext(options: global)
    let repository = try context.requireRepository()
    let collection = context.collection
    Trace.mark("repository opened")
    if !dryRun { try await pullFirst(context: context, repository: repository) }
    let lock = SyncLock(directory: context.storeDirectory, collection: collection)

    if !dryRun {
      switch try lock.acquire() {
      case .acquired: break
      case .heldBy(let pid):
        if !global.quiet {
          Console.info(
            "A sync of \(collection) is running (pid \(pid == 0 ? "unknown" : String(pid))); it will go round once more when it finishes.")
        }
        return
      }
    }
    defer { if !dryRun { lock.release() } }
    Trace.mark("lock acquired")

    // The collection and the embedding cache (two SQLite files) open on other threads meanwhile.
    let store = try context.makeStore()
    let metadataRead = Task.detached { try? await store.metadata(collection) }
    let environment = context.environment
    let cacheOpening = Task.detached { CommandContext.makeCache(environment: environment) }

    let recorded = await metadataRead.value ?? nil
    let embedder = try context.makeEmbedder(recorded: reindex ? nil : recorded)
    var options = try context.syncOptions(collection: collection, embedder: embedder)
    options.dryRun = dryRun
    options.reindex = reindex
    // Only a model that runs here is timed; a dry run sends nothing to an API.
    options.timeSample = dryRun && embedder.capabilities.contains(.runsLocally)
    let published = IndexRef(
      repository: repository, name: collection, transfer: CloneOptions(home: UserPaths.home, environment: environment))
    await context.prime(embedder, metadata: recorded ?? published.localManifest()?.asMetadata)
    Trace.mark("store opened, embedder primed")
    var engine = SyncEngine(store: store, embedder: embedder, cache: await cacheOpening.value, options: options)
    let progress = ProgressPrinter(enabled: !global.quiet && !json && Console.stderrIsTerminal)
    let quiet = global.quiet
    engine.onEvent = { event in
      progress.handle(event)
      if !quiet, case let .waitingForLease(lease) = event {
        Console.info(
          "Waiting for the sync of \(collection) by \(lease.owner) (towards \(lease.target.prefix(12)), lease until \(Timestamp.string(secondsSince1970: lease.expiresAt)))."
        )
      }
    }

    var report = try await engine.sync(repository: repository, commit: commit.map { try repository.resolve($0) })
    // Syncs asked for while we ran (hooks firing during a long sync) get one more round.
    while !dryRun, commit == nil, lock.takeRequest() || lock.releaseUnlessRequested() {
      let again = try await engine.sync(repository: try Repository.discover())
      report.rounds += 1
      report.merge(again)
    }
    progress.finish()
    Trace.mark("synced")
    // The whole command, from its start (the process is already loaded) to the summary.
    let elapsed = ContinuousClock.now - started
    report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    if json {
      print(try JSONOutput.encode(Versioned(report)))
    } else if !global.quiet {
      print(TerminalText.safe(report.summary, keepNewlines: true))
    }
  }
}

extension SyncCommand {
  /// `--pull`, or a hook in a repository with `rag.pull` set: pull refs/rag first. A remote with
  /// nothing published yet, and any failure inside a hook, is a note; the sync goes on.
  func pullFirst(context: CommandContext, repository: Repository) async throws {
    guard pull || (fromHook && repository.configBool("rag.pull") == true) else { return }
    do {
      let summary = try await IndexRefTarget.pull(context: context, remote: nil, name: nil, acceptNewHostKey: false)
      if !global.quiet && !json {
        Console.info("Pulled \(summary.reference): \(summary.vectorsImported) vectors into the cache.")
      }
    } catch let error as IndexRefError {
      guard fromHook || { if case .notOnRemote = error { true } else { false } }() else { throw error }
      // Inside a hook this goes to the hook's log, --quiet or not.
      if fromHook || !global.quiet { Console.info("Not pulled: \(error.errorDescription ?? "\(error)")") }
    } catch  where fromHook {
      Console.info("Not pulled: \((error as? LocalizedError)?.errorDescription ?? "\(error)")")
    }
  }
}

extension SyncReport {
  /// A table of the largest `shares`, by tokens to embed.
  static func shareLines(_ title: String, _ shares: [Share], limit: Int = 8) -> [String] {
    guard !shares.isEmpty else { return [] }
    let totalTokens = max(1, shares.reduce(0) { $0 + $1.tokens })
    let width = min(40, shares.prefix(limit).map(\.name.count).max() ?? 0)
    var lines = ["  \(title) (files, chunks, tokens to embed):"]
    for share in shares.prefix(limit) {
      let name =
        share.name.count > width
        ? String(share.name.prefix(width - 1)) + "…" : share.name.padding(toLength: width, withPad: " ", startingAt: 0)
      lines.append(
        String(format: "    %@ %7d %8d %10d  %3d%%", name, share.files, share.chunks, share.tokens, share.tokens * 100 / totalTokens))
    }
    if shares.count > limit { lines.append("    … and \(shares.count - limit) more") }
    return lines
  }

  var summary: String {
    let target = self.target.map { String($0.prefix(12)) } ?? "working folder"
    let roundsNote = rounds > 1 ? "\(rounds) rounds: syncs asked for while it ran were done too" : nil
    if mode == .upToDate { return "\(collection) is up to date at \(target)\(roundsNote.map { " (\($0))" } ?? "")." }
    let verb = dryRun ? "would" : ""
    var lines = [
      "\(dryRun ? "Plan for" : "Synced") \(collection) to \(target) (\(mode.rawValue)\(base.map { " from \($0.prefix(12))" } ?? "")):",
      "  files: \(filesAdded) added, \(filesModified) modified, \(filesDeleted) deleted, \(filesRenamed) renamed, \(filesSkipped) skipped",
      "  chunks: \(chunksWritten) \(verb.isEmpty ? "written" : "to write"), \(chunksEmbedded) \(verb.isEmpty ? "embedded" : "to embed"), \(chunksReused) reused",
    ]
    if dryRun {
      lines.append(
        "  estimated tokens to embed: \(estimatedTokens)"
          + (estimatedSeconds.map { ", about \(ProgressPrinter.duration($0)) with the configured embedder" } ?? ""))
      lines += Self.shareLines("top folders", folders ?? [])
      lines += Self.shareLines("top extensions", extensions ?? [])
      if !(folders ?? []).isEmpty {
        lines.append("  (exclude with a `.gitattributes` line such as `docs/** -rag` or `*.po -rag`)")
      }
    }
    if !dryRun { lines.append(String(format: "  time: %.2fs", seconds)) }
    if let roundsNote { lines.append("  \(roundsNote)") }
    return lines.joined(separator: "\n")
  }
}
