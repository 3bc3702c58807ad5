import Foundation
import GitRAGCore

/// What can go wrong configuring or calling an OpenAI-compatible embedding API. Messages name the
/// endpoint (without credentials or query) and never contain the token.
public enum OpenAIEmbedderError: UserFacingError, Equatable, CustomStringConvertible {
  /// No model name in flags, `MODEL_NAME` or git config `rag.model`.
  case missingModel
  /// A base URL that is not an http(s) URL with a host; `source` names where it came from.
  case invalidURL(value: String, source: String)
  /// A base URL with `user:password@`; secrets belong in `API_TOKEN`.
  case credentialsInURL(source: String)
  /// The configured CA file cannot be read.
  case unreadableCAFile(path: String)
  /// HTTP 401/403.
  case rejectedToken(status: Int, url: String, tokenWasSet: Bool)
  /// The server could not be reached at all (connection refused, unknown host, TLS failure:
  /// a private CA is trusted with GIT_RAG_EMBEDDING_CA_FILE).
  case unreachable(url: String, reason: String)
  /// No answer within the timeout, on every attempt.
  case timedOut(url: String, seconds: TimeInterval, attempts: Int)
  /// Retryable failures (429, 5xx, lost connections) on every attempt.
  case gaveUp(url: String, lastFailure: String, attempts: Int)
  /// A status that retrying cannot fix (400, 404, 413, 422, ...), with the server's message.
  case requestFailed(url: String, status: Int, message: String)
  /// A 2xx answer that is not the embeddings JSON we asked for.
  case malformedResponse(url: String, detail: String)
  /// Vectors whose length differs from the dimension this embedder already saw.
  case dimensionMismatch(url: String, model: String, expected: Int, got: Int)

  public var exitCode: Int32 {
    switch self {
    case .missingModel, .invalidURL, .credentialsInURL, .unreadableCAFile: ExitStatus.usage
    default: ExitStatus.failure
    }
  }

  public var errorDescription: String? { description }

  public var description: String {
    switch self {
    case .missingModel:
      "No embedding model is configured for the OpenAI-compatible embedder. Set MODEL_NAME "
        + "(or git config rag.model), e.g. MODEL_NAME=text-embedding-3-small, or use --embedder local."
    case let .invalidURL(value, source):
      "Invalid embedding API URL '\(value)' (from \(source)). Use an http(s) URL such as http://127.0.0.1:8080/v1."
    case let .credentialsInURL(source):
      "The embedding API URL from \(source) contains credentials. Remove them from the URL and set API_TOKEN instead."
    case let .unreadableCAFile(path):
      "The embedding API's CA file \(path) cannot be read. Set GIT_RAG_EMBEDDING_CA_FILE (or rag.embeddingCaFile) to a PEM file of CA certificates."
    case let .rejectedToken(status, url, tokenWasSet):
      tokenWasSet
        ? "Embedding API rejected the token (HTTP \(status)) at \(url). Check API_TOKEN."
        : "Embedding API requires a token (HTTP \(status)) at \(url). Set API_TOKEN."
    case let .unreachable(url, reason) where reason.hasPrefix("TLS"):
      "Cannot reach the embedding API at \(url) (\(reason)). Check the server's certificate; "
        + "for a private CA set GIT_RAG_EMBEDDING_CA_FILE to its PEM file."
    case let .unreachable(url, reason):
      "Cannot reach the embedding API at \(url) (\(reason)). Is the server running? "
        + "Set EMBEDDING_API_URL or use --embedder local."
    case let .timedOut(url, seconds, attempts):
      "The embedding API at \(url) did not answer within \(Self.format(seconds)) s "
        + "(\(attempts) attempt\(attempts == 1 ? "" : "s")). Check that the server is healthy, or retry later."
    case let .gaveUp(url, lastFailure, attempts):
      "The embedding API at \(url) kept failing (\(lastFailure)) after \(attempts) attempts. "
        + "Retry later or lower the request concurrency."
    case let .requestFailed(url, status, message):
      status == 404
        ? "The embedding API answered HTTP 404 at \(url)\(message.isEmpty ? "" : ": \(message)"). "
          + "Check EMBEDDING_API_URL (it usually ends in /v1) and MODEL_NAME."
        : "The embedding API refused the request (HTTP \(status)) at \(url)\(message.isEmpty ? "" : ": \(message)"). "
          + "Check MODEL_NAME and the server's limits."
    case let .malformedResponse(url, detail):
      "The embedding API at \(url) returned a malformed response (\(detail)). "
        + "Check that EMBEDDING_API_URL points to an OpenAI-compatible /v1 endpoint."
    case let .dimensionMismatch(url, model, expected, got):
      "The embedding API at \(url) returned \(got)-dimensional vectors for model \(model) after "
        + "\(expected)-dimensional ones. Check that every replica serves the same model, then re-run."
    }
  }

  private static func format(_ seconds: TimeInterval) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
  }
}
