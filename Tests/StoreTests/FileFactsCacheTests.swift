import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@Suite struct FileFactsCacheTests {
  @Test func factsRoundTripPerScopeAndSurviveReopening() throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-facts")
    let url = folder.url.appendingPathComponent("cache.sqlite")
    let cache = try EmbeddingCache(url: url)
    let decode: (UnsafeRawBufferPointer) -> [UInt8]? = { Array($0) }
    #expect(try cache.fileFacts(scope: "s1", decode: decode).isEmpty)

    try cache.storeFileFacts(scope: "s1", ["b1": (10, [1, 2, 3]), "b2": (20, [])], live: ["b1", "b2"])
    try cache.storeFileFacts(scope: "s2", ["b1": (11, [9])], live: ["b1"])
    let reopened = try EmbeddingCache(url: url)
    let s1 = try reopened.fileFacts(scope: "s1", decode: decode)
    #expect(s1.count == 2)
    #expect(s1["b1"]?.size == 10 && s1["b1"]?.facts == [1, 2, 3])
    #expect(s1["b2"]?.size == 20 && s1["b2"]?.facts == [])
    #expect(try reopened.fileFacts(scope: "s2", decode: decode)["b1"]?.facts == [9])

    // Rows the decoder rejects are left out.
    let nonEmpty = try reopened.fileFacts(scope: "s1") { $0.isEmpty ? nil : Array($0) }
    #expect(Set(nonEmpty.keys) == ["b1"])
  }

  @Test func factsOfBlobsNoLongerNeededArePrunedWhenTheScopeGrowsWellBeyondTheLiveSet() throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-facts")
    let cache = try EmbeddingCache(url: folder.url.appendingPathComponent("cache.sqlite"))
    var first: [String: (size: Int, facts: [UInt8])] = [:]
    for i in 0..<1_500 { first["old\(i)"] = (i, [UInt8(i % 256)]) }
    try cache.storeFileFacts(scope: "repo", first, live: Set(first.keys))
    try cache.storeFileFacts(scope: "other", ["old1": (1, [1])], live: ["old1"])
    // Within bounds (1,510 rows, all live): nothing goes.
    var second: [String: (size: Int, facts: [UInt8])] = [:]
    for i in 0..<10 { second["new\(i)"] = (i, [1]) }
    try cache.storeFileFacts(scope: "repo", second, live: Set(second.keys).union(first.keys))
    #expect(try cache.fileFactsCount(scope: "repo") == 1_510)
    // 1,511 rows for 12 live blobs is past the bound (2 × 12 + 1,000): only the live blobs stay; other scopes are untouched.
    try cache.storeFileFacts(scope: "repo", ["new10": (1, [1])], live: Set(second.keys).union(["new10", "old3"]))
    #expect(Set(try cache.fileFacts(scope: "repo") { Array($0) }.keys) == Set(second.keys).union(["new10", "old3"]))
    #expect(try cache.fileFactsCount(scope: "other") == 1)
  }

  @Test func sqliteFileHashFollowsTheFilesPoints() async throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-filehash")
    try await contractFileHash(SQLiteStore(directory: folder.url))
  }
}
