import Foundation
import GitRAGCore

/// The user's `~/.ssh/known_hosts`: plain and hashed (`|1|salt|hash`) host patterns, `[host]:port`
/// forms, wildcards, negations and `@revoked` markers.
public struct KnownHosts: Sendable {
  /// What known_hosts says about a presented host key.
  public enum Verdict: Sendable, Equatable {
    case match
    /// The host has no key of this type.
    case unknown
    /// The host has a different key of the same type, or this key is revoked.
    case changed
  }

  public let file: URL

  public init(file: URL) { self.file = file }

  struct Entry {
    var marker: String?
    var patterns: [String]
    var keyType: String
    var key: [UInt8]
  }

  func entries() -> [Entry] {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
    var entries: [Entry] = []
    for line in text.split(whereSeparator: \.isNewline) {
      var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      guard let first = fields.first, !first.hasPrefix("#") else { continue }
      var marker: String?
      if first.hasPrefix("@") {
        marker = first
        fields.removeFirst()
      }
      guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { continue }
      entries.append(
        Entry(marker: marker, patterns: fields[0].split(separator: ",").map(String.init), keyType: fields[1], key: [UInt8](key)))
    }
    return entries
  }

  /// Checks `key` (the SSH wire-format public key blob) presented by `host` on `port`.
  public func verdict(host: String, port: Int, key: [UInt8]) -> Verdict {
    let type = Self.keyType(of: key)
    var sameTypeSeen = false
    for entry in entries() where entry.marker != "@cert-authority" && Self.matches(entry.patterns, host: host, port: port) {
      if entry.marker == "@revoked" {
        if entry.key == key { return .changed }
        continue
      }
      if entry.key == key { return .match }
      if entry.keyType == type { sameTypeSeen = true }
    }
    return sameTypeSeen ? .changed : .unknown
  }

  /// Appends `key` for `host`/`port` (creating `~/.ssh` with mode 0700 and the file with 0600).
  public func append(host: String, port: Int, key: [UInt8]) throws {
    let directory = file.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let name = port == 22 ? host : "[\(host)]:\(port)"
    var line = "\(name) \(Self.keyType(of: key)) \(Data(key).base64EncodedString())\n"
    if let existing = try? Data(contentsOf: file), let last = existing.last, last != 0x0A { line = "\n" + line }
    if !FileManager.default.fileExists(atPath: file.path) {
      _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
    }
    let handle = try FileHandle(forWritingTo: file)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(line.utf8))
  }

  /// `SHA256:…`, the fingerprint `ssh-keygen -lf` and ssh print.
  public static func fingerprint(_ key: [UInt8]) -> String {
    let hex = SHA256Digest.hex(key)
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
      index = next
    }
    var text = Data(bytes).base64EncodedString()
    while text.hasSuffix("=") { text.removeLast() }
    return "SHA256:" + text
  }

  /// The key type named inside a wire-format key blob (`ssh-ed25519`, `ssh-rsa`, ...).
  static func keyType(of key: [UInt8]) -> String {
    guard key.count >= 4 else { return "unknown" }
    let length = Int(key[0]) << 24 | Int(key[1]) << 16 | Int(key[2]) << 8 | Int(key[3])
    guard length > 0, length < 64, key.count >= 4 + length else { return "unknown" }
    return String(decoding: key[4..<4 + length], as: UTF8.self)
  }

  /// True when the comma-separated host patterns name `host` on `port` and no negation excludes it.
  static func matches(_ patterns: [String], host: String, port: Int) -> Bool {
    let name = port == 22 ? host : "[\(host)]:\(port)"
    var matched = false
    for pattern in patterns {
      if pattern.hasPrefix("|1|") {
        if hashedMatch(pattern, name: name) { matched = true }
        continue
      }
      let negated = pattern.hasPrefix("!")
      let body = negated ? String(pattern.dropFirst()) : pattern
      if wildcardMatch(body.lowercased(), name.lowercased()) {
        if negated { return false }
        matched = true
      }
    }
    return matched
  }

  /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
  static func hashedMatch(_ pattern: String, name: String) -> Bool {
    let parts = pattern.split(separator: "|", omittingEmptySubsequences: true)
    guard parts.count == 3, parts[0] == "1", let salt = Data(base64Encoded: String(parts[1])),
      let hash = Data(base64Encoded: String(parts[2]))
    else { return false }
    return HMACSHA1.mac(key: [UInt8](salt), message: Array(name.utf8)) == [UInt8](hash)
  }

  /// `*` and `?` globbing, as ssh does for host patterns.
  static func wildcardMatch(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.utf8), t = Array(text.utf8)
    var pi = 0, ti = 0, star = -1, mark = 0
    while ti < t.count {
      if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
        pi += 1; ti += 1
      } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
        star = pi; mark = ti; pi += 1
      } else if star >= 0 {
        pi = star + 1; mark += 1; ti = mark
      } else {
        return false
      }
    }
    while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
  }
}

/// HMAC-SHA1 (RFC 2104), for hashed known_hosts entries.
enum HMACSHA1 {
  static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var block = key.count > 64 ? SHA1Digest.bytes(key) : key
    block += [UInt8](repeating: 0, count: 64 - block.count)
    let inner = SHA1Digest.bytes(block.map { $0 ^ 0x36 } + message)
    return SHA1Digest.bytes(block.map { $0 ^ 0x5C } + inner)
  }
}
