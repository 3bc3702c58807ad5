internal import CLibGit2
import Foundation

/// An open git repository. Not Sendable: use it from one task and hand out the value types it returns.
public final class Repository {
  let handle: OpaquePointer
  private var odbHandle: OpaquePointer?
  private var bareTwinHandle: OpaquePointer?

  private init(handle: OpaquePointer) { self.handle = handle }

  deinit {
    if let odbHandle { git_odb_free(odbHandle) }
    if let bareTwinHandle { git_repository_free(bareTwinHandle) }
    git_repository_free(handle)
  }

  /// Finds the repository containing `directory` (the current directory by default), the way `git` does.
  ///
  /// Walks up from subfolders, follows `.git` files of linked worktrees and submodules, and honours
  /// `GIT_DIR` (relative to `directory`), `GIT_WORK_TREE`, `GIT_CEILING_DIRECTORIES` and
  /// `GIT_DISCOVERY_ACROSS_FILESYSTEM` from `environment`, as they are set inside git hooks.
  public static func discover(
    from directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> Repository {
    ensureLibGit2()
    let start = (directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
    func absolute(_ path: String) -> String {
      path.hasPrefix("/") ? path : start.appendingPathComponent(path).standardizedFileURL.path
    }

    var pointer: OpaquePointer?
    var rc: Int32
    let searched: String
    if let gitDir = environment["GIT_DIR"], !gitDir.isEmpty {
      searched = absolute(gitDir)
      rc = git_repository_open_ext(&pointer, searched, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
    } else {
      searched = start.path
      var flags: UInt32 = 0
      if let across = environment["GIT_DISCOVERY_ACROSS_FILESYSTEM"], ["1", "true", "yes", "on"].contains(across.lowercased()) {
        flags |= GIT_REPOSITORY_OPEN_CROSS_FS.rawValue
      }
      let ceilings = environment["GIT_CEILING_DIRECTORIES"].flatMap { $0.isEmpty ? nil : $0 }
      rc = git_repository_open_ext(&pointer, searched, flags, ceilings)
    }
    let repository = Repository(handle: try opened(pointer, rc, "git_repository_open_ext", path: searched))

    if let workTree = environment["GIT_WORK_TREE"], !workTree.isEmpty {
      try check(git_repository_set_workdir(repository.handle, absolute(workTree), 0), "git_repository_set_workdir")
    }
    return repository
  }

  /// Opens the repository at `path` (a working tree or a git directory) without searching parents.
  public init(path: URL) throws {
    ensureLibGit2()
    var pointer: OpaquePointer?
    let rc = git_repository_open_ext(&pointer, path.path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
    handle = try Self.opened(pointer, rc, "git_repository_open_ext", path: path.path)
  }

  private static func opened(_ pointer: OpaquePointer?, _ rc: Int32, _ function: String, path: String) throws(GitError) -> OpaquePointer {
    if rc == GIT_ENOTFOUND.rawValue { throw lastError(rc, function).with(kind: .notARepository(path: path)) }
    if rc == GIT_EOWNER.rawValue { throw lastError(rc, function).with(kind: .notOwned(path: path)) }
    try check(rc, function)
    guard let pointer else { throw GitError.notARepository(path) }
    return pointer
  }

  /// The working tree, or nil for a bare repository.
  public var workdir: URL? {
    git_repository_workdir(handle).map { URL(fileURLWithPath: String(lossyCString: $0), isDirectory: true) }
  }

  /// This worktree's git directory (`.git`, or `.git/worktrees/NAME` for a linked worktree).
  public var gitDir: URL {
    URL(fileURLWithPath: String(lossyCString: git_repository_path(handle)), isDirectory: true)
  }

  /// The git directory shared by all worktrees: the main `.git`.
  public var commonDir: URL {
    URL(fileURLWithPath: String(lossyCString: git_repository_commondir(handle)), isDirectory: true)
  }

  /// True when the repository is bare (has no working tree).
  public var isBare: Bool { git_repository_is_bare(handle) == 1 }

  /// True for a shallow clone: some commits' parents are missing.
  public var isShallow: Bool { git_repository_is_shallow(handle) == 1 }

  /// The same git directory opened without a work tree: attribute lookups by commit then skip the
  /// work tree's files (and libgit2's per-lookup realpath and stat calls on it).
  func bareTwin() -> OpaquePointer? {
    if let bareTwinHandle { return bareTwinHandle }
    if isBare { return handle }
    var pointer: OpaquePointer?
    let flags = GIT_REPOSITORY_OPEN_BARE.rawValue | GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
    guard git_repository_open_ext(&pointer, git_repository_path(handle), flags, nil) == 0 else { return nil }
    // Attribute lookups would otherwise load the on-disk index (tens of ms on a large repository)
    // although they read only the commit's .gitattributes: give the twin an empty in-memory one.
    var emptyIndex: OpaquePointer?
    if git_index_new(&emptyIndex) == 0 {
      git_repository_set_index(pointer, emptyIndex)
      git_index_free(emptyIndex)
    }
    bareTwinHandle = pointer
    return pointer
  }

  /// The object database, opened once and kept.
  func odb() throws(GitError) -> OpaquePointer {
    if let odbHandle { return odbHandle }
    var pointer: OpaquePointer?
    try check(git_repository_odb(&pointer, handle), "git_repository_odb")
    odbHandle = pointer
    return pointer!
  }
}

@available(*, unavailable, message: "A Repository wraps a libgit2 handle; use it from one task.")
extension Repository: Sendable {}
