/// Names a file's language from its extension, its file name, or its shebang line, as
/// `LanguageRegistry` lists them.
public enum LanguageDetector {
  /// The language of the file at `path` (e.g. `python`, `markdown`, `cpp`), `text` when unknown.
  public static func language(path: String, firstLine: Substring?) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    if let language = fileNames[name] ?? fileNames[name.lowercased()] { return language }
    let lower = name.lowercased()
    if lower.hasPrefix("dockerfile") || lower.hasPrefix("containerfile") || lower.hasSuffix(".dockerfile") { return "dockerfile" }
    if let dot = lower.lastIndex(of: "."), dot != lower.startIndex {
      let ext = String(lower[lower.index(after: dot)...])
      if let language = extensions[ext] { return language }
    }
    if let firstLine, firstLine.hasPrefix("#!") { return shebang(firstLine) ?? "text" }
    return "text"
  }

  private static func shebang(_ line: Substring) -> String? {
    // `#!/usr/bin/env -S python3 -u` names the interpreter after env and its options.
    let words = line.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" })
    var interpreter = words.first.map { $0.split(separator: "/").last.map(String.init) ?? "" } ?? ""
    if interpreter == "env" {
      interpreter = words.dropFirst().first(where: { !$0.hasPrefix("-") && !$0.contains("=") }).map(String.init) ?? ""
    }
    return LanguageRegistry.byInterpreter[String(interpreter.prefix(while: { $0.isLetter }))]
  }

  private static let fileNames = LanguageRegistry.byFileName
  private static let extensions = LanguageRegistry.byExtension
}
