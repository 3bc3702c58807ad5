internal import CLibGit2
import Foundation

/// A path whose working-tree state differs from HEAD (staged or not).
public struct WorkingTreeChange: Sendable, Hashable {
  public enum Kind: String, Sendable {
    /// Tracked in HEAD, changed in the index or the working tree.
    case modified
    /// Not in HEAD: staged, or untracked and not ignored.
    case added
    /// In HEAD, gone from the working tree (or removed from the index).
    case deleted
  }

  public let path: String
  public let kind: Kind

  public init(path: String, kind: Kind) {
    self.path = path
    self.kind = kind
  }
}

extension Repository {
  /// Every path whose working-tree content differs from HEAD: modified, added (staged or
  /// untracked, never ignored) and deleted, sorted by path. Submodules are left out. A renamed file
  /// shows as its old path deleted and its new path added. Empty for a bare repository.
  public func workingTreeChanges() throws -> [WorkingTreeChange] {
    if isBare { return [] }
    var options = git_status_options()
    try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
    options.flags =
      GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
      | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
    var list: OpaquePointer?
    try check(git_status_list_new(&list, handle, &options), "git_status_list_new")
    defer { git_status_list_free(list) }
    var changes: [String: WorkingTreeChange.Kind] = [:]
    for index in 0..<git_status_list_entrycount(list) {
      guard let entry = git_status_byindex(list, index)?.pointee else { continue }
      let status = entry.status.rawValue
      func has(_ flag: git_status_t) -> Bool { status & flag.rawValue != 0 }
      let headPath = entry.head_to_index?.pointee.old_file.path.map { String(cString: $0) }
      let indexPath = entry.head_to_index?.pointee.new_file.path.map { String(cString: $0) }
      let workdirPath = entry.index_to_workdir?.pointee.new_file.path.map { String(cString: $0) }
      let gone = has(GIT_STATUS_WT_DELETED) || (has(GIT_STATUS_INDEX_DELETED) && !has(GIT_STATUS_WT_NEW))
      guard let path = workdirPath ?? indexPath ?? headPath else { continue }
      if gone {
        changes[headPath ?? path] = .deleted
      } else {
        // Not in HEAD: staged as new, or untracked (an untracked file still in HEAD is one
        // `git rm --cached` left in place: deleted from the index, so it counts as modified).
        let new = has(GIT_STATUS_INDEX_NEW) || (has(GIT_STATUS_WT_NEW) && !has(GIT_STATUS_INDEX_DELETED))
        changes[path] = new ? .added : .modified
      }
    }
    return changes.map { WorkingTreeChange(path: $0.key, kind: $0.value) }.sorted { $0.path < $1.path }
  }
}
