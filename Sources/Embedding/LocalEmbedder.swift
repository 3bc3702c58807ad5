import Dispatch
import Foundation
import GitRAGCore

/// The model folder is missing or unusable.
public enum LocalModelError: UserFacingError, Equatable {
  case notInstalled(path: String, name: String)
  case unsupportedPooling(path: String)
  case badThreadCount(String)

  public var errorDescription: String? {
    switch self {
    case let .notInstalled(path, name):
      "The local embedding model is not installed at \(path). Run `git rag model pull \(name)` (or scripts/install-model), or point GIT_RAG_MODEL_PATH at a model folder."
    case let .unsupportedPooling(path):
      "\(path) asks for a pooling other than mean pooling, which the local embedder does not implement. Use a sentence-transformers model with mean pooling."
    case let .badThreadCount(value):
      "GIT_RAG_MODEL_THREADS=\(value) is not a number of threads from 1 to 64. Set it to one, or unset it to use the machine's cores."
    }
  }
}

/// The built-in embedder: a sentence-transformers BERT model (all-MiniLM-L6-v2 by default) run in
/// process: WordPiece tokens, the encoder over OpenBLAS, mean pooling, L2 normalisation.
public final class LocalEmbedder: Embedder {
  /// The model `git rag` uses when none is configured.
  public static let defaultModelName = "all-MiniLM-L6-v2"

  /// `GIT_RAG_MODEL_PATH` if set, else `$XDG_CACHE_HOME/git-rag/models/all-MiniLM-L6-v2`.
  public static var defaultModelDirectory: URL {
    if let path = UserPaths.environment("GIT_RAG_MODEL_PATH") { return URL(fileURLWithPath: path, isDirectory: true) }
    return UserPaths.models.appendingPathComponent(defaultModelName, isDirectory: true)
  }

  public let modelDirectory: URL
  public let tokenizer: WordPieceTokenizer
  public let model: BERTModel
  /// Texts per forward pass.
  public let batchSize: Int
  /// Threads one forward pass uses (OpenBLAS itself always runs single-threaded).
  public let threads: Int

  /// `GIT_RAG_MODEL_THREADS`, else the machine's active cores, at most 4: each thread takes its
  /// share of a batch's texts (two cores embed 1.99× as fast as one here) and ~30 MB of scratch.
  public static func defaultThreads() throws -> Int {
    try threads(setting: UserPaths.environment("GIT_RAG_MODEL_THREADS"))
  }

  /// How the local model runs here, for `git rag status`: its products' precision and where they
  /// run, and its threads, as the settings and this CPU decide; or what is wrong with a setting.
  public static func runtimeDescription() -> String {
    do {
      let precision = try BERTModel.Precision.fromEnvironment().resolved()
      let products = precision == .bfloat16 ? "bfloat16 products (AVX512_BF16)" : "float32 products (OpenBLAS)"
      let threads = try defaultThreads()
      return "\(products), \(threads) thread\(threads == 1 ? "" : "s")"
    } catch {
      return (error as? UserFacingError)?.errorDescription ?? "\(error)"
    }
  }

  /// A thread-count setting: 1 to 64, or nil for the machine's active cores (at most 4).
  public static func threads(setting value: String?) throws -> Int {
    guard let value else { return max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)) }
    guard let count = Int(value.trimmingCharacters(in: .whitespaces)), (1...64).contains(count) else {
      throw LocalModelError.badThreadCount(value)
    }
    return count
  }
  /// `local:<model folder name>:<dimension>:mean:l2`.
  public let fingerprint: String
  public var dimension: Int { model.configuration.hiddenSize }
  public var tokenLimit: Int? { tokenizer.maxLength }
  // Forward passes run here, never on the cooperative pool: they take hundreds of milliseconds.
  private let queue = DispatchQueue(label: "git-rag.local-embedder", qos: .userInitiated)

  /// Loads tokenizer, configuration and weights from `modelDirectory`. `threads` > 1 splits each
  /// batch across that many threads; nil reads `GIT_RAG_MODEL_THREADS` (`defaultThreads()`).
  /// `precision` nil reads `GIT_RAG_MODEL_PRECISION` (automatic when unset).
  public init(
    modelDirectory: URL = LocalEmbedder.defaultModelDirectory, batchSize: Int = 32, threads: Int? = nil,
    precision: BERTModel.Precision? = nil
  ) throws {
    let name = try Self.installedModelName(modelDirectory)
    let configuration = try BERTConfiguration.load(from: modelDirectory.appendingPathComponent("config.json"))
    let pooling = modelDirectory.appendingPathComponent("1_Pooling/config.json")
    if let data = try? Data(contentsOf: pooling), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      object["pooling_mode_mean_tokens"] as? Bool != true
    {
      throw LocalModelError.unsupportedPooling(path: pooling.path)
    }
    let maxLength = Self.maxLength(modelDirectory: modelDirectory, configuration: configuration)
    let tokenizer = try WordPieceTokenizer.load(modelDirectory: modelDirectory, maxLength: maxLength)
    if let largest = tokenizer.vocabulary.values.max(), Int(largest) >= configuration.vocabSize {
      throw ModelFileError.malformed(
        path: modelDirectory.appendingPathComponent("vocab.txt").path,
        reason: "token id \(largest) is outside the model's vocab_size \(configuration.vocabSize)")
    }
    self.modelDirectory = modelDirectory
    self.tokenizer = tokenizer
    self.model = try BERTModel(directory: modelDirectory, precision: precision ?? .fromEnvironment())
    self.batchSize = max(1, batchSize)
    self.threads = max(1, try threads ?? Self.defaultThreads())
    self.fingerprint = Self.fingerprint(name: name, configuration: configuration)
  }

  public func tokenCount(_ text: String) -> Int? { tokenizer.tokenCount(text) }

  /// Embeds `texts` on the embedder's own thread, `batchSize` texts per forward pass.
  public func embed(_ texts: [String]) async throws -> [[Float]] {
    guard !texts.isEmpty else { return [] }
    var results: [[Float]] = []
    results.reserveCapacity(texts.count)
    for start in stride(from: 0, to: texts.count, by: batchSize) {
      try Task.checkCancellation()
      let batch = Array(texts[start..<min(texts.count, start + batchSize)])
      let vectors = await withCheckedContinuation { (continuation: CheckedContinuation<[[Float]], Never>) in
        queue.async { continuation.resume(returning: self.embedNow(batch)) }
      }
      results.append(contentsOf: vectors)
    }
    return results
  }

  /// Embeds `texts` on the calling thread, in one forward pass.
  public func embedNow(_ texts: [String]) -> [[Float]] {
    model.embed(texts.map(tokenizer.encode), threads: threads)
  }
}
