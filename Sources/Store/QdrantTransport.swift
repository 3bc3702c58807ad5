import Foundation
import GitRAGCore
import HTTPTransport

/// One HTTP exchange with Qdrant: the envelope and the API key header over the shared
/// `HTTPClient` (retries, backoff, `Retry-After`, the CA file), and the translation of its
/// failures into `QdrantError`.
struct QdrantTransport: Sendable {
  let configuration: QdrantConfiguration
  let client: HTTPClient
  /// Backoff 0.25 s, 0.5 s, 1 s, … capped at 8 s, with jitter.
  var retry: RetryPolicy { RetryPolicy(maxRetries: configuration.maxRetries, initialBackoff: 0.25, maxBackoff: 8) }

  init(configuration: QdrantConfiguration) {
    self.configuration = configuration
    client = HTTPClient(caFile: configuration.caFile, maxIdleConnections: 8)
  }

  /// Sends `method path` with a JSON `body` and returns the envelope's `result`.
  ///
  /// `collection` names the collection the path is about, so 404 and 409 become
  /// `collectionNotFound` / `collectionExists`.
  func send<Result: Decodable>(
    _ method: String, _ path: String, body: (some Encodable)? = Optional<QdrantJSON>.none, collection: String? = nil,
    as type: Result.Type = Result.self
  ) async throws -> Result {
    var request = try self.request(method, path)
    request.setHeader("Accept", "application/json")
    if let body {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.withoutEscapingSlashes]
      request.body = try encoder.encode(body)
      request.setHeader("Content-Type", "application/json")
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
    let data = try await exchange(try request("GET", "/"), collection: nil)
    do {
      return try JSONDecoder().decode(QdrantVersionInfo.self, from: data)
    } catch {
      throw QdrantError.malformedReply(url: configuration.displayURL, detail: "GET /: \(Self.describe(error))")
    }
  }

  private func request(_ method: String, _ path: String) throws -> HTTPRequest {
    guard let url = URL(string: configuration.displayURL + path) else {
      throw QdrantError.invalidConfiguration("Cannot build a Qdrant URL from \(configuration.displayURL) and \(path).")
    }
    var request = HTTPRequest(method: method, url: url, timeout: configuration.timeout)
    if let apiKey = configuration.apiKey { request.setHeader("api-key", apiKey) }
    return request
  }

  /// Path segment for a collection name (names may hold characters URLs reserve).
  static func segment(_ name: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#%")
    return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
  }

  private func exchange(_ request: HTTPRequest, collection: String?) async throws -> Data {
    let response: HTTPResponse
    do {
      response = try await client.send(request, retry: retry).response
    } catch let failure as HTTPFailure {
      throw translate(failure)
    }
    guard response.isSuccess else { throw self.failure(status: response.status, data: response.body, collection: collection) }
    return response.body
  }

  /// Seconds from a `Retry-After` header, capped as every HTTP exchange of git-rag caps it.
  static func retryAfter(_ header: String?) -> TimeInterval? { RetryPolicy.retryAfter(header) }

  private func failure(status: Int, data: Data, collection: String?) -> QdrantError {
    let reply =
      (try? JSONDecoder().decode(QdrantErrorEnvelope.self, from: data))?.status?.error
      ?? String(decoding: data.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let text = Redaction.redact(reply, secrets: configuration.apiKey.map { [$0] } ?? [])
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

  private func translate(_ failure: HTTPFailure) -> QdrantError {
    switch failure.kind {
    case .timedOut:
      .timedOut(url: configuration.displayURL, seconds: Int(configuration.timeout.rounded(.up)))
    case .tls:
      .tls(url: configuration.displayURL, reason: failure.detail, caFile: configuration.caFile)
    default:
      .unreachable(address: configuration.address, reason: failure.reason)
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
