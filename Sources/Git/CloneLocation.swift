import Foundation

/// Where a repository to clone lives, checked before anything touches the network.
///
/// Accepts `git@host:owner/repo` (scp-like ssh), `ssh://`, `https://`, `http://` (unencrypted),
/// `file://` and local paths. Refuses transport tricks (`ext::`, `fd::`, any `X::` form), URLs and
/// paths that start with `-` (they would read as options to git or ssh), and credentials embedded in
/// http(s) URLs (a token belongs in GITHUB_TOKEN or GIT_RAG_TOKEN, never in a URL).
public struct CloneLocation: Sendable, Hashable {
  public enum Transport: String, Sendable, Hashable {
    case ssh, https, http, local
  }

  /// The URL or path libgit2 clones from.
  public let url: String
  public let transport: Transport
  /// Host name (nil for local repositories).
  public let host: String?
  /// Explicit port, if the URL names one.
  public let port: Int?
  /// User name for ssh (`git` in `git@github.com:…`), nil when the URL names none.
  public let user: String?

  /// The URL as it may be shown and stored: no credentials.
  public var redacted: String { redactingCredentials(url) }

  /// Parses and checks `text`; relative local paths are resolved against `directory`.
  public static func parse(_ text: String, relativeTo directory: URL? = nil) throws(CloneError) -> CloneLocation {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { throw .unsupportedURL(text) }
    if trimmed.hasPrefix("-") { throw .optionLike(trimmed) }
    if trimmed.contains(where: { $0.isNewline || $0 == "\0" }) { throw .unsupportedURL(trimmed.debugDescription) }
    // `ext::sh -c …`, `fd::3`: git's remote helper syntax, which runs commands. Refused whatever the helper.
    if let marker = trimmed.range(of: "::"), !trimmed[..<marker.lowerBound].contains("/"),
      trimmed[..<marker.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
    {
      throw .transportRefused(String(trimmed[..<marker.lowerBound]))
    }

    if let schemeEnd = trimmed.range(of: "://") {
      let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
      let rest = String(trimmed[schemeEnd.upperBound...])
      switch scheme {
      case "file":
        return try local(String(rest.drop { $0 != "/" }), directory: directory)
      case "ssh", "git+ssh", "ssh+git":
        let (user, host, port, path) = try authority(rest, original: trimmed)
        if path.hasPrefix("-") || path.hasPrefix("/-") { throw .optionLike(trimmed) }
        return CloneLocation(url: "ssh://" + rest, transport: .ssh, host: host, port: port, user: user)
      case "https", "http":
        let (user, host, port, path) = try authority(rest, original: trimmed)
        if user != nil { throw .credentialsInURL(redactingCredentials(trimmed)) }
        if path.hasPrefix("-") || path.hasPrefix("/-") { throw .optionLike(trimmed) }
        return CloneLocation(url: "\(scheme)://" + rest, transport: scheme == "https" ? .https : .http, host: host, port: port, user: nil)
      default:
        throw .unsupportedURL(redactingCredentials(trimmed))
      }
    }

    // scp-like `[user@]host:path`: a colon before any slash.
    if let colon = trimmed.firstIndex(of: ":"), !trimmed[..<colon].contains("/") {
      let authority = trimmed[..<colon]
      let path = String(trimmed[trimmed.index(after: colon)...])
      var user: String?
      var host = String(authority)
      if let at = authority.lastIndex(of: "@") {
        user = String(authority[..<at])
        host = String(authority[authority.index(after: at)...])
      }
      guard !host.isEmpty, !path.isEmpty else { throw .unsupportedURL(trimmed) }
      if host.hasPrefix("-") || path.hasPrefix("-") || (user?.hasPrefix("-") ?? false) { throw .optionLike(trimmed) }
      return CloneLocation(url: trimmed, transport: .ssh, host: host, port: nil, user: user)
    }
    return try local(trimmed, directory: directory)
  }

  private static func local(_ path: String, directory: URL?) throws(CloneError) -> CloneLocation {
    guard !path.isEmpty else { throw .unsupportedURL(path) }
    let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    let expanded = path.hasPrefix("~/") ? NSString(string: path).expandingTildeInPath : path
    let url = expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : base.appendingPathComponent(expanded)
    let resolved = url.standardizedFileURL.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw .localRepositoryMissing(resolved)
    }
    return CloneLocation(url: resolved, transport: .local, host: nil, port: nil, user: nil)
  }

  /// Splits `user@host:port/path` (the part after `scheme://`).
  private static func authority(_ rest: String, original: String) throws(CloneError) -> (String?, String, Int?, String) {
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let authority = rest[..<slash]
    let path = String(rest[slash...])
    var user: String?
    var hostPort = authority
    if let at = authority.lastIndex(of: "@") {
      user = String(authority[..<at])
      hostPort = authority[authority.index(after: at)...]
    }
    var host = String(hostPort)
    var port: Int?
    if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
      host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
      let after = hostPort[hostPort.index(after: close)...]
      if after.hasPrefix(":") { port = Int(after.dropFirst()) }
    } else if let colon = hostPort.lastIndex(of: ":") {
      host = String(hostPort[..<colon])
      let portText = hostPort[hostPort.index(after: colon)...]
      guard let number = Int(portText), (1...65535).contains(number) else { throw .unsupportedURL(redactingCredentials(original)) }
      port = number
    }
    guard !host.isEmpty else { throw .unsupportedURL(redactingCredentials(original)) }
    if host.hasPrefix("-") { throw .optionLike(original) }
    return (user, host, port, path)
  }

  /// `host` or `[host]:port`, as `known_hosts` and `ssh-keyscan` write it.
  public var knownHostsName: String {
    guard let host else { return "" }
    if let port, port != 22 { return "[\(host)]:\(port)" }
    return host
  }
}
