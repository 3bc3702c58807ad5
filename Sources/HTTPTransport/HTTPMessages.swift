import Foundation

/// One HTTP request: what to send and how long it may take.
public struct HTTPRequest: Sendable {
  public var method: String
  public var url: URL
  /// Header fields in the order they are sent. Values of credential headers (`Authorization`,
  /// `api-key`, …) are redacted from every failure the transport reports.
  public var headers: [HTTPHeaderField]
  public var body: Data?
  /// Seconds the whole exchange (connect, send, wait, receive) may take; `nil` for no limit.
  public var timeout: TimeInterval?
  /// Seconds without a received byte after which the exchange is abandoned (long downloads).
  public var idleTimeout: TimeInterval?
  /// Follows up to 10 redirects; the redirect responses' headers are kept in `HTTPResponse.redirects`.
  public var followRedirects: Bool

  public init(
    method: String = "GET", url: URL, headers: [HTTPHeaderField] = [], body: Data? = nil, timeout: TimeInterval? = 60,
    idleTimeout: TimeInterval? = nil, followRedirects: Bool = false
  ) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
    self.timeout = timeout
    self.idleTimeout = idleTimeout
    self.followRedirects = followRedirects
  }

  /// Sets `name` to `value`, replacing an earlier field of that name.
  public mutating func setHeader(_ name: String, _ value: String) {
    headers.removeAll { $0.name.lowercased() == name.lowercased() }
    headers.append(HTTPHeaderField(name: name, value: value))
  }

  /// The secrets this request carries: credential header values and the URL's password.
  public var secrets: [String] {
    var secrets: [String] = []
    for field in headers where Redaction.credentialHeaders.contains(field.name.lowercased()) {
      secrets.append(field.value)
      // `Bearer <token>`, `AWS4-HMAC-SHA256 Credential=…`: the part after the scheme too.
      if let space = field.value.firstIndex(of: " ") {
        secrets.append(String(field.value[field.value.index(after: space)...]).trimmingCharacters(in: .whitespaces))
      }
    }
    if let password = URLComponents(url: url, resolvingAgainstBaseURL: false)?.password { secrets.append(password) }
    return secrets
  }
}

public struct HTTPHeaderField: Sendable, Hashable {
  public var name: String
  public var value: String
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}

/// Response header fields, looked up without regard to case.
public struct HTTPHeaders: Sendable, Hashable {
  private var fields: [String: String] = [:]

  public init(_ pairs: [(String, String)] = []) {
    for (name, value) in pairs { self[name] = value }
  }

  /// The field's value (the last one, when the server sent several).
  public subscript(name: String) -> String? {
    get { fields[name.lowercased()] }
    set { fields[name.lowercased()] = newValue }
  }
}

/// A response: its status, headers and (unless a sink took it) body.
public struct HTTPResponse: Sendable {
  public var status: Int
  public var headers: HTTPHeaders
  public var body: Data
  /// Headers of the redirect responses that led here, first to last.
  public var redirects: [HTTPHeaders]

  public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data(), redirects: [HTTPHeaders] = []) {
    self.status = status
    self.headers = headers
    self.body = body
    self.redirects = redirects
  }

  public var isSuccess: Bool { (200..<300).contains(status) }

  /// Seconds the server asked to wait (`Retry-After`), capped at `RetryPolicy.retryAfterCap`.
  public var retryAfter: TimeInterval? { RetryPolicy.retryAfter(headers["Retry-After"]) }
}

/// Takes a response body as it arrives, instead of collecting it in memory (downloads).
///
/// Both methods are called on the transfer's own thread, one after the other.
public protocol HTTPBodySink: AnyObject, Sendable {
  /// The final response's status and headers, before its first body byte. Returning false
  /// discards the body (an error status, say); throwing abandons the transfer with that error.
  func begin(status: Int, headers: HTTPHeaders) throws -> Bool
  /// The next bytes of the body; throwing abandons the transfer with that error.
  func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Why an exchange produced no response: the classified transport failure.
public struct HTTPFailure: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable, Equatable {
    /// Nothing listens at the address (or a firewall refused it).
    case connectionRefused
    /// The host name does not resolve.
    case hostNotFound
    /// No complete answer within the request's timeout (or no byte within its idle timeout).
    case timedOut
    /// The TLS handshake failed: an untrusted or expired certificate, a bad CA file, …
    case tls
    /// The connection broke mid-exchange (reset, closed early, a garbled reply).
    case connectionLost
    /// The request cannot be sent (a malformed URL, an unsupported scheme).
    case invalidRequest
    /// Anything else libcurl reports.
    case other
  }

  public var kind: Kind
  /// What libcurl said, with every secret of the request redacted.
  public var detail: String
  /// Attempts made, when the failure ends a retried exchange.
  public var attempts: Int

  public init(kind: Kind, detail: String, attempts: Int = 1) {
    self.kind = kind
    self.detail = detail
    self.attempts = attempts
  }

  /// Whether trying again may succeed: refusals (a restarting server), timeouts and lost connections.
  public var isRetryable: Bool { [.connectionRefused, .timedOut, .connectionLost].contains(kind) }

  /// A few words for a user-facing message: "connection refused", "TLS: <detail>", …
  public var reason: String {
    switch kind {
    case .connectionRefused: "connection refused"
    case .hostNotFound: "unknown host"
    case .timedOut: "timed out"
    case .tls: "TLS: \(detail)"
    case .connectionLost: "connection lost"
    case .invalidRequest: "invalid request: \(detail)"
    case .other: detail
    }
  }

  public var description: String { "\(reason) (\(detail))" }
}
