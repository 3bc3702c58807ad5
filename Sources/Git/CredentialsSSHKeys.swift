import Foundation

/// The private keys ssh would offer for a host: `IdentityFile` entries of `~/.ssh/config` for that
/// host, then `id_ed25519`, `id_ecdsa`, `id_rsa`; only files that exist.
public struct SSHKeyFinder: Sendable {
  public let sshDirectory: URL

  public init(home: URL) {
    sshDirectory = home.appendingPathComponent(".ssh", isDirectory: true)
  }

  /// Candidate key files for `host`, in the order they are tried.
  public func keys(for host: String) -> [URL] {
    var seen = Set<String>()
    var result: [URL] = []
    let defaults = ["id_ed25519", "id_ecdsa", "id_rsa"].map { sshDirectory.appendingPathComponent($0) }
    for url in configuredIdentities(for: host) + defaults where seen.insert(url.standardizedFileURL.path).inserted {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { result.append(url) }
    }
    return result
  }

  /// `IdentityFile` values of the `Host` blocks of `~/.ssh/config` that match `host`.
  func configuredIdentities(for host: String) -> [URL] {
    guard let text = try? String(contentsOf: sshDirectory.appendingPathComponent("config"), encoding: .utf8) else { return [] }
    var active = true
    var identities: [URL] = []
    for rawLine in text.split(whereSeparator: \.isNewline) {
      let line = rawLine.trimmingCharacters(in: .whitespaces)
      guard !line.isEmpty, !line.hasPrefix("#") else { continue }
      let parts = line.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" })
      guard parts.count == 2 else { continue }
      let keyword = parts[0].lowercased()
      let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " \t=\""))
      switch keyword {
      case "host":
        let patterns = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var matched = false
        for pattern in patterns {
          let negated = pattern.hasPrefix("!")
          let body = negated ? String(pattern.dropFirst()) : pattern
          if KnownHosts.wildcardMatch(body.lowercased(), host.lowercased()) {
            if negated { matched = false; break }
            matched = true
          }
        }
        active = matched
      case "match":
        active = false
      case "identityfile" where active:
        var path = value
        if path.hasPrefix("~/") {
          path = sshDirectory.deletingLastPathComponent().appendingPathComponent(String(path.dropFirst(2))).path
        } else if !path.hasPrefix("/") {
          path = sshDirectory.appendingPathComponent(path).path
        }
        identities.append(URL(fileURLWithPath: path))
      default:
        continue
      }
    }
    return identities
  }

  /// True when the private key at `url` needs a passphrase: an OpenSSH key whose KDF is `bcrypt`
  /// (or whose cipher is not `none`), or a PEM key marked `ENCRYPTED`.
  public static func isEncrypted(_ url: URL) -> Bool {
    guard let text = try? String(contentsOf: url, encoding: .utf8) else { return false }
    if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
      let body = text.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
      guard let data = Data(base64Encoded: body) else { return false }
      let bytes = [UInt8](data)
      let magic = Array("openssh-key-v1\0".utf8)
      guard bytes.starts(with: magic) else { return false }
      var offset = magic.count
      func string() -> String? {
        guard offset + 4 <= bytes.count else { return nil }
        let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        offset += 4
        guard length >= 0, offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
      }
      let cipher = string()
      let kdf = string()
      return kdf == "bcrypt" || (cipher != nil && cipher != "none")
    }
    return text.contains("ENCRYPTED")
  }
}
