/// The provider and model a collection's embedder fingerprint names (`openai:<model>:<dimension>`,
/// `local:…`, `none`).
struct RecordedEmbedder: Equatable {
  var kind: String
  var model: String?

  init?(fingerprint: String) {
    if fingerprint == "none" {
      self.init(kind: "none", model: nil)
    } else if fingerprint.hasPrefix("local:") {
      self.init(kind: "local", model: nil)
    } else if fingerprint.hasPrefix("openai:"), let lastColon = fingerprint.lastIndex(of: ":") {
      // Model names may hold colons themselves (`nomic-embed-text:latest`); the dimension comes last.
      let model = fingerprint[fingerprint.index(fingerprint.startIndex, offsetBy: 7)..<lastColon]
      guard !model.isEmpty else { return nil }
      self.init(kind: "openai", model: String(model))
    } else {
      return nil
    }
  }

  init(kind: String, model: String?) {
    self.kind = kind
    self.model = model
  }
}
