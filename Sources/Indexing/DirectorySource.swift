import Chunking
import Foundation
import Git
import GitRAGCore

/// A plain folder (not a git repository): every file under it except `.git` and what its
/// `.gitignore` files exclude, hashed as git blobs so the store's inventory can be reconciled.
public final class DirectorySource: ContentSource {
  public let root: URL
  public var revision: String? { nil }
  public var identity: String { root.path }
  private var cached: [SourceFile]?

  /// Refuses a path that does not exist or is not a folder.
  public init(root: URL) throws {
    let root = root.standardizedFileURL.resolvingSymlinksInPath()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory) else {
      throw GitRAGError("Folder not found: \(root.path). Check the path.")
    }
    guard isDirectory.boolValue else {
      throw GitRAGError("\(root.path) is a file, not a folder. Use `git rag upload file \(root.path)` for a single file.")
    }
    self.root = root
  }

  public func files() throws -> [SourceFile] {
    if let cached { return cached }
    var result: [SourceFile] = []
    try walk(root, relative: "", rules: [], into: &result)
    result.sort { $0.path < $1.path }
    cached = result
    return result
  }

  /// Ignore rules in scope, each with the folder (relative to the root) its `.gitignore` is in.
  private typealias ScopedRules = [(base: String, rules: IgnoreRules)]

  private func walk(_ directory: URL, relative: String, rules: ScopedRules, into result: inout [SourceFile]) throws {
    var rules = rules
    let ignoreFile = directory.appendingPathComponent(".gitignore")
    if let text = try? String(contentsOf: ignoreFile, encoding: .utf8) { rules.append((relative, IgnoreRules(text))) }
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    for name in names where name != ".git" {
      let url = directory.appendingPathComponent(name)
      let path = relative.isEmpty ? name : relative + "/" + name
      let values = try url.resourceValues(forKeys: [.isDirectoryKey, .isSymbolicLinkKey, .isRegularFileKey, .isExecutableKey])
      let isSymlink = values.isSymbolicLink ?? false
      let isDirectory = !isSymlink && (values.isDirectory ?? false)
      if Self.ignored(path, isDirectory: isDirectory, rules: rules) { continue }
      if isDirectory {
        try walk(url, relative: path, rules: rules, into: &result)
      } else if isSymlink {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: url.path)) ?? ""
        result.append(SourceFile(path: path, hash: GitBlob.id(of: Data(target.utf8)).hex, kind: .symlink))
      } else if values.isRegularFile ?? false {
        let kind: FileKind = (values.isExecutable ?? false) ? .executable : .regular
        result.append(SourceFile(path: path, hash: try GitBlob.id(ofFileAt: url).hex, kind: kind))
      }
    }
  }

  /// The last decision of the deepest rules that decide; a parent `.gitignore` applies below it.
  private static func ignored(_ path: String, isDirectory: Bool, rules: ScopedRules) -> Bool {
    var ignored = false
    for (base, set) in rules {
      let local = base.isEmpty ? path : String(path.dropFirst(base.count + 1))
      if let decision = set.decision(for: local, isDirectory: isDirectory) { ignored = decision }
    }
    return ignored
  }

  public func size(of file: SourceFile) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(file.path).path)
    return (attributes[.size] as? NSNumber)?.intValue ?? 0
  }

  public func read(_ file: SourceFile) throws -> Data {
    try Data(contentsOf: root.appendingPathComponent(file.path))
  }

  public func ragAttribute(_ path: String) -> RagAttribute { .unspecified }
}
