import Foundation

/// How often and how patiently an exchange is retried.
///
/// The wait before retry number n (1-based) is the server's `Retry-After` when it sent one
/// (capped at `retryAfterCap`), else `initialBackoff * 2^(n-1)`, capped at `maxBackoff`, times a
/// random factor in 0.75...1.25 so that many clients do not retry in step.
public struct RetryPolicy: Sendable, Equatable {
  /// Retries after the first attempt.
  public var maxRetries: Int
  public var initialBackoff: TimeInterval
  public var maxBackoff: TimeInterval

  public init(maxRetries: Int, initialBackoff: TimeInterval = 0.5, maxBackoff: TimeInterval = 30) {
    self.maxRetries = maxRetries
    self.initialBackoff = initialBackoff
    self.maxBackoff = maxBackoff
  }

  /// No retries: one attempt.
  public static let none = RetryPolicy(maxRetries: 0)

  /// The longest `Retry-After` honoured, in seconds: one minute. A server asking for more is
  /// waited on for a minute (and then, if it still refuses, the caller's error says so).
  public static let retryAfterCap: TimeInterval = 60

  /// Seconds to wait before retry number `attempt` (1-based).
  public func delay(beforeRetry attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
    if let retryAfter { return min(max(0, retryAfter), Self.retryAfterCap) }
    let base = min(initialBackoff * pow(2, Double(max(0, attempt - 1))), maxBackoff)
    return base * Double.random(in: 0.75...1.25)
  }

  /// Statuses worth retrying: 408 (request timeout), 429 (too many requests) and 5xx except
  /// 501 (not implemented) and 505 (HTTP version), which no retry fixes.
  public static func isRetryable(status: Int) -> Bool {
    status == 408 || status == 429 || ((500..<600).contains(status) && status != 501 && status != 505)
  }

  /// Seconds from a `Retry-After` value, delta-seconds or an HTTP date (RFC 9110), measured from
  /// `now` and capped at `retryAfterCap`; nil when absent or unreadable.
  public static func retryAfter(_ value: String?, now: Date = Date()) -> TimeInterval? {
    guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
    if let seconds = Double(text), seconds.isFinite { return min(retryAfterCap, max(0, seconds)) }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
      formatter.dateFormat = format
      if let date = formatter.date(from: text) { return min(retryAfterCap, max(0, date.timeIntervalSince(now))) }
    }
    return nil
  }
}

/// Keeps credentials out of error text and log lines.
public enum Redaction {
  /// What a removed secret is replaced with.
  public static let placeholder = "<redacted>"

  /// Header names whose values are credentials.
  public static let credentialHeaders: Set<String> = [
    "authorization", "proxy-authorization", "api-key", "x-api-key", "x-amz-security-token", "cookie",
  ]

  /// `text` with each of `secrets` (4 characters or longer) replaced, and with what looks like a
  /// credential anyway: a bearer token, a URL's `user:password@`, and `key=`/`token=`/`secret=`/
  /// `password=`/`signature=` values in query strings.
  public static func redact(_ text: String, secrets: [String] = []) -> String {
    var text = text
    for secret in secrets.sorted(by: { $0.count > $1.count }) where secret.count >= 4 {
      text = text.replacingOccurrences(of: secret, with: placeholder)
    }
    text = text.replacing(/(?i)(bearer\s+)[A-Za-z0-9._~+\/=-]{4,}/) { "\($0.1)\(placeholder)" }
    text = text.replacing(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\/\s@:]*:[^\/\s@]*@/) { "\($0.1)\(placeholder)@" }
    text = text.replacing(/(?i)([?&][A-Za-z0-9_-]*(?:key|token|secret|password|signature)=)[^&\s#"]+/) {
      "\($0.1)\(placeholder)"
    }
    return text
  }
}
