import Foundation

/// The rules of one `.gitignore` file: patterns, `*`, `?`, `[…]`, `**`, trailing `/` (directories
/// only), negation `!`, and anchoring (a leading or inner `/` ties a pattern to the file's folder).
public struct IgnoreRules: Sendable {
  struct Rule: Sendable {
    var pattern: [UInt8]
    var negated: Bool
    var directoryOnly: Bool
    var anchored: Bool
  }

  var rules: [Rule] = []

  /// Parses the text of a `.gitignore` file.
  public init(_ text: String) {
    for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      var line = Substring(rawLine)
      if line.hasSuffix("\r") { line = line.dropLast() }
      // Trailing spaces are ignored unless escaped with a backslash.
      while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line = line.dropLast() }
      guard !line.isEmpty, !line.hasPrefix("#") else { continue }
      var negated = false
      if line.hasPrefix("!") {
        negated = true
        line = line.dropFirst()
      } else if line.hasPrefix("\\!") || line.hasPrefix("\\#") {
        line = line.dropFirst()
      }
      var directoryOnly = false
      if line.hasSuffix("/") {
        directoryOnly = true
        line = line.dropLast()
      }
      guard !line.isEmpty else { continue }
      let anchored = line.dropLast().contains("/")
      if line.hasPrefix("/") { line = line.dropFirst() }
      rules.append(Rule(pattern: Array(line.utf8), negated: negated, directoryOnly: directoryOnly, anchored: anchored))
    }
  }

  /// True/false when a rule decides `path` (relative to the `.gitignore`'s folder), nil when none does.
  public func decision(for path: String, isDirectory: Bool) -> Bool? {
    let full = Array(path.utf8)
    let name = Array((path.split(separator: "/").last.map(String.init) ?? path).utf8)
    var result: Bool?
    for rule in rules {
      if rule.directoryOnly && !isDirectory { continue }
      let subject = rule.anchored ? full : name
      if Glob.match(rule.pattern, 0, subject, 0) { result = !rule.negated }
    }
    return result
  }
}

/// Glob matching for gitignore patterns over UTF-8 bytes.
enum Glob {
  static let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), question = UInt8(ascii: "?")
  static let open = UInt8(ascii: "["), close = UInt8(ascii: "]"), backslash = UInt8(ascii: "\\")

  static func match(_ p: [UInt8], _ pi: Int, _ s: [UInt8], _ si: Int) -> Bool {
    var pi = pi, si = si
    while pi < p.count {
      let c = p[pi]
      if c == star, pi + 1 < p.count, p[pi + 1] == star {
        // `**/` matches zero or more folders; `**` elsewhere matches anything.
        if pi + 2 < p.count, p[pi + 2] == slash {
          if match(p, pi + 3, s, si) { return true }
          var k = si
          while k < s.count {
            if s[k] == slash, match(p, pi + 3, s, k + 1) { return true }
            k += 1
          }
          return false
        }
        for k in si...s.count where match(p, pi + 2, s, k) { return true }
        return false
      }
      if c == star {
        var k = si
        while true {
          if match(p, pi + 1, s, k) { return true }
          if k >= s.count || s[k] == slash { return false }
          k += 1
        }
      }
      guard si < s.count else { return false }
      if c == question {
        if s[si] == slash { return false }
      } else if c == open, let (matched, next) = matchClass(p, pi, s[si]) {
        if !matched { return false }
        pi = next
        si += 1
        continue
      } else if c == backslash, pi + 1 < p.count {
        pi += 1
        if p[pi] != s[si] { return false }
      } else if c != s[si] {
        return false
      }
      pi += 1
      si += 1
    }
    return si == s.count
  }

  /// Matches `byte` against the class starting at `p[pi]` (`[`); returns the result and the index
  /// after the closing `]`, or nil when the class is not closed (then `[` is a literal).
  static func matchClass(_ p: [UInt8], _ pi: Int, _ byte: UInt8) -> (Bool, Int)? {
    var i = pi + 1
    var negate = false
    if i < p.count, p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^") {
      negate = true
      i += 1
    }
    var matched = false
    var first = true
    while i < p.count, p[i] != close || first {
      first = false
      var low = p[i]
      if low == backslash, i + 1 < p.count { i += 1; low = p[i] }
      if i + 2 < p.count, p[i + 1] == UInt8(ascii: "-"), p[i + 2] != close {
        if (low...p[i + 2]).contains(byte) { matched = true }
        i += 3
      } else {
        if low == byte { matched = true }
        i += 1
      }
    }
    guard i < p.count else { return nil }
    return (matched != negate && byte != slash, i + 1)
  }
}
