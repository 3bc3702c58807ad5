import Foundation
import GitRAGTestSupport
import Testing

@testable import HTTPTransport

/// The transport against a real server on loopback that misbehaves on request
/// (scripts/testservers/http_fault_server.py).
@Suite struct HTTPClientTests {
  let server: TestServer
  let client = HTTPClient()

  init() throws {
    server = try TestServer(script: "http_fault_server.py")
  }

  func url(_ path: String = "/api") -> URL { URL(string: server.baseURL + path)! }

  /// Sets the server's script of misbehaviours for the next requests.
  func script(_ steps: [[String: Any]]) async throws {
    let body = try JSONSerialization.data(withJSONObject: steps)
    let response = try await client.perform(HTTPRequest(method: "POST", url: url("/script"), body: body))
    #expect(response.status == 200)
  }

  /// Times (server clock) of the requests the script saw.
  func requestTimes() async throws -> [Double] {
    let response = try await client.perform(HTTPRequest(url: url("/log")))
    let log = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
    return (log?["requests"] as? [[String: Any]] ?? []).compactMap { $0["time"] as? Double }
  }

  func echo(_ response: HTTPResponse) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: response.body) as? [String: Any])
  }

  @Test func sendsMethodHeadersAndBody() async throws {
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
      var request = HTTPRequest(method: method, url: url("/points?wait=true"), body: Data(#"{"a":1}"#.utf8))
      request.setHeader("Content-Type", "application/json")
      request.setHeader("api-key", "k-123")
      let response = try await client.perform(request)
      #expect(response.status == 200)
      #expect(response.headers["content-type"] == "application/json")
      let echo = try echo(response)
      #expect(echo["method"] as? String == method)
      #expect(echo["path"] as? String == "/points?wait=true")
      #expect(echo["body"] as? String == #"{"a":1}"#)
      let headers = echo["headers"] as? [String: String] ?? [:]
      #expect(headers["api-key"] == "k-123")
      #expect(headers["Expect"] == nil)
    }
    let get = try await client.perform(HTTPRequest(url: url("/x")))
    #expect(try echo(get)["method"] as? String == "GET")
  }

  @Test func honoursRetryAfter() async throws {
    try await script([["status": 503, "retry_after": "1", "body": "busy"]])
    let exchange = try await client.send(HTTPRequest(url: url()), retry: RetryPolicy(maxRetries: 2, initialBackoff: 0.01))
    #expect(exchange.response.status == 200)
    #expect(exchange.attempts == 2)
    let times = try await requestTimes()
    #expect(times.count == 2)
    #expect(times[1] - times[0] >= 0.95, "Retry-After: 1 not honoured (\(times[1] - times[0]) s)")
  }

  @Test func retryAfterParsingHasOneCap() {
    #expect(RetryPolicy.retryAfter("2") == 2)
    #expect(RetryPolicy.retryAfter("600") == RetryPolicy.retryAfterCap)
    #expect(RetryPolicy.retryAfterCap == 60)
    #expect(RetryPolicy.retryAfter("-3") == 0)
    #expect(RetryPolicy.retryAfter(nil) == nil)
    #expect(RetryPolicy.retryAfter("soon") == nil)
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    #expect(RetryPolicy.retryAfter("Tue, 14 Nov 2023 22:13:40 GMT", now: now) == 20)
    #expect(RetryPolicy.retryAfter("Wed, 15 Nov 2023 22:13:20 GMT", now: now) == 60)
  }

  @Test func backoffGrowsWithJitterUpToItsCap() {
    let policy = RetryPolicy(maxRetries: 9, initialBackoff: 0.5, maxBackoff: 4)
    for attempt in 1...8 {
      let base = min(0.5 * pow(2, Double(attempt - 1)), 4)
      let delay = policy.delay(beforeRetry: attempt, retryAfter: nil)
      #expect(delay >= base * 0.75 && delay <= base * 1.25, "attempt \(attempt): \(delay)")
    }
    #expect(policy.delay(beforeRetry: 1, retryAfter: 7) == 7)
    #expect(policy.delay(beforeRetry: 1, retryAfter: 900) == 60)
  }

  @Test func givesUpAfterTheRetriesWithTheLastResponse() async throws {
    try await script(Array(repeating: ["status": 500, "body": "boom"], count: 3))
    let exchange = try await client.send(HTTPRequest(url: url()), retry: RetryPolicy(maxRetries: 2, initialBackoff: 0.01))
    #expect(exchange.response.status == 500)
    #expect(String(decoding: exchange.response.body, as: UTF8.self) == "boom")
    #expect(exchange.attempts == 3)
  }

  @Test func doesNotRetryWhatRetryingCannotFix() async throws {
    for status in [400, 401, 404, 501] {
      try await script([["status": status]])
      let exchange = try await client.send(HTTPRequest(url: url()), retry: RetryPolicy(maxRetries: 3, initialBackoff: 0.01))
      #expect(exchange.response.status == status)
      #expect(exchange.attempts == 1)
    }
    #expect(RetryPolicy.isRetryable(status: 408) && RetryPolicy.isRetryable(status: 429))
    #expect(RetryPolicy.isRetryable(status: 502) && RetryPolicy.isRetryable(status: 503) && RetryPolicy.isRetryable(status: 504))
  }

  @Test func aCallerCanStopRetrying() async throws {
    struct Final: Error {}
    try await script([["status": 503]])
    await #expect(throws: Final.self) {
      _ = try await client.send(HTTPRequest(url: url()), retry: RetryPolicy(maxRetries: 3)) { _, _ in throw Final() }
    }
  }

  @Test func timesOut() async throws {
    try await script([["hang": 30]])
    let started = ContinuousClock.now
    do {
      _ = try await client.perform(HTTPRequest(url: url(), timeout: 0.3))
      Issue.record("a 30 s answer beat a 0.3 s timeout")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .timedOut)
      #expect(failure.isRetryable)
      #expect(failure.reason == "timed out")
    }
    // Far below the server's 30 s (the bound is loose: a loaded machine's test run starves tasks).
    #expect(started.duration(to: .now) < .seconds(15))
  }

  @Test func theDeadlineBoundsTheWholeExchange() async throws {
    try await script(Array(repeating: ["status": 503, "retry_after": "60"], count: 3))
    let started = ContinuousClock.now
    let exchange = try await client.send(
      HTTPRequest(url: url()), retry: RetryPolicy(maxRetries: 3), deadline: started.advanced(by: .seconds(2)))
    // Waiting 60 s would pass the deadline: the 503 is the answer.
    #expect(exchange.response.status == 503)
    #expect(exchange.attempts == 1)
    #expect(started.duration(to: .now) < .seconds(15))

    try await script([["hang": 30]])
    do {
      _ = try await client.send(
        HTTPRequest(url: url(), timeout: 60), retry: RetryPolicy(maxRetries: 3),
        deadline: ContinuousClock.now.advanced(by: .milliseconds(400)))
      Issue.record("a 30 s answer beat a 0.4 s deadline")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .timedOut)
    }
  }

  @Test func aResetConnectionIsRetried() async throws {
    // A fresh client each time: libcurl itself retries once when a reused connection dies unanswered.
    try await script([["reset": true]])
    do {
      _ = try await HTTPClient().perform(HTTPRequest(url: url()))
      Issue.record("a reset connection gave a response")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .connectionLost, "\(failure)")
      #expect(failure.isRetryable)
    }
    try await script([["reset": true]])
    let exchange = try await HTTPClient().send(HTTPRequest(url: url()), retry: RetryPolicy(maxRetries: 1, initialBackoff: 0.01))
    #expect(exchange.response.status == 200)
    #expect(exchange.attempts == 2)
  }

  @Test func aRefusedConnectionIsClassified() async throws {
    let closed = try closedPort()
    do {
      _ = try await client.send(
        HTTPRequest(url: URL(string: "http://127.0.0.1:\(closed)/")!), retry: RetryPolicy(maxRetries: 2, initialBackoff: 0.01))
      Issue.record("a closed port answered")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .connectionRefused)
      #expect(failure.reason == "connection refused")
      #expect(failure.attempts == 3)
    }
  }

  @Test func libcurlCodesAreClassified() {
    #expect(CurlTransfer.kind(ofCurlCode: (6)) == .hostNotFound)  // CURLE_COULDNT_RESOLVE_HOST
    #expect(CurlTransfer.kind(ofCurlCode: (7)) == .connectionRefused)
    #expect(CurlTransfer.kind(ofCurlCode: (28)) == .timedOut)
    #expect(CurlTransfer.kind(ofCurlCode: (35)) == .tls)  // CURLE_SSL_CONNECT_ERROR
    #expect(CurlTransfer.kind(ofCurlCode: (60)) == .tls)  // CURLE_PEER_FAILED_VERIFICATION
    #expect(CurlTransfer.kind(ofCurlCode: (52)) == .connectionLost)  // CURLE_GOT_NOTHING
    #expect(CurlTransfer.kind(ofCurlCode: (56)) == .connectionLost)  // CURLE_RECV_ERROR
    #expect(CurlTransfer.kind(ofCurlCode: (3)) == .invalidRequest)  // CURLE_URL_MALFORMAT
    #expect(!HTTPFailure(kind: .hostNotFound, detail: "").isRetryable)
    #expect(!HTTPFailure(kind: .tls, detail: "").isRetryable)
  }

  @Test func anUnsupportedSchemeIsAnInvalidRequest() async throws {
    do {
      _ = try await client.perform(HTTPRequest(url: URL(string: "nosuch://127.0.0.1/")!))
      Issue.record("an unknown scheme was sent")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .invalidRequest)
      #expect(failure.reason == "invalid request: Protocol \"nosuch\" not supported or disabled in libcurl")
    }
  }

  @Test func cancellingTheTaskStopsTheRequest() async throws {
    try await script([["hang": 60]])
    let client = self.client
    let request = HTTPRequest(url: url())
    let started = ContinuousClock.now
    let task = Task { try await client.perform(request) }
    // Cancel once the server holds the request.
    while try await requestTimes().isEmpty { try await Task.sleep(for: .milliseconds(20)) }
    task.cancel()
    await #expect(throws: CancellationError.self) { _ = try await task.value }
    // Far below the server's 60 s (loose: a loaded machine's test run starves tasks).
    #expect(started.duration(to: .now) < .seconds(30))
  }

  @Test func redirectsAreFollowedAndTheirHeadersKept() async throws {
    try await script([["redirect": "/final", "headers": ["X-Linked-Etag": "\"abc\""]]])
    let response = try await client.perform(HTTPRequest(url: url("/start"), followRedirects: true))
    #expect(response.status == 200)
    #expect(try echo(response)["path"] as? String == "/final")
    #expect(response.redirects.map { $0["x-linked-etag"] } == ["\"abc\""])
  }

  @Test func aSinkTakesTheBodyAsItArrives() async throws {
    final class Collector: HTTPBodySink, @unchecked Sendable {
      // @unchecked: the transfer calls it from one thread, and the test reads it after.
      var status = 0
      var bytes = Data()
      func begin(status: Int, headers: HTTPHeaders) throws -> Bool {
        self.status = status
        return status == 200
      }
      func write(_ buffer: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: buffer) }
    }
    let collector = Collector()
    let response = try await client.perform(HTTPRequest(url: url("/file")), sink: collector)
    #expect(response.status == 200)
    #expect(response.body.isEmpty)
    #expect(collector.status == 200)
    #expect(try (JSONSerialization.jsonObject(with: collector.bytes) as? [String: Any])?["path"] as? String == "/file")

    try await script([["status": 404, "body": "not here"]])
    let missing = Collector()
    #expect(try await client.perform(HTTPRequest(url: url("/file")), sink: missing).status == 404)
    #expect(missing.status == 404)
    #expect(missing.bytes.isEmpty)

    struct DiskFull: Error {}
    final class Failing: HTTPBodySink {
      func begin(status: Int, headers: HTTPHeaders) throws -> Bool { true }
      func write(_ buffer: UnsafeRawBufferPointer) throws { throw DiskFull() }
    }
    await #expect(throws: DiskFull.self) { _ = try await client.perform(HTTPRequest(url: url("/file")), sink: Failing()) }
  }

  @Test func secretsAreRedacted() {
    var request = HTTPRequest(url: URL(string: "https://user:pa55word@example.com/v1")!)
    request.setHeader("Authorization", "Bearer sk-live-abcdef123456")
    request.setHeader("api-key", "qdrant-key-42")
    request.setHeader("Content-Type", "application/json")
    #expect(Set(request.secrets).isSuperset(of: ["sk-live-abcdef123456", "qdrant-key-42", "pa55word"]))
    #expect(!request.secrets.contains("application/json"))
    let text = "rejected qdrant-key-42 and sk-live-abcdef123456 for https://user:pa55word@example.com/v1"
    let redacted = Redaction.redact(text, secrets: request.secrets)
    #expect(redacted == "rejected <redacted> and <redacted> for https://<redacted>@example.com/v1")
    // What looks like a credential goes even when nobody said it was one.
    #expect(Redaction.redact("sent Authorization: Bearer abc.def-ghi") == "sent Authorization: Bearer <redacted>")
    #expect(Redaction.redact("GET /x?api_key=s3cr3t&page=2 failed") == "GET /x?api_key=<redacted>&page=2 failed")
    #expect(Redaction.redact("fetching https://bob:hunter2@host/repo") == "fetching https://<redacted>@host/repo")
    #expect(Redaction.redact("no secrets here, key=value") == "no secrets here, key=value")
  }
}

