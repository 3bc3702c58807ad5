// Times the Git module's operations on a repository: built in release by
// scripts/bench/git-sync-overhead.sh, which makes the repository.
import Foundation
import Git

let path = CommandLine.arguments.dropFirst().first ?? "."

/// The best of `rounds` runs of `body`, in milliseconds, and its last result.
func measure<T>(_ name: String, rounds: Int = 7, _ body: () throws -> T) rethrows -> T {
  var best = Double.infinity
  var result: T?
  for _ in 0..<rounds {
    let start = ContinuousClock.now
    result = try body()
    let elapsed = ContinuousClock.now - start
    best = min(best, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
  }
  print("bench swift: \(String(format: "%8.2f", best)) ms  \(name) (best of \(rounds))")
  return result!
}

func require(_ condition: Bool, _ message: String) {
  if !condition { FileHandle.standardError.write(Data("bench check failed: \(message)\n".utf8)); exit(1) }
}

let url = URL(fileURLWithPath: path)
let repository = try measure("discover + head") { () throws -> Repository in
  let repository = try Repository.discover(from: url, environment: [:])
  _ = try repository.head()
  return repository
}
let head = try repository.head()
let parent = try repository.resolve("HEAD~1")
let entries = try measure("treeEntries(HEAD)") { try repository.treeEntries(commit: head) }
print("bench files: \(entries.count)")
let changes = try measure("diff(HEAD~1, HEAD), one file changed") { try repository.diff(from: parent, to: head) }
require(changes.map(\.kind) == [.modified], "one modification, got \(changes)")
_ = measure("commitExists(HEAD~1)") { repository.commitExists(parent) }
let excluded = measure("attribute(rag) for every file", rounds: 3) {
  entries.filter { repository.attribute("rag", path: $0.path) == .unset }.count
}
require(excluded == entries.filter { $0.path.hasPrefix("pkg01/") }.count, "attributes")
let excludedAtCommit = measure("attribute(rag, commit: HEAD) for every file", rounds: 3) {
  entries.filter { repository.attribute("rag", path: $0.path, commit: head) == .unset }.count
}
require(excludedAtCommit == excluded, "attributes at HEAD")
let dirty = try measure("isDirty", rounds: 3) { try repository.isDirty() }
require(!dirty, "clean checkout")
let sample = Array(entries.prefix(2000))
let ids = try measure("blob + GitBlob.id for 2000 files", rounds: 3) { try sample.map { GitBlob.id(of: try repository.blob($0.id)) } }
require(ids == sample.map(\.id), "re-hashed blobs equal their ids")
_ = try measure("blobSize for 2000 files", rounds: 3) { try sample.map { try repository.blobSize($0.id) } }
