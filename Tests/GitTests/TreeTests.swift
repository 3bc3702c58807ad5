import Foundation
import Git
import GitRAGTestSupport
import Testing

@Suite struct TreeTests {
  /// `git ls-tree -r` of `commit`: what the real git says the tree holds.
  func lsTree(_ repo: TemporaryGitRepository, _ commit: String) throws -> [TreeEntry] {
    try repo.git("ls-tree", "-r", "-z", commit).split(separator: "\0").map { line in
      let parts = line.split(separator: "\t", maxSplits: 1)
      let fields = parts[0].split(separator: " ")
      let mode: FileMode =
        switch fields[0] {
        case "100644": .blob
        case "100755": .executable
        case "120000": .symlink
        case "160000": .gitlink
        default: .tree
        }
      return TreeEntry(path: String(parts[1]), mode: mode, id: try oid(String(fields[2])))
    }
  }

  @Test func walksEveryKindOfEntry() throws {
    let repo = try makeRepository()
    let submoduleCommit = try repo.commit(["README.md": "# Title\n"], message: "first")
    try repo.write("src/app/main.py", "print('hi')\n")
    try repo.write("src/app/util.py", "def f():\n    pass\n")
    try repo.write("scripts/run.sh", "#!/bin/sh\necho run\n")
    try repo.write("a-b/x.txt", "dash sorts before slash\n")
    try repo.write("a.txt", "dot\n")
    try repo.symlink("link-to-readme", to: "README.md")
    try repo.git("add", "-A")
    try repo.git("update-index", "--chmod=+x", "scripts/run.sh")
    try repo.git("update-index", "--add", "--cacheinfo", "160000,\(submoduleCommit),vendor/lib")
    let head = try repo.commit(message: "everything")

    let entries = try open(repo).treeEntries(commit: try oid(head))
    #expect(entries == (try lsTree(repo, head)))
    let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })
    #expect(byPath["src/app/main.py"]?.mode == .blob)
    #expect(byPath["scripts/run.sh"]?.mode == .executable)
    #expect(byPath["link-to-readme"]?.mode == .symlink)
    #expect(byPath["vendor/lib"]?.mode == .gitlink)
    #expect(byPath["vendor/lib"]?.id.hex == submoduleCommit)
    #expect(byPath["README.md"]?.id.hex == (try repo.git("rev-parse", "HEAD:README.md")))
    #expect(!entries.contains { $0.mode == .tree })
    #expect(entries.count == 8)
  }

  @Test func emptyTreeHasNoEntries() throws {
    let repo = try makeRepository()
    let head = try repo.commit(message: "empty")
    #expect(try open(repo).treeEntries(commit: try oid(head)).isEmpty)
  }

  @Test func nonUTF8PathsAreDecodedLossily() throws {
    let repo = try makeRepository()
    let blob = try repo.git(["hash-object", "-w", "--stdin"], input: Data("latin-1 name\n".utf8))
    var listing = Data("100644 blob \(blob)\tcaf".utf8)
    listing.append(contentsOf: [0xE9])  // "café" in Latin-1: not valid UTF-8
    listing.append(contentsOf: Array(".txt\n".utf8))
    let tree = try repo.git(["mktree"], input: listing)
    let commit = try repo.git(["commit-tree", tree, "-m", "latin-1"], input: Data())

    let entries = try open(repo).treeEntries(commit: try oid(commit))
    #expect(entries.count == 1)
    #expect(entries.first?.path == "caf\u{FFFD}.txt")
    #expect(entries.first?.id.hex == blob)
  }

  @Test func missingCommitIsObjectNotFound() throws {
    let repo = try makeRepository()
    try repo.commit(["a.txt": "a\n"])
    let missing = try oid(String(repeating: "ab", count: 20))
    let error = #expect(throws: GitError.self) { try open(repo).treeEntries(commit: missing) }
    #expect(error?.kind == .objectNotFound(missing.hex))
  }
}
