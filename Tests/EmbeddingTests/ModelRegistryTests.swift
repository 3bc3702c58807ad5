import Embedding
import Foundation
import GitRAGCore
import GitRAGTestSupport
import Testing

/// `git rag model pull` against a local stand-in for the Hub serving a synthetic model.
@Suite struct ModelRegistryTests {
  /// A served tree (`<root>/sentence-transformers/tiny-bert/…`), an empty models folder, and the server.
  struct Hub {
    let model: SyntheticModel
    let root: URL
    let models: URL
    let server: TestServer

    init(serverArguments: [String] = []) throws {
      model = try SyntheticModel()
      root = model.folder.deletingLastPathComponent().appendingPathComponent("hub")
      let served = root.appendingPathComponent("sentence-transformers/tiny-bert")
      try FileManager.default.createDirectory(at: served.deletingLastPathComponent(), withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: model.folder, to: served)
      try FileManager.default.createDirectory(at: served.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
      try #"{"word_embedding_dimension": 8, "pooling_mode_mean_tokens": true}"#.write(
        to: served.appendingPathComponent("1_Pooling/config.json"), atomically: true, encoding: .utf8)
      models = model.folder.deletingLastPathComponent().appendingPathComponent("models")
      server = try TestServer(script: "hf_hub_server.py", arguments: ["--root", root.path] + serverArguments)
    }

    func registry(knownDigests: [String: [String: String]] = [:]) -> ModelRegistry {
      ModelRegistry(modelsDirectory: models, endpoint: URL(string: server.baseURL)!, knownDigests: knownDigests)
    }

    var weights: Data { get throws { try Data(contentsOf: model.folder.appendingPathComponent("model.safetensors")) } }

    func requests() throws -> [String] {
      try String(contentsOf: URL(string: server.baseURL + "/__log")!, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func close() {
      server.stop()
      model.remove()
    }
  }

  @Test func pullsAModelTheEmbedderCanLoad() async throws {
    let hub = try Hub()
    defer { hub.close() }
    let folder = try await hub.registry().pull("tiny-bert")
    #expect(folder.lastPathComponent == "tiny-bert")
    #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == hub.weights)
    #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("1_Pooling/config.json").path))
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path))
    let embedder = try LocalEmbedder(modelDirectory: folder)
    #expect(try await embedder.embed(["hello world"])[0].count == 8)

    let listed = try hub.registry().list()
    #expect(listed.map(\.name) == ["tiny-bert"])
    let expectedSize = try FileManager.default.subpathsOfDirectory(atPath: folder.path).reduce(Int64(0)) { total, path in
      total
        + ((try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(path).path)[.size] as? NSNumber)?.int64Value ?? 0)
    }
    #expect(listed.first?.size == expectedSize)
    #expect(listed.first?.isComplete == true)

    // A second pull downloads nothing again.
    let before = try hub.requests().count
    try await hub.registry().pull("tiny-bert")
    // Only the five optional files this model lacks are asked for again.
    #expect(try hub.requests().count - before == 5)
  }

  @Test func resumesFromAPartialFileWithARangeRequest() async throws {
    let hub = try Hub()
    defer { hub.close() }
    let weights = try hub.weights
    let folder = hub.models.appendingPathComponent("tiny-bert")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try weights.prefix(1000).write(to: folder.appendingPathComponent("model.safetensors.partial"))
    try await hub.registry().pull("tiny-bert")
    #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == weights)
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors.partial").path))
    #expect(try hub.requests().contains("GET /sentence-transformers/tiny-bert/resolve/main/model.safetensors bytes=1000-"))
  }

  @Test func resumesAfterTheConnectionDrops() async throws {
    let hub = try Hub(serverArguments: ["--drop-after", "700"])
    defer { hub.close() }
    let folder = try await hub.registry().pull("tiny-bert")
    #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == hub.weights)
    #expect(try hub.requests().contains("GET /sentence-transformers/tiny-bert/resolve/main/model.safetensors bytes=700-"))
  }

  @Test func advertisedChecksumMismatchDeletesTheDownload() async throws {
    let hub = try Hub(serverArguments: ["--wrong-digest"])
    defer { hub.close() }
    let target = hub.models.appendingPathComponent("tiny-bert/model.safetensors")
    await #expect(
      throws: ModelDownloadError.checksumMismatch(
        path: target.path, expected: String(repeating: "0", count: 64), actual: SHA256Digest.hex(try hub.weights))
    ) { try await hub.registry().pull("tiny-bert") }
    #expect(!FileManager.default.fileExists(atPath: target.path))
    #expect(!FileManager.default.fileExists(atPath: target.path + ".partial"))
  }

  @Test func knownChecksumIsEnforced() async throws {
    let hub = try Hub()
    defer { hub.close() }
    let wrong = String(repeating: "ab", count: 32)
    await #expect { try await hub.registry(knownDigests: ["tiny-bert": ["model.safetensors": wrong]]).pull("tiny-bert") } throws: { error in
      guard case .checksumMismatch(_, let expected, _) = error as? ModelDownloadError else { return false }
      return expected == wrong
    }
    let right = SHA256Digest.hex(try hub.weights)
    let folder = try await hub.registry(knownDigests: ["tiny-bert": ["model.safetensors": right]]).pull("tiny-bert")
    #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == hub.weights)
  }

  @Test func unknownModelIsAnHTTPError() async throws {
    let hub = try Hub()
    defer { hub.close() }
    await #expect(
      throws: ModelDownloadError.httpStatus(
        url: hub.server.baseURL + "/sentence-transformers/no-such-model/resolve/main/config.json", status: 404)
    ) {
      try await hub.registry().pull("no-such-model")
    }
  }

  @Test func badNamesAndUnreachableHubs() async throws {
    let registry = ModelRegistry(
      modelsDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("models-\(UUID().uuidString)"),
      endpoint: URL(string: "http://127.0.0.1:9")!)
    defer { try? FileManager.default.removeItem(at: registry.modelsDirectory) }
    await #expect(throws: ModelDownloadError.invalidName("../etc")) { try await registry.pull("../etc") }
    await #expect(throws: ModelDownloadError.invalidName("a/b/c")) { try await registry.pull("a/b/c") }
    await #expect { try await registry.pull("all-MiniLM-L6-v2") } throws: { error in
      guard case .unreachable = error as? ModelDownloadError else { return false }
      return true
    }
    #expect(try registry.list().map(\.isComplete) == [false])
  }
}
