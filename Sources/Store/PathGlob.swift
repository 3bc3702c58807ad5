/// A shell glob over repository-relative paths, as `SearchFilter.pathGlob` means it.
///
/// `*` and `?` stay within one path segment, `**` crosses `/` (and `**/` also matches no folder, so
/// `src/**/test_*.py` matches `src/test_a.py`), `[abc]`, `[a-z]` and `[!a-z]` match one byte,
/// `{py,pyi}` gives alternatives. A path also matches when one of its leading folders matches, so
/// `src` and `src/` select everything under `src/`, as a pathspec would. Matching is case-sensitive.
///
/// A list of globs, one a line (see `list`), matches a path that one of its plain globs matches (or
/// any path when all are exclusions) and that none of its `!glob` exclusions match.
public struct PathGlob: Sendable, Hashable {
  public let pattern: String
  private let alternatives: [[Token]]
  private let includes: [PathGlob]
  private let excludes: [PathGlob]

  /// `globs` as one pattern (nil when there are none); `!glob` excludes.
  public static func list(_ globs: [String]) -> String? {
    let globs = globs.filter { !$0.isEmpty && $0 != "!" }
    return globs.isEmpty ? nil : globs.joined(separator: "\n")
  }

  public init(_ pattern: String) {
    self.pattern = pattern
    if pattern.contains("\n") || pattern.hasPrefix("!") {
      let globs = pattern.split(separator: "\n").map(String.init)
      includes = globs.filter { !$0.hasPrefix("!") }.map(PathGlob.init)
      excludes = globs.filter { $0.hasPrefix("!") }.map { PathGlob(String($0.dropFirst())) }
      alternatives = []
      return
    }
    includes = []
    excludes = []
    var bytes = Array(pattern.utf8)
    // `src/` means the folder: leading folders are matched anyway.
    while bytes.count > 1 && bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
    // Paths are relative to the repository root, so `/src` is `src`.
    while bytes.count > 1 && bytes.first == UInt8(ascii: "/") { bytes.removeFirst() }
    alternatives = Self.expandBraces(bytes).map(Self.compile)
  }

  /// Whether `path` or one of its leading folders matches the glob.
  public func matches(_ path: String) -> Bool {
    if !includes.isEmpty || !excludes.isEmpty {
      return (includes.isEmpty || includes.contains { $0.matches(path) }) && !excludes.contains { $0.matches(path) }
    }
    var bytes = Array(path.utf8)
    if bytes.first == UInt8(ascii: "/") { bytes.removeFirst() }
    if alternatives.contains(where: { Self.match($0, bytes[...]) }) { return true }
    // Leading folders: `src/app/main.py` is also tried as `src/app` and `src`.
    for end in bytes.indices.reversed() where bytes[end] == UInt8(ascii: "/") {
      if alternatives.contains(where: { Self.match($0, bytes[..<end]) }) { return true }
    }
    return false
  }

  private enum Token: Hashable {
    case byte(UInt8)
    case anyByte
    case star
    case globStar
    /// `**/`: nothing, or anything that ends with `/`.
    case folders
    case set(bytes: [UInt8], ranges: [ClosedRange<UInt8>], negated: Bool)
  }

  private static let slash = UInt8(ascii: "/")

  private static func compile(_ p: [UInt8]) -> [Token] {
    var tokens: [Token] = []
    var i = 0
    while i < p.count {
      let c = p[i]
      switch c {
      case UInt8(ascii: "*"):
        var j = i
        while j < p.count && p[j] == c { j += 1 }
        if j - i >= 2 {
          let atSegmentStart = i == 0 || p[i - 1] == slash
          if atSegmentStart && j < p.count && p[j] == slash {
            tokens.append(.folders)
            j += 1
          } else {
            tokens.append(.globStar)
          }
        } else {
          tokens.append(.star)
        }
        i = j
      case UInt8(ascii: "?"):
        tokens.append(.anyByte)
        i += 1
      case UInt8(ascii: "["):
        if let (token, next) = compileSet(p, from: i) {
          tokens.append(token)
          i = next
        } else {
          tokens.append(.byte(c))
          i += 1
        }
      case UInt8(ascii: "\\") where i + 1 < p.count:
        tokens.append(.byte(p[i + 1]))
        i += 2
      default:
        tokens.append(.byte(c))
        i += 1
      }
    }
    return tokens
  }

