import Embedding
import Foundation
import Git
import GitRAGCore
import Indexing
import Store

/// What a command works on: the repository (when there is one), the resolved settings, the
/// store and the embedder. Built once per command from flags, environment and git config.
final class CommandContext {
  let options: GlobalOptions
  let repository: Repository?
  let settings: SettingsResolver
  let environment: [String: String]

  init(options: GlobalOptions, requireRepository: Bool = true) throws {
    self.options = options
    let environment = ProcessInfo.processInfo.environment
    self.environment = environment
    var repository: Repository?
    do {
      repository = try Repository.discover()
    } catch {
      if requireRepository { throw error }
    }
    self.repository = repository
    let config = ConfigSnapshot(repository: repository)
    settings = SettingsResolver(environment: environment) { config.value($0) }
  }

  func requireRepository() throws -> Repository {
    guard let repository else {
      throw GitRAGError("Not inside a git repository. Run this inside a repository, or use `git rag sync --dir PATH` for a plain folder.")
    }
    return repository
  }

  /// The collection: flag, `GIT_RAG_COLLECTION`, `rag.collection`, else named after the
  /// repository (`CollectionName.default`).
  var collection: String { explicitCollection ?? CollectionName.default(for: repository) }

  /// The collection when one was named (flag, environment or git config).
  var explicitCollection: String? {
    settings.value(flag: options.collection, env: ["GIT_RAG_COLLECTION"], git: ["rag.collection"])
  }

  /// Folder of the embedded store and of the sync lock.
  var storeDirectory: URL {
    if let path = settings.value(flag: options.storePath, env: ["GIT_RAG_STORE_PATH"], git: ["rag.storePath"]) {
      return URL(fileURLWithPath: path, isDirectory: true)
    }
    if let repository { return repository.commonDir.appendingPathComponent("rag", isDirectory: true) }
    return UserPaths.data
  }

  var storeKind: String {
    (settings.value(flag: options.store, env: ["GIT_RAG_STORE"], git: ["rag.store"]) ?? "sqlite").lowercased()
  }

  func makeStore() throws -> any VectorStore {
    switch storeKind {
    case "sqlite":
      return SQLiteStore(directory: storeDirectory)
    case "qdrant":
      let configuration = try QdrantConfiguration.fromEnvironment(environment, urlFlag: options.qdrantURL, gitConfig: settings.gitConfig)
      return try QdrantStore(configuration: configuration)
    default:
      throw GitRAGError("Unknown store \"\(storeKind)\". Use --store sqlite or --store qdrant.", exitCode: 2)
    }
  }

  var embedderKind: String {
    (settings.value(flag: options.embedder, env: ["GIT_RAG_EMBEDDER"], git: ["rag.embedder"]) ?? "local").lowercased()
  }

  var modelDirectory: URL {
    if let path = settings.value(flag: options.modelPath, env: ["GIT_RAG_MODEL_PATH"], git: ["rag.modelPath"]) {
      return URL(fileURLWithPath: path, isDirectory: true)
    }
    return LocalEmbedder.defaultModelDirectory
  }

  /// The configured embedder; when the settings name none, the one `recorded` in a collection's
  /// metadata (its provider and, unless a model is configured, its model).
  func makeEmbedder(recorded: IndexMetadata? = nil) throws -> any Embedder {
    let named = settings.value(flag: options.embedder, env: ["GIT_RAG_EMBEDDER"], git: ["rag.embedder"]) != nil
    let fromMetadata = named ? nil : recorded.flatMap { RecordedEmbedder(fingerprint: $0.embedder) }
    switch fromMetadata?.kind ?? embedderKind {
    case "local":
      return try LazyLocalEmbedder(modelDirectory: modelDirectory)
    case "openai":
      var configuration = try OpenAIEmbedderConfiguration.fromEnvironment(
        environment, embeddingURL: options.embeddingURL,
        // A configured model wins over the recorded one.
        model: options.model ?? environment["MODEL_NAME"] ?? settings.gitConfig("rag.model") ?? fromMetadata?.model,
        gitConfig: settings.gitConfig)
      if let batch = try settings.integer(flag: nil, env: ["GIT_RAG_EMBED_BATCH"], git: ["rag.embedBatch"], name: "embedding batch size") {
        configuration.maxTextsPerRequest = max(1, batch)
      }
      if let inFlight = try settings.integer(flag: nil, env: ["GIT_RAG_EMBED_CONCURRENCY"], git: ["rag.embedConcurrency"], name: "embedding concurrency") {
        configuration.maxConcurrentRequests = max(1, inFlight)
      }
      return OpenAIEmbedder(configuration: configuration)
    case "none":
      return NoEmbedder()
    default:
      throw GitRAGError("Unknown embedder \"\(embedderKind)\". Use --embedder local, openai or none.", exitCode: 2)
    }
  }

  /// Tells a remote embedder the dimension a collection it filled before records (from its
  /// `metadata`, nil for a missing collection), sparing the probe request a cold process would
  /// otherwise make to learn it, and starts setting up its HTTP session.
  func prime(_ embedder: any Embedder, metadata: IndexMetadata?) async {
    guard let remote = embedder as? OpenAIEmbedder else { return }
    remote.warmUp()
    guard let stored = metadata?.embedder else { return }
    let prefix = "openai:\(remote.configuration.model):"
    if stored.hasPrefix(prefix), let dimension = Int(stored.dropFirst(prefix.count)) {
      await remote.assumeDimension(dimension)
    }
  }

  /// The persistent embedding cache, unless `GIT_RAG_NO_CACHE=1`.
  func makeCache() -> EmbeddingCache? { Self.makeCache(environment: environment) }

  static func makeCache(environment: [String: String]) -> EmbeddingCache? {
    if environment["GIT_RAG_NO_CACHE"] == "1" { return nil }
    let url = environment["GIT_RAG_CACHE_PATH"].map { URL(fileURLWithPath: $0) }
      ?? UserPaths.cache.appendingPathComponent("embeddings.sqlite")
    return try? EmbeddingCache(url: url)
  }

  func maxFileSize() throws -> Int {
    try settings.integer(flag: options.maxFileSize, env: ["GIT_RAG_MAX_FILE_SIZE"], git: ["rag.maxFileSize"], name: "max file size") ?? (1 << 20)
  }
}

/// Git config read once through libgit2 (repository, then global, then system).
struct ConfigSnapshot: @unchecked Sendable {
  // @unchecked: the dictionary is filled at init and only read afterwards.
  private let values: [String: String]

  init(repository: Repository?) {
    var values: [String: String] = [:]
    let keys = [
      "rag.collection", "rag.store", "rag.storePath", "rag.embedder", "rag.model", "rag.modelPath",
      "rag.embeddingUrl", "rag.qdrantUrl", "rag.maxFileSize", "rag.image", "rag.batchSize", "rag.embedBatch",
      "rag.embedConcurrency", "rag.jobQueue", "rag.jobDefinition", "rag.qdrantBatchSize", "rag.qdrantTimeout",
    ]
    for key in keys {
      // A repository's config already layers global and system settings under its own.
      if let value = repository.map({ $0.config(key) }) ?? GitConfig.global(key) { values[key] = value }
    }
    self.values = values
  }

  func value(_ key: String) -> String? { values[key] }
}
