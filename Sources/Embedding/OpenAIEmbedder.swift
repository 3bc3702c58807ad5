import Foundation
import GitRAGCore
import HTTPTransport

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
  private let client: HTTPClient
  private let state = OpenAIEmbedderState()

  /// The text embedded once to learn the dimension when it is asked for before any `embed`.
  public static let dimensionProbeText = "dimension probe"

  public init(configuration: OpenAIEmbedderConfiguration) {
    self.configuration = configuration
    endpoint = configuration.endpoint
    displayURL = endpoint.redactedForDisplay
    client = HTTPClient(caFile: configuration.caFile, maxIdleConnections: max(1, configuration.maxConcurrentRequests))
  }

  /// Sets up the HTTP stack (libcurl and TLS initialisation, about 0.5 ms) before the first request.
  public func warmUp() {
    client.warmUp()
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

  private func send(_ texts: [String]) async throws -> [[Float]] {
    var request = HTTPRequest(
      method: "POST", url: endpoint, body: try JSONEncoder().encode(EmbeddingRequest(model: configuration.model, input: texts)),
      timeout: configuration.timeout)
    request.setHeader("Content-Type", "application/json")
    request.setHeader("Accept", "application/json")
    request.setHeader("User-Agent", "git-rag/\(GitRAGVersion.current)")
    if let token = configuration.apiToken { request.setHeader("Authorization", "Bearer \(token)") }
    let policy = RetryPolicy(
      maxRetries: configuration.maxRetries, initialBackoff: configuration.initialBackoff, maxBackoff: 30)

    let exchange: HTTPClient.Exchange
    do {
      exchange = try await client.send(request, retry: policy) { [self] outcome, _ in try await shouldRetry(outcome) }
    } catch let failure as HTTPFailure {
      throw failure.kind == .timedOut
        ? OpenAIEmbedderError.timedOut(url: displayURL, seconds: configuration.timeout, attempts: failure.attempts)
        : OpenAIEmbedderError.unreachable(url: displayURL, reason: failure.reason)
    }
    let response = exchange.response
    switch response.status {
    case 200..<300:
      await state.markReachable()
      return try await decode(response.body, count: texts.count)
    case 401, 403:
      throw OpenAIEmbedderError.rejectedToken(
        status: response.status, url: displayURL, tokenWasSet: configuration.apiToken != nil)
    case let status where RetryPolicy.isRetryable(status: status):
      let message = serverMessage(response.body)
      let detail = "HTTP \(status)\(message.isEmpty ? "" : ": \(message)")"
      throw OpenAIEmbedderError.gaveUp(url: displayURL, lastFailure: detail, attempts: exchange.attempts)
    default:
      throw OpenAIEmbedderError.requestFailed(url: displayURL, status: response.status, message: serverMessage(response.body))
    }
  }

  /// Whether to try again after `outcome`: retryable statuses, timeouts and lost connections.
  /// A refusal before the server ever answered means it is not running (or the URL is wrong),
  /// and waiting through every backoff would only delay that news: it ends the request at once,
  /// as do an unknown host and a TLS failure. Later refusals are restarts, and are retried.
  private func shouldRetry(_ outcome: HTTPClient.Outcome) async throws -> Bool {
    switch outcome {
    case let .response(response):
      guard RetryPolicy.isRetryable(status: response.status) else { return false }
      await state.markReachable()
      return true
    case let .failure(failure):
      switch failure.kind {
      case .connectionRefused:
        guard await state.reachable else { throw OpenAIEmbedderError.unreachable(url: displayURL, reason: failure.reason) }
        return true
      case .timedOut, .connectionLost, .other:
        return true
      case .hostNotFound, .tls, .invalidRequest:
        throw OpenAIEmbedderError.unreachable(url: displayURL, reason: failure.reason)
      }
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
    message = Redaction.redact(message, secrets: configuration.apiToken.map { [$0] } ?? [])
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
