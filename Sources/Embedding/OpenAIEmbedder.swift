import Foundation
import GitRAGCore

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// An ``Embedder`` backed by any OpenAI-compatible `POST /v1/embeddings` (OpenAI, Ollama, vLLM,
/// Text Embeddings Inference, LM Studio, ...).
///
/// `embed` splits its input into requests by count and by estimated tokens, keeps at most
/// `maxConcurrentRequests` of them in flight, retries 408/429/5xx, timeouts and lost connections
/// with exponential backoff and jitter (honouring `Retry-After`), and returns vectors in input
/// order. The dimension is learnt from the first response and every later response must match it.
public final class OpenAIEmbedder: Embedder {
  /// The settings this embedder was made with.
  public let configuration: OpenAIEmbedderConfiguration
  private let endpoint: URL
  private let displayURL: String
  private let sessionSlot = Locked<URLSession?>(nil)
  private let state = OpenAIEmbedderState()

  /// The text embedded once to learn the dimension when it is asked for before any `embed`.
  public static let dimensionProbeText = "dimension probe"

  public init(configuration: OpenAIEmbedderConfiguration) {
    self.configuration = configuration
    endpoint = configuration.endpoint
    displayURL = endpoint.redactedForDisplay
  }

  deinit { sessionSlot.withLock { $0?.finishTasksAndInvalidate() } }

  /// Creates the HTTP session on another thread, so that its set-up (libcurl's and TLS's
  /// initialisation, a few milliseconds) overlaps whatever the caller does before the first request.
  public func warmUp() {
    Thread.detachNewThread { [self] in _ = session }
  }

  /// Made on the first request, or by `warmUp()`: a process that never embeds (a search with the
  /// keyword index, a status) does not set up the HTTP stack.
  private var session: URLSession {
    sessionSlot.withLock { slot in
      if let session = slot { return session }
      let sessionConfiguration = URLSessionConfiguration.ephemeral
      sessionConfiguration.httpMaximumConnectionsPerHost = max(1, configuration.maxConcurrentRequests)
      sessionConfiguration.timeoutIntervalForRequest = configuration.timeout.rounded(.up) + 1
      sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
      sessionConfiguration.urlCache = nil
      let session = URLSession(configuration: sessionConfiguration)
      slot = session
      return session
    }
  }

  /// `openai:<model>:<dimension>`; learning the dimension may cost one probe request.
  public var fingerprint: String {
    get async throws { "openai:\(configuration.model):\(try await dimension)" }
  }

  /// The vector dimension, from the first response; if nothing was embedded yet, embeds
  /// ``dimensionProbeText`` once to find out.
  public var dimension: Int {
    get async throws {
      try await state.dimension { [self] in
        _ = try await embed([Self.dimensionProbeText])
      }
    }
  }

  /// Takes `dimension` as known (from a collection this model filled before), so no probe request
  /// is made; every response is still checked against it.
  public func assumeDimension(_ dimension: Int) async {
    _ = await state.record(dimension: dimension)
  }

  public func embed(_ texts: [String]) async throws -> [[Float]] {
    guard !texts.isEmpty else { return [] }
    let batches = Self.batches(
      for: texts, maxTexts: configuration.maxTextsPerRequest, maxTokens: configuration.maxTokensPerRequest)
    var vectors = [[Float]](repeating: [], count: texts.count)
    let window = max(1, configuration.maxConcurrentRequests)
    try await withThrowingTaskGroup(of: (Range<Int>, [[Float]]).self) { group in
      var next = 0
      func submit(_ range: Range<Int>, to group: inout ThrowingTaskGroup<(Range<Int>, [[Float]]), Error>) {
        let batch = Array(texts[range])
        group.addTask { (range, try await self.send(batch)) }
      }
      while next < min(window, batches.count) {
        submit(batches[next], to: &group)
        next += 1
      }
      // Leaving the closure by a throw cancels the requests still in flight.
      while let (range, batchVectors) = try await group.next() {
        vectors.replaceSubrange(range, with: batchVectors)
        if next < batches.count {
          submit(batches[next], to: &group)
          next += 1
        }
      }
    }
    return vectors
  }

  /// Estimated tokens of one text: UTF-8 bytes / 4, rounded up.
  public static func estimatedTokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

