import Foundation
import GitRAGCore

/// Where a Qdrant server is and how to talk to it.
public struct QdrantConfiguration: Sendable, Hashable {
  /// Base URL, e.g. `http://localhost:6333` or `https://xyz.cloud.qdrant.io:6333`.
  public var url: URL
  /// Sent as the `api-key` header; never logged, never part of an error message.
  public var apiKey: String?
  /// Points per upsert request.
  public var batchSize: Int
  /// Seconds one request may take before it counts as failed (and is retried).
  public var timeout: TimeInterval
  /// Retries after the first attempt, for connection errors, timeouts, 5xx and 429.
  public var maxRetries: Int
  /// A PEM file of CA certificates to trust instead of the system's (a private CA).
  public var caFile: String?

  public init(
    url: URL, apiKey: String? = nil, batchSize: Int = 100, timeout: TimeInterval = 30, maxRetries: Int = 4,
    caFile: String? = nil
  ) {
    self.url = url
    self.apiKey = apiKey
    self.batchSize = batchSize
    self.timeout = timeout
    self.maxRetries = maxRetries
    self.caFile = caFile
  }

  /// The default server: `http://localhost:6333`.
  public static let defaultURL = URL(string: "http://localhost:6333")!

  /// Configuration from, in order: `urlFlag`, `QDRANT_URL`, `QDRANT_HOST` + `QDRANT_PORT` (6333),
  /// git config `rag.qdrantUrl`, then `http://localhost:6333`. The API key comes only from the
  /// environment (`QDRANT_API_KEY`). Optional tuning: `GIT_RAG_QDRANT_BATCH_SIZE` /
  /// `rag.qdrantBatchSize`, `GIT_RAG_QDRANT_TIMEOUT` / `rag.qdrantTimeout` (seconds),
  /// `GIT_RAG_QDRANT_CA_FILE` / `rag.qdrantCaFile`.
  public static func fromEnvironment(
    _ env: [String: String], urlFlag: String?, gitConfig: (String) -> String?
  ) throws -> QdrantConfiguration {
    func nonEmpty(_ value: String?) -> String? {
      guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
      return value
    }
    let text: String
    let origin: String
    if let flag = nonEmpty(urlFlag) {
      (text, origin) = (flag, "--qdrant-url")
    } else if let envURL = nonEmpty(env["QDRANT_URL"]) {
      (text, origin) = (envURL, "QDRANT_URL")
    } else if nonEmpty(env["QDRANT_HOST"]) != nil || nonEmpty(env["QDRANT_PORT"]) != nil {
      let host = nonEmpty(env["QDRANT_HOST"]) ?? "localhost"
      let port = nonEmpty(env["QDRANT_PORT"]) ?? "6333"
      guard let number = Int(port), (1...65535).contains(number) else {
        throw QdrantError.invalidConfiguration("QDRANT_PORT '\(port)' is not a port number. Set it like QDRANT_PORT=6333.")
      }
      let base = host.contains("://") ? host : "http://\(host)"
      (text, origin) = ("\(base):\(number)", "QDRANT_HOST/QDRANT_PORT")
    } else if let configured = nonEmpty(gitConfig("rag.qdrantUrl")) {
      (text, origin) = (configured, "git config rag.qdrantUrl")
    } else {
      (text, origin) = (defaultURL.absoluteString, "default")
    }
    let url = try parseURL(text, origin: origin)

    var configuration = QdrantConfiguration(url: url, apiKey: nonEmpty(env["QDRANT_API_KEY"]))
    if let batch = nonEmpty(env["GIT_RAG_QDRANT_BATCH_SIZE"]) ?? nonEmpty(gitConfig("rag.qdrantBatchSize")) {
      guard let value = Int(batch), value > 0 else {
        throw QdrantError.invalidConfiguration(
          "Qdrant batch size '\(batch)' is not a positive number. Set it like GIT_RAG_QDRANT_BATCH_SIZE=100.")
      }
      configuration.batchSize = value
    }
    if let timeout = nonEmpty(env["GIT_RAG_QDRANT_TIMEOUT"]) ?? nonEmpty(gitConfig("rag.qdrantTimeout")) {
      guard let value = TimeInterval(timeout), value > 0 else {
        throw QdrantError.invalidConfiguration(
          "Qdrant timeout '\(timeout)' is not a positive number of seconds. Set it like GIT_RAG_QDRANT_TIMEOUT=30.")
      }
      configuration.timeout = value
    }
    configuration.caFile = nonEmpty(env["GIT_RAG_QDRANT_CA_FILE"]) ?? nonEmpty(gitConfig("rag.qdrantCaFile"))
    return configuration
  }

  static func parseURL(_ text: String, origin: String) throws -> URL {
    guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, let url = components.url
    else {
      throw QdrantError.invalidConfiguration(
        "Qdrant URL '\(text)' (from \(origin)) is not an http(s) URL. Set it like QDRANT_URL=http://localhost:6333.")
    }
    guard components.user == nil, components.password == nil else {
      throw QdrantError.invalidConfiguration(
        "Qdrant URL (from \(origin)) must not carry credentials. Put the key in QDRANT_API_KEY instead.")
    }
    return url
  }

  /// `host:port` as users type it (the port filled in from the scheme when absent).
  public var address: String {
    let host = url.host ?? "?"
    let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
    return "\(host):\(port)"
  }

  /// The URL without a trailing slash, for messages and `location`.
  public var displayURL: String {
    var text = url.absoluteString
    while text.hasSuffix("/") { text.removeLast() }
    return text
  }
}
