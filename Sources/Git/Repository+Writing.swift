internal import CLibGit2
import Foundation

extension Repository {
  /// Writes `data` as a blob into the object database (a no-op when it is there already).
  public func writeBlob(_ data: Data) throws -> ObjectID {
    var oid = git_oid()
    let rc = data.withUnsafeBytes { git_blob_create_from_buffer(&oid, handle, $0.baseAddress, $0.count) }
    try check(rc, "git_blob_create_from_buffer")
    return ObjectID(oid: oid)
  }

  /// Writes a tree of `files` (`/`-separated path → blob id, mode 100644), with the subtrees the
  /// paths name, and returns the root tree's id.
  public func writeTree(_ files: [String: ObjectID]) throws -> ObjectID {
    var blobs: [String: ObjectID] = [:]
    var folders: [String: [String: ObjectID]] = [:]
    for (path, id) in files {
      if let slash = path.firstIndex(of: "/") {
        folders[String(path[..<slash]), default: [:]][String(path[path.index(after: slash)...])] = id
      } else {
        blobs[path] = id
      }
    }
    var builder: OpaquePointer?
    try check(git_treebuilder_new(&builder, handle, nil), "git_treebuilder_new")
    defer { git_treebuilder_free(builder) }
    for (name, id) in blobs {
      var oid = id.oid
      try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_BLOB), "git_treebuilder_insert")
    }
    for (name, children) in folders {
      var oid = try writeTree(children).oid
      try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_TREE), "git_treebuilder_insert")
    }
    var oid = git_oid()
    try check(git_treebuilder_write(&oid, builder), "git_treebuilder_write")
    return ObjectID(oid: oid)
  }

  /// Writes a commit of `tree` with `parents`, authored and committed by `git-rag` now.
  public func writeCommit(tree: ObjectID, parents: [ObjectID], message: String) throws -> ObjectID {
    var treeOID = tree.oid
    var treeObject: OpaquePointer?
    try readObject(git_tree_lookup(&treeObject, handle, &treeOID), "git_tree_lookup", &treeOID)
    defer { git_tree_free(treeObject) }
    var parentObjects: [OpaquePointer?] = []
    defer { for object in parentObjects { git_commit_free(object) } }
    for parent in parents {
      var oid = parent.oid
      var commit: OpaquePointer?
      try readObject(git_commit_lookup(&commit, handle, &oid), "git_commit_lookup", &oid)
      parentObjects.append(commit)
    }
    var signature: UnsafeMutablePointer<git_signature>?
    try check(git_signature_now(&signature, "git-rag", "git-rag@localhost"), "git_signature_now")
    defer { git_signature_free(signature) }
    var oid = git_oid()
    let rc = parentObjects.withUnsafeMutableBufferPointer { buffer in
      buffer.withMemoryRebound(to: OpaquePointer?.self) { parents in
        git_commit_create(&oid, handle, nil, signature, signature, "UTF-8", message, treeObject, parents.count, parents.baseAddress)
      }
    }
    try check(rc, "git_commit_create")
    return ObjectID(oid: oid)
  }

  /// The tree of commit `commit`.
  public func treeID(commit: ObjectID) throws -> ObjectID {
    let tree = try lookupTree(commit)
    defer { git_tree_free(tree) }
    return ObjectID(git_tree_id(tree))
  }

  /// The commit `name` (a full reference name) points at; nil when there is no such reference.
  public func reference(_ name: String) throws -> ObjectID? {
    var oid = git_oid()
    let rc = git_reference_name_to_id(&oid, handle, name)
    if rc == GIT_ENOTFOUND.rawValue { return nil }
    try check(rc, "git_reference_name_to_id")
    return ObjectID(oid: oid)
  }

  /// Points reference `name` at `id`, creating or moving it.
  public func setReference(_ name: String, to id: ObjectID, message: String) throws {
    var oid = id.oid
    var reference: OpaquePointer?
    try check(git_reference_create(&reference, handle, name, &oid, 1, message), "git_reference_create")
    git_reference_free(reference)
  }

  /// Deletes reference `name` if it exists.
  public func deleteReference(_ name: String) throws {
    var reference: OpaquePointer?
    let rc = git_reference_lookup(&reference, handle, name)
    if rc == GIT_ENOTFOUND.rawValue { return }
    try check(rc, "git_reference_lookup")
    defer { git_reference_free(reference) }
    try check(git_reference_delete(reference), "git_reference_delete")
  }

  /// True when `id` names a commit whose history contains `ancestor` (or is it).
  public func isAncestor(_ ancestor: ObjectID, of id: ObjectID) -> Bool {
    if ancestor == id { return true }
    var a = id.oid, b = ancestor.oid
    return git_graph_descendant_of(handle, &a, &b) == 1
  }
}
