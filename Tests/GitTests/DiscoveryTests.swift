import Foundation
import Git
import GitRAGTestSupport
import Testing

@Suite struct DiscoveryTests {
  @Test func discoversFromASubfolder() throws {
    let repo = try makeRepository()
    try repo.commit(["src/deep/file.swift": "let x = 1\n"])
    let found = try Repository.discover(from: repo.url.appendingPathComponent("src/deep"), environment: [:])
    #expect(canonical(found.workdir) == canonical(repo.url))
    #expect(canonical(found.gitDir) == canonical(repo.url.appendingPathComponent(".git")))
    #expect(canonical(found.commonDir) == canonical(found.gitDir))
    #expect(try found.head().hex == repo.head)
    #expect(!found.isBare)
  }

  @Test func discoversALinkedWorktree() throws {
    let repo = try makeRepository()
    try repo.commit(["a.txt": "a\n"])
    let parent = try TemporaryDirectory(prefix: "git-rag-worktrees")
    let worktree = parent.url.appendingPathComponent("feature-tree")
    try repo.git("worktree", "add", "-q", "-b", "feature", worktree.path)
    try runProcess("git", ["commit", "-q", "--allow-empty", "-m", "on feature"], in: worktree, environment: repo.environment)
    let featureHead = try runProcess("git", ["rev-parse", "HEAD"], in: worktree, environment: repo.environment)
      .stdout.trimmingCharacters(in: .newlines)

    try FileManager.default.createDirectory(at: worktree.appendingPathComponent("sub"), withIntermediateDirectories: true)
    let found = try Repository.discover(from: worktree.appendingPathComponent("sub"), environment: [:])
    #expect(canonical(found.workdir) == canonical(worktree))
    #expect(canonical(found.commonDir) == canonical(repo.url.appendingPathComponent(".git")))
    #expect(canonical(found.gitDir) == canonical(repo.url.appendingPathComponent(".git/worktrees/feature-tree")))
    #expect(found.headBranchName() == "feature")
    #expect(try found.head().hex == featureHead)
    #expect(try found.head().hex != repo.head)
  }

  @Test func honoursGitDirAndWorkTreeAsInsideHooks() throws {
    let repo = try makeRepository()
    try repo.commit(["a.txt": "a\n"])
    let elsewhere = try TemporaryDirectory(prefix: "git-rag-elsewhere")

    // Absolute GIT_DIR from an unrelated folder, with an explicit work tree.
    let env = ["GIT_DIR": repo.url.appendingPathComponent(".git").path, "GIT_WORK_TREE": repo.path]
    let found = try Repository.discover(from: elsewhere.url, environment: env)
    #expect(canonical(found.workdir) == canonical(repo.url))
    #expect(try found.head().hex == repo.head)

    // Relative GIT_DIR, resolved against the starting folder (hooks run at the top of the work tree).
    let relative = try Repository.discover(from: repo.url, environment: ["GIT_DIR": ".git"])
    #expect(canonical(relative.gitDir) == canonical(repo.url.appendingPathComponent(".git")))
    #expect(try relative.head().hex == repo.head)

    // GIT_WORK_TREE moves the work tree elsewhere.
    let moved = try Repository.discover(from: repo.url, environment: ["GIT_WORK_TREE": elsewhere.path])
    #expect(canonical(moved.workdir) == canonical(elsewhere.url))

    // A GIT_DIR that is not a repository is reported with its path.
    let wrong = elsewhere.url.appendingPathComponent("nope").path
    let error = #expect(throws: GitError.self) { try Repository.discover(from: repo.url, environment: ["GIT_DIR": wrong]) }
    #expect(error?.kind == .notARepository(path: wrong))
  }

  @Test func honoursTheProcessEnvironmentByDefault() throws {
    // Without GIT_* variables set (as in this test process) the default discovery uses the given folder.
    let repo = try makeRepository()
    try repo.commit(["a.txt": "a\n"])
    let environment = ProcessInfo.processInfo.environment
    try #require(environment["GIT_DIR"] == nil && environment["GIT_WORK_TREE"] == nil)
    let found = try Repository.discover(from: repo.url)
    #expect(canonical(found.workdir) == canonical(repo.url))
  }

  @Test func outsideARepositoryIsAClearError() throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-not-a-repo")
    let inner = folder.url.appendingPathComponent("a/b")
    try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
    // The ceiling stops the search at the temporary folder, whatever lies above it on this machine.
    let environment = ["GIT_CEILING_DIRECTORIES": folder.url.deletingLastPathComponent().path]
    let error = #expect(throws: GitError.self) { try Repository.discover(from: inner, environment: environment) }
    #expect(error?.kind == .notARepository(path: inner.standardizedFileURL.path))
    let message = error?.errorDescription ?? ""
    #expect(message.hasPrefix("Not a git repository (or any parent): \(inner.standardizedFileURL.path)."))
    #expect(message.contains("Run git-rag inside a repository or use --dir."))

    let direct = #expect(throws: GitError.self) { try Repository(path: folder.url) }
    #expect(direct?.kind == .notARepository(path: folder.url.path))
  }

  @Test func unbornHeadNamesTheBranch() throws {
    let repo = try makeRepository(branch: "trunk")
    let opened = try open(repo)
    #expect(opened.headBranchName() == "trunk")
    let error = #expect(throws: GitError.self) { try opened.head() }
    #expect(error?.kind == .unbornHead(branch: "trunk"))
    #expect(error?.errorDescription?.lowercased().contains("nothing committed yet on branch trunk") == true)
    #expect(try opened.isDirty() == false)
  }

  @Test func detachedHead() throws {
    let repo = try makeRepository()
    let first = try repo.commit(["a.txt": "1\n"], message: "first")
    try repo.commit(["a.txt": "2\n"], message: "second")
    try repo.git("checkout", "-q", "--detach", first)
    let opened = try open(repo)
    #expect(try opened.head().hex == first)
    #expect(opened.headBranchName() == nil)
    #expect(opened.isHeadDetached)
  }

  @Test func resolvesRevisions() throws {
    let repo = try makeRepository()
    let first = try repo.commit(["a.txt": "1\n"], message: "first")
    let second = try repo.commit(["a.txt": "2\n"], message: "second")
    try repo.git("tag", "-a", "v1", "-m", "annotated", first)
    let opened = try open(repo)
    #expect(try opened.resolve("HEAD").hex == second)
    #expect(try opened.resolve("HEAD~1").hex == first)
    #expect(try opened.resolve("main").hex == second)
    #expect(try opened.resolve("v1").hex == first)  // an annotated tag peels to its commit
    #expect(try opened.resolve(String(second.prefix(10))).hex == second)
    let error = #expect(throws: GitError.self) { try opened.resolve("no-such-branch") }
    #expect(error?.kind == .invalidRevision("no-such-branch"))
  }

  @Test func shallowCloneIsDetected() throws {
    let source = try makeRepository()
    let first = try source.commit(["a.txt": "1\n"], message: "first")
    try source.commit(["a.txt": "2\n"], message: "second")
    let last = try source.commit(["a.txt": "3\n"], message: "third")
    let parent = try TemporaryDirectory(prefix: "git-rag-shallow")
    let clone = parent.url.appendingPathComponent("clone")
    try runProcess("git", ["clone", "-q", "--depth", "1", "file://\(source.path)", clone.path], environment: source.environment)

    let shallow = try Repository(path: clone)
    #expect(shallow.isShallow)
    #expect(try shallow.head().hex == last)
    #expect(shallow.commitExists(try oid(last)))
    #expect(!shallow.commitExists(try oid(first)))
    #expect(try !open(source).isShallow)
  }
}
