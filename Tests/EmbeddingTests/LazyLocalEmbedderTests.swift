import Embedding
import Foundation
import GitRAGCore
import Testing

@Suite struct LazyLocalEmbedderTests {
  @Test func describesItselfLikeTheLoadedModelAndEmbedsTheSame() async throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let eager = try LocalEmbedder(modelDirectory: model.folder)
    let lazy = try LazyLocalEmbedder(modelDirectory: model.folder)
    #expect(lazy.fingerprint == eager.fingerprint)
    #expect(lazy.dimension == eager.dimension)
    #expect(lazy.tokenLimit == eager.tokenLimit)
    #expect(lazy.tokenCount("Hellos, git rag!") == eager.tokenCount("Hellos, git rag!"))
    let texts = ["hello world", "git rag", ""]
    #expect(try await lazy.embed(texts) == (try await eager.embed(texts)))
  }

  @Test func brokenWeightsFailTheFirstEmbeddingNotTheDescription() async throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    // Half a weights file: describing the model reads only its JSON, embedding must fail clearly.
    let weights = model.folder.appendingPathComponent("model.safetensors")
    let bytes = try Data(contentsOf: weights)
    try bytes.prefix(bytes.count / 2).write(to: weights)
    let lazy = try LazyLocalEmbedder(modelDirectory: model.folder)
    #expect(lazy.fingerprint == "local:tiny-bert:8:mean:l2")
    // The same clear error on every attempt (the failed load is remembered, not retried half-way).
    for _ in 0..<2 {
      await #expect {
        _ = try await lazy.embed(["hello"])
      } throws: { error in
        guard case .malformed = error as? ModelFileError else { return false }
        return (error as? any UserFacingError)?.errorDescription?.contains(weights.path) == true
      }
    }
  }

  @Test func aMissingModelIsReportedAtOnceWithTheCommandToFetchIt() {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("no-model-\(UUID().uuidString)/all-MiniLM-L6-v2")
    #expect(throws: LocalModelError.notInstalled(path: folder.path, name: "all-MiniLM-L6-v2")) {
      _ = try LazyLocalEmbedder(modelDirectory: folder)
    }
  }
}
