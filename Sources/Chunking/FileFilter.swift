import Foundation

/// What a tree entry is, as far as indexing cares.
public enum FileKind: Sendable, Hashable {
  case regular, executable, symlink, submodule
}

/// The `rag` attribute of a path in `.gitattributes`: `rag` forces a file in, `-rag` keeps it out.
public enum RagAttribute: Sendable, Hashable {
  case unspecified, forceInclude, exclude
}

/// Why a file is not indexed.
public enum SkipReason: Error, Sendable, Hashable, CustomStringConvertible {
  case binary
  case tooLarge(size: Int, limit: Int)
  case lfsPointer
  case submodule
  case symlink
  /// Minified, vendored, lock or generated file; the text says which.
  case generated(String)
  case excludedByAttribute
  /// A file whose name says it holds secrets; the text names the kind, never the content.
  case secretName(String)
  /// A file containing something that looks like a secret; the text names the kind and line.
  case secretContent(String)

  /// A short reason for `--verbose`, e.g. `secret: AWS access key id on line 3`.
  public var description: String {
    switch self {
    case .binary: "binary"
    case .tooLarge(let size, let limit): "too large: \(size) bytes, limit \(limit)"
    case .lfsPointer: "Git LFS pointer"
    case .submodule: "submodule"
    case .symlink: "symlink"
    case .generated(let what): "generated: \(what)"
    case .excludedByAttribute: "excluded by the -rag attribute"
    case .secretName(let what): "secret: \(what)"
    case .secretContent(let what): "secret: \(what)"
    }
  }

  /// True for secrets, which no attribute can force into the index.
  public var isSecret: Bool {
    switch self {
    case .secretName, .secretContent: true
    default: false
    }
  }
}

/// Decides which files are indexed: cheap checks on the path first, then on the bytes.
///
/// The `rag` attribute forces in files that are only skipped as generated, vendored or too large;
/// secrets, binaries, LFS pointers, symlinks and submodules stay out whatever it says.
public struct FileFilter: Sendable {
  /// Changes whenever the built-in rules let other files in or out; stored in collection metadata
  /// so that the next sync re-checks every file.
  public static let version = "filter-1"

  /// Largest file indexed, in bytes (unless forced in by the `rag` attribute).
  public var maxFileSize: Int

  public init(maxFileSize: Int = 1 << 20) {
    self.maxFileSize = maxFileSize
  }

  /// Cheap checks before reading content: kind, size, path patterns, secret file names, forced
  /// include/exclude via the `rag` attribute.
  public func precheck(
    path: String, kind: FileKind, size: Int, attribute: RagAttribute, allowance: SecretAllowance = .none
  ) -> SkipReason? {
    switch kind {
    case .submodule: return .submodule
    case .symlink: return .symlink
    case .regular, .executable: break
    }
    if let rule = PathRules.secretName(path, allowance: allowance), !rule.onlyWithCredentials {
      return .secretName("\(rule.description) (rule \(rule.id))")
    }
    if attribute == .exclude { return .excludedByAttribute }
    if attribute == .forceInclude { return nil }
    if size > maxFileSize { return .tooLarge(size: size, limit: maxFileSize) }
    if let generated = PathRules.generated(path) { return .generated(generated) }
    if let noise = NoiseRules.reason(path: path, size: size) { return .generated(noise) }
    return nil
  }

  /// Content checks on the bytes: binary (NUL in first 8 KiB), Git LFS pointer, minified/generated
  /// (very long lines), secrets by content. Returns the decoded text (lossy UTF-8, a UTF-8 BOM
  /// stripped) with every secret value replaced by `«redacted:<rule>»`, or the reason.
  public func inspect(path: String, data: Data, attribute: RagAttribute, allowance: SecretAllowance = .none) -> Result<String, SkipReason> {
    inspectGated(path: path, data: data, attribute: attribute, allowance: allowance).map(\.text)
  }

