import GitRAGCore

/// One user setting, declared once: its flag, environment variable(s), git config key, default
/// and help text. Flags, the git config keys read at start-up and the documentation all come
/// from this table, so a key cannot be read without being declared.
public struct Setting: Sendable, Hashable {
  /// Long flag without dashes (`store-path`), or nil when there is none (secrets, tuning).
  public let flag: String?
  /// Environment variables, first wins.
  public let environment: [String]
  /// Git config key (`rag.storePath`), or nil for settings that must not live in git config.
  public let gitKey: String?
  /// The default as documented (nil: none, or computed).
  public let defaultValue: String?
  public let help: String

  public init(flag: String?, environment: [String], gitKey: String?, defaultValue: String?, help: String) {
    self.flag = flag
    self.environment = environment
    self.gitKey = gitKey
    self.defaultValue = defaultValue
    self.help = help
  }

  /// The git config keys, each as a list (the shape `SettingsResolver` takes).
  public var git: [String] { gitKey.map { [$0] } ?? [] }
}

extension Setting {
  public static let collection = Setting(
    flag: "collection", environment: ["GIT_RAG_COLLECTION"], gitKey: "rag.collection", defaultValue: nil,
    help: "Collection name (default: rag.collection, else the repository's folder name).")
  public static let store = Setting(
    flag: "store", environment: ["GIT_RAG_STORE"], gitKey: "rag.store", defaultValue: "sqlite",
    help: "Vector store: sqlite (embedded, default) or qdrant.")
  public static let storePath = Setting(
    flag: "store-path", environment: ["GIT_RAG_STORE_PATH"], gitKey: "rag.storePath", defaultValue: nil,
    help: "Folder of the embedded store (default: .git/rag in the repository).")
  public static let qdrantURL = Setting(
    flag: "qdrant-url", environment: ["QDRANT_URL"], gitKey: "rag.qdrantUrl",
    defaultValue: "http://localhost:6333",
    help: "Qdrant URL (default: QDRANT_URL, else QDRANT_HOST:QDRANT_PORT, else http://localhost:6333).")
  public static let qdrantAPIKey = Setting(
    flag: nil, environment: ["QDRANT_API_KEY"], gitKey: nil, defaultValue: nil,
    help: "Qdrant API key (environment only: a secret).")
  public static let qdrantBatchSize = Setting(
    flag: nil, environment: ["GIT_RAG_QDRANT_BATCH_SIZE"], gitKey: "rag.qdrantBatchSize", defaultValue: "100",
    help: "Points per Qdrant upsert request.")
  public static let qdrantTimeout = Setting(
    flag: nil, environment: ["GIT_RAG_QDRANT_TIMEOUT"], gitKey: "rag.qdrantTimeout", defaultValue: "30",
    help: "Seconds before a Qdrant request times out.")
  public static let qdrantCaFile = Setting(
    flag: nil, environment: ["GIT_RAG_QDRANT_CA_FILE"], gitKey: "rag.qdrantCaFile", defaultValue: nil,
    help: "PEM file of the certificate authority that signed Qdrant's TLS certificate.")
  public static let embedder = Setting(
    flag: "embedder", environment: ["GIT_RAG_EMBEDDER"], gitKey: "rag.embedder", defaultValue: "local",
    help: "Embedder: local (built-in model, default), openai (any OpenAI-compatible API) or none (keyword-only).")
  public static let embeddingURL = Setting(
    flag: "embedding-url", environment: ["EMBEDDING_API_URL", "OPENAI_BASE_URL"], gitKey: "rag.embeddingUrl", defaultValue: nil,
    help: "Base URL of an OpenAI-compatible embeddings API, e.g. http://127.0.0.1:8080/v1.")
  public static let model = Setting(
    flag: "model", environment: ["MODEL_NAME"], gitKey: "rag.model", defaultValue: nil,
    help: "Model name for the openai embedder (default: MODEL_NAME or rag.model).")
  public static let embeddingCaFile = Setting(
    flag: nil, environment: ["GIT_RAG_EMBEDDING_CA_FILE"], gitKey: "rag.embeddingCaFile", defaultValue: nil,
    help: "PEM file of the certificate authority that signed the embeddings API's TLS certificate.")
  public static let apiToken = Setting(
    flag: nil, environment: ["API_TOKEN", "OPENAI_API_KEY"], gitKey: nil, defaultValue: nil,
    help: "Token of the embeddings API (environment only: a secret).")
  public static let modelPath = Setting(
    flag: "model-path", environment: ["GIT_RAG_MODEL_PATH"], gitKey: "rag.modelPath", defaultValue: nil,
    help: "Folder of the local model (default: rag.modelPath, else the user's cache).")
  public static let maxFileSize = Setting(
    flag: "max-file-size", environment: ["GIT_RAG_MAX_FILE_SIZE"], gitKey: "rag.maxFileSize", defaultValue: "1048576",
    help: "Skip files larger than this many bytes (default 1048576).")
  public static let embedBatch = Setting(
    flag: nil, environment: ["GIT_RAG_EMBED_BATCH"], gitKey: "rag.embedBatch", defaultValue: nil,
    help: "Texts per request to the embeddings API.")
  public static let embedConcurrency = Setting(
    flag: nil, environment: ["GIT_RAG_EMBED_CONCURRENCY"], gitKey: "rag.embedConcurrency", defaultValue: "5",
    help: "Requests to the embeddings API in flight at once.")
  public static let embedRetries = Setting(
    flag: nil, environment: ["GIT_RAG_EMBED_RETRIES"], gitKey: "rag.embedRetries", defaultValue: nil,
    help: "Retries of a failed request to the embeddings API.")
  public static let remote = Setting(
    flag: nil, environment: [], gitKey: "rag.remote", defaultValue: "origin",
    help: "Remote that `git rag push` and `git rag pull` use when none is named.")
  public static let pull = Setting(
    flag: nil, environment: [], gitKey: "rag.pull", defaultValue: "false",
    help: "When true, the hooks' syncs pull refs/rag from the remote first.")
  public static let image = Setting(
    flag: "image", environment: ["GIT_RAG_IMAGE"], gitKey: "rag.image", defaultValue: "git-rag:latest",
    help: "Container image (default: rag.image, else git-rag:latest).")
  public static let jobQueue = Setting(
    flag: "job-queue", environment: ["GIT_RAG_JOB_QUEUE"], gitKey: "rag.jobQueue", defaultValue: nil,
    help: "AWS Batch job queue.")
  public static let jobDefinition = Setting(
    flag: "job-definition", environment: ["GIT_RAG_JOB_DEFINITION"], gitKey: "rag.jobDefinition", defaultValue: nil,
    help: "AWS Batch job definition.")
  public static let allowSecretRules = Setting(
    flag: nil, environment: ["GIT_RAG_ALLOW_SECRET_RULES"], gitKey: "rag.allowSecretRules", defaultValue: nil,
    help: "Secret rules waved through everywhere: a comma-separated list of rule ids (paths use the rag-allow-secrets attribute).")

  /// Every setting, in the order the documentation lists them.
  public static let all: [Setting] = [
    collection, store, storePath, qdrantURL, qdrantAPIKey, qdrantBatchSize, qdrantTimeout, qdrantCaFile,
    embedder, embeddingURL, model, embeddingCaFile, apiToken, modelPath, maxFileSize, embedBatch, embedConcurrency, embedRetries, remote,
    pull,
    image, jobQueue, jobDefinition, allowSecretRules,
  ]

  /// The git config keys read at start-up: derived from the table, never listed by hand.
  public static var gitConfigKeys: [String] { all.compactMap(\.gitKey) }
}

extension SettingsResolver {
  /// The first non-empty of: `flag`, the setting's environment variables, its git config key.
  public func value(_ setting: Setting, flag: String? = nil) -> String? {
    value(flag: flag, env: setting.environment, git: setting.git)
  }

  /// Like `value(_:flag:)`, parsed as an integer (a usage error naming its source otherwise).
  public func integer(_ setting: Setting, flag: Int? = nil, name: String) throws -> Int? {
    try integer(flag: flag, env: setting.environment, git: setting.git, name: name)
  }
}
