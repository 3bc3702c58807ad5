import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A Qdrant to test against: the test server (`scripts/testservers/qdrant_server.py`) on a free
/// loopback port, or the real server named by `QDRANT_URL` (then fault-injection tests skip).
final class QdrantFixture: Sendable {
  let server: TestServer?
  let url: URL
  let apiKey: String?

  /// `QDRANT_URL` from the environment: run against that real server.
  static let realServerURL: URL? = ProcessInfo.processInfo.environment["QDRANT_URL"].flatMap {
    $0.isEmpty ? nil : URL(string: $0)
  }
  static var usesTestServer: Bool { realServerURL == nil }

  /// The server most tests share (each test uses its own collections); started once.
  static let shared: Task<QdrantFixture, any Error> = Task { try await start() }

  static func sharedFixture() async throws -> QdrantFixture { try await shared.value }

  /// Starts a fixture on a plain thread: starting a server blocks until it prints its port, and
  /// blocking the (two-thread, on CI) cooperative pool would stall every other test meanwhile.
  static func start(arguments: [String] = [], environment: [String: String] = [:], ownServer: Bool = false) async throws
    -> QdrantFixture
  {
    try await offCooperativePool { try QdrantFixture(arguments: arguments, environment: environment, ownServer: ownServer) }
  }

  /// Starts a test server with `arguments` (unless `QDRANT_URL` is set and `ownServer` is false).
  init(arguments: [String] = [], environment: [String: String] = [:], ownServer: Bool = false) throws {
    if let real = Self.realServerURL, !ownServer {
      server = nil
      url = real
      apiKey = ProcessInfo.processInfo.environment["QDRANT_API_KEY"]
    } else {
      let server = try TestServer(script: "qdrant_server.py", arguments: arguments, environment: environment)
      self.server = server
      url = URL(string: server.baseURL)!
      apiKey = nil
    }
  }

  func configuration(apiKey: String? = nil, batchSize: Int = 100, timeout: TimeInterval = 10, maxRetries: Int = 4)
    -> QdrantConfiguration
  {
    QdrantConfiguration(url: url, apiKey: apiKey ?? self.apiKey, batchSize: batchSize, timeout: timeout, maxRetries: maxRetries)
  }

  func store(apiKey: String? = nil, batchSize: Int = 100, maxRetries: Int = 4, scrollPageSize: Int = 1000) throws
    -> QdrantStore
  {
    try QdrantStore(
      configuration: configuration(apiKey: apiKey, batchSize: batchSize, maxRetries: maxRetries),
      scrollPageSize: scrollPageSize)
  }

  /// A collection name no other test (or earlier run on a real server) uses.
  static func collectionName(_ label: String) -> String {
    "gitrag-test-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
  }

  // MARK: - Raw HTTP (test hooks and things QdrantStore deliberately cannot do)

  /// Sends raw JSON and returns (status, decoded body).
  @discardableResult
  func raw(_ method: String, _ path: String, json: Any? = nil, apiKey: String? = nil) async throws -> (Int, Any?) {
    var request = URLRequest(url: URL(string: url.absoluteString.trimmingSuffix("/") + path)!)
    request.httpMethod = method
    if let key = apiKey ?? self.apiKey { request.setValue(key, forHTTPHeaderField: "api-key") }
    if let json {
      request.httpBody = try JSONSerialization.data(withJSONObject: json)
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    return (status, try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
  }

  /// `POST /__control` on the test server.
  func control(_ command: [String: Any]) async throws {
    let (status, _) = try await raw("POST", "/__control", json: command)
    precondition(status == 200, "control failed: \(status)")
  }

  /// Request counts per route since the last reset (`GET /__stats`).
  func stats() async throws -> [String: Int] {
    let (_, body) = try await raw("GET", "/__stats")
    let object = body as? [String: Any]
    return (object?["requests"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
  }

  /// Seconds the server spent handling each route since the last reset.
  func serverSeconds() async throws -> [String: Double] {
    let (_, body) = try await raw("GET", "/__stats")
    let object = body as? [String: Any]
    return (object?["seconds"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
  }

  func resetStats() async throws { try await control(["reset": true]) }
}

/// Runs blocking work (child processes, waiting for a port) on a Dispatch thread.
func offCooperativePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
  }
}

extension String {
  func trimmingSuffix(_ suffix: String) -> String {
    var text = self
    while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
    return text
  }
}

/// Deterministic test data: chunks with unit vectors, so the vectors Qdrant normalises for
/// cosine come back unchanged.
enum QdrantSamples {
  static func metadata(dimension: Int, commit: String? = nil) -> IndexMetadata {
    IndexMetadata(
      embedder: "test:hash-\(dimension)", dimension: dimension, chunkerVersion: "1", createdAt: "2026-01-01T00:00:00Z",
      lastIndexedCommit: commit, lastIndexedAt: commit == nil ? nil : "2026-01-02T00:00:00Z",
      source: "https://example.com/repo.git")
  }

  /// A unit vector derived from `seed`.
  static func vector(_ seed: String, dimension: Int) -> [Float] {
    guard dimension > 0 else { return [] }
    var state = UInt64(
      truncatingIfNeeded: seed.utf8.reduce(14_695_981_039_346_656_037 as UInt64) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 })
    var values = [Float](repeating: 0, count: dimension)
    for i in 0..<dimension {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      values[i] = Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
    }
    let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return values.map { $0 / max(norm, 1e-6) }
  }

  static func point(
    path: String, index: Int = 0, content: String? = nil, language: String = "python", symbol: String? = nil,
    fileHash: String? = nil, dimension: Int
  ) -> Point {
    let text = content ?? "def function_\(index)():\n    return \"\(path) \(index)\"\n"
    let payload = ChunkPayload(
      filePath: path, content: text, chunkIndex: index, startLine: index * 10 + 1, endLine: index * 10 + 3,
      language: language, symbol: symbol, fileHash: fileHash ?? SHA1Hex.of(path), chunkHash: SHA256Digest.hex(text),
      commit: "0123456789abcdef0123456789abcdef01234567", timestamp: "2026-01-02T03:04:05Z")
    return Point(payload: payload, vector: dimension > 0 ? vector(text, dimension: dimension) : nil)
  }

  /// `files` files of `chunks` chunks each.
  static func points(files: Int, chunks: Int, dimension: Int, prefix: String = "src") -> [Point] {
    (0..<files).flatMap { file in
      (0..<chunks).map { chunk in point(path: "\(prefix)/file\(file).py", index: chunk, dimension: dimension) }
    }
  }
}

enum SHA1Hex {
  static func of(_ text: String) -> String { Hex.encode(SHA1Digest.bytes(Array(text.utf8))) }
}

func isClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}
