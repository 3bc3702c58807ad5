import Embedding
import Foundation
import GitRAGTestSupport
import Testing

@Suite struct OpenAIEmbedderTests {
  /// Texts of varied length (and some non-ASCII), all distinct.
  static func texts(_ count: Int, prefix: String = "text") -> [String] {
    (0..<count).map { i in "\(prefix) \(i) " + String(repeating: i % 3 == 0 ? "é" : "x", count: i % 17) }
  }

  @Test func roundTripKeepsOrderAcrossManyConcurrentBatches() async throws {
    let server = try await OpenAIEmbeddingServer.start(dimension: 16, latencyMilliseconds: 5)
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 7, concurrency: 4))
    let texts = Self.texts(500)

    let vectors = try await embedder.embed(texts)

    #expect(vectors.count == texts.count)
    let mismatched = zip(vectors, texts).filter { !server.matches($0, $1) }.map(\.1)
    #expect(mismatched.isEmpty, "vectors not the server's for: \(mismatched.prefix(3))")
    let stats = try await server.stats()
    #expect(stats.requests == 72)  // ceil(500 / 7)
    #expect(stats.textsEmbedded == 500)
    #expect(Set(stats.texts) == Set(texts))

    // Deterministic: the same texts in another order give the same vectors.
    let again = try await embedder.embed(texts.reversed())
    #expect(Array(again.reversed()) == vectors)
    // The dimension is known from the responses: no probe request.
    #expect(try await embedder.fingerprint == "openai:test-model:16")
    #expect(try await server.stats().requests == 144)
  }

  @Test func largeDimensionsRoundTrip() async throws {
    // 1536 components: long arrays and small values written with exponents.
    let server = try await OpenAIEmbeddingServer.start(dimension: 1536)
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 4))
    let texts = Self.texts(10)
    let vectors = try await embedder.embed(texts)
    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
    #expect(try await embedder.dimension == 1536)
  }

  @Test func vectorsFollowResponseIndexNotResponseOrder() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["shuffle_next": 5])
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 10))
    let texts = Self.texts(50)
    let vectors = try await embedder.embed(texts)
    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
  }

  @Test func emptyInputSendsNoRequest() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    let embedder = OpenAIEmbedder(configuration: server.configuration())
    #expect(try await embedder.embed([]).isEmpty)
    #expect(try await server.stats().requests == 0)
  }

  @Test func dimensionIsProbedOnceWhenAskedFirst() async throws {
    let server = try await OpenAIEmbeddingServer.start(dimension: 24)
    let embedder = OpenAIEmbedder(configuration: server.configuration(model: "probe-model"))
    async let a = embedder.dimension
    async let b = embedder.fingerprint
    async let c = embedder.dimension
    let (dimension, fingerprint, other) = try await (a, b, c)
    #expect(dimension == 24 && other == 24)
    #expect(fingerprint == "openai:probe-model:24")
    let stats = try await server.stats()
    #expect(stats.requests == 1)
    #expect(stats.texts == [OpenAIEmbedder.dimensionProbeText])
    #expect(try await embedder.fingerprint == "openai:probe-model:24")
    #expect(try await server.stats().requests == 1)
  }

  // MARK: - Batching and concurrency

  @Test func batchesByTextCount() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 3, concurrency: 1))
    _ = try await embedder.embed(Self.texts(10))
    let stats = try await server.stats()
    #expect(stats.batchSizes == [3, 3, 3, 1])
    #expect(stats.requests == 4)
  }

  @Test func batchesByEstimatedTokens() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    // 40 bytes = 10 tokens each, 201 bytes = 51 tokens; budget 25 tokens: pairs, and the long text alone.
    let short = (0..<5).map { String(format: "short text %03d ", $0) + String(repeating: "s", count: 25) }
    let long = String(repeating: "L", count: 201)
    #expect(short.allSatisfy { OpenAIEmbedder.estimatedTokens($0) == 10 })
    #expect(OpenAIEmbedder.estimatedTokens(long) == 51)
    let texts = [short[0], short[1], short[2], long, short[3], short[4]]
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 100, maxTokens: 25, concurrency: 1))

    let vectors = try await embedder.embed(texts)

    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
    let stats = try await server.stats()
    #expect(stats.batchSizes == [2, 1, 1, 2])
    #expect(stats.requests == 4)
  }

  @Test func concurrencyIsBoundedAndReached() async throws {
    let server = try await OpenAIEmbeddingServer.start(latencyMilliseconds: 100)
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 2, concurrency: 3))
    let texts = Self.texts(24)
    let vectors = try await embedder.embed(texts)
    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
    let stats = try await server.stats()
    #expect(stats.requests == 12)
    #expect(stats.maxInFlight == 3)
  }

  // MARK: - Retries

  @Test func tooManyRequestsIsRetriedAfterRetryAfterSeconds() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["fail_next": 1, "status": 429, "retry_after": 1])
    let embedder = OpenAIEmbedder(configuration: server.configuration(concurrency: 1))
    let texts = Self.texts(5)
    var vectors: [[Float]] = []
    let seconds = try await OpenAIEmbeddingServer.seconds { vectors = try await embedder.embed(texts) }
    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
    #expect(seconds >= 0.95, "Retry-After: 1 not honoured (retried after \(seconds) s)")
    let stats = try await server.stats()
    #expect(stats.requests == 2)
    #expect(stats.succeededRequests == 1)
  }

  @Test func tooManyRequestsIsRetriedAfterRetryAfterDate() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    // Whole seconds: two seconds ahead is at least one second of waiting.
    let date = formatter.string(from: Date().addingTimeInterval(2))
    try await server.control(["fail_next": 1, "status": 429, "retry_after": date])
    let embedder = OpenAIEmbedder(configuration: server.configuration())
    let seconds = try await OpenAIEmbeddingServer.seconds { _ = try await embedder.embed(["a"]) }
    #expect(seconds >= 0.95, "Retry-After: \(date) not honoured (retried after \(seconds) s)")
    #expect(try await server.stats().requests == 2)
  }

  @Test func serverErrorsAreRetriedWithBackoff() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["fail_next": 3, "status": 500])
    let embedder = OpenAIEmbedder(configuration: server.configuration(concurrency: 1))
    let texts = Self.texts(3)
    let vectors = try await embedder.embed(texts)
    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
    #expect(try await server.stats().requests == 4)
  }

  @Test func persistentServerErrorsGiveUpAfterMaxRetries() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["fail_next": 100, "status": 503])
    let embedder = OpenAIEmbedder(configuration: server.configuration(concurrency: 1, maxRetries: 2))
    let error = await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(["a"]) }
    guard case .gaveUp(let url, let failure, let attempts)? = error else {
      Issue.record("expected gaveUp, got \(String(describing: error))")
      return
    }
    #expect(url == "\(server.baseURL)/embeddings")
    #expect(failure.contains("HTTP 503"))
    #expect(attempts == 3)
    #expect(try await server.stats().requests == 3)
  }

  @Test func hungRequestTimesOutAndIsRetried() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["hang_next": 1, "hang_seconds": 5])
    let embedder = OpenAIEmbedder(configuration: server.configuration(concurrency: 1, timeout: 0.5))
    let texts = Self.texts(4)
    var vectors: [[Float]] = []
    let seconds = try await OpenAIEmbeddingServer.seconds { vectors = try await embedder.embed(texts) }
    #expect(zip(vectors, texts).allSatisfy { server.matches($0, $1) })
    #expect(seconds >= 0.45 && seconds < 30, "took \(seconds) s")  // generous: CI machines are shared
    #expect(try await server.stats().requests == 2)
  }

  @Test func requestsThatAlwaysHangEndInATimeoutError() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["hang_next": 10, "hang_seconds": 5])
    let embedder = OpenAIEmbedder(configuration: server.configuration(timeout: 0.3, maxRetries: 1))
    let error = await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(["a"]) }
    #expect(error == .timedOut(url: "\(server.baseURL)/embeddings", seconds: 0.3, attempts: 2))
    #expect(error?.description.contains("did not answer within 0.3 s") == true)
  }

  // MARK: - Unrecoverable answers

  @Test func wrongDimensionIsAnError() async throws {
    let server = try await OpenAIEmbeddingServer.start(dimension: 16)
    let embedder = OpenAIEmbedder(configuration: server.configuration(model: "m"))
    _ = try await embedder.embed(["first"])
    try await server.control(["wrong_dimension_next": 1])
    let error = await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(["second"]) }
    #expect(error == .dimensionMismatch(url: "\(server.baseURL)/embeddings", model: "m", expected: 16, got: 17))
    #expect(error?.description.contains("17-dimensional vectors for model m after 16-dimensional ones") == true)
  }

  @Test func malformedResponseIsAnError() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["malformed_next": 1])
    let embedder = OpenAIEmbedder(configuration: server.configuration())
    let error = await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(["a", "b"]) }
    guard case .malformedResponse(let url, _)? = error else {
      Issue.record("expected malformedResponse, got \(String(describing: error))")
      return
    }
    #expect(url == "\(server.baseURL)/embeddings")
    #expect(try await server.stats().requests == 1)
  }

  @Test func firstUnrecoverableErrorCancelsTheRest() async throws {
    let server = try await OpenAIEmbeddingServer.start(latencyMilliseconds: 50)
    try await server.control(["malformed_next": 1])
    let embedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 1, concurrency: 2))
    await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(Self.texts(100)) }
    try await Task.sleep(nanoseconds: 200_000_000)
    // One malformed answer among the first two requests; at most the other one and one
    // replacement run before the group is cancelled, never the 100 batches.
    #expect(try await server.stats().requests <= 4)
  }

  @Test func cancellingTheCallerStopsPromptly() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    try await server.control(["hang_next": 10, "hang_seconds": 10])
    let embedder = OpenAIEmbedder(configuration: server.configuration(timeout: 30))
    let task = Task { try await embedder.embed(["a", "b"]) }
    // Cancelled once the request hangs at the server.
    #expect(try await eventually(within: .seconds(5)) { try await server.stats().requests >= 1 })
    let seconds = await OpenAIEmbeddingServer.seconds {
      task.cancel()
      _ = await task.result
    }
    #expect(seconds < 9, "cancellation took \(seconds) s")  // the server would hang 10 s, the timeout is 30 s
    await #expect(throws: (any Error).self) { try await task.value }
  }

  // MARK: - Auth and reachability

  @Test func rejectedTokenIsNamedWithoutRevealingIt() async throws {
    let server = try await OpenAIEmbeddingServer.start(apiKey: "sk-the-right-key")
    let wrong = "sk-wrong-secret-7f3a9c"
    let embedder = OpenAIEmbedder(configuration: server.configuration(token: wrong))
    let error = await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(["a"]) }
    let message = error?.description ?? ""
    #expect(message == "Embedding API rejected the token (HTTP 401) at \(server.baseURL)/embeddings. Check API_TOKEN.")
    #expect(!message.contains(wrong))
    #expect(try await server.stats().requests == 1)  // never retried

    let anonymous = OpenAIEmbedder(configuration: server.configuration(token: nil))
    let missing = await #expect(throws: OpenAIEmbedderError.self) { try await anonymous.embed(["a"]) }
    #expect(missing?.description.contains("requires a token (HTTP 401)") == true)

    let authorised = OpenAIEmbedder(configuration: server.configuration(token: "sk-the-right-key"))
    let vectors = try await authorised.embed(["a"])
    #expect(server.matches(vectors[0], "a"))
  }

  @Test func connectionRefusedNamesTheURL() async throws {
    let server = try await OpenAIEmbeddingServer.start()
    // Backoff long enough that retrying a server that never answered would show in the time.
    let configuration = server.configuration(maxRetries: 5, initialBackoff: 5)
    server.server.stop()
    let embedder = OpenAIEmbedder(configuration: configuration)
    var error: OpenAIEmbedderError?
    let seconds = await OpenAIEmbeddingServer.seconds {
      error = await #expect(throws: OpenAIEmbedderError.self) { try await embedder.embed(["a"]) }
    }
    #expect(
      error?.description
        == "Cannot reach the embedding API at \(server.baseURL)/embeddings (connection refused). "
        + "Is the server running? Set EMBEDDING_API_URL or use --embedder local.")
    #expect(seconds < 30, "a server that never answered should fail fast, took \(seconds) s")
  }
}