  /// Consecutive ranges of `texts` with at most `maxTexts` texts and `maxTokens` estimated tokens
  /// each (a single text over the budget gets a range of its own).
  static func batches(for texts: [String], maxTexts: Int, maxTokens: Int) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    var tokens = 0
    for (index, text) in texts.enumerated() {
      let cost = estimatedTokens(text)
      if index > start && (index - start >= max(1, maxTexts) || tokens + cost > maxTokens) {
        ranges.append(start..<index)
        start = index
        tokens = 0
      }
      tokens += cost
    }
    ranges.append(start..<texts.count)
    return ranges
  }

  // MARK: - One request, with retries

  private enum Attempt {
    case vectors([[Float]])
    case retry(after: TimeInterval?, failure: RetryableFailure)
  }

  private enum RetryableFailure {
    case status(Int, String)
    case timeout
    case connection(String)
  }

  private func send(_ texts: [String]) async throws -> [[Float]] {
    let body = try JSONEncoder().encode(EmbeddingRequest(model: configuration.model, input: texts))
    var attempts = 0
    while true {
      try Task.checkCancellation()
      attempts += 1
      let outcome = try await attempt(body: body, count: texts.count)
      switch outcome {
      case let .vectors(vectors):
        return vectors
      case let .retry(after, failure):
        guard attempts <= configuration.maxRetries else { throw finalError(failure, attempts: attempts) }
        try await Task.sleep(nanoseconds: UInt64(backoff(attempt: attempts, retryAfter: after) * 1e9))
      }
    }
  }

  private func attempt(body: Data, count: Int) async throws -> Attempt {
    // Our own deadline enforces `timeout`: on Linux a sub-second URLRequest timeout fired at once
    // in our tests, so URLSession's (rounded up, plus one second) is only a backstop.
    var request = URLRequest(
      url: endpoint, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: configuration.timeout.rounded(.up) + 1)
    request.httpMethod = "POST"
    request.httpBody = body
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue("application/json", forHTTPHeaderField: "Accept")
    request.setValue("git-rag/\(GitRAGVersion.current)", forHTTPHeaderField: "User-Agent")
    if let token = configuration.apiToken { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }

    let data: Data
    let response: URLResponse
    do {
      (data, response) = try await withDeadline(request)
    } catch let error as URLError {
      return try await classify(error)
    }
    guard let http = response as? HTTPURLResponse else {
      throw OpenAIEmbedderError.malformedResponse(url: displayURL, detail: "not an HTTP response")
    }
    switch http.statusCode {
    case 200..<300:
      await state.markReachable()
      return .vectors(try await decode(data, count: count))
    case 401, 403:
      throw OpenAIEmbedderError.rejectedToken(
        status: http.statusCode, url: displayURL, tokenWasSet: configuration.apiToken != nil)
    case 408, 429, 500, 502..<600:
      await state.markReachable()
      let after = Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After"), now: Date())
      return .retry(after: after, failure: .status(http.statusCode, serverMessage(data)))
    default:
      throw OpenAIEmbedderError.requestFailed(url: displayURL, status: http.statusCode, message: serverMessage(data))
    }
  }

  /// `session.data(for:)`, cancelled with `URLError(.timedOut)` when `timeout` passes first.
  private func withDeadline(_ request: URLRequest) async throws -> (Data, URLResponse) {
    let nanoseconds = UInt64(max(0, configuration.timeout) * 1e9)
    return try await withThrowingTaskGroup(of: (Data, URLResponse)?.self) { group in
      group.addTask { [session] in try await session.data(for: request) }
      group.addTask {
        try await Task.sleep(nanoseconds: nanoseconds)
        return nil
      }
      defer { group.cancelAll() }
      guard let result = try await group.next() ?? nil else { throw URLError(.timedOut) }
      return result
    }
  }

  private func classify(_ error: URLError) async throws -> Attempt {
    switch error.code {
    case .cancelled:
      throw CancellationError()
    case .timedOut:
      return .retry(after: nil, failure: .timeout)
    case .cannotConnectToHost:
      // Refused before the server ever answered: it is not running (or the URL is wrong), and
      // waiting through every backoff would only delay that news. Later refusals are restarts.
      guard await state.reachable else {
        throw OpenAIEmbedderError.unreachable(url: displayURL, reason: Self.reason(error))
      }
      return .retry(after: nil, failure: .connection(Self.reason(error)))
    case .networkConnectionLost, .notConnectedToInternet, .badServerResponse,
      .cannotParseResponse, .resourceUnavailable, .zeroByteResource:
      return .retry(after: nil, failure: .connection(Self.reason(error)))
    case .cannotFindHost, .dnsLookupFailed, .secureConnectionFailed, .serverCertificateUntrusted,
      .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid,
      .unsupportedURL, .badURL:
      throw OpenAIEmbedderError.unreachable(url: displayURL, reason: Self.reason(error))
    default:
      return .retry(after: nil, failure: .connection(Self.reason(error)))
    }
  }

  private func finalError(_ failure: RetryableFailure, attempts: Int) -> OpenAIEmbedderError {
    switch failure {
    case .timeout:
      return .timedOut(url: displayURL, seconds: configuration.timeout, attempts: attempts)
    case let .connection(reason):
      return .unreachable(url: displayURL, reason: reason)
    case let .status(status, message):
      let detail = "HTTP \(status)\(message.isEmpty ? "" : ": \(message)")"
      return .gaveUp(url: displayURL, lastFailure: detail, attempts: attempts)
    }
  }

  /// Seconds to wait before retry number `attempt` (1-based): `Retry-After` when the server sent
  /// one (capped at two minutes), else `initialBackoff * 2^(attempt-1)` with ±25% jitter, capped at 30 s.
  private func backoff(attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
    if let retryAfter { return min(max(0, retryAfter), 120) }
    let base = configuration.initialBackoff * pow(2, Double(attempt - 1))
    return min(base * Double.random(in: 0.75...1.25), 30)
  }

  /// Parses `Retry-After`: delta-seconds or an HTTP date (RFC 9110), as seconds from `now`.
  static func retryAfter(_ value: String?, now: Date) -> TimeInterval? {
    guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
    if let seconds = Double(text), seconds.isFinite { return max(0, seconds) }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
      formatter.dateFormat = format
      if let date = formatter.date(from: text) { return max(0, date.timeIntervalSince(now)) }
    }
    return nil
  }

  private static func reason(_ error: URLError) -> String {
    switch error.code {
    case .cannotConnectToHost: "connection refused"
    case .cannotFindHost, .dnsLookupFailed: "unknown host"
    case .timedOut: "timed out"
    case .networkConnectionLost: "connection lost"
    case .notConnectedToInternet: "no network"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
      .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid:
      "TLS failure"
    default: "network error \(error.code.rawValue)"
    }
  }

  // MARK: - Decoding

  private func decode(_ data: Data, count: Int) async throws -> [[Float]] {
    let items: [OpenAIEmbeddingResponseParser.Item]
    if let parsed = OpenAIEmbeddingResponseParser.parse(data) {
      items = parsed
    } else {
      do {
        items = try JSONDecoder().decode(EmbeddingResponse.self, from: data).data
      } catch {
        throw OpenAIEmbedderError.malformedResponse(url: displayURL, detail: "not the embeddings JSON: \(Self.describe(error))")
      }
    }
    guard items.count == count else {
      throw OpenAIEmbedderError.malformedResponse(url: displayURL, detail: "\(items.count) embeddings for \(count) inputs")
    }
    var vectors = [[Float]?](repeating: nil, count: count)
    for item in items {
      guard vectors.indices.contains(item.index), vectors[item.index] == nil else {
        throw OpenAIEmbedderError.malformedResponse(url: displayURL, detail: "bad or repeated index \(item.index)")
      }
      vectors[item.index] = item.embedding
    }
    let result = vectors.map { $0 ?? [] }
    let length = result[0].count
    guard length > 0 else {
      throw OpenAIEmbedderError.malformedResponse(url: displayURL, detail: "an empty embedding")
    }
    if let odd = result.first(where: { $0.count != length }) {
      throw OpenAIEmbedderError.dimensionMismatch(
        url: displayURL, model: configuration.model, expected: length, got: odd.count)
    }
    if let expected = await state.record(dimension: length) {
      throw OpenAIEmbedderError.dimensionMismatch(
        url: displayURL, model: configuration.model, expected: expected, got: length)
    }
    return result
  }

  /// The server's `error.message` (or the start of its body), without the token.
  private func serverMessage(_ data: Data) -> String {
    var message: String
    if let body = try? JSONDecoder().decode(ErrorBody.self, from: data), let text = body.error?.message ?? body.message {
      message = text
    } else {
      message = String(decoding: data.prefix(300), as: UTF8.self)
    }
    message = message.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
    if let token = configuration.apiToken, !token.isEmpty {
      message = message.replacingOccurrences(of: token, with: "<redacted>")
    }
    return message.count > 300 ? String(message.prefix(300)) + "…" : message
  }

  private static func describe(_ error: Error) -> String {
    switch error as? DecodingError {
    case let .keyNotFound(key, _)?: "missing \(key.stringValue)"
    case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
      "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    case .dataCorrupted?: "invalid JSON"
    default: "invalid JSON"
    }
  }
}

