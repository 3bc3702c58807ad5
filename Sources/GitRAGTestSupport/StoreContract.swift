import Foundation
import GitRAGCore
import Store
import Testing

/// The behaviour every `VectorStore` must show. Called by each store's tests with a factory for a
/// store on fresh, empty storage (`SQLiteStore` on a temporary folder, `QdrantStore` on a server).
/// Collections get random names, so a shared server is fine.
public func runVectorStoreContract(makeStore: () async throws -> any VectorStore) async throws {
  let store = try await makeStore()
  try await contractCollectionLifecycle(store)
  try await contractPoints(store)
  try await contractMetadataRoundTrip(store)
  try await contractSearch(store)
  try await contractKeywordOnly(store)
}

// MARK: - Fixtures

public func contractCollectionName(_ purpose: String) -> String {
  "contract-\(purpose)-\(UUID().uuidString.prefix(8).lowercased())"
}

public func contractMetadata(dimension: Int, commit: String? = nil) -> IndexMetadata {
  IndexMetadata(
    embedder: dimension == 0 ? "none" : "test:unit-\(dimension)", dimension: dimension, chunkerVersion: "1",
    createdAt: "2025-01-02T03:04:05Z", lastIndexedCommit: commit, lastIndexedAt: commit == nil ? nil : "2025-01-02T04:00:00Z",
    source: "/tmp/repo")
}

public func contractPoint(
  _ path: String, _ index: Int, _ content: String, fileHash: String? = nil, language: String = "python",
  symbol: String? = nil, vector: [Float]?
) -> Point {
  let lines = content.split(separator: "\n", omittingEmptySubsequences: false).count
  let payload = ChunkPayload(
    filePath: path, content: content, chunkIndex: index, startLine: index * 10 + 1, endLine: index * 10 + lines,
    language: language, symbol: symbol, fileHash: fileHash ?? SHA256Digest.hex(path).prefix(40).description,
    chunkHash: SHA256Digest.hex(content), commit: "c0ffee", timestamp: "2025-01-02T03:04:05Z")
  return Point(payload: payload, vector: vector)
}

/// A unit vector of `dimension` with 1 at `axis` (and optionally a bit of `other`), normalised.
public func contractUnit(_ dimension: Int, _ axis: Int, plus other: Int? = nil, weight: Float = 0.3) -> [Float] {
  var v = [Float](repeating: 0, count: dimension)
  v[axis] = 1
  if let other { v[other] += weight }
  let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
  return v.map { $0 / norm }
}

