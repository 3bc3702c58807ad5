import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Indexing
import Store
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

@Suite struct CloneLocationTests {
  @Test func urlFormsAreRecognised() throws {
    #expect(try CloneLocation.parse("git@github.com:owner/repo.git").transport == .ssh)
    #expect(try CloneLocation.parse("git@github.com:owner/repo.git").user == "git")
    let ssh = try CloneLocation.parse("ssh://git@example.com:2222/owner/repo.git")
    #expect(ssh.transport == .ssh && ssh.port == 2222 && ssh.host == "example.com" && ssh.knownHostsName == "[example.com]:2222")
    #expect(try CloneLocation.parse("https://github.com/owner/repo").transport == .https)
    #expect(try CloneLocation.parse("http://127.0.0.1:8080/x.git").transport == .http)
    let dir = try TemporaryDirectory()
    #expect(try CloneLocation.parse(dir.path).transport == .local)
    #expect(try CloneLocation.parse("file://" + dir.path).url == dir.url.standardizedFileURL.path)
  }

  @Test func transportTricksOptionsAndEmbeddedCredentialsAreRefused() {
    func refused(_ url: String) -> CloneError? {
      do { _ = try CloneLocation.parse(url); return nil } catch { return error }
    }
    #expect(refused("ext::sh -c touch% /tmp/pwned") == .transportRefused("ext"))
    #expect(refused("fd::17") == .transportRefused("fd"))
    #expect(refused("foo::bar") == .transportRefused("foo"))
    #expect(refused("--upload-pack=touch /tmp/x") == .optionLike("--upload-pack=touch /tmp/x"))
    #expect(refused("-oProxyCommand=x:repo") == .optionLike("-oProxyCommand=x:repo"))
    #expect(refused("ssh://-oProxyCommand=x/repo") == .optionLike("ssh://-oProxyCommand=x/repo"))
    #expect(refused("https://user:ghp_secret@github.com/o/r.git") == .credentialsInURL("https://github.com/o/r.git"))
    #expect(refused("https://ghp_secret@github.com/o/r.git") == .credentialsInURL("https://github.com/o/r.git"))
    #expect(refused("ftp://example.com/x.git") == .unsupportedURL("ftp://example.com/x.git"))
    #expect(refused("/definitely/not/here") == .localRepositoryMissing("/definitely/not/here"))
    let message = CloneError.credentialsInURL("https://github.com/o/r.git").errorDescription ?? ""
    #expect(message.contains("GITHUB_TOKEN") && !message.contains("ghp_secret"))
  }

  @Test func knownHostsMatchesHashedAndPortForms() throws {
    let home = try TemporaryDirectory()
    let key: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32] + (0..<32).map { UInt8($0) }
    let other: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32] + (0..<32).map { UInt8(255 - $0) }
    // A hashed entry as `ssh-keygen -H` writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
    let hashed = try runProcess(
      "python3",
      [
        "-c",
        """
        import base64, hmac, hashlib
        salt = bytes(range(20))
        print("|1|" + base64.b64encode(salt).decode() + "|" + base64.b64encode(hmac.new(salt, b"[git.example]:2222", hashlib.sha1).digest()).decode())
        """,
      ]
    ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try home.write(
      "known_hosts",
      """
      # comment
      \(hashed) ssh-ed25519 \(Data(key).base64EncodedString())
      plain.example,10.0.0.1 ssh-ed25519 \(Data(key).base64EncodedString())
      """)
    let known = KnownHosts(file: home.url.appendingPathComponent("known_hosts"))
    #expect(known.verdict(host: "git.example", port: 2222, key: key) == .match)
    #expect(known.verdict(host: "git.example", port: 22, key: key) == .unknown)
    #expect(known.verdict(host: "git.example", port: 2222, key: other) == .changed)
    #expect(known.verdict(host: "plain.example", port: 22, key: key) == .match)
    #expect(known.verdict(host: "10.0.0.1", port: 22, key: other) == .changed)
    #expect(KnownHosts.fingerprint(key).hasPrefix("SHA256:"))
  }

  @Test func passphraseProtectedKeysAreDetected() throws {
    let dir = try TemporaryDirectory()
    let plain = dir.url.appendingPathComponent("plain"), locked = dir.url.appendingPathComponent("locked")
    try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", plain.path])
    try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "s3cret-phrase", "-f", locked.path])
    #expect(!SSHKeyFinder.isEncrypted(plain))
    #expect(SSHKeyFinder.isEncrypted(locked))
    let pem = try dir.write(
      "pem", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")
    #expect(SSHKeyFinder.isEncrypted(pem))
  }

  @Test func sshConfigIdentityFilesComeFirst() throws {
    let home = try TemporaryDirectory()
    try home.write(".ssh/config", "Host other\n  IdentityFile ~/.ssh/nope\nHost git.example *.corp\n  IdentityFile ~/.ssh/work_key\n")
    try home.write(".ssh/work_key", "k")
    try home.write(".ssh/id_rsa", "k")
    try home.write(".ssh/id_ed25519", "k")
    let keys = SSHKeyFinder(home: home.url).keys(for: "git.example").map(\.lastPathComponent)
    #expect(keys == ["work_key", "id_ed25519", "id_rsa"])
  }
}

