import Foundation
import Git
import GitRAGTestSupport
import Testing

@Suite struct DiffTests {
  /// A file long enough that a one-line edit keeps it well above the rename threshold.
  static let longFile = (1...40).map { "line \($0): some content that makes the file distinctive\n" }.joined()

  func diff(_ repo: TemporaryGitRepository, _ old: String, _ new: String) throws -> [FileChange] {
    try open(repo).diff(from: try oid(old), to: try oid(new))
  }

  @Test func addModifyDelete() throws {
    let repo = try makeRepository()
    let before = try repo.commit(["keep.txt": "keep\n", "edit.txt": "old\n", "gone.txt": "bye\n"])
    try repo.git("rm", "-q", "gone.txt")
    let after = try repo.commit(["edit.txt": "new\n", "dir/new.txt": "hello\n"], message: "change")

    let changes = try diff(repo, before, after).sorted { $0.path < $1.path }
    #expect(changes.map(\.kind) == [.added, .modified, .deleted])
    let (added, modified, deleted) = (changes[0], changes[1], changes[2])
    #expect(added.newPath == "dir/new.txt" && added.oldPath == nil && added.oldID == nil && added.oldMode == nil)
    #expect(added.newID?.hex == (try repo.git("rev-parse", "\(after):dir/new.txt")))
    #expect(added.newMode == .blob)
    #expect(modified.oldPath == "edit.txt" && modified.newPath == "edit.txt")
    #expect(modified.oldID?.hex == (try repo.git("rev-parse", "\(before):edit.txt")))
    #expect(modified.newID?.hex == (try repo.git("rev-parse", "\(after):edit.txt")))
    #expect(deleted.oldPath == "gone.txt" && deleted.newPath == nil && deleted.newID == nil && deleted.newMode == nil)
    #expect(deleted.oldID?.hex == (try repo.git("rev-parse", "\(before):gone.txt")))
  }

  @Test func sameCommitHasNoChanges() throws {
    let repo = try makeRepository()
    let head = try repo.commit(["a.txt": "a\n"])
    let next = try repo.commit(message: "empty commit, same tree")
    #expect(try diff(repo, head, head).isEmpty)
    #expect(try diff(repo, head, next).isEmpty)
  }

  @Test func pureRenameIsSimilarity100() throws {
    let repo = try makeRepository()
    let before = try repo.commit(["old/name.py": Self.longFile, "other.txt": "x\n"])
    try repo.move("old/name.py", to: "new/name.py")
    let after = try repo.commit(message: "rename")

    let changes = try diff(repo, before, after)
    #expect(changes.count == 1)
    let rename = try #require(changes.first)
    #expect(rename.kind == .renamed)
    #expect(rename.oldPath == "old/name.py" && rename.newPath == "new/name.py")
    #expect(rename.similarity == 100)
    #expect(rename.oldID == rename.newID && rename.oldID != nil)
  }

  @Test func renameWithAnEdit() throws {
    let repo = try makeRepository()
    let before = try repo.commit(["a.md": Self.longFile])
    try repo.move("a.md", to: "b.md")
    let after = try repo.commit(["b.md": Self.longFile.replacingOccurrences(of: "line 7:", with: "line seven:")], message: "mv+edit")

    let changes = try diff(repo, before, after)
    #expect(changes.count == 1)
    let rename = try #require(changes.first)
    #expect(rename.kind == .renamed && rename.oldPath == "a.md" && rename.newPath == "b.md")
    #expect(rename.similarity > 50 && rename.similarity < 100)
    #expect(rename.oldID != rename.newID)
    // Above the similarity git itself reports, the answer agrees with git's rename detection.
    #expect(try repo.git("diff-tree", "-r", "-M50%", "--name-status", before, after).hasPrefix("R"))

    // A threshold above the similarity turns it into a delete and an add.
    let strict = try open(repo).diff(from: try oid(before), to: try oid(after), renameThreshold: 100)
    #expect(Set(strict.map(\.kind)) == [.added, .deleted])
  }

  @Test func rewriteStaysAModification() throws {
    let repo = try makeRepository()
    let before = try repo.commit(["a.txt": Self.longFile])
    let after = try repo.commit(["a.txt": "something else entirely\n"], message: "rewrite")
    let changes = try diff(repo, before, after)
    #expect(changes.map(\.kind) == [.modified])
    #expect(changes.first?.oldPath == "a.txt" && changes.first?.newPath == "a.txt")
  }

  @Test func modeChangeIsAModification() throws {
    let repo = try makeRepository()
    let before = try repo.commit(["run.sh": "#!/bin/sh\n"])
    try repo.git("update-index", "--chmod=+x", "run.sh")
    let after = try repo.commit(message: "chmod")
    let changes = try diff(repo, before, after)
    #expect(changes.count == 1)
    let change = try #require(changes.first)
    #expect(change.kind == .modified)
    #expect(change.oldMode == .blob && change.newMode == .executable)
    #expect(change.oldID == change.newID)
  }

