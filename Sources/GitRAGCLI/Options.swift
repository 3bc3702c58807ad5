import ArgumentParser
import GitRAGCore

/// Flags every command shares: output and where the index lives.
struct GlobalOptions: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Show debug lines, including why each skipped file was skipped.")
  var verbose = false

  @Flag(name: .shortAndLong, help: "Print errors only.")
  var quiet = false

  @Option(name: .long, help: "Collection name (default: rag.collection, else the repository's folder name).")
  var collection: String?

  @Option(name: .long, help: "Vector store: sqlite (embedded, default) or qdrant.")
  var store: String?

  @Option(name: .customLong("store-path"), help: "Folder of the embedded store (default: .git/rag in the repository).")
  var storePath: String?

  @Option(name: .customLong("qdrant-url"), help: "Qdrant URL (default: QDRANT_URL, else QDRANT_HOST:QDRANT_PORT, else http://localhost:6333).")
  var qdrantURL: String?

  @Option(name: .long, help: "Embedder: local (built-in model, default), openai (any OpenAI-compatible API) or none (keyword-only).")
  var embedder: String?

  @Option(name: .customLong("embedding-url"), help: "Base URL of an OpenAI-compatible embeddings API, e.g. http://127.0.0.1:8080/v1.")
  var embeddingURL: String?

  @Option(name: .long, help: "Model name for the openai embedder (default: MODEL_NAME or rag.model).")
  var model: String?

  @Option(name: .customLong("model-path"), help: "Folder of the local model (default: rag.modelPath, else the user's cache).")
  var modelPath: String?

  @Option(name: .customLong("max-file-size"), help: "Skip files larger than this many bytes (default 1048576).")
  var maxFileSize: Int?

  func bootstrapLogging() {
    Console.bootstrapLogging(verbose: verbose, quiet: quiet)
  }
}
