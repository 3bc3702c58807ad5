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
