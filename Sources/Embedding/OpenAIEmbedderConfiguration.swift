import Foundation
import GitRAGCore

/// How to reach an OpenAI-compatible `/v1/embeddings` service and how hard to drive it.
///
/// The token is never printed: `description`, `debugDescription` and reflection (`dump`) show
/// only whether one is set.
public struct OpenAIEmbedderConfiguration: Sendable {
  /// The API root, e.g. `http://127.0.0.1:8080/v1`; requests go to `baseURL/embeddings`.
  public var baseURL: URL
  /// The model name sent with every request, e.g. `text-embedding-3-small`.
  public var model: String
  /// Sent as `Authorization: Bearer <token>` when set.
  public var apiToken: String?
  /// Most texts in one request.
  public var maxTextsPerRequest: Int
  /// Most estimated tokens (UTF-8 bytes / 4, rounded up, per text) in one request. A single text
  /// over the budget still goes alone in its own request.
  public var maxTokensPerRequest: Int
  /// Most requests in flight at once.
  public var maxConcurrentRequests: Int
  /// Seconds one request may take before it counts as timed out (and is retried).
  public var timeout: TimeInterval
  /// Retries per request after the first attempt, on 408/429/5xx, timeouts and lost connections.
  public var maxRetries: Int
  /// First backoff in seconds; doubles on every retry, with jitter, unless `Retry-After` says otherwise.
  public var initialBackoff: TimeInterval
  /// A PEM file of CA certificates to trust instead of the system's (a private CA).
  public var caFile: String?

  public init(
    baseURL: URL, model: String, apiToken: String? = nil, maxTextsPerRequest: Int = 64,
    maxTokensPerRequest: Int = 8000, maxConcurrentRequests: Int = 5, timeout: TimeInterval = 60,
    maxRetries: Int = 5, initialBackoff: TimeInterval = 0.5, caFile: String? = nil
  ) {
    self.baseURL = baseURL
    self.model = model
    self.apiToken = apiToken
    self.maxTextsPerRequest = maxTextsPerRequest
    self.maxTokensPerRequest = maxTokensPerRequest
    self.maxConcurrentRequests = maxConcurrentRequests
    self.timeout = timeout
    self.maxRetries = maxRetries
    self.initialBackoff = initialBackoff
    self.caFile = caFile
  }

  /// The API root used when neither a flag, the environment nor git config names one.
  public static let defaultBaseURL = URL(string: "https://api.openai.com/v1")!

  /// Builds a configuration from flags, the environment and git config, in that order.
  ///
  /// - URL: `flag`, then `EMBEDDING_API_URL`, `OPENAI_BASE_URL`, git config `rag.embeddingUrl`,
  ///   then ``defaultBaseURL``.
  /// - Model: `model flag`, then `MODEL_NAME`, then git config `rag.model`; required.
  /// - Token: `API_TOKEN`, then `OPENAI_API_KEY` (never from argv or git config).
  /// - CA file: `GIT_RAG_EMBEDDING_CA_FILE`, then git config `rag.embeddingCaFile`.
  ///
  /// Empty values count as unset. Throws ``OpenAIEmbedderError`` for a missing model or a URL
  /// that is not http(s), has no host, or carries credentials.
  public static func fromEnvironment(
    _ env: [String: String], embeddingURL flag: String?, model modelFlag: String?,
    gitConfig: (String) -> String?
  ) throws -> OpenAIEmbedderConfiguration {
    func nonEmpty(_ value: String?) -> String? {
      guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
      return trimmed
    }
    let urlCandidates: [(String, String?)] = [
      ("--embedding-url", flag),
      ("EMBEDDING_API_URL", env["EMBEDDING_API_URL"]),
      ("OPENAI_BASE_URL", env["OPENAI_BASE_URL"]),
      ("git config rag.embeddingUrl", gitConfig("rag.embeddingUrl")),
    ]
    var baseURL = defaultBaseURL
    if let (source, text) = urlCandidates.lazy.compactMap({ s, v in nonEmpty(v).map { (s, $0) } }).first {
      baseURL = try parseBaseURL(text, source: source)
    }

    let modelCandidates = [modelFlag, env["MODEL_NAME"], gitConfig("rag.model")]
    guard let model = modelCandidates.lazy.compactMap(nonEmpty).first else {
      throw OpenAIEmbedderError.missingModel
    }
    let token = nonEmpty(env["API_TOKEN"]) ?? nonEmpty(env["OPENAI_API_KEY"])
    let caFile = nonEmpty(env["GIT_RAG_EMBEDDING_CA_FILE"]) ?? nonEmpty(gitConfig("rag.embeddingCaFile"))
    if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
      throw OpenAIEmbedderError.unreadableCAFile(path: caFile)
    }
    return OpenAIEmbedderConfiguration(baseURL: baseURL, model: model, apiToken: token, caFile: caFile)
  }

  static func parseBaseURL(_ text: String, source: String) throws -> URL {
    guard let components = URLComponents(string: text),
      let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
      let host = components.host, !host.isEmpty, let url = components.url
    else {
      throw OpenAIEmbedderError.invalidURL(value: text, source: source)
    }
    if components.user != nil || components.password != nil {
      // Never echo the value: it holds a secret.
      throw OpenAIEmbedderError.credentialsInURL(source: source)
    }
    return url
  }

  /// `baseURL/embeddings` (a base URL that already ends in `/embeddings` is used as it is).
  public var endpoint: URL {
    var text = baseURL.absoluteString
    if let queryStart = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = String(text[..<queryStart]) }
    while text.hasSuffix("/") { text.removeLast() }
    if !text.hasSuffix("/embeddings") { text += "/embeddings" }
    return URL(string: text) ?? baseURL.appendingPathComponent("embeddings")
  }
}

extension OpenAIEmbedderConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
  public var description: String {
    "OpenAIEmbedderConfiguration(baseURL: \(baseURL.redactedForDisplay), model: \(model), "
      + "apiToken: \(apiToken == nil ? "none" : "set"), maxTextsPerRequest: \(maxTextsPerRequest), "
      + "maxTokensPerRequest: \(maxTokensPerRequest), maxConcurrentRequests: \(maxConcurrentRequests), "
      + "timeout: \(timeout), maxRetries: \(maxRetries), initialBackoff: \(initialBackoff), caFile: \(caFile ?? "none"))"
  }
  public var debugDescription: String { description }
  public var customMirror: Mirror {
    Mirror(
      self,
      children: [
        "baseURL": baseURL.redactedForDisplay, "model": model, "apiToken": apiToken == nil ? "none" : "set",
        "maxTextsPerRequest": maxTextsPerRequest, "maxTokensPerRequest": maxTokensPerRequest,
        "maxConcurrentRequests": maxConcurrentRequests, "timeout": timeout, "maxRetries": maxRetries,
        "initialBackoff": initialBackoff, "caFile": caFile ?? "none",
      ], displayStyle: .struct)
  }
}

extension URL {
  /// scheme://host:port/path, without credentials, query or fragment: safe for messages.
  var redactedForDisplay: String {
    guard var components = URLComponents(url: self, resolvingAgainstBaseURL: false) else { return "<url>" }
    components.user = nil
    components.password = nil
    components.query = nil
    components.fragment = nil
    return components.string ?? "<url>"
  }
}