@Suite(.serialized) struct CloneSSHTests {
  @Test func sshClonesWithKeyFilesAndChecksHostKeys() async throws {
    let server = try await SSHTestServer.start()
    let repository = try ServedRepository()
    let bench = try CloneBench()
    let url = server.url(repository)

    // Key file in ~/.ssh and the host in known_hosts.
    let good = try server.home(knownHosts: server.knownHostsLine, keys: ["id_ed25519": server.clientKey])
    let report = try await bench.upload(url, home: good.url, collection: "ssh")
    #expect(report.mode == .full)
    #expect(Set(try await bench.store.inventory("ssh").keys).isSuperset(of: ["README.md", "app/main.py", ".rag_metadata/analysis.txt"]))
    let metadata = try await bench.store.metadata("ssh")
    #expect(metadata?.lastIndexedCommit == repository.work.head)
    #expect(metadata?.source == RemoteURL.redacted(url))

    // Unknown host: refused with the fingerprint and the ssh-keyscan command.
    let unknown = try server.home(knownHosts: nil, keys: ["id_ed25519": server.clientKey])
    let refused = await bench.cloneError { try await bench.upload(url, home: unknown.url) }
    guard case .unknownHostKey(_, let port, let fingerprint, _) = refused else { Issue.record("\(String(describing: refused))"); return }
    #expect(port == server.port)
    #expect(fingerprint.hasPrefix("SHA256:"))
    #expect(refused?.errorDescription?.contains("ssh-keyscan -p \(server.port) 127.0.0.1 >> ~/.ssh/known_hosts") == true)

    // --accept-new-host-key: accepted and recorded, then trusted.
    let notes = NoteLog()
    try await bench.upload(url, home: unknown.url, collection: "accepted", acceptNewHostKey: true, notes: notes)
    let recorded = try String(contentsOf: unknown.url.appendingPathComponent(".ssh/known_hosts"), encoding: .utf8)
    #expect(recorded.contains("[127.0.0.1]:\(server.port) \(server.hostKey)"))
    #expect(notes.all.contains { $0.contains("Added the host key") })
    try await bench.upload(url, home: unknown.url, collection: "accepted2")

    // Changed host key: refused even with --accept-new-host-key, known_hosts untouched.
    let impostor = try TemporaryDirectory()
    try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", impostor.url.appendingPathComponent("k").path])
    let impostorKey = try String(contentsOf: impostor.url.appendingPathComponent("k.pub"), encoding: .utf8).split(separator: " ").prefix(2)
      .joined(separator: " ")
    let changedLine = "[127.0.0.1]:\(server.port) \(impostorKey)\n"
    let changed = try server.home(knownHosts: changedLine, keys: ["id_ed25519": server.clientKey])
    let changedError = await bench.cloneError { try await bench.upload(url, home: changed.url, acceptNewHostKey: true) }
    guard case .changedHostKey = changedError else { Issue.record("\(String(describing: changedError))"); return }
    #expect(try String(contentsOf: changed.url.appendingPathComponent(".ssh/known_hosts"), encoding: .utf8) == changedLine)
  }

