internal import CLibGit2
import Foundation

extension Repository {
  /// A configuration value, with repository settings over global (`~/.gitconfig`, XDG) over system.
  public func config(_ key: String) -> String? {
    withConfigSnapshot { GitConfig.string(key, in: $0) }
  }

  /// A boolean configuration value (`true`/`yes`/`on`/`1` and their opposites); nil when unset or not a boolean.
  public func configBool(_ key: String) -> Bool? {
    withConfigSnapshot { GitConfig.bool(key, in: $0) }
  }

  /// True when `key` is set in this repository's own configuration (`.git/config`, the
  /// worktree's), false when it comes from the user's or the system's, nil when unset.
  public func configIsRepositoryLocal(_ key: String) -> Bool? {
    withConfigSnapshot { snapshot -> Bool? in
      var entry: UnsafeMutablePointer<git_config_entry>?
      guard git_config_get_entry(&entry, snapshot, key) == 0, let entry else { return nil }
      defer { git_config_entry_free(entry) }
      return entry.pointee.level.rawValue >= GIT_CONFIG_LEVEL_LOCAL.rawValue
    }
  }

  private func withConfigSnapshot<T>(_ body: (OpaquePointer) -> T?) -> T? {
    var snapshot: OpaquePointer?
    guard git_repository_config_snapshot(&snapshot, handle) == 0, let snapshot else { return nil }
    defer { git_config_free(snapshot) }
    return body(snapshot)
  }

  /// The gitattribute `name` for `path` (repository-relative), from `.gitattributes` files,
  /// `.git/info/attributes` and `core.attributesFile`.
  ///
  /// Without `commit`, `.gitattributes` files are read from the working tree, then the index (as
  /// `git check-attr` does). With `commit`, only that commit's `.gitattributes` files are read, so
  /// uncommitted edits do not count; this also works in a bare repository, and is about 3x faster.
  public func attribute(_ name: String, path: String, commit: ObjectID? = nil) -> AttributeValue {
    var value: UnsafePointer<CChar>?
    let rc: Int32
    if let commit {
      var options = git_attr_options()
      options.version = UInt32(GIT_ATTR_OPTIONS_VERSION)
      // Source bits 3 (neither FILE_THEN_INDEX, INDEX_THEN_FILE nor INDEX_ONLY) select no work tree
      // and no index files in libgit2's attr_decide_sources, leaving the commit's; a test pins this.
      options.flags = 3 | UInt32(GIT_ATTR_CHECK_INCLUDE_COMMIT)
      options.attr_commit_id = commit.oid
      guard let twin = bareTwin() else { return .unspecified }
      rc = git_attr_get_ext(&value, twin, &options, path, name)
    } else {
      rc = git_attr_get(&value, handle, UInt32(GIT_ATTR_CHECK_FILE_THEN_INDEX), path, name)
    }
    guard rc == 0 else { return .unspecified }
    switch git_attr_value(value) {
    case GIT_ATTR_VALUE_TRUE: return .set
    case GIT_ATTR_VALUE_FALSE: return .unset
    case GIT_ATTR_VALUE_STRING: return value.map { .value(String(lossyCString: $0)) } ?? .unspecified
    default: return .unspecified
    }
  }

  /// True when a tracked file differs from HEAD in the index or the working tree.
  ///
  /// Untracked and ignored files do not count, nor do submodules. Always false for a bare repository.
  public func isDirty() throws -> Bool {
    if isBare { return false }
    var options = git_status_options()
    try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
    options.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
    var list: OpaquePointer?
    try check(git_status_list_new(&list, handle, &options), "git_status_list_new")
    defer { git_status_list_free(list) }
    return git_status_list_entrycount(list) > 0
  }

  /// How many commits `local` has that `upstream` lacks, and the other way round.
  public func aheadBehind(local: ObjectID, upstream: ObjectID) throws -> (ahead: Int, behind: Int) {
    var localOID = local.oid, upstreamOID = upstream.oid
    var ahead = 0, behind = 0
    try readObject(
      git_graph_ahead_behind(&ahead, &behind, handle, &localOID, &upstreamOID), "git_graph_ahead_behind", &localOID)
    return (ahead, behind)
  }

  /// The fetch URL of remote `name`, with any credentials removed from http(s) URLs.
  public func remoteURL(_ name: String = "origin") -> String? {
    var remote: OpaquePointer?
    guard git_remote_lookup(&remote, handle, name) == 0 else { return nil }
    defer { git_remote_free(remote) }
    return git_remote_url(remote).map { redactingCredentials(String(lossyCString: $0)) }
  }
}

/// `url` without the `user:password@` part when it is an http(s) URL (where a token may hide in
/// either field); ssh and scp-like URLs keep their user name, which is not a secret.
func redactingCredentials(_ url: String) -> String {
  guard var components = URLComponents(string: url),
    let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
    components.user != nil || components.password != nil
  else { return url }
  components.user = nil
  components.password = nil
  return components.string ?? url
}
