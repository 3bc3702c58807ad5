import Foundation
import Git
import GitRAGTestSupport
import Testing

@Suite struct SettingsTests {
  @Test func configPrefersTheRepositoryOverGlobal() throws {
    let repo = try makeRepository()
    try repo.commit(["a.txt": "a\n"])
    // Keys unique to this test: the libgit2 home is shared by the test process.
    let globalFile = libgit2Home.url.appendingPathComponent(".gitconfig")
    try runProcess("git", ["config", "--file", globalFile.path, "ragtest1.store", "qdrant"])
    try runProcess("git", ["config", "--file", globalFile.path, "ragtest1.model", "global-model"])
    try runProcess("git", ["config", "--file", globalFile.path, "ragtest1.verbose", "yes"])
    try repo.git("config", "ragtest1.store", "sqlite")
    try repo.git("config", "ragtest1.cache", "off")

    let opened = try open(repo)
    #expect(opened.config("ragtest1.store") == "sqlite")
    #expect(opened.config("ragtest1.model") == "global-model")
    #expect(opened.config("ragtest1.missing") == nil)
    #expect(opened.configBool("ragtest1.verbose") == true)
    #expect(opened.configBool("ragtest1.cache") == false)
    #expect(opened.configBool("ragtest1.model") == nil)  // not a boolean
    #expect(GitConfig.global("ragtest1.store") == "qdrant")
    #expect(GitConfig.globalBool("ragtest1.verbose") == true)
    #expect(GitConfig.global("ragtest1.cache") == nil)

    // The real git, given the same home, agrees.
    var environment = repo.environment
    environment["HOME"] = libgit2Home.path
    let gitSays = try runProcess("git", ["config", "ragtest1.store"], in: repo.url, environment: environment)
    #expect(gitSays.stdout.trimmingCharacters(in: .newlines) == opened.config("ragtest1.store"))
  }

  @Test func attributesFromGitattributes() throws {
    let repo = try makeRepository()
    let head = try repo.commit([
      ".gitattributes": "vendor/** -rag\ndocs/keep.md rag\n*.gen rag=generated\n",
      "vendor/lib/a.js": "x\n", "docs/keep.md": "# keep\n", "docs/other.md": "# other\n", "out/x.gen": "g\n",
      "vendor/keep/.gitattributes": "keep.js rag\n", "vendor/keep/keep.js": "k\n",
    ])
    let opened = try open(repo)
    let expected: [(String, AttributeValue, String)] = [
      ("vendor/lib/a.js", .unset, "unset"),
      ("vendor/b.py", .unset, "unset"),
      ("docs/keep.md", .set, "set"),
      ("docs/other.md", .unspecified, "unspecified"),
      ("out/x.gen", .value("generated"), "generated"),
      ("vendor/keep/keep.js", .set, "set"),  // a deeper .gitattributes wins
    ]
    for (path, value, gitWord) in expected {
      #expect(opened.attribute("rag", path: path) == value, "\(path)")
      #expect(try repo.git("check-attr", "rag", "--", path) == "\(path): rag: \(gitWord)")
      #expect(opened.attribute("rag", path: path, commit: try oid(head)) == value, "\(path) at HEAD")
    }

    // By commit: uncommitted .gitattributes edits, staged or not, do not count.
    try repo.write(".gitattributes", "docs/other.md rag\n")
    try repo.git("add", ".gitattributes")
    try repo.write(".gitattributes", "docs/other.md -rag\n")
    #expect(opened.attribute("rag", path: "docs/other.md") == .unset)
    #expect(opened.attribute("rag", path: "docs/other.md", commit: try oid(head)) == .unspecified)
    #expect(opened.attribute("rag", path: "vendor/lib/a.js", commit: try oid(head)) == .unset)
    #expect(opened.attribute("rag", path: "out/x.gen", commit: try oid(head)) == .value("generated"))

    // A bare clone has no work tree: attributes come from the commit.
    let parent = try TemporaryDirectory(prefix: "git-rag-bare")
    let bare = parent.url.appendingPathComponent("bare.git")
    try runProcess("git", ["clone", "-q", "--bare", repo.path, bare.path], environment: repo.environment)
    let bareRepo = try Repository(path: bare)
    #expect(bareRepo.workdir == nil && bareRepo.isBare)
    #expect(bareRepo.attribute("rag", path: "vendor/lib/a.js", commit: try oid(head)) == .unset)
    #expect(bareRepo.attribute("rag", path: "docs/keep.md", commit: try oid(head)) == .set)
    #expect(try bareRepo.isDirty() == false)
  }

  @Test func dirtyMeansTrackedChanges() throws {
    let repo = try makeRepository()
    try repo.commit(["a.txt": "a\n", "b.txt": "b\n"])
    let opened = try open(repo)
    #expect(try opened.isDirty() == false)
    try repo.write("untracked.txt", "u\n")
    #expect(try opened.isDirty() == false)
    try repo.write("a.txt", "changed\n")
    #expect(try opened.isDirty() == true)
    try repo.git("checkout", "--", "a.txt")
    #expect(try opened.isDirty() == false)
    try repo.git("add", "untracked.txt")
    #expect(try opened.isDirty() == true)  // staged
    try repo.git("reset", "-q")
    try repo.remove("b.txt")
    #expect(try opened.isDirty() == true)  // deleted in the work tree
  }

  @Test func aheadAndBehind() throws {
    let repo = try makeRepository()
    try repo.commit(["a.txt": "1\n"])
    try repo.git("branch", "upstream")
    try repo.commit(["a.txt": "2\n"])
    let local = try repo.commit(["a.txt": "3\n"])
    try repo.git("checkout", "-q", "upstream")
    let upstream = try repo.commit(["b.txt": "x\n"])
    let counts = try open(repo).aheadBehind(local: try oid(local), upstream: try oid(upstream))
    #expect(counts.ahead == 2 && counts.behind == 1)
    let git = try repo.git("rev-list", "--left-right", "--count", "\(local)...\(upstream)")
    #expect(git.split(separator: "\t").map(String.init) == ["\(counts.ahead)", "\(counts.behind)"])
  }

  @Test func remoteURLsWithoutCredentials() throws {
    let repo = try makeRepository()
    try repo.git("remote", "add", "origin", "https://user:s3cret@example.com/team/repo.git")
    try repo.git("remote", "add", "token", "https://ghp_abc123@github.com/o/r.git")
    try repo.git("remote", "add", "ssh", "git@github.com:o/r.git")
    let opened = try open(repo)
    #expect(opened.remoteURL() == "https://example.com/team/repo.git")
    #expect(opened.remoteURL("token") == "https://github.com/o/r.git")
    #expect(opened.remoteURL("ssh") == "git@github.com:o/r.git")
    #expect(opened.remoteURL("missing") == nil)
  }
}
