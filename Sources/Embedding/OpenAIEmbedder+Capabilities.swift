extension OpenAIEmbedder {
  /// A remote API: never timed in a dry run; its dimension is learnt from a response, or from
  /// a collection it filled before.
  public var capabilities: EmbedderCapabilities { [.producesVectors, .primesDimension] }

  /// Starts setting up the HTTP session, and takes the dimension `recordedFingerprint`
  /// (`openai:<model>:<dimension>`) names when it is this model's.
  public func prime(recordedFingerprint: String?) async {
    warmUp()
    let prefix = "openai:\(configuration.model):"
    if let recorded = recordedFingerprint, recorded.hasPrefix(prefix), let dimension = Int(recorded.dropFirst(prefix.count)) {
      await assumeDimension(dimension)
    }
  }
}
