import Foundation
import GitRAGCore

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// One HTTP exchange with Qdrant: the envelope, the API key header, retries with backoff and
/// the translation of failures into `QdrantError`.
struct QdrantTransport: Sendable {
  let configuration: QdrantConfiguration
  let session: URLSession

  init(configuration: QdrantConfiguration) {
    self.configuration = configuration
    let sessionConfiguration = URLSessionConfiguration.ephemeral
    sessionConfiguration.timeoutIntervalForRequest = configuration.timeout
    sessionConfiguration.timeoutIntervalForResource = configuration.timeout * 2
    sessionConfiguration.httpMaximumConnectionsPerHost = 8
    sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
    sessionConfiguration.urlCache = nil
    session = URLSession(configuration: sessionConfiguration)
  }

  /// Sends `method path` with a JSON `body` and returns the envelope's `result`.
  ///
  /// `collection` names the collection the path is about, so 404 and 409 become
  /// `collectionNotFound` / `collectionExists`.
  func send<Result: Decodable>(
    _ method: String, _ path: String, body: (some Encodable)? = Optional<QdrantJSON>.none, collection: String? = nil,
    as type: Result.Type = Result.self
  ) async throws -> Result {
    var request = URLRequest(url: try url(path))
    request.httpMethod = method
    request.setValue("application/json", forHTTPHeaderField: "Accept")
    if let apiKey = configuration.apiKey { request.setValue(apiKey, forHTTPHeaderField: "api-key") }
    if let body {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.withoutEscapingSlashes]
      request.httpBody = try encoder.encode(body)
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let data = try await exchange(request, collection: collection)
    do {
      return try JSONDecoder().decode(QdrantEnvelope<Result>.self, from: data).result
    } catch {
      throw QdrantError.malformedReply(url: configuration.displayURL, detail: "\(method) \(path): \(Self.describe(error))")
    }
  }

  /// `GET /` is the one reply without an envelope.
  func version() async throws -> QdrantVersionInfo {
    var request = URLRequest(url: try url("/"))
    request.httpMethod = "GET"
    if let apiKey = configuration.apiKey { request.setValue(apiKey, forHTTPHeaderField: "api-key") }
    let data = try await exchange(request, collection: nil)
    do {
      return try JSONDecoder().decode(QdrantVersionInfo.self, from: data)
    } catch {
      throw QdrantError.malformedReply(url: configuration.displayURL, detail: "GET /: \(Self.describe(error))")
    }
  }

  private func url(_ path: String) throws -> URL {
    guard let url = URL(string: configuration.displayURL + path) else {
      throw QdrantError.invalidConfiguration("Cannot build a Qdrant URL from \(configuration.displayURL) and \(path).")
    }
    return url
  }

  /// Path segment for a collection name (names may hold characters URLs reserve).
  static func segment(_ name: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#%")
    return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
  }

  private func exchange(_ request: URLRequest, collection: String?) async throws -> Data {
    var attempt = 0
    while true {
      let delay: TimeInterval
      do {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else {
          throw QdrantError.malformedReply(url: configuration.displayURL, detail: "not an HTTP response")
        }
        let status = http.statusCode
        if (200..<300).contains(status) { return data }
        let retryable = status == 429 || status == 502 || status == 503 || status == 504 || status == 500
        guard retryable, attempt < configuration.maxRetries else {
          throw failure(status: status, data: data, collection: collection)
        }
        delay = Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After")) ?? backoff(attempt)
      } catch let error as URLError {
        let transient: Set<URLError.Code> = [
          .cannotConnectToHost, .networkConnectionLost, .timedOut, .notConnectedToInternet, .cannotFindHost,
          .dnsLookupFailed, .badServerResponse, .resourceUnavailable, .zeroByteResource,
        ]
        guard transient.contains(error.code), attempt < configuration.maxRetries else {
          throw translate(error)
        }
        delay = backoff(attempt)
      }
      attempt += 1
      try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
    }
  }

