internal import CLibGit2
import Foundation

extension Repository {
  /// The commit HEAD points at (through its branch, or detached).
  ///
  /// Throws `GitError` of kind `.unbornHead(branch:)` when the branch has no commit yet.
  public func head() throws -> ObjectID {
    var reference: OpaquePointer?
    let rc = git_repository_head(&reference, handle)
    if rc == GIT_EUNBORNBRANCH.rawValue || rc == GIT_ENOTFOUND.rawValue {
      throw lastError(rc, "git_repository_head").with(kind: .unbornHead(branch: headBranchName() ?? "HEAD"))
    }
    try check(rc, "git_repository_head")
    defer { git_reference_free(reference) }
    var object: OpaquePointer?
    try check(git_reference_peel(&object, reference, GIT_OBJECT_COMMIT), "git_reference_peel")
    defer { git_object_free(object) }
    return ObjectID(git_object_id(object))
  }

  /// The branch HEAD is on (`main`, also when it has no commit yet); nil when HEAD is detached.
  public func headBranchName() -> String? {
    var reference: OpaquePointer?
    guard git_reference_lookup(&reference, handle, "HEAD") == 0 else { return nil }
    defer { git_reference_free(reference) }
    guard git_reference_type(reference) == GIT_REFERENCE_SYMBOLIC,
      let target = git_reference_symbolic_target(reference)
    else { return nil }
    let name = String(lossyCString: target)
    let prefix = "refs/heads/"
    return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
  }

  /// True when HEAD is detached (points at a commit, not a branch).
  public var isHeadDetached: Bool { git_repository_head_detached(handle) == 1 }

  /// The commit a revision expression (`HEAD~2`, `main`, `v1.0`, a hex prefix) names.
  public func resolve(_ revspec: String) throws -> ObjectID {
    var object: OpaquePointer?
    let rc = git_revparse_single(&object, handle, revspec)
    if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EINVALIDSPEC.rawValue || rc == GIT_EAMBIGUOUS.rawValue {
      throw lastError(rc, "git_revparse_single").with(kind: .invalidRevision(revspec))
    }
    try check(rc, "git_revparse_single")
    defer { git_object_free(object) }
    var commit: OpaquePointer?
    let peeled = git_object_peel(&commit, object, GIT_OBJECT_COMMIT)
    if peeled < 0 { throw lastError(peeled, "git_object_peel").with(kind: .invalidRevision(revspec)) }
    defer { git_object_free(commit) }
    return ObjectID(git_object_id(commit))
  }

  /// True when `id` is in the object database and is a commit (false for blobs, trees, missing or unreadable ids).
  public func commitExists(_ id: ObjectID) -> Bool {
    (try? objectHeader(id))?.type == GIT_OBJECT_COMMIT
  }

  /// Every non-directory entry of the commit's tree (blobs, executables, symlinks, gitlinks), in git's order.
  public func treeEntries(commit: ObjectID) throws -> [TreeEntry] {
    let tree = try lookupTree(commit)
    defer { git_tree_free(tree) }
    var entries: [TreeEntry] = []
    entries.reserveCapacity(1024)
    var path: [UInt8] = []
    path.reserveCapacity(256)
    try walk(tree, path: &path, into: &entries)
    return entries
  }

