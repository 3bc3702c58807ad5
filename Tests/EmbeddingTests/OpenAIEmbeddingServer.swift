import Embedding
import Foundation
import GitRAGCore
import GitRAGTestSupport
import HTTPTransport

/// `scripts/testservers/embedding_server.py` on a free loopback port, with its control and stats API.
final class OpenAIEmbeddingServer: Sendable {
  let server: TestServer
  let dimension: Int
  let scheme: String
  /// Talks to the control API (trusting the test's CA when the server speaks HTTPS).
  let client: HTTPClient

  /// Starts a server. `TestServer` waits for the port by polling with `Thread.sleep`, so this
  /// runs it on a dispatch queue: blocking the few cooperative threads would stall every other
  /// test running in parallel.
  /// With `tls`, the server speaks HTTPS with a certificate that authority signed.
  static func start(
    dimension: Int = 16, latencyMilliseconds: Int = 0, apiKey: String? = nil, tls: TestCertificateAuthority? = nil
  ) async throws -> OpenAIEmbeddingServer {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          with: Result {
            try OpenAIEmbeddingServer(dimension: dimension, latencyMilliseconds: latencyMilliseconds, apiKey: apiKey, tls: tls)
          })
      }
    }
  }

  private init(dimension: Int, latencyMilliseconds: Int, apiKey: String?, tls: TestCertificateAuthority?) throws {
    var arguments = ["--dimension", String(dimension), "--latency-ms", String(latencyMilliseconds)]
    if let tls { arguments += ["--tls-cert", tls.certificateFile, "--tls-key", tls.keyFile] }
    scheme = tls == nil ? "http" : "https"
    client = HTTPClient(caFile: tls?.caFile)
    var environment: [String: String] = [:]
    if let apiKey {
      arguments += ["--api-key-env", "EMBEDDING_TEST_SERVER_KEY"]
      environment["EMBEDDING_TEST_SERVER_KEY"] = apiKey
    }
    server = try TestServer(script: "embedding_server.py", arguments: arguments, environment: environment)
    self.dimension = dimension
  }

  // `TestServer.stop` polls with `Thread.sleep`; off the cooperative pool for the same reason as `start`.
  deinit {
    let server = self.server
    DispatchQueue.global().async { server.stop() }
  }

  var baseURL: URL { URL(string: "\(scheme)://127.0.0.1:\(server.port)/v1")! }

  /// A configuration for this server with fast retries, so fault tests stay quick.
  func configuration(
    model: String = "test-model", token: String? = nil, maxTexts: Int = 64, maxTokens: Int = 8000,
    concurrency: Int = 5, timeout: TimeInterval = 10, maxRetries: Int = 5, initialBackoff: TimeInterval = 0.01
  ) -> OpenAIEmbedderConfiguration {
    OpenAIEmbedderConfiguration(
      baseURL: baseURL, model: model, apiToken: token, maxTextsPerRequest: maxTexts, maxTokensPerRequest: maxTokens,
      maxConcurrentRequests: concurrency, timeout: timeout, maxRetries: maxRetries, initialBackoff: initialBackoff)
  }

  /// Sends `POST /control` with a JSON object, e.g. `["fail_next": 1, "status": 429]`.
  func control(_ settings: [String: any Sendable]) async throws {
    _ = try await post("/control", body: try JSONSerialization.data(withJSONObject: settings))
  }

  struct Stats: Decodable {
    let textsEmbedded: Int
    let requests: Int
    let succeededRequests: Int
    let maxInFlight: Int
    let batchSizes: [Int]
    let texts: [String]
  }

  struct ControlFailure: Error {
    let path: String
    let answer: String
  }

  func stats() async throws -> Stats {
    let data = try await client.perform(HTTPRequest(url: URL(string: "\(scheme)://127.0.0.1:\(server.port)/stats")!)).body
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(Stats.self, from: data)
  }

  func resetStats() async throws { _ = try await post("/stats/reset", body: Data("{}".utf8)) }

  private func post(_ path: String, body: Data) async throws -> Data {
    var request = HTTPRequest(method: "POST", url: URL(string: "\(scheme)://127.0.0.1:\(server.port)\(path)")!, body: body)
    request.setHeader("Content-Type", "application/json")
    let response = try await client.perform(request)
    guard response.status == 200 else {
      throw ControlFailure(path: path, answer: String(decoding: response.body, as: UTF8.self))
    }
    return response.body
  }

  /// The vector the server computes for `text`: block k is sha256("k:text") read as big-endian
  /// UInt16 values u mapped to u / 32767.5 - 1, then the whole vector is L2-normalised.
  static func expectedVector(_ text: String, dimension: Int) -> [Float] {
    var values: [Double] = []
    var block = 0
    while values.count < dimension {
      let hex = Array(SHA256Digest.hex("\(block):\(text)").utf8)
      for i in stride(from: 0, to: hex.count, by: 4) {
        let u = Int(String(decoding: hex[i..<i + 4], as: UTF8.self), radix: 16)!
        values.append(Double(u) / 32767.5 - 1)
      }
      block += 1
    }
    values = Array(values.prefix(dimension))
    let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return values.map { Float($0 / norm) }
  }

  /// True when `vector` is the server's vector for `text` (to float precision).
  func matches(_ vector: [Float], _ text: String) -> Bool {
    let expected = Self.expectedVector(text, dimension: dimension)
    return vector.count == expected.count && zip(vector, expected).allSatisfy { abs($0 - $1) < 1e-6 }
  }

  /// Seconds `body` took.
  static func seconds(_ body: () async throws -> Void) async rethrows -> TimeInterval {
    let start = Date()
    try await body()
    return Date().timeIntervalSince(start)
  }
}
