import Foundation
import GitRAGCore

/// The parts of a BERT `config.json` the forward pass needs.
public struct BERTConfiguration: Sendable, Equatable, Codable {
  public var vocabSize: Int
  public var hiddenSize: Int
  public var layerCount: Int
  public var headCount: Int
  public var intermediateSize: Int
  public var maxPositions: Int
  public var typeVocabSize: Int
  public var layerNormEpsilon: Float
  public var hiddenActivation: String

  enum CodingKeys: String, CodingKey {
    case vocabSize = "vocab_size"
    case hiddenSize = "hidden_size"
    case layerCount = "num_hidden_layers"
    case headCount = "num_attention_heads"
    case intermediateSize = "intermediate_size"
    case maxPositions = "max_position_embeddings"
    case typeVocabSize = "type_vocab_size"
    case layerNormEpsilon = "layer_norm_eps"
    case hiddenActivation = "hidden_act"
  }

  public init(
    vocabSize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
    maxPositions: Int, typeVocabSize: Int = 2, layerNormEpsilon: Float = 1e-12, hiddenActivation: String = "gelu"
  ) {
    self.vocabSize = vocabSize
    self.hiddenSize = hiddenSize
    self.layerCount = layerCount
    self.headCount = headCount
    self.intermediateSize = intermediateSize
    self.maxPositions = maxPositions
    self.typeVocabSize = typeVocabSize
    self.layerNormEpsilon = layerNormEpsilon
    self.hiddenActivation = hiddenActivation
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    vocabSize = try c.decode(Int.self, forKey: .vocabSize)
    hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
    layerCount = try c.decode(Int.self, forKey: .layerCount)
    headCount = try c.decode(Int.self, forKey: .headCount)
    intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
    maxPositions = try c.decode(Int.self, forKey: .maxPositions)
    typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
    layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
    hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? "gelu"
  }

  /// Reads and checks `config.json` at `url`.
  public static func load(from url: URL) throws(ModelFileError) -> BERTConfiguration {
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw .missingFile(path: url.path, hint: "Download the model again (git rag model pull).")
    }
    let config: BERTConfiguration
    do { config = try JSONDecoder().decode(BERTConfiguration.self, from: Data(contentsOf: url)) } catch {
      throw .malformed(path: url.path, reason: "not a BERT config (\(error))")
    }
    let sizes = [
      config.vocabSize, config.hiddenSize, config.layerCount, config.headCount, config.intermediateSize, config.maxPositions,
      config.typeVocabSize,
    ]
    guard sizes.allSatisfy({ $0 > 0 }), config.hiddenSize % config.headCount == 0 else {
      throw .malformed(path: url.path, reason: "sizes must be positive and hidden_size divisible by num_attention_heads")
    }
    guard config.hiddenActivation == "gelu" else {
      throw .malformed(path: url.path, reason: "hidden_act \(config.hiddenActivation) is not supported (only gelu)")
    }
    return config
  }
}
