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
    let base = environment("XDG_DATA_HOME").map { URL(fileURLWithPath: $0, isDirectory: true) }
      ?? home.appendingPathComponent(".local/share", isDirectory: true)
    return base.appendingPathComponent("git-rag", isDirectory: true)
  }

  /// `$XDG_CACHE_HOME/git-rag` (default `~/.cache/git-rag`): models and the embedding cache.
  public static var cache: URL {
    let base = environment("XDG_CACHE_HOME").map { URL(fileURLWithPath: $0, isDirectory: true) }
      ?? home.appendingPathComponent(".cache", isDirectory: true)
    return base.appendingPathComponent("git-rag", isDirectory: true)
  }

  /// Where downloaded models live: `$XDG_CACHE_HOME/git-rag/models`.
  public static var models: URL { cache.appendingPathComponent("models", isDirectory: true) }
}

/// The folder that holds the embedded store and the sync lock.
public enum StoreFolder {
  /// Throws a one-line error when `url` exists but is not a folder (a mistyped `--store-path`).
  public static func check(_ url: URL) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue else { return }
    throw GitRAGError("The store folder \(url.path) is a file, not a folder. Point --store-path (or GIT_RAG_STORE_PATH, rag.storePath) at a folder; it is created if missing.", exitCode: 2)
  }

  /// Creates `url` (and its parents) after `check`, with a one-line error naming the folder.
  public static func create(_ url: URL) throws {
    try check(url)
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw GitRAGError("Cannot create the store folder \(url.path) (\((error as NSError).localizedFailureReason ?? error.localizedDescription)). Check its permissions, or choose another with --store-path.")
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