  /// The gate every reader of file content goes through: `precheck`, then (only if it passes)
  /// `read` and the content checks. A file skipped here is never read by anything else; what
  /// passes is already redacted.
  public func admit(
    path: String, kind: FileKind, size: Int, attribute: RagAttribute, allowance: SecretAllowance = .none, read: () throws -> Data
  ) rethrows -> Result<GatedText, SkipReason> {
    if let reason = precheck(path: path, kind: kind, size: size, attribute: attribute, allowance: allowance) { return .failure(reason) }
    return inspectGated(path: path, data: try read(), attribute: attribute, allowance: allowance)
  }

  private func inspectGated(path: String, data: Data, attribute: RagAttribute, allowance: SecretAllowance) -> Result<GatedText, SkipReason>
  {
    let bytes = [UInt8](data)
    if ContentRules.isLFSPointer(bytes) { return .failure(.lfsPointer) }
    if bytes.prefix(8192).contains(0) { return .failure(.binary) }
    if let rule = PathRules.secretName(path, allowance: allowance), rule.onlyWithCredentials,
      let line = ContentRules.credentialsLine(bytes)
    {
      return .failure(.secretContent("\(rule.description) on line \(line) (rule \(rule.id))"))
    }
    if attribute != .forceInclude {
      if bytes.count > maxFileSize { return .failure(.tooLarge(size: bytes.count, limit: maxFileSize)) }
      // Prose written one paragraph per line is not minified: the heuristics are for code and data.
      if !PathRules.isProse(path), let generated = ContentRules.generated(bytes) { return .failure(.generated(generated)) }
    }
    let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes[3...] : bytes[...]
    switch SecretScanner.redact(String(decoding: body, as: UTF8.self), allowance: allowance) {
    case .failure(let finding): return .failure(.secretContent(finding.description))
    case .success(let redacted): return .success(GatedText(text: redacted.text, redactions: redacted.findings))
    }
  }
}

/// A file's text as the gate passed it: secret values replaced by `«redacted:<rule>»`.
public struct GatedText: Sendable, Hashable {
  public var text: String
  /// What was replaced (rule and line; never the value).
  public var redactions: [SecretFinding]

  public init(text: String, redactions: [SecretFinding] = []) {
    self.text = text
    self.redactions = redactions
  }
}

/// Rules on paths alone.
enum PathRules {
  static let lockFiles: Set<String> = [
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "Cargo.lock", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "Package.resolved", "go.sum", "Gemfile.lock", "composer.lock", "flake.lock",
    "mix.lock", "pubspec.lock", "Podfile.lock", "packages.lock.json", "gradle.lockfile", "conan.lock",
  ]
  static let vendorDirectories: Set<String> = ["node_modules", "vendor", "dist", "bower_components"]

  /// Why `path` looks generated or vendored, or nil.
  static func generated(_ path: String) -> String? {
    let components = path.split(separator: "/")
    guard let name = components.last.map(String.init) else { return nil }
    for directory in components.dropLast() where vendorDirectories.contains(String(directory)) {
      return "under \(directory)/"
    }
    if lockFiles.contains(name) { return "lock file" }
    let lower = name.lowercased()
    for suffix in [".min.js", ".min.mjs", ".min.css", "-min.js", ".js.map", ".css.map", ".pb.go", "_pb2.py", ".g.dart", ".designer.cs"]
    where lower.hasSuffix(suffix) {
      return suffix.hasSuffix(".map") ? "source map" : (suffix.contains("min") ? "minified file" : "generated code")
    }
    return nil
  }

  static let proseExtensions: Set<String> = ["md", "markdown", "mdx", "mkd", "rst", "rest", "adoc", "asciidoc", "asc", "txt", "text"]