  @Test func missingWrongAndPassphraseKeysGiveTheSeedMessages() async throws {
    let server = try await SSHTestServer.start()
    let repository = try ServedRepository()
    let bench = try CloneBench()
    let url = server.url(repository)

    let empty = try server.home(knownHosts: server.knownHostsLine)
    let none = await bench.cloneError { try await bench.upload(url, home: empty.url) }
    #expect(none == .noSSHKeys(skipped: []))
    #expect(
      none?.errorDescription
        == "No SSH keys found in ~/.ssh. Mount a key or run ssh-keygen -t ed25519, then add the public key to the provider.")

    let keys = try TemporaryDirectory()
    let wrong = keys.url.appendingPathComponent("wrong"), locked = keys.url.appendingPathComponent("locked")
    try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrong.path])
    try runProcess("ssh-keygen", ["-q", "-t", "ecdsa", "-N", "phrase-123", "-f", locked.path])
    let home = try server.home(knownHosts: server.knownHostsLine, keys: ["id_ed25519": wrong, "id_ecdsa": locked])
    let notes = NoteLog()
    let rejected = await bench.cloneError { try await bench.upload(url, home: home.url, notes: notes) }
    #expect(rejected == .sshKeysRejected(host: "127.0.0.1", tried: ["id_ed25519"], skipped: ["id_ecdsa"]))
    #expect(rejected?.errorDescription?.hasPrefix("All SSH keys were rejected by 127.0.0.1 (tried: id_ed25519") == true)
    #expect(notes.all.contains { $0.contains("passphrase-protected") && $0.contains("id_ecdsa") })
  }

  @Test func sshAgentKeysAreUsedFirst() async throws {
    let server = try await SSHTestServer.start()
    let repository = try ServedRepository()
    let agentFolder = try TemporaryDirectory(prefix: "git-rag-agent")
    let socket = agentFolder.url.appendingPathComponent("agent.sock").path
    // ssh-agent -D stays in the foreground so the test owns (and stops) exactly this process.
    let agent = Process()
    agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
    agent.arguments = ["-D", "-a", socket]
    agent.standardOutput = FileHandle.nullDevice
    try agent.run()
    // Children of the test process may inherit a blocked SIGTERM; SIGKILL cannot be blocked.
    // Not waitUntilExit: Foundation can miss a child's exit; the killed agent is reaped with the test process.
    defer { kill(agent.processIdentifier, SIGKILL) }
    for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(20)) }
    var env = ProcessInfo.processInfo.environment
    env["SSH_AUTH_SOCK"] = socket
    try runProcess("ssh-add", ["-q", server.clientKey.path], environment: env)

    // No key files at all: only the agent can log in. libssh2 reads SSH_AUTH_SOCK from the process
    // environment, so this runs the binary.
    let home = try server.home(knownHosts: server.knownHostsLine)
    let work = try TemporaryDirectory()
    var binaryEnv = TemporaryGitRepository.isolatedEnvironment(home: home.path)
    binaryEnv["SSH_AUTH_SOCK"] = socket
    binaryEnv["XDG_DATA_HOME"] = work.path + "/data"
    binaryEnv["GIT_RAG_NO_CACHE"] = "1"
    let result = try GitRAGBinary.run(
      ["upload", "repo", server.url(repository), "agent", "--embedder", "none"], in: work.url, environment: binaryEnv)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("Synced agent"))
  }
}

