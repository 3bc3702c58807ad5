import Foundation
import GitRAGCore

/// The local model, loaded on first use.
///
/// Most syncs run from a hook after a small commit, and many have nothing to embed (the chunks
/// are in the cache or the store). The fingerprint, dimension and token limit come from the
/// model folder's small JSON files; the vocabulary is read when a chunker first counts tokens and
/// the weights when the first text is embedded. A broken weights file then fails that first
/// embedding with the same message `LocalEmbedder` gives, before anything is written.
public final class LazyLocalEmbedder: Embedder {
  public let modelDirectory: URL
  public let fingerprint: String
  public let dimension: Int
  public let tokenLimit: Int?
  private let batchSize: Int
  private let threads: Int?
  private let tokenizer = Locked<Result<WordPieceTokenizer, any Error>?>(nil)
  private let embedder = Locked<Result<LocalEmbedder, any Error>?>(nil)

  /// Reads the model folder's configuration; fails like `LocalEmbedder` when no model is there.
  public init(modelDirectory: URL = LocalEmbedder.defaultModelDirectory, batchSize: Int = 32, threads: Int? = nil) throws {
    let name = try LocalEmbedder.installedModelName(modelDirectory)
    let configuration = try BERTConfiguration.load(from: modelDirectory.appendingPathComponent("config.json"))
    self.modelDirectory = modelDirectory
    self.batchSize = batchSize
    self.threads = threads
    fingerprint = LocalEmbedder.fingerprint(name: name, configuration: configuration)
    dimension = configuration.hiddenSize
    tokenLimit = LocalEmbedder.maxLength(modelDirectory: modelDirectory, configuration: configuration)
  }

  /// The model, loading it on the first call.
  public func loaded() throws -> LocalEmbedder {
    try embedder.withLock { state in
      if state == nil {
        state = Result { try LocalEmbedder(modelDirectory: modelDirectory, batchSize: batchSize, threads: threads) }
      }
      return try state!.get()
    }
  }

  public func tokenCount(_ text: String) -> Int? {
    if let model = embedder.withLock({ try? $0?.get() }) { return model.tokenCount(text) }
    let tokenizer = self.tokenizer.withLock { state in
      if state == nil {
        let limit = tokenLimit ?? 512
        state = Result { try WordPieceTokenizer.load(modelDirectory: modelDirectory, maxLength: limit) }
      }
      return try? state!.get()
    }
    return tokenizer?.tokenCount(text)
  }

  public func embed(_ texts: [String]) async throws -> [[Float]] {
    guard !texts.isEmpty else { return [] }
    return try await loaded().embed(texts)
  }
}

extension LocalEmbedder {
  /// The model folder's name, after checking it holds weights; else the error naming the command
  /// that fetches them.
  static func installedModelName(_ modelDirectory: URL) throws -> String {
    let name = modelDirectory.standardizedFileURL.lastPathComponent
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: modelDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue,
      FileManager.default.fileExists(atPath: modelDirectory.appendingPathComponent("model.safetensors").path)
    else {
      throw LocalModelError.notInstalled(path: modelDirectory.path, name: name.isEmpty ? defaultModelName : name)
    }
    return name
  }

  /// `local:<model folder name>:<dimension>:mean:l2`.
  static func fingerprint(name: String, configuration: BERTConfiguration) -> String {
    "local:\(name):\(configuration.hiddenSize):mean:l2"
  }

  /// Tokens per text: sentence-transformers' `max_seq_length` when the folder has one, within the
  /// model's position table (and 512 at most).
  static func maxLength(modelDirectory: URL, configuration: BERTConfiguration) -> Int {
    if let data = try? Data(contentsOf: modelDirectory.appendingPathComponent("sentence_bert_config.json")),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let length = object["max_seq_length"] as? Int,
      length > 0
    {
      return min(length, configuration.maxPositions)
    }
    return min(512, configuration.maxPositions)
  }
}