  @Test func fileToSymlinkAndBackIsATypeChange() throws {
    let repo = try makeRepository()
    let file = try repo.commit(["target.txt": "t\n", "entry": "a regular file\n"])
    try repo.remove("entry")
    try repo.symlink("entry", to: "target.txt")
    try repo.git("add", "-A")
    let link = try repo.commit(message: "file -> symlink")

    let toLink = try diff(repo, file, link)
    #expect(toLink.count == 1)
    #expect(toLink.first?.kind == .typeChanged)
    #expect(toLink.first?.oldPath == "entry" && toLink.first?.newPath == "entry")
    #expect(toLink.first?.oldMode == .blob && toLink.first?.newMode == .symlink)
    #expect(toLink.first?.newID?.hex == (try repo.hashObject(Data("target.txt".utf8))))

    let back = try diff(repo, link, file)
    #expect(back.map(\.kind) == [.typeChanged])
    #expect(back.first?.oldMode == .symlink && back.first?.newMode == .blob)
  }

  @Test func agreesWithGitOnAMixedHistory() throws {
    let repo = try makeRepository()
    var files: [String: String] = [:]
    for index in 0..<30 { files["pkg/m\(index).swift"] = "// module \(index)\n" + Self.longFile }
    let before = try repo.commit(files)
    try repo.move("pkg/m1.swift", to: "lib/m1.swift")
    try repo.git("rm", "-q", "pkg/m2.swift")
    try repo.write("pkg/m3.swift", "rewritten\n")
    try repo.write("pkg/new.swift", "new\n")
    try repo.git("add", "-A")
    let after = try repo.commit(message: "mixed")

    let ours = try diff(repo, before, after).map { change -> String in
      let letter =
        switch change.kind {
        case .added: "A"
        case .modified: "M"
        case .deleted: "D"
        case .renamed: "R"
        case .copied: "C"
        case .typeChanged: "T"
        }
      return change.kind == .renamed ? "R \(change.oldPath!) \(change.newPath!)" : "\(letter) \(change.path)"
    }.sorted()
    let gits = try repo.git("diff-tree", "-r", "-M50%", "--name-status", before, after)
      .split(separator: "\n").map { line -> String in
        let fields = line.split(separator: "\t").map(String.init)
        return fields[0].hasPrefix("R") ? "R \(fields[1]) \(fields[2])" : "\(fields[0]) \(fields[1])"
      }.sorted()
    #expect(ours == gits)
  }

  /// Folders replaced by files and the reverse, whole folders added and removed deep down, a mode
  /// change, names with spaces and glob characters, and untouched siblings: the same as git.
  @Test func agreesWithGitWhenFoldersAndFilesSwap() throws {
    let repo = try makeRepository()
    var files: [String: String] = [
      "keep/a.txt": "a\n", "keep/deep/b.txt": "b\n", "swap": "a file\n",
      "dir/x.txt": "x\n", "dir/sub/y.txt": "y\n", "odd/[a]*?.txt": "glob\n",
      "odd/with space.txt": "space\n", "run.sh": "#!/bin/sh\n",
    ]
    for index in 0..<20 { files["wide/f\(index).txt"] = "file \(index)\n" }
    let before = try repo.commit(files)
    try repo.remove("swap")
    try repo.write("swap/inside.txt", "now a folder\n")
    try repo.git("rm", "-rq", "dir")
    try repo.write("dir", "now a file\n")
    try repo.write("new/one/two/three.txt", "deep\n")
    try repo.write("odd/[a]*?.txt", "glob edited\n")
    try repo.write("wide/f7.txt", "edited\n")
    try repo.git("add", "-A")
    try repo.git("update-index", "--chmod=+x", "run.sh")
    let after = try repo.commit(message: "swap")

    let ours = try diff(repo, before, after).map { "\($0.kind) \($0.path)" }.sorted()
    let gits = try repo.git("diff-tree", "-r", "--no-renames", "-z", "--name-status", before, after)
      .split(separator: "\0").map(String.init).chunked2().map { status, path -> String in
        let kind =
          switch status {
          case "A": "added";
          case "D": "deleted";
          case "T": "typeChanged";
          default: "modified"
          }
        return "\(kind) \(path)"
      }.sorted()
    #expect(ours == gits)
    #expect(ours.count == 9)
  }

  @Test func missingCommitIsObjectNotFound() throws {
    let repo = try makeRepository()
    let head = try repo.commit(["a.txt": "a\n"])
    let missing = try oid(String(repeating: "0f", count: 20))
    let error = #expect(throws: GitError.self) { try diff(repo, missing.hex, head) }
    #expect(error?.kind == .objectNotFound(missing.hex))
  }
}

extension Array {
  /// Consecutive pairs: [a, b, c, d] → [(a, b), (c, d)].
  fileprivate func chunked2() -> [(Element, Element)] {
    stride(from: 0, to: count - 1, by: 2).map { (self[$0], self[$0 + 1]) }
  }
}
