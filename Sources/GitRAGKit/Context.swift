import Chunking
import Embedding
import Foundation
import Git
import GitRAGCore
import Indexing
import Store

/// Values given on the command line (or by an MCP client's launch arguments) for the settings
/// every command shares; nil means "not given", so the environment, git config or default apply.
public struct SettingOverrides: Sendable {
  public var collection: String?
  public var store: String?
  public var storePath: String?
  public var qdrantURL: String?
  public var embedder: String?
  public var embeddingURL: String?
  public var model: String?
  public var modelPath: String?
  public var maxFileSize: Int?

  public init() {}
}

/// What a command works on: the repository (when there is one), the resolved settings, the
/// store and the embedder. Built once per command from flags, environment and git config; the
/// command line and the MCP server both build their stores, embedders and engines through it.
public final class CommandContext {
  public let options: SettingOverrides
  public let repository: Repository?
  public let settings: SettingsResolver
  public let environment: [String: String]
  /// Print errors only (progress bars stay off).
  public var quiet = false

  /// `directory`: where to look for the repository (default: the current folder).
  public init(
    options: SettingOverrides, requireRepository: Bool = true, environment: [String: String] = ProcessInfo.processInfo.environment,
    directory: URL? = nil
  ) throws {
    self.options = options
    self.environment = environment
    var repository: Repository?
    do {
      repository = try Repository.discover(from: directory, environment: environment)
    } catch {
      if requireRepository { throw error }
    }
    self.repository = repository
    let config = ConfigSnapshot(repository: repository)
    settings = SettingsResolver(environment: environment) { config.value($0) }
  }

  public func requireRepository() throws -> Repository {
    guard let repository else {
      throw GitRAGError("Not inside a git repository. Run this inside a repository, or use `git rag sync --dir PATH` for a plain folder.")
    }
    return repository
  }

  /// The collection: flag, `GIT_RAG_COLLECTION`, `rag.collection`, else named after the
  /// repository (`CollectionName.default`).
  public var collection: String { explicitCollection ?? CollectionName.default(for: repository) }

  /// The collection when one was named (flag, environment or git config).
  public var explicitCollection: String? {
    settings.value(.collection, flag: options.collection)
  }

  /// Folder of the embedded store and of the sync lock.
  public var storeDirectory: URL {
    if let path = settings.value(.storePath, flag: options.storePath) {
      return URL(fileURLWithPath: path, isDirectory: true)
    }
    if let repository { return repository.commonDir.appendingPathComponent("rag", isDirectory: true) }
    return UserPaths.data
  }

  public var storeKind: String {
    (settings.value(.store, flag: options.store) ?? "sqlite").lowercased()
  }

  public func makeStore() throws -> any VectorStore {
    switch storeKind {
    case "sqlite":
      try StoreFolder.check(storeDirectory)
      return SQLiteStore(directory: storeDirectory)
    case "qdrant":
      let configuration = try QdrantConfiguration.fromEnvironment(environment, urlFlag: options.qdrantURL, gitConfig: settings.gitConfig)
      return try QdrantStore(configuration: configuration)
    default:
      throw GitRAGError("Unknown store \"\(storeKind)\". Use --store sqlite or --store qdrant.", exitCode: 2)
    }
  }

  public var embedderKind: String {
    (settings.value(.embedder, flag: options.embedder) ?? "local").lowercased()
  }

  public var modelDirectory: URL {
    if let path = settings.value(.modelPath, flag: options.modelPath) {
      return URL(fileURLWithPath: path, isDirectory: true)
    }
    return LocalEmbedder.defaultModelDirectory
  }

