import GitRAGCore

/// Turns texts into vectors. Implementations: the built-in local model, an OpenAI-compatible
/// HTTP service, and `none` (keyword-only indexes).
public protocol Embedder: Sendable {
  /// One string naming provider, model, dimension and normalisation, e.g.
  /// `local:all-MiniLM-L6-v2:384:l2`. Vectors from two fingerprints are never mixed in a collection.
  var fingerprint: String { get async throws }
  /// Vector dimension (0 for keyword-only). Remote embedders learn it from the first response.
  var dimension: Int { get async throws }
  /// Most tokens one text may have before the model truncates it, if the model has a limit.
  var tokenLimit: Int? { get }
  /// Counts the tokens of `text` as the model would, when it can (chunkers split on this).
  func tokenCount(_ text: String) -> Int?
  /// Embeds `texts` and returns one vector per text, in order.
  func embed(_ texts: [String]) async throws -> [[Float]]
}

extension Embedder {
  public var tokenLimit: Int? { nil }
  public func tokenCount(_ text: String) -> Int? { nil }
}

/// The keyword-only mode: no vectors at all. A real mode for machines with no model and no API.
public struct NoEmbedder: Embedder {
  public init() {}
  public var fingerprint: String { "none" }
  public var dimension: Int { 0 }
  public func embed(_ texts: [String]) async throws -> [[Float]] { texts.map { _ in [] } }
}