@Suite(.serialized) struct CloneHTTPTests {
  static let token = "test-token-\(UUID().uuidString)"

  @Test func anonymousTokenMissingAndWrongTokenClones() async throws {
    let publicRepo = try ServedRepository(relativePath: "pub.git")
    let privateRepo = try ServedRepository(relativePath: "private/sec.git")
    // Both repositories live under one root, as the server expects.
    let root = try TemporaryDirectory(prefix: "git-rag-http-root")
    try FileManager.default.createDirectory(at: root.url.appendingPathComponent("private"), withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: publicRepo.barePath, toPath: root.url.appendingPathComponent("pub.git").path)
    try FileManager.default.copyItem(atPath: privateRepo.barePath, toPath: root.url.appendingPathComponent("private/sec.git").path)
    let server = try await startCloneServer("git_http_server.py", ["--root", root.path], environment: ["GIT_HTTP_TEST_TOKEN": Self.token])
    defer { server.stop() }
    let bench = try CloneBench()
    let home = try TemporaryDirectory()
    let base = server.baseURL

    let anonymous = try await bench.upload("\(base)/pub.git", home: home.url, collection: "pub")
    #expect(anonymous.mode == .full)

    let missing = await bench.cloneError { try await bench.upload("\(base)/private/sec.git", home: home.url) }
    #expect(missing == .tokenMissing(host: "127.0.0.1"))

    let wrong = await bench.cloneError {
      try await bench.upload("\(base)/private/sec.git", home: home.url, environment: ["GIT_RAG_TOKEN": "not-the-token"])
    }
    #expect(wrong == .tokenRejected(host: "127.0.0.1"))
    #expect(wrong?.errorDescription == "Token rejected by 127.0.0.1. Check its expiry and repository scope.")

    // The right token: cloned; the token is in no file of the clone, no payload, no metadata.
    let kept = try TemporaryDirectory(prefix: "git-rag-kept")
    let notes = NoteLog()
    try await bench.upload(
      "\(base)/private/sec.git", home: home.url, environment: ["GIT_RAG_TOKEN": Self.token, "GIT_RAG_TOKEN_USER": "robot"],
      collection: "private", keepCloneAt: kept.url, notes: notes)
    #expect(FileManager.default.fileExists(atPath: kept.url.appendingPathComponent("repo/config").path))
    #expect(filesContaining(Self.token, under: kept.url).isEmpty)
    let paths = Array(try await bench.store.inventory("private").keys)
    #expect(paths.contains("README.md"))
    let points = try await bench.store.points("private", filePaths: paths)
    #expect(!points.contains { $0.payload.content.contains(Self.token) || $0.payload.filePath.contains(Self.token) })
    #expect(try await bench.store.metadata("private")?.source == "\(base)/private/sec.git")
    #expect(filesContaining(Self.token, under: bench.folder.url).isEmpty)
    #expect(!notes.all.contains { $0.contains(Self.token) })
    // The server saw the configured user name with the token.
    let (stats, _) = try await URLSession.shared.data(from: URL(string: "\(base)/_stats")!)
    #expect(String(decoding: stats, as: UTF8.self).contains("robot"))

    // Through the binary: the token appears in neither stdout nor stderr.
    let work = try TemporaryDirectory()
    var env = TemporaryGitRepository.isolatedEnvironment(home: home.path)
    env["GIT_RAG_TOKEN"] = Self.token
    env["XDG_DATA_HOME"] = work.path + "/data"
    env["GIT_RAG_NO_CACHE"] = "1"
    let result = try GitRAGBinary.run(
      ["upload", "repo", "\(base)/private/sec.git", "bin", "--embedder", "none", "--verbose"], in: work.url, environment: env)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!result.stdout.contains(Self.token) && !result.stderr.contains(Self.token))
    #expect(result.stderr.contains("unencrypted"))
    #expect(filesContaining(Self.token, under: work.url).isEmpty)

