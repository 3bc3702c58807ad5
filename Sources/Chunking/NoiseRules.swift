/// Machine-written text that fills an index without answering questions: translation catalogs,
/// vector images, large data files, test snapshots and recorded sessions. Judged from the path
/// and size alone, before a byte is read; the `rag` attribute forces such a file in.
enum NoiseRules {
  /// Data files at or below this size are kept: a small table is often a readable fixture.
  static let dataFileLimit = 64 * 1024

  /// Translation catalogs: one entry per message of the program, in every language.
  static let translationExtensions: Set<String> = ["po", "pot", "xlf", "xliff"]
  /// Tabular and line-record data.
  static let dataExtensions: Set<String> = ["csv", "tsv", "jsonl", "ndjson"]
  /// Test snapshots (Jest, syrupy) and recorded sessions (HTTP archives, terminal casts).
  static let recordingExtensions: [String: String] = [
    "snap": "test snapshot", "ambr": "test snapshot", "har": "HTTP recording", "cast": "terminal recording",
  ]
  /// Folders that hold only snapshots or recorded HTTP exchanges (VCR cassettes).
  static let recordingFolders: [String: String] = [
    "__snapshots__": "test snapshot", "cassettes": "HTTP recording",
  ]

  /// Why `path` (of `size` bytes) is machine-written noise, or nil.
  static func reason(path: String, size: Int) -> String? {
    let components = path.split(separator: "/")
    guard let name = components.last?.lowercased() else { return nil }
    for folder in components.dropLast() {
      if let what = recordingFolders[folder.lowercased()] { return "\(what) (under \(folder)/)" }
    }
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
    let ext = String(name[name.index(after: dot)...])
    if translationExtensions.contains(ext) { return "translation catalog (.\(ext))" }
    if ext == "svg" { return "vector image (.svg)" }
    if let what = recordingExtensions[ext] { return "\(what) (.\(ext))" }
    if dataExtensions.contains(ext), size > dataFileLimit {
      return "data file (.\(ext), \(size) bytes, above \(dataFileLimit))"
    }
    return nil
  }
}
