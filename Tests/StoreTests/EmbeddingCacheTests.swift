import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@Suite struct EmbeddingCacheTests {
  @Test func roundTripPerFingerprintAndAcrossInstances() throws {
    let folder = try TemporaryDirectory()
    let url = folder.url.appendingPathComponent("cache/embeddings.sqlite")
    let cache = try EmbeddingCache(url: url)
    let vectors: [String: [Float]] = ["h1": [0.1, 0.2, 0.3], "h2": [-1, 0, 1e-7]]
    try cache.store(fingerprint: "local:minilm:384", vectors: vectors)
    #expect(try cache.vectors(fingerprint: "local:minilm:384", chunkHashes: ["h1", "h2", "h3"]) == vectors)
    #expect(try cache.vectors(fingerprint: "openai:other:384", chunkHashes: ["h1", "h2"]).isEmpty, "never across models")
    #expect(try cache.vectors(fingerprint: "local:minilm:384", chunkHashes: []).isEmpty)

    let bytes = try cache.byteCount()
    try cache.store(fingerprint: "local:minilm:384", vectors: ["h1": [9, 9, 9]])
    #expect(try cache.byteCount() == bytes, "replacing a vector does not grow the cache")

    let reopened = try EmbeddingCache(url: url)
    #expect(try reopened.vectors(fingerprint: "local:minilm:384", chunkHashes: ["h1"]) == ["h1": [9, 9, 9]])
    #expect(try reopened.count() == 2)
    #expect(EmbeddingCache.defaultURL.path.hasSuffix("git-rag/embeddings.sqlite"))
  }

  @Test func evictsTheLeastRecentlyUsedWhenOverBudget() throws {
    let folder = try TemporaryDirectory()
    // Each row counts 4 floats (16) + "fp" (2) + a 3-character hash + 16 = 37 bytes: 10 rows fit.
    let cache = try EmbeddingCache(url: folder.url.appendingPathComponent("e.sqlite"), maxBytes: 370)
    func hash(_ i: Int) -> String { "h" + String(format: "%02d", i) }
    for i in 0..<8 { try cache.store(fingerprint: "fp", vectors: [hash(i): [Float(i), 0, 0, 0]]) }
    #expect(try cache.byteCount() == 8 * 37)
    // Using h00 makes it the most recent; h01 is now the oldest.
    #expect(try cache.vectors(fingerprint: "fp", chunkHashes: [hash(0)]).count == 1)
    try cache.store(fingerprint: "fp", vectors: [hash(8): [8, 0, 0, 0], hash(9): [9, 0, 0, 0]])
    #expect(try cache.count() == 10, "exactly at the budget: nothing evicted")
    try cache.store(fingerprint: "fp", vectors: [hash(10): [10, 0, 0, 0]])
    // Over budget: evicted down to 90 % (333 bytes = 9 rows), oldest first.
    #expect(try cache.count() == 9)
    #expect(try cache.byteCount() == 9 * 37)
    let left = try cache.vectors(fingerprint: "fp", chunkHashes: (0...10).map(hash))
    #expect(Set(left.keys) == Set([0, 3, 4, 5, 6, 7, 8, 9, 10].map(hash)))
  }

  @Test func aDamagedCacheFileIsStartedAfresh() throws {
    let folder = try TemporaryDirectory()
    let url = try folder.write("embeddings.sqlite", String(repeating: "garbage ", count: 1000))
    let cache = try EmbeddingCache(url: url)
    #expect(try cache.count() == 0)
    try cache.store(fingerprint: "fp", vectors: ["h": [1]])
    #expect(try cache.vectors(fingerprint: "fp", chunkHashes: ["h"]) == ["h": [1]])
  }

  @Test func concurrentUseFromManyTasks() async throws {
    let folder = try TemporaryDirectory()
    let cache = try EmbeddingCache(url: folder.url.appendingPathComponent("e.sqlite"))
    try await withThrowingTaskGroup(of: Void.self) { group in
      for task in 0..<8 {
        group.addTask {
          for i in 0..<20 {
            try cache.store(fingerprint: "fp", vectors: ["t\(task)-\(i)": [Float(task), Float(i)]])
            _ = try cache.vectors(fingerprint: "fp", chunkHashes: ["t\(task)-\(i)"])
          }
        }
      }
      try await group.waitForAll()
    }
    #expect(try cache.count() == 160)
    #expect(try cache.vectors(fingerprint: "fp", chunkHashes: ["t7-19"]) == ["t7-19": [7, 19]])
  }
}

@Suite struct EmbeddingCachePrivacyTests {
  private func mode(_ path: String) -> mode_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
  }

  @Test func theCacheFilesAreOwnerOnlyAndExistingOnesAreTightened() throws {
    let dir = try TemporaryDirectory(prefix: "git-rag-cache-mode")
    let folder = dir.url.appendingPathComponent("cache")
    let url = folder.appendingPathComponent("embeddings.sqlite")
    _ = try EmbeddingCache(url: url)
    #expect(mode(folder.path) == 0o700)
    #expect(mode(url.path) == 0o600)
    // A cache left readable by an older version is tightened when opened.
    chmod(url.path, 0o644)
    _ = try EmbeddingCache(url: url)
    #expect(mode(url.path) == 0o600)
    for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: url.path + suffix) {
      #expect(mode(url.path + suffix) == 0o600)
    }
  }

  @Test func privateFolderTightensTheFolderItsFilesAndSubfolders() throws {
    let dir = try TemporaryDirectory(prefix: "git-rag-private")
    let folder = dir.url.appendingPathComponent("git-rag")
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("models"), withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("embeddings.sqlite").path, contents: Data("x".utf8))
    chmod(folder.path, 0o755)
    chmod(folder.appendingPathComponent("models").path, 0o755)
    chmod(folder.appendingPathComponent("embeddings.sqlite").path, 0o644)
    try PrivateFolder.prepare(folder)
    #expect(mode(folder.path) == 0o700)
    #expect(mode(folder.appendingPathComponent("models").path) == 0o700)
    #expect(mode(folder.appendingPathComponent("embeddings.sqlite").path) == 0o600)
  }
}
