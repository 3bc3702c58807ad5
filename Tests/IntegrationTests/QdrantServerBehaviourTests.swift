import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Tests that need a server of their own: round-trip counting, an old server, faults, API keys,
/// TLS. Skipped against a real `QDRANT_URL` server (it cannot inject faults or pretend to be old).
@Suite("QdrantStore with its own server", .enabled(if: QdrantFixture.usesTestServer))
struct QdrantServerBehaviourTests {
  @Test func upsertsInBatchesAndScrollsInPages() async throws {
    let fixture = try await QdrantFixture.start(ownServer: true)
    let store = try fixture.store(batchSize: 100, scrollPageSize: 50)
    try await store.createCollection("c", metadata: QdrantSamples.metadata(dimension: 4))
    try await fixture.resetStats()

    let points = QdrantSamples.points(files: 25, chunks: 10, dimension: 4)
    try await store.upsert("c", points: points)
    var stats = try await fixture.stats()
    #expect(stats["PUT /collections/{c}/points"] == 3)  // 250 points, batches of 100
    #expect(try await store.count("c") == 250)

    try await fixture.resetStats()
    let inventory = try await store.inventory("c")
    #expect(inventory.count == 25)
    #expect(inventory["src/file24.py"] == SHA1Hex.of("src/file24.py"))
    stats = try await fixture.stats()
    #expect(stats["POST /collections/{c}/points/scroll"] == 5)  // 250 points, pages of 50

    let one = try fixture.store(batchSize: 1)
    try await fixture.resetStats()
    try await one.upsert("c", points: Array(points.prefix(7)))
    #expect(try await fixture.stats()["PUT /collections/{c}/points"] == 7)
  }

  @Test func metadataOnAnOldServerLivesInAHiddenPoint() async throws {
    let fixture = try await QdrantFixture.start(arguments: ["--version", "1.15.2"], ownServer: true)
    let store = try fixture.store()
    #expect(try await store.supportsCollectionMetadata() == false)

    // The old server refuses collection metadata, as Qdrant < 1.16 does.
    let (status, _) = try await fixture.raw("PUT", "/collections/raw", json: ["metadata": ["a": "b"]])
    #expect(status == 400)

    let initial = QdrantSamples.metadata(dimension: 8)
    try await store.createCollection("c", metadata: initial)
    #expect(try await store.metadata("c") == initial)
    var synced = initial
    synced.lastIndexedCommit = "89abcdef0123456789abcdef0123456789abcdef"
    try await store.setMetadata("c", synced)
    #expect(try await store.metadata("c") == synced)

    let points = QdrantSamples.points(files: 3, chunks: 2, dimension: 8)
    try await store.upsert("c", points: points)
    // The reserved point exists on the server …
    let (_, raw) = try await fixture.raw("POST", "/collections/c/points/count", json: ["exact": true])
    #expect(((raw as? [String: Any])?["result"] as? [String: Any])?["count"] as? Int == 7)
    // … and nowhere in what the store reports.
    #expect(try await store.count("c") == 6)
    #expect(try await store.inventory("c").count == 3)
    #expect(try await store.info("c").points == 6)
    let near = try await store.vectorSearch("c", vector: [1, 0, 0, 0, 0, 0, 0, 0], limit: 10, filter: .none)
    #expect(near.count == 6)
    let keyword = try await store.keywordSearch("c", query: KeywordQuery(text: "example com repo git"), limit: 10, filter: .none)
    #expect(keyword.allSatisfy { !$0.payload.filePath.isEmpty })
    let hybrid = try await store.hybridSearch(
      "c", vector: [1, 0, 0, 0, 0, 0, 0, 0], keyword: KeywordQuery(text: "function"), limit: 10, filter: .none)
    #expect(hybrid.count == 6)
    // Deleting every chunk id leaves the metadata alone.
    try await store.deletePoints("c", ids: points.map(\.id) + [QdrantStore.metadataPointID])
    #expect(try await store.count("c") == 0)
    #expect(try await store.metadata("c") == synced)
  }