  /// `[...]` starting at `start`; nil when unterminated (then `[` is literal).
  private static func compileSet(_ p: [UInt8], from start: Int) -> (Token, Int)? {
    var i = start + 1
    var negated = false
    if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) {
      negated = true
      i += 1
    }
    var bytes: [UInt8] = []
    var ranges: [ClosedRange<UInt8>] = []
    var first = true
    while i < p.count {
      let c = p[i]
      if c == UInt8(ascii: "]") && !first { return (.set(bytes: bytes, ranges: ranges, negated: negated), i + 1) }
      first = false
      if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != UInt8(ascii: "]") {
        if c <= p[i + 2] { ranges.append(c...p[i + 2]) }
        i += 3
      } else {
        bytes.append(c)
        i += 1
      }
    }
    return nil
  }

  /// Expands `{a,b}` alternatives (nested braces too); an unbalanced `{` is literal.
  private static func expandBraces(_ p: [UInt8]) -> [[UInt8]] {
    guard let open = p.firstIndex(of: UInt8(ascii: "{")) else { return [p] }
    var depth = 0
    var commas: [Int] = []
    var close: Int?
    for i in open..<p.count {
      switch p[i] {
      case UInt8(ascii: "{"): depth += 1
      case UInt8(ascii: "}"):
        depth -= 1
        if depth == 0 { close = i }
      case UInt8(ascii: ",") where depth == 1: commas.append(i)
      default: break
      }
      if close != nil { break }
    }
    guard let close else { return [p] }
    let prefix = Array(p[..<open])
    let suffixes = expandBraces(Array(p[(close + 1)...]))
    var bounds = [open] + commas + [close]
    if commas.isEmpty { bounds = [open, close] }
    var out: [[UInt8]] = []
    for k in 0..<(bounds.count - 1) {
      for middle in expandBraces(Array(p[(bounds[k] + 1)..<bounds[k + 1]])) {
        for suffix in suffixes where out.count < 256 { out.append(prefix + middle + suffix) }
      }
    }
    return out
  }

  /// Runs the pattern as an NFA over the path's bytes (no backtracking blow-up).
  private static func match(_ tokens: [Token], _ path: ArraySlice<UInt8>) -> Bool {
    let n = tokens.count
    var states = [Bool](repeating: false, count: n + 1)
    var next = states
    func close(_ s: inout [Bool]) {
      for i in 0..<n where s[i] {
        switch tokens[i] {
        case .star, .globStar, .folders: s[i + 1] = true
        default: break
        }
      }
    }
    states[0] = true
    close(&states)
    for b in path {
      for i in 0...n { next[i] = false }
      var any = false
      for i in 0..<n where states[i] {
        switch tokens[i] {
        case .byte(let c):
          if c == b { next[i + 1] = true; any = true }
        case .anyByte:
          if b != slash { next[i + 1] = true; any = true }
        case .star:
          if b != slash { next[i] = true; any = true }
        case .globStar:
          next[i] = true
          any = true
        case .folders:
          next[i] = true
          if b == slash { next[i + 1] = true }
          any = true
        case .set(let bytes, let ranges, let negated):
          let hit = bytes.contains(b) || ranges.contains { $0.contains(b) }
          if hit != negated && b != slash { next[i + 1] = true; any = true }
        }
      }
      guard any else { return false }
      swap(&states, &next)
      close(&states)
    }
    return states[n]
  }
}
