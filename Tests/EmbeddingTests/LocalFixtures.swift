import Embedding
import Foundation
import Testing

/// Test resources and the installed model, shared by the local-model tests.
enum LocalFixtures {
  static func json(_ name: String) throws -> Any {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
  }

  /// The real all-MiniLM-L6-v2 folder, or nil when it is not installed (CI installs it).
  static var installedModel: URL? {
    let url = LocalEmbedder.defaultModelDirectory
    return FileManager.default.fileExists(atPath: url.appendingPathComponent("model.safetensors").path) ? url : nil
  }

  /// Skips a test when the real model is missing, saying so.
  static var needsInstalledModel: ConditionTrait { .enabled(if: installedModel != nil, Comment(rawValue: installedModelMissing)) }

  static let installedModelMissing =
    "all-MiniLM-L6-v2 is not installed (run scripts/install-model); skipping checks against the real model"

  /// One loaded embedder per test process (loading maps 90 MB and copies the weights); nil when
  /// the model is not installed, a thrown error when it is installed but does not load.
  static let sharedEmbedder: Result<LocalEmbedder, any Error>? = installedModel.map { url in
    Result { try LocalEmbedder(modelDirectory: url) }
  }

  /// The precisions this CPU runs: float32 always, bfloat16 where it has AVX512_BF16.
  static let precisions: [BERTModel.Precision] = BERTModel.Precision.bfloat16IsSupported ? [.float32, .bfloat16] : [.float32]

  /// Skips a test on a CPU without AVX512_BF16, saying so.
  static var needsBFloat16: ConditionTrait {
    .enabled(if: BERTModel.Precision.bfloat16IsSupported, "this CPU has no AVX512_BF16; the bfloat16 kernel is not used here")
  }

  static func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
    return dot / (na.squareRoot() * nb.squareRoot())
  }
}
