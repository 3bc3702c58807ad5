internal import CLibGit2
import Foundation

extension Repository {
  /// The root commits (those without parents) in the history of `commit`, sorted by id: what
  /// identifies a repository across clones, forks and linked worktrees. Nil in a shallow clone,
  /// whose history is cut off and whose roots are therefore unknown.
  public func rootCommits(of commit: ObjectID) throws -> [ObjectID]? {
    if isShallow { return nil }
    var walk: OpaquePointer?
    try check(git_revwalk_new(&walk, handle), "git_revwalk_new")
    defer { git_revwalk_free(walk) }
    var start = commit.oid
    try readObject(git_revwalk_push(walk, &start), "git_revwalk_push", &start)
    var roots: [ObjectID] = []
    var next = git_oid()
    while true {
      let rc = git_revwalk_next(&next, walk)
      if rc == GIT_ITEROVER.rawValue { break }
      try check(rc, "git_revwalk_next")
      var found: OpaquePointer?
      try readObject(git_commit_lookup(&found, handle, &next), "git_commit_lookup", &next)
      if git_commit_parentcount(found) == 0 { roots.append(ObjectID(oid: next)) }
      git_commit_free(found)
    }
    return roots.sorted { $0.hex < $1.hex }
  }
}