public func contractClose(_ a: [Float]?, _ b: [Float]?, tolerance: Float = 1e-5) -> Bool {
  guard let a, let b, a.count == b.count else { return a == nil && b == nil }
  return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

/// Runs `body`, expecting an error whose message contains every one of `fragments`.
public func expectUserError(
  _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
  do {
    try await body()
    Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
  } catch {
    let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
    for fragment in fragments {
      #expect(message.contains(fragment), "\(message) should mention \(fragment)", sourceLocation: sourceLocation)
    }
    #expect(!message.contains("\n"), "one line: \(message)", sourceLocation: sourceLocation)
  }
}

// MARK: - Parts

public func contractCollectionLifecycle(_ store: any VectorStore) async throws {
  let name = contractCollectionName("life")
  #expect(try await store.collectionExists(name) == false)
  #expect(try await !store.listCollections().contains(name))
  await expectUserError([name, "not found", "git rag sync"]) { _ = try await store.count(name) }
  await expectUserError([name, "not found"]) { try await store.upsert(name, points: [contractPoint("a.py", 0, "x = 1", vector: [1, 0])]) }
  await expectUserError([name, "not found"]) { _ = try await store.metadata(name) }

  let metadata = contractMetadata(dimension: 2)
  try await store.createCollection(name, metadata: metadata)
  #expect(try await store.collectionExists(name))
  #expect(try await store.listCollections().contains(name))
  await expectUserError([name, "already exists", "git rag collection delete \(name)"]) {
    try await store.createCollection(name, metadata: metadata)
  }
  let info = try await store.info(name)
  #expect(info.name == name && info.points == 0 && info.files == 0 && info.dimension == 2)
  #expect(info.metadata == metadata)
  #expect(try await store.count(name) == 0)

  try await store.deleteCollection(name)
  #expect(try await store.collectionExists(name) == false)
  #expect(try await !store.listCollections().contains(name))
  await expectUserError([name, "not found"]) { try await store.deleteCollection(name) }
}

public func contractPoints(_ store: any VectorStore) async throws {
  let name = contractCollectionName("points")
  try await store.createCollection(name, metadata: contractMetadata(dimension: 4))
  let a0 = contractPoint("src/a.py", 0, "def alpha():\n    return 1", fileHash: "aaa1", symbol: "alpha", vector: contractUnit(4, 0))
  let a1 = contractPoint("src/a.py", 1, "def beta():\n    return 2", fileHash: "aaa1", symbol: "beta", vector: contractUnit(4, 1))
  let b0 = contractPoint("src/b.py", 0, "GAMMA = 3", fileHash: "bbb1", vector: contractUnit(4, 2))
  let d0 = contractPoint("docs/read me.md", 0, "# Read me\n\nDelta.", fileHash: "ddd1", language: "markdown", vector: contractUnit(4, 3))
  try await store.upsert(name, points: [a0, a1, b0, d0])
  #expect(try await store.count(name) == 4)
  #expect(try await store.inventory(name) == ["src/a.py": "aaa1", "src/b.py": "bbb1", "docs/read me.md": "ddd1"])
  let info = try await store.info(name)
  #expect(info.points == 4 && info.files == 3)

  // Same id again: replaced, not added.
  var a0Changed = a0
  a0Changed.payload.content = "def alpha():\n    return 100"
  a0Changed.payload.chunkHash = SHA256Digest.hex(a0Changed.payload.content)
  a0Changed.vector = contractUnit(4, 0, plus: 1)
  #expect(a0Changed.id == a0.id)
  try await store.upsert(name, points: [a0Changed])
  #expect(try await store.count(name) == 4)

  let aPoints = try await store.points(name, filePaths: ["src/a.py", "missing.py"]).sorted { $0.payload.chunkIndex < $1.payload.chunkIndex }
  #expect(aPoints.map(\.id) == [a0.id, a1.id])
  #expect(aPoints.map(\.payload) == [a0Changed.payload, a1.payload])
  #expect(contractClose(aPoints.first?.vector, a0Changed.vector))
  #expect(contractClose(aPoints.last?.vector, a1.vector))

  let reuse = try await store.vectors(name, chunkHashes: [b0.payload.chunkHash, a0.payload.chunkHash, "0000"])
  #expect(Set(reuse.keys) == [b0.payload.chunkHash], "the old a0 chunk is gone, 0000 never existed")
  #expect(contractClose(reuse[b0.payload.chunkHash], b0.vector))

  try await store.deletePoints(name, ids: [b0.id, "00000000-0000-5000-8000-000000000000"])
  #expect(try await store.count(name) == 3)
  #expect(try await store.inventory(name)["src/b.py"] == nil)

  try await store.deleteFiles(name, paths: ["src/a.py", "never/was.py"])
  #expect(try await store.count(name) == 1)
  #expect(try await store.points(name, filePaths: ["src/a.py"]).isEmpty)
  #expect(try await store.inventory(name) == ["docs/read me.md": "ddd1"])
  // Empty inputs are no-ops.
  try await store.upsert(name, points: [])
  try await store.deleteFiles(name, paths: [])
  try await store.deletePoints(name, ids: [])
  #expect(try await store.vectors(name, chunkHashes: []).isEmpty)
  #expect(try await store.count(name) == 1)
  try await store.deleteCollection(name)
}

public func contractMetadataRoundTrip(_ store: any VectorStore) async throws {
  let name = contractCollectionName("meta")
  let initial = contractMetadata(dimension: 3)
  try await store.createCollection(name, metadata: initial)
  #expect(try await store.metadata(name) == initial)
  #expect(try await store.metadata(name)?.lastIndexedCommit == nil)

  let synced = contractMetadata(dimension: 3, commit: "0123456789abcdef0123456789abcdef01234567")
  try await store.setMetadata(name, synced)
  #expect(try await store.metadata(name) == synced)

  try await store.setMetadata(name, initial)
  let back = try await store.metadata(name)
  #expect(back == initial)
  #expect(back?.lastIndexedCommit == nil && back?.lastIndexedAt == nil)
  try await store.deleteCollection(name)
}

public func contractSearch(_ store: any VectorStore) async throws {
  let name = contractCollectionName("search")
  try await store.createCollection(name, metadata: contractMetadata(dimension: 8))
  let http = contractPoint(
    "src/net/http.py", 0, "def parseHttpResponse(raw):\n    header, body = raw.split(SEP)\n    return decode(body)",
    symbol: "parseHttpResponse", vector: contractUnit(8, 0))
  let client = contractPoint(
    "src/net/client.py", 0, "class Client:\n    def send(self, request):\n    return transport(request)",
    symbol: "Client", vector: contractUnit(8, 1, plus: 0))
  let widget = contractPoint(
    "src/util/widgets.py", 0, "def frobnicateWidget(widget):\n    return widget.value", symbol: "frobnicateWidget",
    vector: contractUnit(8, 2))
  let strings = contractPoint(
    "src/util/strings.py", 0, "def pad(value, width):\n    return value.rjust(width)", symbol: "pad",
    vector: contractUnit(8, 3))
  let guide = contractPoint(
    "docs/guide.md", 0, "# Guide\n\nSend a request, then read the value of the response.", language: "markdown",
    symbol: "Guide", vector: contractUnit(8, 4, plus: 0, weight: 0.5))
  let deep = contractPoint(
    "lib/deep/nested/mod.py", 0, "def helper(value):\n    return value", vector: contractUnit(8, 5))
  try await store.upsert(name, points: [http, client, widget, strings, guide, deep])

  // Keyword: the rare identifier wins over words every chunk has.
  let rare = try await store.keywordSearch(name, query: KeywordQuery(text: "frobnicate widget value return"), limit: 10, filter: .none)
  #expect(rare.first?.payload == widget.payload)
  #expect(rare.map(\.keywordRank) == rare.indices.map { $0 + 1 })
  #expect(zip(rare, rare.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
  #expect(rare.allSatisfy { $0.vectorRank == nil })

  // Keyword: identifiers are split, so prose finds camelCase.
  let prose = try await store.keywordSearch(name, query: KeywordQuery(text: "http response"), limit: 3, filter: .none)
  #expect(prose.first?.payload == http.payload)
  #expect(prose.count <= 3)
  let whole = try await store.keywordSearch(name, query: KeywordQuery(text: "parseHttpResponse"), limit: 10, filter: .none)
  #expect(whole.first?.payload == http.payload)
  #expect(try await store.keywordSearch(name, query: KeywordQuery(text: "the of and"), limit: 10, filter: .none).isEmpty)
  #expect(try await store.keywordSearch(name, query: KeywordQuery(text: "zyzzyva"), limit: 10, filter: .none).isEmpty)
  // Query syntax of the backend is never interpreted.
  _ = try await store.keywordSearch(
    name, query: KeywordQuery(terms: ["\"": 1, "not": 1, "col:umn": 1, "x*": 1, "near(": 1, "value)": 2]), limit: 5,
    filter: .none)

  // Keyword with filters.
  let markdownOnly = try await store.keywordSearch(
    name, query: KeywordQuery(text: "request response value"), limit: 10, filter: SearchFilter(language: "markdown"))
  #expect(markdownOnly.map(\.payload.filePath) == ["docs/guide.md"])
  let netOnly = try await store.keywordSearch(
    name, query: KeywordQuery(text: "request response value"), limit: 10, filter: SearchFilter(pathGlob: "src/net/*.py"))
  #expect(Set(netOnly.map(\.payload.filePath)) == ["src/net/http.py", "src/net/client.py"])

  // Vector: the nearest first, cosine scores descending, limit honoured.
  let nearest = try await store.vectorSearch(name, vector: contractUnit(8, 0), limit: 3, filter: .none)
  #expect(nearest.map(\.payload.filePath) == ["src/net/http.py", "docs/guide.md", "src/net/client.py"])
  #expect(abs((nearest.first?.score ?? 0) - 1) < 1e-4)
  #expect(nearest.map(\.vectorRank) == [1, 2, 3])
  #expect(nearest.allSatisfy { $0.keywordRank == nil })
  #expect(zip(nearest, nearest.dropFirst()).allSatisfy { $0.score >= $1.score })
  // The query is normalised by the store: a scaled query ranks the same.
  let scaled = try await store.vectorSearch(name, vector: contractUnit(8, 2).map { $0 * 7 }, limit: 1, filter: .none)
  #expect(scaled.first?.payload == widget.payload)
  #expect(abs((scaled.first?.score ?? 0) - 1) < 1e-4)

  // Vector with filters: only matching rows are ranked.
  let globbed = try await store.vectorSearch(name, vector: contractUnit(8, 0), limit: 10, filter: SearchFilter(pathGlob: "src/util/**"))
  #expect(Set(globbed.map(\.payload.filePath)) == ["src/util/widgets.py", "src/util/strings.py"])
  let deepGlob = try await store.vectorSearch(name, vector: contractUnit(8, 5), limit: 10, filter: SearchFilter(pathGlob: "**/*.py"))
  #expect(deepGlob.first?.payload.filePath == "lib/deep/nested/mod.py")
  #expect(deepGlob.count == 5)
  let noCrossing = try await store.vectorSearch(name, vector: contractUnit(8, 0), limit: 10, filter: SearchFilter(pathGlob: "src/*.py"))
  #expect(noCrossing.isEmpty, "* does not cross /")
  let markdown = try await store.vectorSearch(name, vector: contractUnit(8, 0), limit: 10, filter: SearchFilter(language: "markdown"))
  #expect(markdown.map(\.payload.filePath) == ["docs/guide.md"])
  let both = try await store.vectorSearch(
    name, vector: contractUnit(8, 0), limit: 10, filter: SearchFilter(pathGlob: "docs/**", language: "python"))
  #expect(both.isEmpty)
  try await store.deleteCollection(name)
}

public func contractKeywordOnly(_ store: any VectorStore) async throws {
  let name = contractCollectionName("keywords")
  try await store.createCollection(name, metadata: contractMetadata(dimension: 0))
  let a = contractPoint("notes/todo.txt", 0, "Rotate the signingKey before release", language: "text", vector: nil)
  let b = contractPoint("notes/done.txt", 0, "Released version two", language: "text", vector: nil)
  try await store.upsert(name, points: [a, b])
  #expect(try await store.count(name) == 2)
  #expect(try await store.info(name).dimension == 0)
  let hits = try await store.keywordSearch(name, query: KeywordQuery(text: "signing key"), limit: 5, filter: .none)
  #expect(hits.map(\.payload) == [a.payload])
  let points = try await store.points(name, filePaths: ["notes/todo.txt"])
  #expect(points.count == 1 && points.first?.vector == nil)
  #expect(try await store.vectors(name, chunkHashes: [a.payload.chunkHash]).isEmpty)
  try await store.deleteFiles(name, paths: ["notes/todo.txt"])
  #expect(try await store.keywordSearch(name, query: KeywordQuery(text: "signing key"), limit: 5, filter: .none).isEmpty)
  try await store.deleteCollection(name)
}
