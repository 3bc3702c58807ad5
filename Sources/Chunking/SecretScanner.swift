import Foundation

/// A secret found in a file. Names the rule and line, never the value.
public struct SecretFinding: Error, Sendable, Hashable, CustomStringConvertible {
  public let rule: String
  public let kind: String
  public let effect: SecretEffect
  /// 1-based line of the value's first byte.
  public let line: Int
  /// The value, as UTF-8 offsets into the scanned text.
  public let range: Range<Int>

  /// `Stripe live key on line 3 (rule stripe-live-key)`.
  public var description: String { "\(kind) on line \(line) (rule \(rule))" }
}

/// Which secret rules a path may ignore: from the `rag-allow-secrets` attribute and the
/// `rag.allowSecretRules` setting.
public struct SecretAllowance: Sendable, Hashable {
  /// Every rule, name and content alike.
  public var everything: Bool
  /// Rule ids.
  public var rules: Set<String>

  public static let none = SecretAllowance()

  public init(everything: Bool = false, rules: Set<String> = []) {
    self.everything = everything
    self.rules = rules
  }

  /// `rule-a,rule-b` (spaces allowed); `true`, `all` or `*` for every rule.
  public init(parsing list: String) {
    let ids = list.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() }
    everything = ids.contains { $0 == "true" || $0 == "all" || $0 == "*" }
    rules = Set(ids)
  }

  public func allows(_ rule: String) -> Bool { everything || rules.contains(rule) }

  public func union(_ other: SecretAllowance) -> SecretAllowance {
    SecretAllowance(everything: everything || other.everything, rules: rules.union(other.rules))
  }

  /// Ids in `rules` that name no rule (a typo in an allow-list lets nothing through).
  public var unknownRules: [String] {
    let known = Set(SecretRules.content.map(\.id) + SecretRules.names.map(\.id) + ["true", "all", "*"])
    return rules.filter { !known.contains($0) }.sorted()
  }
}

