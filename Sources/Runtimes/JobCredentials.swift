import Foundation

extension Job {
  /// Refuses a job whose spec would carry a credential inside a URL: a forwarded variable that is
  /// copied by value (`QDRANT_URL`, `EMBEDDING_API_URL`, …) or an argument holding
  /// `scheme://user:password@host` (or an http(s) URL with any user part, where tokens hide).
  /// Every runtime calls this while building what it submits, `--print` included; secrets travel
  /// only as references (`QDRANT_API_KEY`, `API_TOKEN`, `GITHUB_TOKEN`).
  public func refuseCredentialsInURLs(environment: [String: String]) throws(JobError) {
    for name in forwardEnvironment where !Job.isSecret(name) {
      if let value = environment[name], let host = Job.hostWithCredentials(in: value) {
        throw JobError.credentialsInURL(where: "\(name) (a URL to \(host))", use: Job.credentialVariable(for: name))
      }
    }
    for argument in arguments {
      if let host = Job.hostWithCredentials(in: argument) {
        throw JobError.credentialsInURL(where: "A job argument (a URL to \(host))", use: "QDRANT_API_KEY, API_TOKEN or GITHUB_TOKEN")
      }
    }
  }

  /// The variable that carries the credential for a URL setting.
  static func credentialVariable(for name: String) -> String {
    switch name {
    case "QDRANT_URL", "QDRANT_HOST": "QDRANT_API_KEY"
    case "EMBEDDING_API_URL", "OPENAI_BASE_URL": "API_TOKEN"
    default: "QDRANT_API_KEY or API_TOKEN"
    }
  }

  /// The host of the first URL in `text` whose user part holds a password (or, for http(s), any
  /// user part); nil when there is none.
  static func hostWithCredentials(in text: String) -> String? {
    var rest = text[...]
    while let separator = rest.range(of: "://") {
      let scheme = rest[..<separator.lowerBound].reversed().prefix { $0.isLetter || $0.isNumber || "+.-".contains($0) }
      let authority = rest[separator.upperBound...].prefix { !"/?#".contains($0) && !$0.isWhitespace }
      rest = rest[separator.upperBound...]
      guard let at = authority.lastIndex(of: "@") else { continue }
      let user = authority[..<at]
      let isHTTP = ["http", "https"].contains(String(scheme.reversed()).lowercased())
      if user.contains(":") || (isHTTP && !user.isEmpty) {
        return String(authority[authority.index(after: at)...])
      }
    }
    return nil
  }
}
