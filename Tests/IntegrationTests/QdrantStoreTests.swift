import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

/// QdrantStore against one shared Qdrant (test server, or `QDRANT_URL`); each test owns its collections.
@Suite("QdrantStore")
struct QdrantStoreTests {
  let fixture: QdrantFixture
  let store: QdrantStore

  init() async throws {
    fixture = try await QdrantFixture.sharedFixture()
    store = try fixture.store()
  }

  @Test func collectionLifecycle() async throws {
    let name = QdrantFixture.collectionName("life")
    #expect(try await store.collectionExists(name) == false)
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 8))
    #expect(try await store.collectionExists(name))
    #expect(try await store.listCollections().contains(name))

    let info = try await store.info(name)
    #expect(info == CollectionInfo(name: name, points: 0, files: 0, dimension: 8, metadata: QdrantSamples.metadata(dimension: 8)))

    // The layout git-rag promises: named dense + bm25 vectors, keyword indexes.
    let (_, body) = try await fixture.raw("GET", "/collections/\(name)")
    let result = (body as? [String: Any])?["result"] as? [String: Any]
    let params = (result?["config"] as? [String: Any])?["params"] as? [String: Any]
    let dense = (params?["vectors"] as? [String: Any])?["dense"] as? [String: Any]
    #expect(dense?["size"] as? Int == 8)
    #expect(dense?["distance"] as? String == "Cosine")
    let bm25 = (params?["sparse_vectors"] as? [String: Any])?["bm25"] as? [String: Any]
    #expect(bm25?["modifier"] as? String == "idf")
    let schema = result?["payload_schema"] as? [String: Any] ?? [:]
    #expect(Set(schema.keys).isSuperset(of: QdrantStore.indexedFields))

    await #expect(throws: QdrantError.collectionExists(collection: name, location: store.location)) {
      try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 8))
    }
    do {
      try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 8))
    } catch let error as QdrantError {
      #expect(error.localizedDescription.hasPrefix("Collection \(name) already exists in qdrant:"))
    }

    try await store.deleteCollection(name)
    #expect(try await store.collectionExists(name) == false)
    await #expect(throws: QdrantError.collectionNotFound(collection: name, location: store.location)) {
      try await store.deleteCollection(name)
    }
    await #expect(throws: QdrantError.collectionNotFound(collection: name, location: store.location)) {
      try await store.count(name)
    }
  }

  @Test func deleteByFileAndByID() async throws {
    let name = QdrantFixture.collectionName("delete")
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 4))
    defer { Task { try? await store.deleteCollection(name) } }
    let points = QdrantSamples.points(files: 3, chunks: 4, dimension: 4)
    try await store.upsert(name, points: points)
    #expect(try await store.count(name) == 12)

    try await store.deleteFiles(name, paths: ["src/file0.py", "src/missing.py"])
    #expect(try await store.count(name) == 8)
    let file1 = points.filter { $0.payload.filePath == "src/file1.py" }.map(\.id)
    try await store.deletePoints(name, ids: Array(file1.prefix(3)))
    #expect(try await store.count(name) == 5)
    let remaining = try await store.points(name, filePaths: ["src/file1.py", "src/file2.py"])
    #expect(
      remaining.map(\.id).sorted() == (Array(file1.suffix(1)) + points.filter { $0.payload.filePath == "src/file2.py" }.map(\.id)).sorted())
    #expect(
      try await store.inventory(name) == [
        "src/file1.py": SHA1Hex.of("src/file1.py"), "src/file2.py": SHA1Hex.of("src/file2.py"),
      ])

    // Upserting the same ids again replaces, never duplicates.
    try await store.upsert(name, points: points)
    #expect(try await store.count(name) == 12)
  }

  @Test func pointsAndVectorReuse() async throws {
    let name = QdrantFixture.collectionName("reuse")
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 16))
    defer { Task { try? await store.deleteCollection(name) } }
    let points =
      QdrantSamples.points(files: 5, chunks: 3, dimension: 16)
      + [QdrantSamples.point(path: "docs/guide.md", content: "# Guide\n\nIntro", language: "markdown", symbol: "Guide", dimension: 16)]
    try await store.upsert(name, points: points)

    // A CI runner with an empty cache asks the store which chunks it already has.
    let unknown = SHA256Digest.hex("never indexed")
    let reused = try await store.vectors(name, chunkHashes: points.map(\.payload.chunkHash) + [unknown])
    #expect(reused.count == points.count)
    #expect(reused[unknown] == nil)
    for point in points {
      #expect(isClose(reused[point.payload.chunkHash] ?? [], point.vector!))
    }

    let moved = try await store.points(name, filePaths: ["docs/guide.md", "src/file3.py"])
    let expected = points.filter { ["docs/guide.md", "src/file3.py"].contains($0.payload.filePath) }
      .sorted { ($0.payload.filePath, $0.payload.chunkIndex) < ($1.payload.filePath, $1.payload.chunkIndex) }
    #expect(moved.map(\.payload) == expected.map(\.payload))
    #expect(zip(moved, expected).allSatisfy { isClose($0.vector ?? [], $1.vector!) })
  }

  @Test func keywordVectorAndHybridSearch() async throws {
    let name = QdrantFixture.collectionName("search")
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 8))
    defer { Task { try? await store.deleteCollection(name) } }
    let retry = QdrantSamples.point(
      path: "src/net/client.py", content: "def fetch_with_retries(url, max_retries=3):\n    backoff = 0.5\n",
      symbol: "fetch_with_retries", dimension: 8)
    let parser = QdrantSamples.point(
      path: "src/parse/tokens.py", content: "class TokenParser:\n    def parse_tokens(self, text):\n        pass\n",
      symbol: "TokenParser", dimension: 8)
    let readme = QdrantSamples.point(
      path: "README.md", content: "# Retries\n\nThe client retries failed requests with backoff.", language: "markdown",
      symbol: "Retries", dimension: 8)
    let filler = QdrantSamples.points(files: 6, chunks: 2, dimension: 8, prefix: "lib")
    try await store.upsert(name, points: [retry, parser, readme] + filler)

    let keyword = try await store.keywordSearch(name, query: KeywordQuery(text: "max retries backoff"), limit: 3, filter: .none)
    #expect(keyword.first?.payload == retry.payload)
    #expect(keyword.first?.keywordRank == 1)
    #expect(keyword.count <= 3)
    // Identifier parts match: `TokenParser` is found by `parser`.
    let byPart = try await store.keywordSearch(name, query: KeywordQuery(text: "token parser"), limit: 5, filter: .none)
    #expect(byPart.first?.payload.filePath == "src/parse/tokens.py")
    #expect(try await store.keywordSearch(name, query: KeywordQuery(text: "the of"), limit: 5, filter: .none).isEmpty)

    let vector = try await store.vectorSearch(name, vector: parser.vector!, limit: 4, filter: .none)
    #expect(vector.first?.payload == parser.payload)
    #expect(abs((vector.first?.score ?? 0) - 1) < 1e-4)
    #expect(vector.map(\.vectorRank) == Array(1...vector.count).map(Optional.some))
    #expect(zip(vector, vector.dropFirst()).allSatisfy { $0.score >= $1.score })

    let hybrid = try await store.hybridSearch(
      name, vector: retry.vector!, keyword: KeywordQuery(text: "retries backoff"), limit: 3, filter: .none)
    #expect(hybrid.first?.payload == retry.payload)

    let markdown = try await store.keywordSearch(
      name, query: KeywordQuery(text: "retries backoff"), limit: 5, filter: SearchFilter(language: "markdown"))
    #expect(markdown.map(\.payload.filePath) == ["README.md"])

    let globbed = try await store.vectorSearch(name, vector: retry.vector!, limit: 20, filter: SearchFilter(pathGlob: "src/**/*.py"))
    #expect(Set(globbed.map(\.payload.filePath)) == ["src/net/client.py", "src/parse/tokens.py"])
    let shallow = try await store.vectorSearch(name, vector: retry.vector!, limit: 20, filter: SearchFilter(pathGlob: "lib/*.py"))
    #expect(shallow.count == 12)
    let none = try await store.hybridSearch(
      name, vector: retry.vector!, keyword: KeywordQuery(text: "retries"), limit: 5, filter: SearchFilter(pathGlob: "*.rs"))
    #expect(none.isEmpty)
  }

  @Test func keywordOnlyCollection() async throws {
    let name = QdrantFixture.collectionName("keyword")
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 0))
    defer { Task { try? await store.deleteCollection(name) } }
    let points =
      QdrantSamples.points(files: 2, chunks: 2, dimension: 0)
      + [QdrantSamples.point(path: "src/special.py", content: "def frobnicate_widgets():\n    pass\n", dimension: 0)]
    try await store.upsert(name, points: points)
    #expect(try await store.count(name) == 5)
    #expect(try await store.info(name).dimension == 0)
    let hits = try await store.keywordSearch(name, query: KeywordQuery(text: "frobnicate widgets"), limit: 2, filter: .none)
    #expect(hits.first?.payload.filePath == "src/special.py")
    #expect(try await store.vectors(name, chunkHashes: points.map(\.payload.chunkHash)).isEmpty)
    #expect(try await store.points(name, filePaths: ["src/special.py"]).map(\.vector) == [nil])
  }

  @Test func metadataRoundTripInCollectionMetadata() async throws {
    let name = QdrantFixture.collectionName("meta")
    let initial = QdrantSamples.metadata(dimension: 4)
    try await store.createCollection(name, metadata: initial)
    defer { Task { try? await store.deleteCollection(name) } }
    #expect(try await store.supportsCollectionMetadata())
    #expect(try await store.metadata(name) == initial)

    var synced = initial
    synced.lastIndexedCommit = "89abcdef0123456789abcdef0123456789abcdef"
    synced.lastIndexedAt = "2026-02-03T04:05:06Z"
    try await store.setMetadata(name, synced)
    #expect(try await store.metadata(name) == synced)

    // Replacing drops keys the new value lacks (Qdrant deletes keys patched to null).
    try await store.setMetadata(name, initial)
    #expect(try await store.metadata(name) == initial)
    let (_, body) = try await fixture.raw("GET", "/collections/\(name)")
    let config = ((body as? [String: Any])?["result"] as? [String: Any])?["config"] as? [String: Any]
    let stored = config?["metadata"] as? [String: Any] ?? [:]
    #expect(stored["embedder"] as? String == initial.embedder)
    #expect(stored["last_indexed_commit"] == nil)
    // No reserved point on a 1.16 server.
    let (_, retrieved) = try await fixture.raw("POST", "/collections/\(name)/points", json: ["ids": [QdrantStore.metadataPointID]])
    #expect(((retrieved as? [String: Any])?["result"] as? [Any])?.isEmpty == true)
  }

  @Test func dimensionMismatchIsRefused() async throws {
    let name = QdrantFixture.collectionName("dim")
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 16))
    defer { Task { try? await store.deleteCollection(name) } }
    let wrong = QdrantSamples.point(path: "a.py", dimension: 384)
    let expected = QdrantError.dimensionMismatch(collection: name, stored: 16, embedder: 384)
    await #expect(throws: expected) { try await store.upsert(name, points: [wrong]) }
    #expect(
      expected.localizedDescription
        == "Collection \(name) holds 16-d vectors but the embedder makes 384-d ones. Use --reindex or another collection.")
    await #expect(throws: expected) { try await store.vectorSearch(name, vector: wrong.vector!, limit: 3, filter: .none) }
    // A second store (no cached layout) learns it from the server, too.
    let fresh = try fixture.store()
    await #expect(throws: expected) { try await fresh.upsert(name, points: [wrong]) }
  }

  @Test func foreignCollectionIsRefused() async throws {
    let name = QdrantFixture.collectionName("foreign")
    let (status, _) = try await fixture.raw("PUT", "/collections/\(name)", json: ["vectors": ["size": 4, "distance": "Cosine"]])
    #expect(status == 200)
    defer { Task { try? await store.deleteCollection(name) } }
    do {
      try await store.upsert(name, points: [QdrantSamples.point(path: "a.py", dimension: 4)])
      Issue.record("upsert into a foreign collection succeeded")
    } catch let error as QdrantError {
      guard case .foreignCollection = error else { Issue.record("unexpected \(error)"); return }
      #expect(error.localizedDescription.contains("was not made by git-rag"))
    }
    #expect(try await store.metadata(name) == nil)
  }

  /// The official Python client reads what git-rag wrote: the payload of docs/architecture.md with its types.
  @Test func officialPythonClientReadsThePayload() async throws {
    let name = QdrantFixture.collectionName("python")
    try await store.createCollection(name, metadata: QdrantSamples.metadata(dimension: 8))
    defer { Task { try? await store.deleteCollection(name) } }
    let points =
      QdrantSamples.points(files: 2, chunks: 2, dimension: 8)
      + [QdrantSamples.point(path: "docs/a.md", content: "# A\n\ntext", language: "markdown", symbol: "A", dimension: 8)]
    try await store.upsert(name, points: points)

    let script = """
      import json, re, sys, warnings
      warnings.simplefilter("ignore")
      from qdrant_client import QdrantClient
      url, collection, key = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
      client = QdrantClient(url=url, api_key=key or None, check_compatibility=False, prefer_grpc=False)
      info = client.get_collection(collection)
      records, _ = client.scroll(collection, limit=1000, with_payload=True, with_vectors=True)
      types = {"file_path": str, "content": str, "chunk_index": int, "start_line": int, "end_line": int,
               "language": str, "file_hash": str, "chunk_hash": str, "commit": str, "timestamp": str}
      problems = []
      for r in records:
          p = r.payload
          extra = set(p) - set(types) - {"symbol"}
          if extra: problems.append(f"{r.id}: unexpected keys {sorted(extra)}")
          for key, kind in types.items():
              if type(p.get(key)) is not kind: problems.append(f"{r.id}: {key} is {type(p.get(key)).__name__}")
          if "symbol" in p and p["symbol"] is not None and not isinstance(p["symbol"], str): problems.append(f"{r.id}: symbol")
          if not re.fullmatch(r"[0-9a-f]{40}", p["file_hash"]): problems.append(f"{r.id}: file_hash")
          if not re.fullmatch(r"[0-9a-f]{64}", p["chunk_hash"]): problems.append(f"{r.id}: chunk_hash")
          if not re.fullmatch(r"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", p["timestamp"]): problems.append(f"{r.id}: timestamp")
          if len(r.vector["dense"]) != info.config.params.vectors["dense"].size: problems.append(f"{r.id}: dense size")
          if len(r.vector["bm25"].indices) == 0: problems.append(f"{r.id}: empty bm25")
      print(json.dumps({"count": len(records), "problems": problems,
                        "ids": sorted(str(r.id) for r in records),
                        "metadata": info.config.metadata or {},
                        "sparse_modifier": str(info.config.params.sparse_vectors["bm25"].modifier.value)}))
      """
    var arguments = ["-c", script, fixture.url.absoluteString, name]
    if let key = fixture.apiKey { arguments.append(key) }
    // The key reaches Python through argv only in this test process tree, never the product.
    let argv = arguments
    let result = try await offCooperativePool { try runProcess("python3", argv) }
    let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    #expect(report?["count"] as? Int == points.count)
    #expect(report?["problems"] as? [String] == [])
    #expect(report?["ids"] as? [String] == points.map(\.id).sorted())
    #expect(report?["sparse_modifier"] as? String == "idf")
    #expect((report?["metadata"] as? [String: Any])?["embedder"] as? String == "test:hash-8")
  }
}

@Suite struct QdrantStoreContractTests {
  /// The same contract the embedded store passes (Tests/StoreTests), run on Qdrant.
  @Test func qdrantStorePassesTheVectorStoreContract() async throws {
    let fixture = try await QdrantFixture.sharedFixture()
    try await runVectorStoreContract { try fixture.store() }
  }
}
