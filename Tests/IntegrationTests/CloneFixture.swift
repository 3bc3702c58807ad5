import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store

/// Starts a test server off the cooperative pool (TestServer blocks until the port is known).
func startCloneServer(_ script: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> TestServer {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async {
      continuation.resume(with: Result { try TestServer(script: script, arguments: arguments, environment: environment) })
    }
  }
}

/// A source repository with a bare copy to serve, plus a work clone to push new commits from.
final class ServedRepository: @unchecked Sendable {
  // @unchecked: folders are fixed after init; git runs synchronously.
  let work: TemporaryGitRepository
  let root: TemporaryDirectory
  let relativePath: String
  var barePath: String { root.url.appendingPathComponent(relativePath).path }

  init(relativePath: String = "repo.git") throws {
    work = try TemporaryGitRepository()
    try work.commit(
      [
        "README.md": "# Served\n\nA repository served for clone tests.\n",
        "app/main.py": "import app.util\n\ndef main():\n    return app.util.value()\n",
        "app/util.py": "def value():\n    return 7\n",
      ], message: "first")
    root = try TemporaryDirectory(prefix: "git-rag-served")
    self.relativePath = relativePath
    try FileManager.default.createDirectory(
      at: root.url.appendingPathComponent(relativePath).deletingLastPathComponent(), withIntermediateDirectories: true)
    try work.git("clone", "-q", "--bare", work.path, barePath)
  }

  /// Commits `files` in the work repository and pushes them to the served copy.
  func push(_ files: [String: String], removing: [String] = []) throws {
    for path in removing { try work.git("rm", "-q", path) }
    try work.commit(files, message: "more")
    try work.git("push", "-q", barePath, "HEAD:main")
  }
}

/// A real sshd on 127.0.0.1 with a generated host key, serving `git-upload-pack` by path.
final class SSHTestServer: @unchecked Sendable {
  let state: TemporaryDirectory
  let server: TestServer
  /// The host key as `type base64`.
  let hostKey: String
  /// A key pair the server accepts.
  let clientKey: URL

  static func start() async throws -> SSHTestServer {
    let state = try TemporaryDirectory(prefix: "git-rag-sshd")
    try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", state.url.appendingPathComponent("host_ed25519").path])
    let clientKey = state.url.appendingPathComponent("client_ed25519")
    try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", clientKey.path])
    try FileManager.default.copyItem(at: clientKey.appendingPathExtension("pub"), to: state.url.appendingPathComponent("authorized_keys"))
    let server = try await startCloneServer("sshd_server.py", ["--state-dir", state.path])
    return try SSHTestServer(state: state, server: server, clientKey: clientKey)
  }

  private init(state: TemporaryDirectory, server: TestServer, clientKey: URL) throws {
    self.state = state
    self.server = server
    self.clientKey = clientKey
    let pub = try String(contentsOf: state.url.appendingPathComponent("host_ed25519.pub"), encoding: .utf8)
    hostKey = pub.split(separator: " ").prefix(2).joined(separator: " ")
  }

  var port: Int { server.port }
  var knownHostsLine: String { "[127.0.0.1]:\(port) \(hostKey)\n" }

  func url(_ repository: ServedRepository) -> String { "ssh://root@127.0.0.1:\(port)\(repository.barePath)" }

  /// A home folder with `.ssh/known_hosts` (unless nil) and the given private keys as `id_*`.
  func home(knownHosts: String?, keys: [String: URL] = [:]) throws -> TemporaryDirectory {
    let home = try TemporaryDirectory(prefix: "git-rag-sshhome")
    let ssh = home.url.appendingPathComponent(".ssh")
    try FileManager.default.createDirectory(at: ssh, withIntermediateDirectories: true)
    if let knownHosts { try home.write(".ssh/known_hosts", knownHosts) }
    for (name, key) in keys {
      try FileManager.default.copyItem(at: key, to: ssh.appendingPathComponent(name))
      try FileManager.default.copyItem(at: key.appendingPathExtension("pub"), to: ssh.appendingPathComponent(name + ".pub"))
    }
    return home
  }

  deinit { server.stop() }
}

/// A store and an engine without embeddings, and a way to upload a repository into it.
struct CloneBench {
  let folder: TemporaryDirectory
  let store: SQLiteStore

  init() throws {
    folder = try TemporaryDirectory(prefix: "git-rag-clone-store")
    store = SQLiteStore(directory: folder.url)
  }

  func engine(_ collection: String) -> SyncEngine {
    var options = SyncOptions(collection: collection)
    options.maxFileSize = 4096
    return SyncEngine(store: store, embedder: NoEmbedder(), cache: nil, options: options)
  }

  @discardableResult
  func upload(
    _ url: String, home: URL, environment: [String: String] = [:], collection: String = "c",
    acceptNewHostKey: Bool = false, depth: Int? = nil, keepCloneAt: URL? = nil, notes: NoteLog? = nil
  ) async throws -> SyncReport {
    var clone = CloneOptions(home: home, environment: environment)
    clone.acceptNewHostKey = acceptNewHostKey
    if let notes { clone.onNote = { notes.append($0) } }
    var upload = RemoteRepositoryUpload(location: try CloneLocation.parse(url), clone: clone)
    upload.depth = depth
    upload.keepCloneAt = keepCloneAt
    return try await upload.run(engine: engine(collection))
  }

  /// The clone error `body` throws, or nil (recorded by the caller as a failure).
  func cloneError(_ body: () async throws -> Void) async -> CloneError? {
    do {
      try await body()
      return nil
    } catch let error as CloneError {
      return error
    } catch {
      return .failed(url: "unexpected", detail: "\(error)")
    }
  }
}

final class NoteLog: Sendable {
  private let lines = Locked<[String]>([])
  func append(_ line: String) { lines.withLock { $0.append(line) } }
  var all: [String] { lines.withLock { $0 } }
}

/// A TCP port on 127.0.0.1 that nothing listens on.
func closedPort() throws -> Int {
  let script = "import socket\ns=socket.socket()\ns.bind(('127.0.0.1',0))\nprint(s.getsockname()[1])\ns.close()"
  return Int(try runProcess("python3", ["-c", script]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1
}

/// Every file under `folder` (recursively) whose bytes contain `needle`.
func filesContaining(_ needle: String, under folder: URL) -> [String] {
  guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
  let bytes = Data(needle.utf8)
  var hits: [String] = []
  for case let url as URL in enumerator {
    if let data = try? Data(contentsOf: url), data.range(of: bytes) != nil { hits.append(url.path) }
  }
  return hits
}