  /// The configured embedder; when the settings name none, the one `recorded` in a collection's
  /// metadata (its provider and, unless a model is configured, its model).
  public func makeEmbedder(recorded: IndexMetadata? = nil) throws -> any Embedder {
    let named = settings.value(.embedder, flag: options.embedder) != nil
    let fromMetadata = named ? nil : recorded.flatMap { RecordedEmbedder(fingerprint: $0.embedder) }
    switch fromMetadata?.kind ?? embedderKind {
    case "local":
      return try LazyLocalEmbedder(modelDirectory: modelDirectory)
    case "openai":
      var configuration = try OpenAIEmbedderConfiguration.fromEnvironment(
        environment, embeddingURL: options.embeddingURL,
        // A configured model wins over the recorded one.
        model: settings.value(.model, flag: options.model) ?? fromMetadata?.model, gitConfig: settings.gitConfig)
      if let batch = try settings.integer(.embedBatch, name: "embedding batch size") {
        configuration.maxTextsPerRequest = max(1, batch)
      }
      if let inFlight = try settings.integer(.embedConcurrency, name: "embedding concurrency") {
        configuration.maxConcurrentRequests = max(1, inFlight)
      }
      configuration.timeout = try DeadlineSetting.seconds("GIT_RAG_EMBED_TIMEOUT", in: environment, default: configuration.timeout)
      if let retries = try settings.integer(.embedRetries, name: "embedding retries") {
        configuration.maxRetries = max(0, retries)
      }
      return OpenAIEmbedder(configuration: configuration)
    case "none":
      return NoEmbedder()
    default:
      throw GitRAGError("Unknown embedder \"\(embedderKind)\". Use --embedder local, openai or none.", exitCode: 2)
    }
  }

  /// Gets `embedder` ready (a remote one starts setting up its HTTP session) and tells it the
  /// dimension a collection it filled before records (from its `metadata`, nil for a missing
  /// collection), sparing the probe request a cold process would otherwise make to learn it.
  public func prime(_ embedder: any Embedder, metadata: IndexMetadata?) async {
    await embedder.prime(recordedFingerprint: metadata?.embedder)
  }

  /// The persistent embedding cache, unless `GIT_RAG_NO_CACHE=1`.
  public func makeCache() -> EmbeddingCache? { Self.makeCache(environment: environment) }

  public static func makeCache(environment: [String: String]) -> EmbeddingCache? {
    if environment["GIT_RAG_NO_CACHE"] == "1" { return nil }
    let url =
      environment["GIT_RAG_CACHE_PATH"].map { URL(fileURLWithPath: $0) }
      ?? UserPaths.cache.appendingPathComponent("embeddings.sqlite")
    return try? EmbeddingCache(url: url)
  }

  /// Sync settings for `collection`: the file size limit, and chunks bounded by the embedder's
  /// token limit (counted with its own tokenizer when it has one).
  public func syncOptions(collection: String, embedder: any Embedder) throws -> SyncOptions {
    var options = SyncOptions(collection: collection)
    options.maxFileSize = try maxFileSize()
    options.secretAllowance = try secretAllowance()
    options.fit(to: embedder)
    return options
  }

  public func maxFileSize() throws -> Int {
    try settings.integer(.maxFileSize, flag: options.maxFileSize, name: "max file size") ?? (1 << 20)
  }

  /// Secret rules waved through everywhere: `GIT_RAG_ALLOW_SECRET_RULES` or `rag.allowSecretRules`,
  /// a comma-separated list of rule ids (paths use the `rag-allow-secrets` attribute instead).
  public func secretAllowance() throws -> SecretAllowance {
    guard let list = settings.value(.allowSecretRules) else { return .none }
    let allowance = SecretAllowance(parsing: list)
    if allowance.everything {
      throw GitRAGError(
        "rag.allowSecretRules lists rule ids (e.g. generic-secret,jwt), not \"\(list)\"; to let one path through, give it the rag-allow-secrets attribute in .gitattributes.",
        exitCode: 2)
    }
    if let unknown = allowance.unknownRules.first {
      throw GitRAGError(
        "Unknown secret rule \"\(unknown)\" in rag.allowSecretRules; `git rag inspect FILE` names the rule that flagged a file.",
        exitCode: 2)
    }
    return allowance
  }
}

/// Git config read once through libgit2 (repository, then global, then system).
public struct ConfigSnapshot: @unchecked Sendable {
  // @unchecked: the dictionary is filled at init and only read afterwards.
  private let values: [String: String]

  public init(repository: Repository?) {
    var values: [String: String] = [:]
    for key in Setting.gitConfigKeys {
      // A repository's config already layers global and system settings under its own.
      if let value = repository.map({ $0.config(key) }) ?? GitConfig.global(key) { values[key] = value }
    }
    self.values = values
  }

  public func value(_ key: String) -> String? { values[key] }
}
