import Foundation

/// Per-user folders, following the XDG base directory conventions.
public enum UserPaths {
  public static func environment(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
  }

  public static var home: URL {
    URL(fileURLWithPath: environment("HOME") ?? NSHomeDirectory(), isDirectory: true)
  }

  /// `$XDG_DATA_HOME/git-rag` (default `~/.local/share/git-rag`): stores outside a repository.
  public static var data: URL {
    let base =
      environment("XDG_DATA_HOME").map { URL(fileURLWithPath: $0, isDirectory: true) }
      ?? home.appendingPathComponent(".local/share", isDirectory: true)
    return base.appendingPathComponent("git-rag", isDirectory: true)
  }

  /// `$XDG_CACHE_HOME/git-rag` (default `~/.cache/git-rag`): models and the embedding cache.
  public static var cache: URL {
    let base =
      environment("XDG_CACHE_HOME").map { URL(fileURLWithPath: $0, isDirectory: true) }
      ?? home.appendingPathComponent(".cache", isDirectory: true)
    return base.appendingPathComponent("git-rag", isDirectory: true)
  }

  /// Where downloaded models live: `$XDG_CACHE_HOME/git-rag/models`.
  public static var models: URL { cache.appendingPathComponent("models", isDirectory: true) }
}

/// Folders and files only their owner may read: the user-wide cache holds vectors and facts
/// derived from every repository the user indexed.
public enum PrivateFolder {
  /// Creates `folder` with mode 0700, or tightens it to 0700; its files become 0600 and its
  /// subfolders 0700 (their contents are then out of reach already).
  public static func prepare(_ folder: URL) throws {
    let manager = FileManager.default
    try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    try tighten(folder.path, to: 0o700)
    for name in (try? manager.contentsOfDirectory(atPath: folder.path)) ?? [] {
      let path = folder.appendingPathComponent(name).path
      var info = stat()
      guard lstat(path, &info) == 0 else { continue }
      switch info.st_mode & S_IFMT {
      case S_IFDIR: try? tighten(path, to: 0o700)
      case S_IFREG: try? tighten(path, to: 0o600)
      default: break
      }
    }
  }

  /// Sets `path`'s mode to `mode` when it allows more; a missing file is left alone.
  public static func tighten(_ path: String, to mode: mode_t) throws {
    var info = stat()
    guard stat(path, &info) == 0 else { return }
    guard info.st_mode & 0o777 != mode else { return }
    guard chmod(path, mode) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM) }
  }

  /// Creates an empty file with mode 0600 unless it exists (SQLite gives its journals the mode
  /// of the database file).
  public static func createFile(_ path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    if fd >= 0 { close(fd) }
  }
}

/// The folder that holds the embedded store and the sync lock.
public enum StoreFolder {
  /// Throws a one-line error when `url` exists but is not a folder (a mistyped `--store-path`).
  public static func check(_ url: URL) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue else { return }
    throw GitRAGError(
      "The store folder \(url.path) is a file, not a folder. Point --store-path (or GIT_RAG_STORE_PATH, rag.storePath) at a folder; it is created if missing.",
      exitCode: 2)
  }

  /// Creates `url` (and its parents) after `check`, with a one-line error naming the folder.
  public static func create(_ url: URL) throws {
    try check(url)
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw GitRAGError(
        "Cannot create the store folder \(url.path) (\((error as NSError).localizedFailureReason ?? error.localizedDescription)). Check its permissions, or choose another with --store-path."
      )
    }
  }
}

/// Writing files that will be executed (hooks, scripts).
public enum ExecutableFile {
  /// Creates or truncates `url`, writes `data` and sets `mode`, with a close-on-exec descriptor.
  ///
  /// A plain write's descriptor is inherited by any child another thread starts meanwhile; while
  /// that child lives the file counts as open for writing, and executing it fails with "Text file
  /// busy".
  public static func write(_ data: Data, to url: URL, mode: mode_t = 0o755) throws {
    let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    try data.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        offset += written
      }
    }
    // open's mode applies only to a new file, and through the umask.
    guard fchmod(fd, mode) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
  }
}