  // A direct recursion (rather than git_tree_walk and its callback) that keeps one path buffer:
  // each entry costs one String, decoded lossily from the buffer.
  private func walk(_ tree: OpaquePointer, path: inout [UInt8], into entries: inout [TreeEntry]) throws(GitError) {
    let prefixLength = path.count
    let count = git_tree_entrycount(tree)
    for index in 0..<count {
      guard let entry = git_tree_entry_byindex(tree, index), let name = git_tree_entry_name(entry) else { continue }
      path.removeSubrange(prefixLength...)
      path.append(contentsOf: UnsafeRawBufferPointer(start: name, count: strlen(name)))
      let rawMode = git_tree_entry_filemode(entry)
      if rawMode == GIT_FILEMODE_TREE {
        var subtree: OpaquePointer?
        try readObject(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), "git_tree_lookup", git_tree_entry_id(entry))
        defer { git_tree_free(subtree) }
        path.append(UInt8(ascii: "/"))
        try walk(subtree!, path: &path, into: &entries)
      } else if let mode = FileMode(rawMode) {
        entries.append(TreeEntry(path: String(decoding: path, as: UTF8.self), mode: mode, id: ObjectID(git_tree_entry_id(entry))))
      }
    }
    path.removeSubrange(prefixLength...)
  }

  /// The changes from commit (or tree) `old` to `new`, with renames found by content similarity.
  ///
  /// Unchanged subtrees are skipped by id. A file that became a symlink (or back) is `.typeChanged`;
  /// a rename of an unchanged blob is `.renamed` with similarity 100; a rewrite stays `.modified`.
  /// `renameThreshold` is the minimum similarity percentage for a rename.
  public func diff(from old: ObjectID, to new: ObjectID, renameThreshold: Int = 50) throws -> [FileChange] {
    if old == new { return [] }
    let oldTree = try lookupTree(old)
    defer { git_tree_free(oldTree) }
    let newTree = try lookupTree(new)
    defer { git_tree_free(newTree) }

    // libgit2's tree-to-tree diff reads every subtree of both sides, equal or not (14 ms for a
    // one-file commit in a 20,000-file tree here). Finding the changed paths first, skipping equal
    // subtrees by id, and handing exactly those paths to the diff makes it cost what changed.
    var changed: [[UInt8]] = []
    var path: [UInt8] = []
    try collectChangedPaths(old: oldTree, new: newTree, path: &path, into: &changed)
    if changed.isEmpty { return [] }
    var cPaths: [UnsafeMutablePointer<CChar>?] = changed.map { bytes in
      let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
      bytes.withUnsafeBytes { UnsafeMutableRawPointer(copy).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      copy[bytes.count] = 0
      return copy
    }
    defer { for path in cPaths { path?.deallocate() } }

    var options = git_diff_options()
    try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
    options.flags |=
      GIT_DIFF_INCLUDE_TYPECHANGE.rawValue | GIT_DIFF_SKIP_BINARY_CHECK.rawValue
      | GIT_DIFF_DISABLE_PATHSPEC_MATCH.rawValue
    var diff: OpaquePointer?
    try cPaths.withUnsafeMutableBufferPointer { buffer in
      options.pathspec = git_strarray(strings: buffer.baseAddress, count: buffer.count)
      try check(git_diff_tree_to_tree(&diff, handle, oldTree, newTree, &options), "git_diff_tree_to_tree")
    }
    defer { git_diff_free(diff) }

    var find = git_diff_find_options()
    try check(git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)), "git_diff_find_options_init")
    find.flags = GIT_DIFF_FIND_RENAMES.rawValue
    find.rename_threshold = UInt16(min(max(renameThreshold, 0), 100))
    // git's own default diff.renameLimit; libgit2's 200 gives up on inexact renames in large changes.
    find.rename_limit = 1000
    try check(git_diff_find_similar(diff, &find), "git_diff_find_similar")

    let count = git_diff_num_deltas(diff)
    var changes: [FileChange] = []
    changes.reserveCapacity(count)
    for index in 0..<count {
      guard let delta = git_diff_get_delta(diff, index)?.pointee else { continue }
      let kind: ChangeKind
      switch delta.status {
      case GIT_DELTA_ADDED: kind = .added
      case GIT_DELTA_DELETED: kind = .deleted
      case GIT_DELTA_MODIFIED: kind = .modified
      case GIT_DELTA_RENAMED: kind = .renamed
      case GIT_DELTA_COPIED: kind = .copied
      case GIT_DELTA_TYPECHANGE: kind = .typeChanged
      default: continue
      }
      let hasOld = kind != .added, hasNew = kind != .deleted
      let oldFile = delta.old_file, newFile = delta.new_file
      changes.append(
        FileChange(
          kind: kind,
          oldPath: hasOld ? oldFile.path.map { String(lossyCString: $0) } : nil,
          newPath: hasNew ? newFile.path.map { String(lossyCString: $0) } : nil,
          oldID: hasOld ? ObjectID(oid: oldFile.id) : nil,
          newID: hasNew ? ObjectID(oid: newFile.id) : nil,
          oldMode: hasOld ? FileMode(git_filemode_t(rawValue: UInt32(oldFile.mode))) : nil,
          newMode: hasNew ? FileMode(git_filemode_t(rawValue: UInt32(newFile.mode))) : nil,
          similarity: kind == .renamed || kind == .copied ? Int(delta.similarity) : 0))
    }
    return changes
  }

  /// Appends to `changed` the path of every non-directory entry that differs between two trees
  /// (added, removed, or with another id or mode), descending only into subtrees whose ids differ.
  private func collectChangedPaths(
    old: OpaquePointer?, new: OpaquePointer?, path: inout [UInt8], into changed: inout [[UInt8]]
  ) throws(GitError) {
    let prefixLength = path.count
    defer { path.removeSubrange(prefixLength...) }
    func visit(old: OpaquePointer?, new: OpaquePointer?) throws(GitError) {
      guard let name = git_tree_entry_name(old ?? new) else { return }
      if let old, let new, git_oid_equal(git_tree_entry_id(old), git_tree_entry_id(new)) != 0,
        git_tree_entry_filemode(old) == git_tree_entry_filemode(new)
      {
        return
      }
      path.removeSubrange(prefixLength...)
      path.append(contentsOf: UnsafeRawBufferPointer(start: name, count: strlen(name)))
      let oldIsTree = old.map { git_tree_entry_filemode($0) == GIT_FILEMODE_TREE } ?? false
      let newIsTree = new.map { git_tree_entry_filemode($0) == GIT_FILEMODE_TREE } ?? false
      if (old != nil && !oldIsTree) || (new != nil && !newIsTree) { changed.append(path) }
      guard oldIsTree || newIsTree else { return }
      // A folder on one side or both (a file replaced by a folder lists the file above and
      // everything in the folder below).
      let oldTree = oldIsTree ? try subtree(old!) : nil
      defer { git_tree_free(oldTree) }
      let newTree = newIsTree ? try subtree(new!) : nil
      defer { git_tree_free(newTree) }
      path.append(UInt8(ascii: "/"))
      try collectChangedPaths(old: oldTree, new: newTree, path: &path, into: &changed)
    }
    if let old {
      for index in 0..<git_tree_entrycount(old) {
        guard let entry = git_tree_entry_byindex(old, index) else { continue }
        try visit(old: entry, new: new.flatMap { git_tree_entry_byname($0, git_tree_entry_name(entry)) })
      }
    }
    if let new {
      for index in 0..<git_tree_entrycount(new) {
        guard let entry = git_tree_entry_byindex(new, index) else { continue }
        if let old, git_tree_entry_byname(old, git_tree_entry_name(entry)) != nil { continue }
        try visit(old: nil, new: entry)
      }
    }
  }

  private func subtree(_ entry: OpaquePointer) throws(GitError) -> OpaquePointer {
    var tree: OpaquePointer?
    try readObject(git_tree_lookup(&tree, handle, git_tree_entry_id(entry)), "git_tree_lookup", git_tree_entry_id(entry))
    return tree!
  }

  /// The content of a blob.
  public func blob(_ id: ObjectID) throws -> Data {
    var oid = id.oid
    var blob: OpaquePointer?
    try readObject(git_blob_lookup(&blob, handle, &oid), "git_blob_lookup", &oid)
    defer { git_blob_free(blob) }
    let size = Int(git_blob_rawsize(blob))
    guard size > 0, let content = git_blob_rawcontent(blob) else { return Data() }
    return Data(bytes: content, count: size)
  }

  /// A blob's size in bytes, read from the object header without loading the content.
  public func blobSize(_ id: ObjectID) throws -> Int {
    let header = try objectHeader(id)
    guard header.type == GIT_OBJECT_BLOB else {
      throw GitError(
        kind: .objectNotFound(id.hex), code: GIT_ENOTFOUND.rawValue, function: "git_odb_read_header",
        message: "object is a \(String(cString: git_object_type2string(header.type))), not a blob")
    }
    return header.size
  }

  func objectHeader(_ id: ObjectID) throws(GitError) -> (size: Int, type: git_object_t) {
    var oid = id.oid
    var size = 0
    var type = GIT_OBJECT_INVALID
    try readObject(git_odb_read_header(&size, &type, odb(), &oid), "git_odb_read_header", &oid)
    return (size, type)
  }

  /// The tree of a commit (or the tree itself when `id` names one).
  func lookupTree(_ id: ObjectID) throws(GitError) -> OpaquePointer {
    var oid = id.oid
    var object: OpaquePointer?
    try readObject(git_object_lookup(&object, handle, &oid, GIT_OBJECT_ANY), "git_object_lookup", &oid)
    defer { git_object_free(object) }
    var tree: OpaquePointer?
    let rc = git_object_peel(&tree, object, GIT_OBJECT_TREE)
    if rc < 0 { throw lastError(rc, "git_object_peel").with(kind: .objectNotFound(id.hex)) }
    return tree!
  }

  /// Checks the result of reading object `oid`, telling a missing object from a damaged one.
  func readObject(_ rc: Int32, _ function: String, _ oid: UnsafePointer<git_oid>) throws(GitError) {
    guard rc < 0 else { return }
    let error = lastError(rc, function)
    let id = ObjectID(oid).hex
    if rc == GIT_ENOTFOUND.rawValue { throw error.with(kind: .objectNotFound(id)) }
    let damaged: Set<UInt32> = [GIT_ERROR_ZLIB.rawValue, GIT_ERROR_ODB.rawValue, GIT_ERROR_OBJECT.rawValue, GIT_ERROR_OS.rawValue]
    throw damaged.contains(UInt32(bitPattern: error.errorClass)) ? error.with(kind: .corruptObject(id)) : error
  }
}

extension FileMode {
  init?(_ mode: git_filemode_t) {
    switch mode {
    case GIT_FILEMODE_BLOB: self = .blob
    case GIT_FILEMODE_BLOB_EXECUTABLE: self = .executable
    case GIT_FILEMODE_LINK: self = .symlink
    case GIT_FILEMODE_COMMIT: self = .gitlink
    case GIT_FILEMODE_TREE: self = .tree
    default: return nil
    }
  }
}
