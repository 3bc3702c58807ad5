import Embedding
import Foundation
import GitRAGCore
import Testing

@Suite struct LocalEmbedderTests {
  /// The default (bfloat16 products where the CPU has AVX512_BF16) and float32 both match the
  /// reference: every token id, and a cosine of at least 0.9999 for every text.
  @Test(LocalFixtures.needsInstalledModel, arguments: [BERTModel.Precision.automatic] + LocalFixtures.precisions)
  func matchesSentenceTransformers(precision: BERTModel.Precision) async throws {
    let folder = try #require(LocalFixtures.installedModel, Comment(rawValue: LocalFixtures.installedModelMissing))
    let embedder =
      precision == .automatic
      ? try #require(LocalFixtures.sharedEmbedder, Comment(rawValue: LocalFixtures.installedModelMissing)).get()
      : try LocalEmbedder(modelDirectory: folder, precision: precision)
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
      // float32 sums the same products as PyTorch in another order: far closer still.
      if embedder.model.precision == .float32 { #expect(cosine >= 0.999_999, "cosine \(cosine) for \(sentence.debugDescription)") }
    }
  }

  @Test func precisionSettingIsParsedOrRefused() throws {
    #expect(try BERTModel.Precision.parse(nil) == .automatic)
    #expect(try BERTModel.Precision.parse("") == .automatic)
    #expect(try BERTModel.Precision.parse("auto") == .automatic)
    #expect(try BERTModel.Precision.parse("Float32") == .float32)
    #expect(try BERTModel.Precision.parse("bfloat16") == .bfloat16)
    #expect {
      _ = try BERTModel.Precision.parse("fp8")
    } throws: { error in
      (error as? UserFacingError)?.errorDescription?.contains("GIT_RAG_MODEL_PRECISION=fp8") == true
    }
  }

  @Test func threadSettingIsParsedOrRefused() throws {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    #expect(try LocalEmbedder.threads(setting: nil) == max(1, min(cores, 4)))
    #expect(try LocalEmbedder.threads(setting: "3") == 3)
    for bad in ["0", "-1", "two", "65"] {
      #expect {
        _ = try LocalEmbedder.threads(setting: bad)
      } throws: { error in
        (error as? UserFacingError)?.errorDescription?.contains("GIT_RAG_MODEL_THREADS=\(bad)") == true
      }
    }
  }

  @Test func describesHowTheModelRunsHere() {
    let description = LocalEmbedder.runtimeDescription()
    let precision = BERTModel.Precision.bfloat16IsSupported ? "bfloat16 products (AVX512_BF16)" : "float32 products (OpenBLAS)"
    let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4))
    #expect(description == "\(precision), \(threads) thread\(threads == 1 ? "" : "s")")
  }

  @Test func bfloat16OnACPUWithoutItIsAClearError() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    if BERTModel.Precision.bfloat16IsSupported {
      #expect(try BERTModel(directory: model.folder, precision: .bfloat16).precision == .bfloat16)
      #expect(try BERTModel(directory: model.folder).precision == .bfloat16)
    } else {
      #expect(throws: ModelFileError.unsupportedPrecision(requested: "bfloat16", reason: "this CPU has no AVX512_BF16")) {
        try BERTModel(directory: model.folder, precision: .bfloat16)
      }
      #expect(try BERTModel(directory: model.folder).precision == .float32)
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
