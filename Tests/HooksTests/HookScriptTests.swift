import Foundation
import GitRAGTestSupport
import Testing

@testable import Hooks

@Suite struct HookScriptTests {
  @Test func embeddedScriptsAreTheFilesInHooks() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("hooks").path)
    #expect(Set(files) == Set(HookScripts.all.keys))
    for (name, text) in HookScripts.all {
      #expect(try readRepositoryFile("hooks/\(name)") == Data(text.utf8), "hooks/\(name) differs from HookScripts.all[\(name)]")
      let mode =
        try FileManager.default.attributesOfItem(atPath: repositoryRoot.appendingPathComponent("hooks/\(name)").path)[.posixPermissions]
        as? Int
      #expect(mode == 0o755)
      #expect(text.hasPrefix("#!/bin/sh\n\(HookScripts.marker)\(HookScripts.version) (\(name))\n"))
    }
  }

  @Test func scriptsAndChainedBlocksAreValidPOSIXShell() throws {
    for (name, text) in HookScripts.all {
      try runProcess("dash", ["-n"], input: Data(text.utf8))
      try runProcess("dash", ["-n"], input: HookInstaller.block(hook: name))
    }
  }

  /// A repository with git-rag's hooks installed and a fake `git-rag` on PATH that records its
  /// arguments, session, process group and stdin, prints a line, then sleeps.
  struct HookedRepository {
    let repo: TemporaryGitRepository
    let tools: FakeTools
    var env: [String: String]

    init(sleep: Double = 3) throws {
      repo = try TemporaryGitRepository()
      tools = try FakeTools()
      try tools.add(
        "git-rag",
        body: """
          read -r _ _ _ _ pgrp sid _ < /proc/$$/stat
          echo "pid=$$ pgrp=$pgrp sid=$sid stdin=$(readlink /proc/$$/fd/0)" >> "\(tools.records.path)/session"
          echo "fake git-rag ran: $*"
          sleep \(sleep)
          """)
      env = tools.environment(home: repo.home.path)
      _ = try HookInstaller(hooksDirectory: repo.url.appendingPathComponent(".git/hooks")).install(force: false)
    }

    /// Runs git with the fake on PATH and returns (seconds taken, stderr).
    ///
    /// Through Python's subprocess (which closes inherited descriptors), as a terminal would run
    /// it: Foundation's `Process` leaks a socket into every descendant and counts a child as
    /// running until all of them exit, background sync included.
    @discardableResult
    func git(_ arguments: String..., environment: [String: String]? = nil) throws -> (seconds: Double, stderr: String) {
      let start = Date()
      let result = try runProcess(
        "python3", ["-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))", "git"] + arguments,
        in: repo.url, environment: environment ?? env)
      return (Date().timeIntervalSince(start), result.stderr)
    }

    var syncCalls: [[String]] { tools.calls("git-rag") }
  }

  @Test func postCommitStartsADetachedSyncAndReturnsAtOnce() throws {
    let hooked = try HookedRepository(sleep: 3)
    try hooked.repo.write("a.txt", "a")
    try hooked.git("add", "a.txt")
    let (seconds, _) = try hooked.git("commit", "-q", "-m", "first")
    // The fake sleeps 3 s; git (whose pipes we read to EOF) must not wait for it.
    #expect(seconds < 2.0, "git commit took \(seconds)s: the hook waited on the sync")
    #expect(eventually { hooked.syncCalls.count == 1 })
    #expect(hooked.syncCalls.first == ["sync", "--quiet", "--from-hook"])

    // The fake writes its session record after its call record: wait for it too.
    #expect(eventually { FileManager.default.fileExists(atPath: hooked.tools.records.path + "/session") })
    let session = try String(contentsOfFile: hooked.tools.records.path + "/session", encoding: .utf8)
    let fields = Dictionary(
      uniqueKeysWithValues: session.split(separator: " ").map {
        let pair = $0.split(separator: "=", maxSplits: 1)
        return (String(pair[0]), String(pair[1]).trimmingCharacters(in: .newlines))
      })
    #expect(fields["sid"] == fields["pid"], "the sync should lead its own session (setsid)")
    #expect(fields["pgrp"] == fields["pid"], "the sync should lead its own process group")
    #expect(fields["stdin"] == "/dev/null")

    let log = hooked.repo.url.appendingPathComponent(".git/rag/hook.log")
    #expect(eventually { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("fake git-rag ran: sync --quiet --from-hook") })
  }

  @Test func skipVariableAndMissingBinary() throws {
    let hooked = try HookedRepository(sleep: 0)
    var skip = hooked.env
    skip["GIT_RAG_SKIP_HOOKS"] = "1"
    try hooked.git("commit", "-q", "--allow-empty", "-m", "skipped", environment: skip)
    var noBinary = hooked.env
    noBinary["PATH"] = "/usr/bin:/bin"
    let (_, stderr) = try hooked.git("commit", "-q", "--allow-empty", "-m", "no binary", environment: noBinary)
    #expect(stderr.contains("git-rag: not found on PATH; install it or remove this hook (git rag hooks uninstall)"))
    // The hook opens its log before it starts a sync, and both hooks returned before git did: no
    // log means no sync was started.
    #expect(!FileManager.default.fileExists(atPath: hooked.repo.url.appendingPathComponent(".git/rag/hook.log").path))
    #expect(hooked.syncCalls.isEmpty)
    #expect(try hooked.repo.git("rev-list", "--count", "HEAD") == "2")
  }

  @Test func checkoutMergeAndRewriteHooks() throws {
    let hooked = try HookedRepository(sleep: 0)
    try hooked.repo.write("a.txt", "a")
    try hooked.git("add", "a.txt")
    try hooked.git("commit", "-q", "-m", "first")  // post-commit: 1
    #expect(eventually { hooked.syncCalls.count == 1 })
    try hooked.git("commit", "-q", "--allow-empty", "-m", "second")  // 2
    #expect(eventually { hooked.syncCalls.count == 2 })

    try hooked.git("checkout", "-q", "-b", "topic")  // branch checkout: 3
    #expect(eventually { hooked.syncCalls.count == 3 })

    try hooked.repo.write("a.txt", "changed")
    let log = hooked.repo.url.appendingPathComponent(".git/rag/hook.log")
    try FileManager.default.removeItem(at: log)
    try hooked.git("checkout", "--", "a.txt")  // file checkout: no sync
    // The hook opens its log before it starts a sync, and returned before git did.
    #expect(!FileManager.default.fileExists(atPath: log.path))
    #expect(hooked.syncCalls.count == 3)

    try hooked.git("commit", "-q", "--amend", "--allow-empty", "-m", "amended")  // post-commit + post-rewrite: 5
    #expect(eventually { hooked.syncCalls.count == 5 })

    try hooked.git("checkout", "-q", "main")  // 6
    try hooked.git("merge", "-q", "--no-edit", "--no-ff", "topic")  // post-commit? no: post-merge: 7
    #expect(eventually { hooked.syncCalls.count == 7 })
    #expect(hooked.syncCalls.allSatisfy { $0 == ["sync", "--quiet", "--from-hook"] })
  }

  @Test func freshCloneWithZeroPreviousHeadAndLinkedWorktree() throws {
    let hooked = try HookedRepository(sleep: 0)
    try hooked.git("commit", "-q", "--allow-empty", "-m", "first")
    #expect(eventually { hooked.syncCalls.count == 1 })

    // A template folder carries the hooks into the clone, whose post-checkout sees 0000… as the old HEAD.
    let template = try TemporaryDirectory(prefix: "git-rag-template")
    _ = try HookInstaller(hooksDirectory: template.url.appendingPathComponent("hooks")).install(force: false)
    let clones = try TemporaryDirectory(prefix: "git-rag-clone")
    try hooked.git("clone", "-q", "--template=\(template.path)", hooked.repo.path, clones.path + "/copy")
    #expect(eventually { hooked.syncCalls.count == 2 })
    #expect(eventually { FileManager.default.fileExists(atPath: clones.path + "/copy/.git/rag/hook.log") })

    // A linked worktree logs into the common git folder, shared by all worktrees.
    try hooked.git("worktree", "add", "-q", "-b", "side", hooked.repo.path + "-side")
    defer { try? FileManager.default.removeItem(atPath: hooked.repo.path + "-side") }
    #expect(eventually { hooked.syncCalls.count == 3 })
    #expect(!FileManager.default.fileExists(atPath: hooked.repo.path + "/.git/worktrees/\(hooked.repo.url.lastPathComponent)-side/rag"))
  }

  @Test func logIsRotatedPastOneMebibyte() throws {
    let hooked = try HookedRepository(sleep: 0)
    let rag = hooked.repo.url.appendingPathComponent(".git/rag")
    try FileManager.default.createDirectory(at: rag, withIntermediateDirectories: true)
    let big = Data(repeating: UInt8(ascii: "x"), count: 1_100_000)
    try big.write(to: rag.appendingPathComponent("hook.log"))
    try hooked.git("commit", "-q", "--allow-empty", "-m", "first")
    #expect(eventually { hooked.syncCalls.count == 1 })
    #expect(try Data(contentsOf: rag.appendingPathComponent("hook.log.1")) == big)
    #expect(eventually { ((try? Data(contentsOf: rag.appendingPathComponent("hook.log"))) ?? big).count < 1000 })
  }

  @Test func unwritableLogIsReportedOnceAndTheSyncStillRuns() throws {
    let hooked = try HookedRepository(sleep: 0)
    // A file where the folder should be: unwritable even for root.
    let rag = hooked.repo.url.appendingPathComponent(".git/rag")
    try Data("not a folder".utf8).write(to: rag)
    let first = try hooked.git("commit", "-q", "--allow-empty", "-m", "first").stderr
    #expect(first.contains("git-rag: cannot write .git/rag/hook.log; background syncs run without a log until it is writable"))
    #expect(eventually { hooked.syncCalls.count == 1 })
    let second = try hooked.git("commit", "-q", "--allow-empty", "-m", "second").stderr
    #expect(!second.contains("cannot write"), "reported again: \(second)")
    #expect(eventually { hooked.syncCalls.count == 2 })
    // Writable again: the marker goes, and a later failure is reported afresh.
    try FileManager.default.removeItem(at: rag)
    try hooked.git("commit", "-q", "--allow-empty", "-m", "third")
    #expect(eventually { hooked.syncCalls.count == 3 })
    #expect(!FileManager.default.fileExists(atPath: hooked.repo.url.appendingPathComponent(".git/rag-hook-log-unwritable").path))
  }
}