/// The transport over TLS with a CA made for the test.
@Suite struct HTTPClientTLSTests {
  @Test func aCustomCAFileIsHonoured() async throws {
    let directory = try TemporaryDirectory(prefix: "http-tls")
    let authority = try TestCertificateAuthority(in: directory.url)
    let server = try TestServer(
      script: "http_fault_server.py", arguments: ["--tls-cert", authority.certificateFile, "--tls-key", authority.keyFile])
    let url = URL(string: "https://127.0.0.1:\(server.port)/secure")!

    let trusting = HTTPClient(caFile: authority.caFile)
    let response = try await trusting.perform(HTTPRequest(url: url))
    #expect(response.status == 200)

    do {
      _ = try await HTTPClient().perform(HTTPRequest(url: url))
      Issue.record("a certificate from an unknown CA was trusted")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .tls, "\(failure)")
      #expect(failure.reason.contains("certificate"), "\(failure.reason)")
      #expect(!failure.isRetryable)
    }

    do {
      _ = try await HTTPClient(caFile: directory.url.appendingPathComponent("missing.pem").path).perform(HTTPRequest(url: url))
      Issue.record("a missing CA file was accepted")
    } catch let failure as HTTPFailure {
      #expect(failure.kind == .tls, "\(failure)")
    }
  }
}

/// A loopback port nothing listens on (bound, then released).
func closedPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
  }
  guard bound else { throw TestServerError(message: "cannot bind a loopback port") }
  return Int(UInt16(bigEndian: address.sin_port))
}
