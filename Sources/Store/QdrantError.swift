import Foundation
import GitRAGCore

/// Everything that can go wrong talking to Qdrant, each with one line saying what to do.
public enum QdrantError: UserFacingError, Equatable {
  /// No TCP connection (refused, unknown host, network down) after every retry.
  case unreachable(address: String, reason: String)
  /// The server did not answer within the timeout, after every retry.
  case timedOut(url: String, seconds: Int)
  /// HTTP 401/403: the API key is missing, wrong or read-only.
  case unauthorized(url: String, status: Int, keyConfigured: Bool)
  /// TLS failed: the certificate is not trusted or the handshake broke; `caFile` is the CA file
  /// that was configured, if any.
  case tls(url: String, reason: String, caFile: String?)
  case collectionExists(collection: String, location: String)
  case collectionNotFound(collection: String, location: String)
  /// The collection's dense vectors have another dimension than the embedder's.
  case dimensionMismatch(collection: String, stored: Int, embedder: Int)
  /// The collection lacks git-rag's named vectors: another tool made it.
  case foreignCollection(collection: String, detail: String)
  /// Any other error reply (after retries for 5xx and 429).
  case server(url: String, status: Int, message: String)
  /// The reply was not the JSON Qdrant sends.
  case malformedReply(url: String, detail: String)
  /// A configuration value (URL, batch size, CA file) cannot be used.
  case invalidConfiguration(String)

  public var errorDescription: String? {
    switch self {
    case let .unreachable(address, reason):
      "Cannot connect to Qdrant at \(address) (\(reason)). Is it running? Set QDRANT_URL or use --store sqlite."
    case let .timedOut(url, seconds):
      "Qdrant at \(url) did not answer within \(seconds)s. Check the server's load, or raise GIT_RAG_QDRANT_TIMEOUT."
    case let .unauthorized(url, status, keyConfigured):
      keyConfigured
        ? "Qdrant at \(url) rejected the API key (HTTP \(status)). Set QDRANT_API_KEY."
        : "Qdrant at \(url) requires an API key (HTTP \(status)). Set QDRANT_API_KEY."
    case let .tls(url, reason, caFile?):
      "TLS connection to Qdrant at \(url) failed (\(reason)). Check that \(caFile) (GIT_RAG_QDRANT_CA_FILE) holds the CA that signed the server's certificate."
    case let .tls(url, reason, nil):
      "TLS connection to Qdrant at \(url) failed (\(reason)). Check the certificate; for a private CA set GIT_RAG_QDRANT_CA_FILE to its PEM file."
    case let .collectionExists(collection, location):
      "Collection \(collection) already exists in \(location). Use another name or `git rag collection delete \(collection) --store qdrant`."
    case let .collectionNotFound(collection, location):
      "Collection \(collection) not found in \(location). Run `git rag sync --store qdrant` to create it or `git rag collection list --store qdrant`."
    case let .dimensionMismatch(collection, stored, embedder):
      "Collection \(collection) holds \(stored)-d vectors but the embedder makes \(embedder)-d ones. Use --reindex or another collection."
    case let .foreignCollection(collection, detail):
      "Collection \(collection) was not made by git-rag (\(detail)). Use another collection, or delete it first."
    case let .server(url, status, message):
      "Qdrant at \(url) answered HTTP \(status): \(message)"
    case let .malformedReply(url, detail):
      "Qdrant at \(url) sent a reply git-rag cannot read (\(detail)). Is QDRANT_URL pointing at Qdrant?"
    case let .invalidConfiguration(message):
      message
    }
  }

  public var exitCode: Int32 {
    if case .invalidConfiguration = self { return 2 }
    return ExitStatus.failure
  }
}