/// Applies `SecretRules.content` to a text: one pass over the bytes finds the rules' keywords,
/// then each rule's pattern runs on the lines that hold one of its keywords.
enum SecretScanner {
  /// A rule with its patterns compiled.
  struct Compiled: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe.
    let rule: SecretRule
    let regex: NSRegularExpression
    let placeholder: NSRegularExpression?
  }

  static let compiled: [Compiled] = SecretRules.content.map { rule in
    do {
      return Compiled(
        rule: rule, regex: try NSRegularExpression(pattern: rule.pattern),
        placeholder: try rule.placeholder.map { try NSRegularExpression(pattern: $0) })
    } catch {
      fatalError("secret rule \(rule.id) does not compile: \(error)")
    }
  }

  /// Every keyword (line and file level), with the rules it triggers, indexed by its first two
  /// lowercase bytes so the pass over the text looks at one table entry per byte.
  struct KeywordTable {
    var keywords: [[UInt8]] = []
    /// For each keyword: the rules whose lines it marks.
    var lineRules: [[Int]] = []
    /// For each rule: its file keywords, as indices into `keywords`.
    var fileKeywords: [[Int]] = []
    /// For each rule: the literal its lines must hold, if any.
    var lineLiterals: [[UInt8]?] = []
    /// `starts[pair] ..< starts[pair + 1]` are the keywords (indices into `order`) starting with
    /// that pair of lowercase bytes.
    var starts = [Int32](repeating: 0, count: 65_537)
    var order: [Int32] = []
    var lower: [UInt8] = (0..<256).map { (byte: Int) -> UInt8 in
      let value = UInt8(byte)
      return value >= 0x41 && value <= 0x5A ? value + 0x20 : value
    }

    init() {
      var index: [String: Int] = [:]
      func add(_ word: String) -> Int {
        if let known = index[word] { return known }
        index[word] = keywords.count
        keywords.append(Array(word.utf8))
        lineRules.append([])
        return keywords.count - 1
      }
      for (ruleIndex, entry) in SecretScanner.compiled.enumerated() {
        for word in entry.rule.keywords { lineRules[add(word)].append(ruleIndex) }
        fileKeywords.append(entry.rule.fileKeywords.map(add))
        lineLiterals.append(entry.rule.lineMustContain.map { Array($0.utf8) })
      }
      let pairs = keywords.map { Int($0[0]) << 8 | Int($0[1]) }
      let sorted = keywords.indices.sorted { pairs[$0] < pairs[$1] }
      order = sorted.map(Int32.init)
      var cursor = 0
      for pair in 0...65_536 {
        starts[pair] = Int32(cursor)
        while cursor < sorted.count, pairs[sorted[cursor]] == pair { cursor += 1 }
      }
    }
  }

  static let table = KeywordTable()

  /// Findings in `text`, the allowed rules left out.
  static func scan(_ text: String, allowance: SecretAllowance = .none) -> [SecretFinding] {
    var text = text
    return text.withUTF8 { scan($0, allowance: allowance) }
  }

  static func scan(_ bytes: UnsafeBufferPointer<UInt8>, allowance: SecretAllowance) -> [SecretFinding] {
    if allowance.everything { return [] }
    let table = Self.table
    var found = [Bool](repeating: false, count: table.keywords.count)
    // (line start, line number, rule, keyword position) to try, in order of appearance; one per
    // rule and line (per kilobyte of a long line).
    var candidates: [(start: Int, line: Int, rule: Int, hit: Int)] = []
    struct Tried: Hashable { let line: Int, block: Int, rule: Int }
    var tried = Set<Tried>()
    let count = bytes.count
    table.lower.withUnsafeBufferPointer { lower in
      table.starts.withUnsafeBufferPointer { starts in
        var lineStart = 0
        var line = 1
        var index = 0
        while index + 1 < count {
          let byte = bytes[index]
          if byte == 0x0A {
            lineStart = index + 1
            line += 1
            index += 1
            continue
          }
          let pair = Int(lower[Int(byte)]) << 8 | Int(lower[Int(bytes[index + 1])])
          var slot = Int(starts[pair])
          let end = Int(starts[pair + 1])
          while slot < end {
            let keyword = Int(table.order[slot])
            let word = table.keywords[keyword]
            if index + word.count <= count {
              var offset = 2
              while offset < word.count, lower[Int(bytes[index + offset])] == word[offset] { offset += 1 }
              if offset == word.count {
                found[keyword] = true
                for rule in table.lineRules[keyword] where tried.insert(Tried(line: lineStart, block: index >> 10, rule: rule)).inserted {
                  candidates.append((lineStart, line, rule, index))
                }
              }
            }
            slot += 1
          }
          index += 1
        }
      }
    }

    var findings: [SecretFinding] = []
    func enabled(_ rule: Int) -> Bool {
      !allowance.allows(compiled[rule].rule.id) && table.fileKeywords[rule].allSatisfy { found[$0] }
    }
    for candidate in candidates {
      let entry = compiled[candidate.rule]
      guard enabled(candidate.rule) else { continue }
      var start = candidate.start
      var end = candidate.start
      var lines = 0
      while end < count {
        if bytes[end] == 0x0A {
          if lines == entry.rule.linesAfter { break }
          lines += 1
        }
        end += 1
      }
      // On a long line (minified or data), only the neighbourhood of the keyword.
      if end - start > 2048 {
        start = max(start, candidate.hit - 256)
        end = min(end, candidate.hit + 4096)
        while start > candidate.start, bytes[start] & 0xC0 == 0x80 { start -= 1 }  // whole UTF-8 sequences
        while end < count, bytes[end] & 0xC0 == 0x80 { end += 1 }
      }
      if entry.rule.minimumValueLength > 0,
        !hasAssignedValue(bytes, start..<end, length: entry.rule.minimumValueLength, digit: entry.rule.needsLetterAndDigit)
      {
        continue
      }
      if let literal = table.lineLiterals[candidate.rule], !contains(bytes, start..<end, literal) { continue }
      match(entry, bytes, start..<end, line: candidate.line, into: &findings)
    }
    for (index, entry) in compiled.enumerated() where entry.rule.context == .kubernetesSecretData && enabled(index) {
      kubernetesSecretData(entry, bytes, into: &findings)
    }
    // One finding per value: where rules overlap, the specific one names it, not the generic one.
    findings.sort { a, b in
      if a.range.lowerBound != b.range.lowerBound { return a.range.lowerBound < b.range.lowerBound }
      if (a.rule == genericRule) != (b.rule == genericRule) { return b.rule == genericRule }
      return a.range.count > b.range.count
    }
    var kept: [SecretFinding] = []
    for finding in findings {
      if let last = kept.last, finding.range.overlaps(last.range) {
        if last.rule == genericRule, finding.rule != genericRule { kept[kept.count - 1] = finding }
        continue
      }
      kept.append(finding)
    }
    return kept
  }

  private static let genericRule = "generic-secret"

  /// Whether `window` has `=` or `:` followed (after spaces and quotes) by `length` value
  /// characters in a row, with a digit among them when `digit`: the cheap test that spares most
  /// lines the generic rule's pattern.
  private static func hasAssignedValue(_ bytes: UnsafeBufferPointer<UInt8>, _ window: Range<Int>, length: Int, digit: Bool) -> Bool {
    var index = window.lowerBound
    while index < window.upperBound {
      let byte = bytes[index]
      index += 1
      guard byte == 0x3D || byte == 0x3A else { continue }
      while index < window.upperBound, [0x20, 0x09, 0x22, 0x27, 0x60, 0x3E, 0x3D].contains(bytes[index]) { index += 1 }
      var run = 0
      var sawDigit = false
      while index < window.upperBound, isValueByte(bytes[index]) {
        if bytes[index] >= 0x30 && bytes[index] <= 0x39 { sawDigit = true }
        run += 1
        index += 1
      }
      if run >= length && (sawDigit || !digit) { return true }
    }
    return false
  }

  /// A character of the generic rule's values: letters, digits and `+/=_.~!@#%^&*-`.
  private static func isValueByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2B, 0x2F, 0x3D, 0x5F, 0x2E, 0x7E, 0x21, 0x40, 0x23, 0x25, 0x5E, 0x26, 0x2A, 0x2D: true
    default: false
    }
  }

  private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ window: Range<Int>, _ literal: [UInt8]) -> Bool {
    guard let first = literal.first, window.count >= literal.count else { return false }
    var index = window.lowerBound
    while index <= window.upperBound - literal.count {
      if bytes[index] == first, literal.indices.allSatisfy({ bytes[index + $0] == literal[$0] }) { return true }
      index += 1
    }
    return false
  }

  /// Runs one rule's pattern on `window` and appends what passes its value checks.
  private static func match(
    _ entry: Compiled, _ bytes: UnsafeBufferPointer<UInt8>, _ window: Range<Int>, line: Int, into findings: inout [SecretFinding]
  ) {
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[window]), as: UTF8.self)
    let rule = entry.rule
    for result in entry.regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
      let nsRange = result.numberOfRanges > 1 && result.range(at: 1).location != NSNotFound ? result.range(at: 1) : result.range
      guard let range = Range(nsRange, in: text) else { continue }
      let value = text[range]
      if rule.entropy > 0, entropy(value.utf8) < rule.entropy { continue }
      if rule.needsLetterAndDigit, !(value.contains(where: \.isLetter) && value.contains(where: \.isNumber)) { continue }
      if let placeholder = entry.placeholder {
        let string = String(value)
        if placeholder.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil { continue }
      }
      let start = window.lowerBound + text.utf8.distance(from: text.startIndex, to: range.lowerBound)
      let length = value.utf8.count
      let newlines = text.utf8[text.startIndex..<range.lowerBound].reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
      findings.append(
        SecretFinding(rule: rule.id, kind: rule.description, effect: rule.effect, line: line + newlines, range: start..<start + length))
    }
  }

  /// The values under `data:` and `stringData:` in a YAML file whose `kind` is `Secret`.
  private static func kubernetesSecretData(_ entry: Compiled, _ bytes: UnsafeBufferPointer<UInt8>, into findings: inout [SecretFinding]) {
    var lines: [(start: Int, end: Int)] = []
    var start = 0
    for index in 0..<bytes.count where bytes[index] == 0x0A {
      lines.append((start, index))
      start = index + 1
    }
    if start < bytes.count { lines.append((start, bytes.count)) }
    func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
    func indent(_ line: (start: Int, end: Int)) -> Int {
      var cursor = line.start
      while cursor < line.end, bytes[cursor] == 0x20 || bytes[cursor] == 0x2D { cursor += 1 }  // "- " list items count as indent
      return cursor - line.start
    }
    // Only lines that start with `kind` (or `"kind"`) go to the pattern; most files have none.
    let isSecret = lines.contains { line in
      var cursor = line.start + indent(line)
      if cursor < line.end, bytes[cursor] == 0x22 || bytes[cursor] == 0x27 { cursor += 1 }
      guard line.end - cursor >= 10, bytes[cursor] == UInt8(ascii: "k"), bytes[cursor + 1] == UInt8(ascii: "i"),
        bytes[cursor + 2] == UInt8(ascii: "n"), bytes[cursor + 3] == UInt8(ascii: "d")
      else { return false }
      let string = text(line.start..<line.end)
      return entry.regex.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }
    guard isSecret else { return }
    var blockIndent: Int?
    for (number, line) in lines.enumerated() {
      let indentation = indent(line)
      let content = text(line.start + indentation..<line.end)
      let trimmed = content.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      if let block = blockIndent, indentation > block {
        // `key: value` → the value; a continuation line of a block value → all of it.
        var valueStart = line.start + indentation
        if let colon = content.firstIndex(of: ":"), content[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "_.-\"'".contains($0) }) {
          valueStart += content.utf8.distance(from: content.startIndex, to: colon) + 1
          while valueStart < line.end, bytes[valueStart] == 0x20 { valueStart += 1 }
        }
        var valueEnd = line.end
        while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x0D { valueEnd -= 1 }
        let value = text(valueStart..<valueEnd)
        if valueEnd > valueStart, !["|", "|-", "|+", ">", ">-", ">+", "\"\"", "''"].contains(value) {
          findings.append(
            SecretFinding(
              rule: entry.rule.id, kind: entry.rule.description, effect: entry.rule.effect, line: number + 1, range: valueStart..<valueEnd))
        }
        continue
      }
      blockIndent =
        (trimmed == "data:" || trimmed == "stringData:" || trimmed.hasPrefix("data: #") || trimmed.hasPrefix("stringData: #"))
        ? indentation : nil
    }
  }

  /// Shannon entropy in bits per byte.
  static func entropy<Bytes: Collection>(_ bytes: Bytes) -> Double where Bytes.Element == UInt8 {
    var counts = [Int](repeating: 0, count: 256)
    for byte in bytes { counts[Int(byte)] += 1 }
    let total = Double(bytes.count)
    guard total > 0 else { return 0 }
    return counts.reduce(0.0) { sum, count in
      guard count > 0 else { return sum }
      let p = Double(count) / total
      return sum - p * log2(p)
    }
  }

  /// `text` with every redactable finding's value replaced by `«redacted:<rule>»`, or the first
  /// finding that makes the whole file a secret.
  static func redact(_ text: String, allowance: SecretAllowance = .none) -> Result<(text: String, findings: [SecretFinding]), SecretFinding>
  {
    let findings = scan(text, allowance: allowance)
    if findings.isEmpty { return .success((text, [])) }
    if let whole = findings.first(where: { $0.effect == .skipFile }) { return .failure(whole) }
    var output: [UInt8] = []
    let utf8 = Array(text.utf8)
    output.reserveCapacity(utf8.count)
    var cursor = 0
    for finding in findings where finding.range.upperBound > cursor {
      let start = max(cursor, finding.range.lowerBound)
      output.append(contentsOf: utf8[cursor..<start])
      if start == finding.range.lowerBound { output.append(contentsOf: Array("«redacted:\(finding.rule)»".utf8)) }
      cursor = finding.range.upperBound
    }
    output.append(contentsOf: utf8[cursor...])
    return .success((String(decoding: output, as: UTF8.self), findings))
  }
}
