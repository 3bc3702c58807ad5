import Foundation

/// The built `git-rag` executable, next to the test bundle in the build folder.
public enum GitRAGBinary {
  public static var url: URL {
    var candidates: [URL] = []
    if let explicit = ProcessInfo.processInfo.environment["GIT_RAG_BINARY"] { candidates.append(URL(fileURLWithPath: explicit)) }
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    for _ in 0..<4 {
      candidates.append(dir.appendingPathComponent("git-rag"))
      dir = dir.deletingLastPathComponent()
    }
    candidates.append(TestServer.repositoryRoot.appendingPathComponent(".build/debug/git-rag"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
  }

  /// Runs `git-rag ARGS` in `directory` with `environment` (the isolated test environment).
  @discardableResult
  public static func run(_ arguments: [String], in directory: URL, environment: [String: String], input: Data? = nil) throws
    -> ProcessResult
  {
    try runProcess(url.path, arguments, in: directory, environment: environment, input: input, check: false)
  }
}
