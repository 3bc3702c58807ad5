internal import CLibGit2
import Foundation

/// Git configuration outside a repository: global (`~/.gitconfig`, XDG) over system.
public enum GitConfig {
  /// A value from the user's and the system's configuration.
  public static func global(_ key: String) -> String? {
    withDefaultSnapshot { string(key, in: $0) }
  }

  /// A boolean value from the user's and the system's configuration.
  public static func globalBool(_ key: String) -> Bool? {
    withDefaultSnapshot { bool(key, in: $0) }
  }

  /// Makes this process read global configuration from `home` (`home/.gitconfig`,
  /// `home/.config/git/config`) and no system configuration; nil restores the defaults from `$HOME`.
  ///
  /// Process-wide, and read when a repository's configuration is loaded: for tests that run
  /// in-process with a temporary home, like `git` with `HOME=… GIT_CONFIG_NOSYSTEM=1`. libgit2 does
  /// not lock these settings, so call it once, before any repository is opened on another thread.
  public static func setSearchHome(_ home: URL?) throws {
    ensureLibGit2()
    let paths: [(git_config_level_t, String?)] = [
      (GIT_CONFIG_LEVEL_GLOBAL, home?.path),
      (GIT_CONFIG_LEVEL_XDG, home?.appendingPathComponent(".config/git").path),
      (GIT_CONFIG_LEVEL_SYSTEM, home?.appendingPathComponent(".git-rag-no-system-config").path),
    ]
    for (level, path) in paths {
      try check(git_rag_set_search_path(level.rawValue, path), "git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)")
    }
  }

  private static func withDefaultSnapshot<T>(_ body: (OpaquePointer) -> T?) -> T? {
    ensureLibGit2()
    var config: OpaquePointer?
    guard git_config_open_default(&config) == 0, let config else { return nil }
    defer { git_config_free(config) }
    var snapshot: OpaquePointer?
    guard git_config_snapshot(&snapshot, config) == 0, let snapshot else { return nil }
    defer { git_config_free(snapshot) }
    return body(snapshot)
  }

  static func string(_ key: String, in snapshot: OpaquePointer) -> String? {
    var value: UnsafePointer<CChar>?
    guard git_config_get_string(&value, snapshot, key) == 0, let value else { return nil }
    return String(lossyCString: value)
  }

  static func bool(_ key: String, in snapshot: OpaquePointer) -> Bool? {
    var value: Int32 = 0
    guard git_config_get_bool(&value, snapshot, key) == 0 else { return nil }
    return value != 0
  }
}

/// Git blob ids computed without a repository.
public enum GitBlob {
  /// The id git gives `data` as a blob; equals `git hash-object`.
  public static func id(of data: Data) -> ObjectID {
    ensureLibGit2()
    var oid = git_oid()
    var empty: UInt8 = 0
    // An empty Data may have no base address; libgit2 wants a non-null pointer even for 0 bytes.
    let rc =
      data.isEmpty
      ? git_odb_hash(&oid, &empty, 0, GIT_OBJECT_BLOB)
      : data.withUnsafeBytes { git_odb_hash(&oid, $0.baseAddress, $0.count, GIT_OBJECT_BLOB) }
    // git_odb_hash can only fail on an invalid object type or out of memory.
    precondition(rc == 0, "git_odb_hash failed: \(rc)")
    return ObjectID(oid: oid)
  }

  /// The blob id of the file at `url`, hashed as stored (no filters, like `git hash-object --no-filters`).
  public static func id(ofFileAt url: URL) throws -> ObjectID {
    ensureLibGit2()
    var oid = git_oid()
    try check(git_odb_hashfile(&oid, url.path, GIT_OBJECT_BLOB), "git_odb_hashfile")
    return ObjectID(oid: oid)
  }
}