  /// Exponential backoff with jitter: 0.25 s, 0.5 s, 1 s, … capped at 8 s.
  private func backoff(_ attempt: Int) -> TimeInterval {
    min(8, 0.25 * pow(2, Double(attempt))) * Double.random(in: 0.8...1.2)
  }

  /// Seconds from a `Retry-After` header (delta-seconds or an HTTP date), capped at one minute.
  static func retryAfter(_ header: String?) -> TimeInterval? {
    guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
    if let seconds = TimeInterval(header) { return min(60, max(0, seconds)) }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    guard let date = formatter.date(from: header) else { return nil }
    return min(60, max(0, date.timeIntervalSinceNow))
  }

  private func failure(status: Int, data: Data, collection: String?) -> QdrantError {
    let text = (try? JSONDecoder().decode(QdrantErrorEnvelope.self, from: data))?.status?.error
      ?? String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let location = "qdrant:\(configuration.displayURL)"
    switch (status, collection) {
    case (401, _), (403, _):
      return .unauthorized(url: configuration.displayURL, status: status, keyConfigured: configuration.apiKey != nil)
    case let (404, name?) where text.contains("doesn't exist") || text.contains("not found") || text.contains("Not found"):
      return .collectionNotFound(collection: name, location: location)
    case let (409, name?):
      return .collectionExists(collection: name, location: location)
    default:
      if let mismatch = Self.dimensionMismatch(text), let collection {
        return .dimensionMismatch(collection: collection, stored: mismatch.expected, embedder: mismatch.got)
      }
      return .server(url: configuration.displayURL, status: status, message: text.isEmpty ? "no message" : text)
    }
  }

  /// Reads Qdrant's `Vector dimension error: expected dim: 16, got 384`.
  static func dimensionMismatch(_ text: String) -> (expected: Int, got: Int)? {
    guard let range = text.range(of: "expected dim: ") else { return nil }
    let rest = text[range.upperBound...]
    let expected = Int(rest.prefix { $0.isNumber })
    guard let gotRange = rest.range(of: "got ") else { return nil }
    let got = Int(rest[gotRange.upperBound...].prefix { $0.isNumber })
    guard let expected, let got else { return nil }
    return (expected, got)
  }

  private func translate(_ error: URLError) -> QdrantError {
    switch error.code {
    case .timedOut:
      return .timedOut(url: configuration.displayURL, seconds: Int(configuration.timeout.rounded(.up)))
    case .serverCertificateUntrusted, .serverCertificateHasUnknownRoot, .serverCertificateHasBadDate,
      .serverCertificateNotYetValid, .clientCertificateRejected, .clientCertificateRequired, .secureConnectionFailed:
      return .tls(url: configuration.displayURL, reason: Self.reason(error))
    // FoundationNetworking reports libcurl's TLS failures as `unknown` with curl's message.
    case _ where error.localizedDescription.contains("SSL") || error.localizedDescription.contains("certificate"):
      return .tls(url: configuration.displayURL, reason: error.localizedDescription)
    default:
      return .unreachable(address: configuration.address, reason: Self.reason(error))
    }
  }

  static func reason(_ error: URLError) -> String {
    switch error.code {
    case .cannotConnectToHost: "connection refused"
    case .cannotFindHost, .dnsLookupFailed: "unknown host"
    case .networkConnectionLost: "connection lost"
    case .notConnectedToInternet: "network down"
    case .timedOut: "timed out"
    case .serverCertificateUntrusted, .serverCertificateHasUnknownRoot: "certificate not trusted"
    case .serverCertificateHasBadDate, .serverCertificateNotYetValid: "certificate expired or not yet valid"
    case .secureConnectionFailed: "TLS handshake failed"
    default: "URL error \(error.code.rawValue): \(error.localizedDescription)"
    }
  }

  static func describe(_ error: Error) -> String {
    switch error {
    case let DecodingError.keyNotFound(key, context):
      "missing \(key.stringValue) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
      let DecodingError.dataCorrupted(context):
      "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    default: "\(error)"
    }
  }
}
