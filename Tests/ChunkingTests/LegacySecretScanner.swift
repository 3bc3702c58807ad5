// The scanner git-rag used before the rule table (SecretRules), kept to compare speeds in
// chunkingBenchmark. Not used by git-rag itself.
/// Finds credentials in file content in one pass over the bytes.
///
/// Patterns: private-key blocks, AWS access key ids (`AKIA`/`ASIA` + 16), GitHub tokens
/// (`ghp_`, `gho_`, `ghs_`, `ghu_`, `ghr_`, `github_pat_`), GitLab (`glpat-`), Slack (`xox?-`) and
/// JWTs assigned to something. Reports name the kind and line, never the matched text.
enum LegacySecretScanner {
  /// The first secret found, as `kind on line N`, or nil.
  static func scan(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBufferPointer { buffer -> String? in
      let count = buffer.count
      var index = 0
      while index < count {
        let kind: String?
        switch buffer[index] {
        case UInt8(ascii: "-"): kind = privateKey(buffer, index) ? "private key" : nil
        case UInt8(ascii: "A"): kind = awsKey(buffer, index) ? "AWS access key id" : nil
        case UInt8(ascii: "g"): kind = gitHost(buffer, index)
        case UInt8(ascii: "x"): kind = slack(buffer, index) ? "Slack token" : nil
        case UInt8(ascii: "e"): kind = jwt(buffer, index) ? "JSON web token" : nil
        default: kind = nil
        }
        if let kind {
          let line = buffer[0..<index].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
          return "\(kind) on line \(line)"
        }
        index += 1
      }
      return nil
    }
  }

  private typealias Bytes = UnsafeBufferPointer<UInt8>

  private static func matches(_ buffer: Bytes, _ index: Int, _ literal: StaticString) -> Bool {
    let length = literal.utf8CodeUnitCount
    guard index + length <= buffer.count else { return false }
    let pointer = literal.utf8Start
    for offset in 0..<length where buffer[index + offset] != pointer[offset] { return false }
    return true
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
  }

  private static func isBase64URL(_ byte: UInt8) -> Bool {
    isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
  }

  /// Starts a word: nothing alphanumeric (or `_`) just before.
  private static func wordStart(_ buffer: Bytes, _ index: Int) -> Bool {
    index == 0 || !(isAlphanumeric(buffer[index - 1]) || buffer[index - 1] == UInt8(ascii: "_"))
  }

  private static func run(_ buffer: Bytes, from start: Int, limit: Int = 512, _ accept: (UInt8) -> Bool) -> Int {
    var end = start
    while end < buffer.count, end - start < limit, accept(buffer[end]) { end += 1 }
    return end - start
  }

  /// `-----BEGIN … PRIVATE KEY-----` followed by key material (not a mere mention of the header).
  private static func privateKey(_ buffer: Bytes, _ index: Int) -> Bool {
    guard matches(buffer, index, "-----BEGIN ") else { return false }
    var cursor = index + 11
    let headerEnd = min(buffer.count, cursor + 64)
    var sawPrivateKey = false
    while cursor < headerEnd, buffer[cursor] != UInt8(ascii: "-") {
      if matches(buffer, cursor, "PRIVATE KEY") { sawPrivateKey = true }
      cursor += 1
    }
    guard sawPrivateKey, matches(buffer, cursor, "-----") else { return false }
    cursor += 5
    // Line breaks, real or escaped (`\n` in a string literal), then base64 or PEM headers.
    while cursor < buffer.count {
      if buffer[cursor] == 0x0A || buffer[cursor] == 0x0D || buffer[cursor] == 0x20 {
        cursor += 1
      } else if matches(buffer, cursor, "\\n") || matches(buffer, cursor, "\\r") {
        cursor += 2
      } else {
        break
      }
    }
    if matches(buffer, cursor, "Proc-Type:") { return true }
    let material = run(buffer, from: cursor, limit: 40) {
      isAlphanumeric($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "=")
    }
    return material >= 40
  }

  private static func awsKey(_ buffer: Bytes, _ index: Int) -> Bool {
    guard matches(buffer, index, "AKIA") || matches(buffer, index, "ASIA"), wordStart(buffer, index) else { return false }
    let length = run(buffer, from: index + 4, limit: 17) { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) }
    guard length == 16 else { return false }
    let end = index + 20
    if end < buffer.count, isAlphanumeric(buffer[end]) { return false }
    // AWS documentation's placeholder keys end in EXAMPLE.
    return !matches(buffer, end - 7, "EXAMPLE")
  }

  private static func gitHost(_ buffer: Bytes, _ index: Int) -> String? {
    guard wordStart(buffer, index) else { return nil }
    if matches(buffer, index, "github_pat_") {
      return run(buffer, from: index + 11) { isAlphanumeric($0) || $0 == UInt8(ascii: "_") } >= 22 ? "GitHub token" : nil
    }
    if matches(buffer, index, "glpat-") {
      return run(buffer, from: index + 6, isBase64URL) >= 20 ? "GitLab token" : nil
    }
    guard matches(buffer, index, "gh"), index + 3 < buffer.count, buffer[index + 3] == UInt8(ascii: "_") else { return nil }
    switch buffer[index + 2] {
    case UInt8(ascii: "p"), UInt8(ascii: "o"), UInt8(ascii: "s"), UInt8(ascii: "u"), UInt8(ascii: "r"):
      return run(buffer, from: index + 4, isAlphanumeric) >= 30 ? "GitHub token" : nil
    default:
      return nil
    }
  }

  private static func slack(_ buffer: Bytes, _ index: Int) -> Bool {
    guard matches(buffer, index, "xox"), wordStart(buffer, index), index + 4 < buffer.count, buffer[index + 4] == UInt8(ascii: "-") else {
      return false
    }
    switch buffer[index + 3] {
    case UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "p"), UInt8(ascii: "r"), UInt8(ascii: "s"):
      return run(buffer, from: index + 5) { isAlphanumeric($0) || $0 == UInt8(ascii: "-") } >= 10
    default:
      return false
    }
  }

  /// `eyJ….eyJ….signature` right after `=`, `:` or `Bearer ` (quotes and spaces allowed between).
  private static func jwt(_ buffer: Bytes, _ index: Int) -> Bool {
    guard matches(buffer, index, "eyJ"), wordStart(buffer, index) else { return false }
    let header = run(buffer, from: index, limit: 2048, isBase64URL)
    guard header >= 10 else { return false }
    var cursor = index + header
    guard matches(buffer, cursor, ".eyJ") else { return false }
    let payload = run(buffer, from: cursor + 1, limit: 8192, isBase64URL)
    guard payload >= 10 else { return false }
    cursor += 1 + payload
    guard cursor < buffer.count, buffer[cursor] == UInt8(ascii: ".") else { return false }
    guard run(buffer, from: cursor + 1, isBase64URL) >= 16 else { return false }
    var before = index - 1
    while before >= 0, index - before < 16,
      buffer[before] == 0x20 || buffer[before] == 0x09 || buffer[before] == UInt8(ascii: "\"") || buffer[before] == UInt8(ascii: "'")
        || buffer[before] == UInt8(ascii: "`")
    {
      before -= 1
    }
    guard before >= 0 else { return false }
    if buffer[before] == UInt8(ascii: "=") || buffer[before] == UInt8(ascii: ":") { return true }
    return before >= 5 && matches(buffer, before - 5, "Bearer")
  }
}
