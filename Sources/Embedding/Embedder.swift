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
  /// What this embedder can do; callers ask this, never the embedder's type.
  var capabilities: EmbedderCapabilities { get }
  /// Gets ready for the first request, and with `.primesDimension` takes the dimension a
  /// collection's recorded fingerprint names when it is this embedder's model (sparing the
  /// request a cold process would otherwise make to learn it).
  func prime(recordedFingerprint: String?) async
}

extension Embedder {
  public var tokenLimit: Int? { nil }
  public func tokenCount(_ text: String) -> Int? { nil }
  /// A model that runs here and makes vectors.
  public var capabilities: EmbedderCapabilities { [.producesVectors, .runsLocally] }
  public func prime(recordedFingerprint: String?) async {}
}

/// What an embedder can do, declared by each embedder.
public struct EmbedderCapabilities: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// It makes vectors (all but the keyword-only `none`): chunks get vectors, found or embedded.
  public static let producesVectors = Self(rawValue: 1 << 0)
  /// It runs on this machine, so a dry run may time it on a sample; an API is sent nothing in a
  /// dry run.
  public static let runsLocally = Self(rawValue: 1 << 1)
  /// `prime(recordedFingerprint:)` can take its dimension from a collection's metadata.
  public static let primesDimension = Self(rawValue: 1 << 2)
}

/// The keyword-only mode: no vectors at all. A real mode for machines with no model and no API.
public struct NoEmbedder: Embedder {
  public init() {}
  public var fingerprint: String { "none" }
  public var dimension: Int { 0 }
  public var capabilities: EmbedderCapabilities { [] }
  public func embed(_ texts: [String]) async throws -> [[Float]] { texts.map { _ in [] } }
}