  @Test func serverDownNamesHostAndPort() async throws {
    let port = try freePort()
    let store = try QdrantStore(
      configuration: QdrantConfiguration(url: URL(string: "http://127.0.0.1:\(port)")!, maxRetries: 1))
    do {
      _ = try await store.listCollections()
      Issue.record("listing collections on a closed port succeeded")
    } catch let error as QdrantError {
      #expect(error == .unreachable(address: "127.0.0.1:\(port)", reason: "connection refused"))
      #expect(
        error.localizedDescription
          == "Cannot connect to Qdrant at 127.0.0.1:\(port) (connection refused). Is it running? Set QDRANT_URL or use --store sqlite.")
    }
  }

  @Test func retriesServerErrorsAndRateLimits() async throws {
    let fixture = try await QdrantFixture.start(ownServer: true)
    let store = try fixture.store(maxRetries: 3)
    try await store.createCollection("c", metadata: QdrantSamples.metadata(dimension: 4))
    let points = QdrantSamples.points(files: 1, chunks: 3, dimension: 4)

    try await fixture.resetStats()
    try await fixture.control(["fail_next": 2, "status": 500])
    try await store.upsert("c", points: points)
    #expect(try await fixture.stats()["PUT /collections/{c}/points"] == 3)
    #expect(try await store.count("c") == 3)

    try await fixture.resetStats()
    try await fixture.control(["fail_next": 1, "status": 429, "retry_after": 1])
    let started = Date()
    #expect(try await store.count("c") == 3)
    #expect(Date().timeIntervalSince(started) >= 0.9)  // Retry-After honoured
    #expect(try await fixture.stats()["POST /collections/{c}/points/count"] == 2)

    // A dropped connection is retried like a refused one.
    try await fixture.control(["fail_next": 1, "drop": true])
    #expect(try await store.listCollections() == ["c"])

    // Retries run out: the last answer is reported.
    let impatient = try fixture.store(maxRetries: 1)
    try await fixture.control(["fail_next": 5, "status": 503])
    do {
      _ = try await impatient.count("c")
      Issue.record("count succeeded through 503s")
    } catch let error as QdrantError {
      guard case .server(_, 503, _) = error else { Issue.record("unexpected \(error)"); return }
      #expect(error.localizedDescription.contains("HTTP 503"))
    }
    try await fixture.control(["reset": true])
  }

  @Test func timeoutIsReported() async throws {
    let fixture = try await QdrantFixture.start(ownServer: true)
    let store = try QdrantStore(configuration: QdrantConfiguration(url: fixture.url, timeout: 0.5, maxRetries: 0))
    try await fixture.control(["delay_next": 1, "delay": 2])
    do {
      _ = try await store.listCollections()
      Issue.record("a 2 s answer beat a 0.5 s timeout")
    } catch let error as QdrantError {
      #expect(error == .timedOut(url: fixture.url.absoluteString.trimmingSuffix("/"), seconds: 1))
    }
  }

  @Test func apiKeyIsSentAndChecked() async throws {
    let secret = "s3cret-\(UUID().uuidString)"
    let fixture = try await QdrantFixture.start(
      arguments: ["--api-key-env", "QDRANT_TEST_KEY", "--read-only-api-key-env", "QDRANT_TEST_RO_KEY"],
      environment: ["QDRANT_TEST_KEY": secret, "QDRANT_TEST_RO_KEY": "read-only-\(secret)"], ownServer: true)
    let good = try fixture.store(apiKey: secret)
    try await good.createCollection("c", metadata: QdrantSamples.metadata(dimension: 4))
    #expect(try await good.listCollections() == ["c"])

    let wrong = try fixture.store(apiKey: "wrong-key")
    do {
      _ = try await wrong.listCollections()
      Issue.record("a wrong key was accepted")
    } catch let error as QdrantError {
      #expect(
        error.localizedDescription
          == "Qdrant at \(fixture.url.absoluteString.trimmingSuffix("/")) rejected the API key (HTTP 401). Set QDRANT_API_KEY.")
      #expect(!error.localizedDescription.contains("wrong-key"))
    }
    let missing = try fixture.store()
    await #expect(throws: QdrantError.unauthorized(url: fixture.url.absoluteString.trimmingSuffix("/"), status: 401, keyConfigured: false))
    {
      try await missing.count("c")
    }
    let readOnly = try fixture.store(apiKey: "read-only-\(secret)")
    #expect(try await readOnly.count("c") == 0)
    await #expect(throws: QdrantError.unauthorized(url: fixture.url.absoluteString.trimmingSuffix("/"), status: 403, keyConfigured: true)) {
      try await readOnly.upsert("c", points: [QdrantSamples.point(path: "a.py", dimension: 4)])
    }
  }

  @Test func tlsCertificatesAreVerifiedAndACustomCAFileIsHonoured() async throws {
    let dir = try TemporaryDirectory(prefix: "qdrant-tls")
    let authority = try await offCooperativePool { try TestCertificateAuthority(in: dir.url) }
    let fixture = try await QdrantFixture.start(
      arguments: ["--tls-cert", authority.certificateFile, "--tls-key", authority.keyFile], ownServer: true)
    let https = URL(string: fixture.url.absoluteString.replacingOccurrences(of: "http://", with: "https://"))!
    let store = try QdrantStore(configuration: QdrantConfiguration(url: https, maxRetries: 0))
    do {
      _ = try await store.listCollections()
      Issue.record("a certificate from an unknown CA was trusted")
    } catch let error as QdrantError {
      guard case .tls = error else { Issue.record("expected a TLS error, got \(error)"); return }
      let message = try #require(error.errorDescription)
      #expect(message.hasPrefix("TLS connection to Qdrant at \(https.absoluteString.trimmingSuffix("/")) failed (SSL certificate problem"))
      #expect(message.hasSuffix("for a private CA set GIT_RAG_QDRANT_CA_FILE to its PEM file."))
      #expect(!message.contains("\n"))
    }
    // With the CA file the same server is trusted.
    let trusting = try QdrantStore(configuration: QdrantConfiguration(url: https, caFile: authority.caFile))
    #expect(try await trusting.listCollections() == [])
    // A CA file that is not there is refused up front.
    let missing = dir.url.appendingPathComponent("missing.pem").path
    #expect(
      throws: QdrantError.invalidConfiguration(
        "The Qdrant CA file \(missing) cannot be read. Set GIT_RAG_QDRANT_CA_FILE (or rag.qdrantCaFile) to a PEM file of CA certificates.")
    ) {
      try QdrantStore(configuration: QdrantConfiguration(url: https, caFile: missing))
    }
  }
}

/// A loopback port nothing listens on (bound, then released).
func freePort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
  }
  guard bound else { throw QdrantError.invalidConfiguration("cannot bind a loopback port") }
  return Int(UInt16(bigEndian: address.sin_port))
}