    let notFound = await bench.cloneError { try await bench.upload("\(base)/nothing.git", home: home.url) }
    #expect(notFound == .repositoryNotFound(url: "\(base)/nothing.git"))
  }

  @Test func unreachableHostsFailFast() async throws {
    let bench = try CloneBench()
    let home = try TemporaryDirectory()
    let port = try closedPort()
    let start = ContinuousClock.now
    let error = await bench.cloneError { try await bench.upload("https://127.0.0.1:\(port)/x.git", home: home.url) }
    guard case .unreachable(let host, _) = error else { Issue.record("\(String(describing: error))"); return }
    #expect(host == "127.0.0.1:\(port)")
    #expect(ContinuousClock.now - start < .seconds(5))
    let unresolved = await bench.cloneError { try await bench.upload("https://no-such-host.invalid/x.git", home: home.url) }
    guard case .hostNotFound = unresolved else { Issue.record("\(String(describing: unresolved))"); return }
  }
}

@Suite struct CloneIncrementalTests {
  @Test func secondUploadDiffsFromTheRecordedCommitAndDepthReconciles() async throws {
    let repository = try ServedRepository()
    let bench = try CloneBench()
    let home = try TemporaryDirectory()
    let first = try await bench.upload(repository.barePath, home: home.url, collection: "inc")
    #expect(first.mode == .full)

    try repository.push(["app/util.py": "def value():\n    return 8\n", "docs/new.md": "# New\n"], removing: ["README.md"])
    let second = try await bench.upload(repository.barePath, home: home.url, collection: "inc")
    #expect(second.mode == .incremental)
    #expect(second.filesAdded == 1)
    #expect(second.filesDeleted == 1)
    #expect(try await bench.store.metadata("inc")?.lastIndexedCommit == repository.work.head)

    let fresh = try await bench.upload(repository.barePath, home: home.url, collection: "fresh")
    #expect(fresh.mode == .full)
    let analysis = try await bench.store.points("inc", filePaths: [".rag_metadata/analysis.txt"])
    let freshAnalysis = try await bench.store.points("fresh", filePaths: [".rag_metadata/analysis.txt"])
    #expect(Set(analysis.map(\.payload.fileHash)) == Set(freshAnalysis.map(\.payload.fileHash)))
    #expect(try await bench.store.inventory("inc") == (try await bench.store.inventory("fresh")))

    try repository.push(["docs/more.md": "# More\n"])
    let shallow = try await bench.upload(repository.barePath, home: home.url, collection: "inc", depth: 1)
    #expect(shallow.mode == .reconcile)
    #expect(shallow.filesAdded == 1)

    let branch = await bench.cloneError {
      var clone = CloneOptions(home: home.url, environment: [:])
      clone.branch = "no-such-branch"
      _ = try await RemoteRepositoryUpload(location: try CloneLocation.parse(repository.barePath), clone: clone).run(
        engine: bench.engine("b"))
    }
    #expect(branch == .branchNotFound(branch: "no-such-branch", url: repository.barePath))
  }

  @Test func theTemporaryCloneIsRemovedOnSuccessAndOnFailure() async throws {
    let repository = try ServedRepository()
    let bench = try CloneBench()
    let home = try TemporaryDirectory()
    let temporary = try TemporaryDirectory(prefix: "git-rag-tmproot")
    var upload = RemoteRepositoryUpload(
      location: try CloneLocation.parse(repository.barePath), clone: CloneOptions(home: home.url, environment: [:]))
    upload.temporaryRoot = temporary.url
    _ = try await upload.run(engine: bench.engine("tmp"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty)

    upload.clone.branch = "missing"
    let error = await bench.cloneError { _ = try await upload.run(engine: bench.engine("tmp2")) }
    #expect(error == .branchNotFound(branch: "missing", url: repository.barePath))
    #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty)
  }
}
