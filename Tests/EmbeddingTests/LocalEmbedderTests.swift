import Embedding
import Foundation
import GitRAGCore
import Testing

@Suite struct LocalEmbedderTests {
  @Test(LocalFixtures.needsInstalledModel) func matchesSentenceTransformers() async throws {
    let embedder = try #require(LocalFixtures.sharedEmbedder, Comment(rawValue: LocalFixtures.installedModelMissing)).get()
    let reference = try #require(try LocalFixtures.json("st_ref") as? [String: Any])
    let sentences = try #require(reference["sentences"] as? [String])
    let expected = try #require(reference["embeddings"] as? [[Double]])
    let ids = try #require(reference["token_ids"] as? [[Int]])
    let vectors = try await embedder.embed(sentences)
    #expect(vectors.count == sentences.count)
    for (index, sentence) in sentences.enumerated() {
      #expect(embedder.tokenizer.encode(sentence) == ids[index].map { Int32($0) })
      #expect(vectors[index].count == 384)
      let cosine = LocalFixtures.cosine(vectors[index], expected[index].map { Float($0) })
      #expect(cosine >= 0.9999, "cosine \(cosine) for \(sentence.debugDescription)")
    }
  }

  @Test(LocalFixtures.needsInstalledModel) func describesItself() async throws {
    let embedder = try #require(LocalFixtures.sharedEmbedder, Comment(rawValue: LocalFixtures.installedModelMissing)).get()
    let generic: any Embedder = embedder
    #expect(try await generic.fingerprint == "local:all-MiniLM-L6-v2:384:mean:l2")
    #expect(try await generic.dimension == 384)
    #expect(generic.tokenLimit == 256)
    #expect(embedder.tokenLimit == 256)
    #expect(embedder.tokenCount("Hello, World!") == 6)
  }

  @Test(LocalFixtures.needsInstalledModel) func emptyAndHugeTexts() async throws {
    let embedder = try #require(LocalFixtures.sharedEmbedder, Comment(rawValue: LocalFixtures.installedModelMissing)).get()
    let huge = String(repeating: "let value = compute(index) // a line of code\n", count: 1_000_000 / 45)
    #expect(embedder.tokenizer.encode(huge).count == 256)
    let vectors = try await embedder.embed(["", huge])
    for vector in vectors {
      #expect(vector.count == 384)
      let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(abs(norm - 1) < 1e-4)
    }
  }

  @Test(LocalFixtures.needsInstalledModel) func batchingGivesTheSameVectorsAsOneByOne() async throws {
    let embedder = try #require(LocalFixtures.sharedEmbedder, Comment(rawValue: LocalFixtures.installedModelMissing)).get()
    let texts = ["short", "a somewhat longer sentence about git history", "func main() { print(\"hi\") }", "", "日本語 text"]
    let together = try await embedder.embed(texts)
    for (text, vector) in zip(texts, together) {
      let alone = try await embedder.embed([text])[0]
      #expect(LocalFixtures.cosine(alone, vector) > 0.999_999)
    }
  }

  @Test func missingModelFolderSaysHowToGetIt() throws {
    let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-model-\(UUID().uuidString)/all-MiniLM-L6-v2")
    #expect {
      _ = try LocalEmbedder(modelDirectory: missing)
    } throws: { error in
      let message = (error as? UserFacingError)?.errorDescription ?? ""
      return message.contains("git rag model pull all-MiniLM-L6-v2") && message.contains(missing.path)
    }
  }
}