// MARK: - Wire format

private struct EmbeddingRequest: Encodable {
  let model: String
  let input: [String]
}

private struct EmbeddingResponse: Decodable {
  let data: [OpenAIEmbeddingResponseParser.Item]
}

private struct ErrorBody: Decodable {
  struct Detail: Decodable { let message: String? }
  let error: Detail?
  let message: String?

  init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    // Some servers send `"error": "text"` instead of an object.
    if let text = try? container.decode(String.self, forKey: .error) {
      error = Detail(message: text)
    } else {
      error = try? container.decode(Detail.self, forKey: .error)
    }
    message = try? container.decode(String.self, forKey: .message)
  }

  enum CodingKeys: String, CodingKey { case error, message }
}

// MARK: - Shared state

/// What the embedder has learnt about the server: the dimension and whether it ever answered.
actor OpenAIEmbedderState {
  private var knownDimension: Int?
  private var probe: Task<Void, Error>?
  private(set) var reachable = false

  /// Records a vector length; returns the expected dimension when `dimension` differs from it.
  func record(dimension: Int) -> Int? {
    guard let knownDimension else {
      knownDimension = dimension
      return nil
    }
    return knownDimension == dimension ? nil : knownDimension
  }

  func markReachable() { reachable = true }

  /// The known dimension, or the one learnt by running `embedProbe` (once, shared by concurrent callers).
  func dimension(embedProbe: @escaping @Sendable () async throws -> Void) async throws -> Int {
    if let knownDimension { return knownDimension }
    let task = probe ?? Task { try await embedProbe() }
    probe = task
    do {
      try await task.value
    } catch {
      probe = nil
      throw error
    }
    guard let knownDimension else { throw CancellationError() }
    return knownDimension
  }
}