  /// True for Markdown, reStructuredText, AsciiDoc and plain text (also extension-less names such
  /// as `README`, `LICENSE`, `CHANGELOG`), which are written by people whatever their line lengths.
  static func isProse(_ path: String) -> Bool {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
      return !name.isEmpty && name.allSatisfy { $0.isUppercase || $0 == "_" || $0 == "-" }
    }
    return proseExtensions.contains(name[name.index(after: dot)...].lowercased())
  }

  /// The name rule a path matches, unless allowed; nil for an ordinary name.
  static func secretName(_ path: String, allowance: SecretAllowance = .none) -> SecretNameRule? {
    guard !allowance.everything else { return nil }
    let lowerPath = path.lowercased()
    let name = lowerPath.split(separator: "/").last.map(String.init) ?? lowerPath
    for rule in SecretRules.names where !allowance.allows(rule.id) {
      func matches(_ glob: String) -> Bool {
        glob.contains("/") ? Glob.matches(glob, lowerPath) || Glob.matches(glob, "/" + lowerPath) : Glob.matches(glob, name)
      }
      if rule.names.contains(where: matches), !rule.except.contains(where: matches) { return rule }
    }
    return nil
  }
}

/// File-name globs: `*` matches any run of characters.
enum Glob {
  static func matches(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.utf8)
    let t = Array(text.utf8)
    var pi = 0, ti = 0, star = -1, mark = 0
    while ti < t.count {
      if pi < p.count, p[pi] == UInt8(ascii: "*") {
        star = pi
        mark = ti
        pi += 1
      } else if pi < p.count, p[pi] == t[ti] {
        pi += 1
        ti += 1
      } else if star >= 0 {
        pi = star + 1
        mark += 1
        ti = mark
      } else {
        return false
      }
    }
    while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
  }
}

/// Rules on bytes other than secret patterns.
enum ContentRules {
  static func isLFSPointer(_ bytes: [UInt8]) -> Bool {
    bytes.count < 1024 && bytes.starts(with: Array("version https://git-lfs.github.com/spec/v1".utf8))
  }

  /// Why the content looks minified or generated, or nil.
  static func generated(_ bytes: [UInt8]) -> String? {
    var longest = 0
    var lineStart = 0
    var lines = 0
    bytes.withUnsafeBufferPointer { buffer in
      for index in 0..<buffer.count where buffer[index] == 0x0A {
        longest = max(longest, index - lineStart)
        lineStart = index + 1
        lines += 1
      }
    }
    longest = max(longest, bytes.count - lineStart)
    if lineStart < bytes.count { lines += 1 }
    if longest > 10_000 { return "minified (a line of \(longest) bytes)" }
    if bytes.count > 4096, lines > 0, bytes.count / lines > 500 { return "minified (\(bytes.count / lines) bytes per line on average)" }
    // `// Code generated … DO NOT EDIT.` (Go) and `@generated` markers in the first lines.
    var head = bytes.prefix(1024)
    if let fifthBreak = head.indices.lazy.filter({ head[$0] == 0x0A }).dropFirst(4).first { head = head[..<fifthBreak] }
    if contains(head, "Code generated"), contains(head, "DO NOT EDIT") { return "marked generated" }
    if contains(head, "@generated") { return "marked generated" }
    return nil
  }

  private static func contains(_ bytes: ArraySlice<UInt8>, _ literal: String) -> Bool {
    let needle = Array(literal.utf8)
    guard bytes.count >= needle.count else { return false }
    var index = bytes.startIndex
    while index <= bytes.endIndex - needle.count {
      if bytes[index] == needle[0], bytes[index..<index + needle.count].elementsEqual(needle) { return true }
      index += 1
    }
    return false
  }

  /// The first line of a registry or login file (`.npmrc`, `.pypirc`, `.netrc`) that holds a
  /// credential, or nil; such files are fine to index without one.
  static func credentialsLine(_ bytes: [UInt8]) -> Int? {
    let text = String(decoding: bytes, as: UTF8.self)
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let lower = line.lowercased()
      for word in ["_auth", "password", "passwd", "token", "secret"] {
        guard let found = lower.range(of: word) else { continue }
        // Something other than spaces after the word: a value (or, in .netrc, the next field).
        if lower[found.upperBound...].contains(where: { !" \t=:\"'".contains($0) }) { return number + 1 }
      }
    }
    return nil
  }
}
