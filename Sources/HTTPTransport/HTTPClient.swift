import Foundation

/// The one HTTP client of git-rag (Qdrant, the embedding API, AWS Batch, model downloads).
///
/// Each exchange runs libcurl's blocking `curl_easy_perform` on a thread of its own, so a request
/// that waits on a slow server sleeps in `poll` and costs no CPU (URLSession on Linux kept a core
/// busy while waiting: see BENCHMARKS.md, "One HTTP transport"). Idle connections are kept for
/// reuse. `send` adds retries with backoff, `Retry-After` and an overall deadline; failures come
/// back classified (`HTTPFailure.Kind`) with credentials redacted, for callers to map onto their
/// own typed errors.
public final class HTTPClient: Sendable {
  /// A PEM file of CA certificates trusted instead of the system's store (nil: the system's).
  public let caFile: String?
  private let pool: CurlHandlePool

  public init(caFile: String? = nil, maxIdleConnections: Int = 8) {
    self.caFile = caFile
    pool = CurlHandlePool(capacity: maxIdleConnections)
  }

  /// Initialises libcurl (and TLS) and one connection handle now, on the caller's thread (about
  /// 0.5 ms), rather than in the first request. Not on a thread of its own: a process that exits
  /// while another thread is inside OpenSSL's initialisation can abort in OpenSSL's exit handler.
  public func warmUp() {
    pool.give(pool.take())
  }

  /// One attempt: the response whatever its status, or the classified failure.
  ///
  /// With a `sink`, the body goes to it as it arrives and the response's `body` stays empty.
  /// Throws `HTTPFailure`, `CancellationError` when the task is cancelled, or what the sink threw.
  public func perform(_ request: HTTPRequest, sink: HTTPBodySink? = nil) async throws -> HTTPResponse {
    let transfer = CurlTransfer(request: request, caFile: caFile, sink: sink)
    let pool = self.pool
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
        // A thread per exchange: it blocks in libcurl (poll) while the server thinks, and the
        // cooperative pool's threads stay free.
        let thread = Thread {
          let handle = pool.take()
          let result = transfer.run(on: handle)
          pool.give(handle)
          continuation.resume(with: result)
        }
        thread.stackSize = 1 << 20
        thread.start()
      }
    } onCancel: {
      transfer.cancel()
    }
  }

  /// What one attempt produced, for a caller's retry decision.
  public enum Outcome: Sendable {
    case response(HTTPResponse)
    case failure(HTTPFailure)

    /// The default decision: a retryable status or a retryable failure.
    public var isRetryable: Bool {
      switch self {
      case let .response(response): RetryPolicy.isRetryable(status: response.status)
      case let .failure(failure): failure.isRetryable
      }
    }
  }

  /// The final response of a retried exchange and the attempts it took.
  public struct Exchange: Sendable {
    public var response: HTTPResponse
    public var attempts: Int
  }

  /// Sends `request`, retrying as `policy` says while `shouldRetry` agrees (by default:
  /// `Outcome.isRetryable`), never past `deadline`.
  ///
  /// Returns the last response, successful or not (the caller maps an error status); throws the
  /// last `HTTPFailure` (with `attempts` set) when no response came, or whatever `shouldRetry`
  /// throws (a caller that knows a failure is final says so by throwing its own error).
  public func send(
    _ request: HTTPRequest, retry policy: RetryPolicy, deadline: ContinuousClock.Instant? = nil,
    shouldRetry: @Sendable (Outcome, _ attempt: Int) async throws -> Bool = { outcome, _ in outcome.isRetryable }
  ) async throws -> Exchange {
    var attempt = 0
    while true {
      attempt += 1
      try Task.checkCancellation()
      var attemptRequest = request
      if let deadline {
        let remaining = ContinuousClock.now.duration(to: deadline).seconds
        attemptRequest.timeout = min(request.timeout ?? .infinity, max(0.001, remaining))
      }
      let outcome: Outcome
      do {
        outcome = .response(try await perform(attemptRequest))
      } catch let failure as HTTPFailure {
        outcome = .failure(failure)
      }
      var retry = attempt <= policy.maxRetries
      if retry { retry = try await shouldRetry(outcome, attempt) }
      var wait: TimeInterval = 0
      if retry {
        if case let .response(response) = outcome {
          wait = policy.delay(beforeRetry: attempt, retryAfter: response.retryAfter)
        } else {
          wait = policy.delay(beforeRetry: attempt, retryAfter: nil)
        }
        if let deadline, ContinuousClock.now.advanced(by: .seconds(wait)) >= deadline { retry = false }
      }
      guard retry else {
        switch outcome {
        case let .response(response): return Exchange(response: response, attempts: attempt)
        case var .failure(failure):
          failure.attempts = attempt
          throw failure
        }
      }
      try await Task.sleep(for: .seconds(wait))
    }
  }
}

extension Duration {
  var seconds: TimeInterval {
    let (seconds, attoseconds) = components
    return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
  }
}
