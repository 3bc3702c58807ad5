import Foundation
import Git
import GitRAGTestSupport

/// libgit2's global configuration for this test process: one temporary home, set once before any
/// repository is opened (libgit2 does not lock its search paths), so no test reads the user's ~/.gitconfig.
let libgit2Home: TemporaryDirectory = {
  let home = try! TemporaryDirectory(prefix: "git-rag-libgit2-home")
  try! GitConfig.setSearchHome(home.url)
  return home
}()

/// A fresh repository made by the real git, with libgit2 isolated from the user's configuration.
func makeRepository(branch: String = "main") throws -> TemporaryGitRepository {
  _ = libgit2Home
  return try TemporaryGitRepository(branch: branch)
}

/// The repository opened with libgit2.
func open(_ repository: TemporaryGitRepository) throws -> Repository {
  _ = libgit2Home
  return try Repository(path: repository.url)
}

/// The canonical form of a path for comparisons: symlinks resolved, no trailing slash.
func canonical(_ url: URL?) -> String? {
  guard let url else { return nil }
  let path = url.resolvingSymlinksInPath().standardizedFileURL.path
  return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
}

func oid(_ hex: String) throws -> ObjectID {
  guard let id = ObjectID(hex: hex) else { throw TestFailure("not an object id: \(hex)") }
  return id
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension TemporaryGitRepository {
  /// Runs git with raw bytes on stdin and returns its trimmed stdout.
  func git(_ arguments: [String], input: Data) throws -> String {
    try runProcess("git", arguments, in: url, environment: environment, input: input)
      .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// `git hash-object --stdin` of `data`, without writing it.
  func hashObject(_ data: Data) throws -> String {
    try git(["hash-object", "--stdin"], input: data)
  }

  /// Creates a symbolic link at `path` pointing to `target`.
  func symlink(_ path: String, to target: String) throws {
    let link = url.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
  }

  /// `git mv`, creating the destination folder first.
  func move(_ source: String, to destination: String) throws {
    let folder = url.appendingPathComponent(destination).deletingLastPathComponent()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try git("mv", source, destination)
  }
}
