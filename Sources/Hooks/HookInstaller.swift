import Foundation
import GitRAGCore

/// Installs, removes and reports git-rag's git hooks in one hooks folder, in the git-lfs manner.
///
/// A hook git-rag wrote (current or older version marker) is replaced freely. A hook someone else
/// wrote is never overwritten: if it is a shell script the git-rag call is chained into it as a
/// marked block, otherwise it is left alone and the user is told how to add the call; `force`
/// replaces it after keeping a copy in `<hook>.git-rag-backup`. A hook that is a symbolic link is
/// never written through (its target is often a tracked file): the user is told which line to add,
/// or `force` moves the link itself aside. Hooks are handled as bytes, so any encoding survives,
/// and a chained hook keeps its mode. Uninstall removes only what git-rag wrote and leaves the
/// rest byte-identical and link-identical.
public struct HookInstaller: Sendable {
  /// The hooks folder: `core.hooksPath` or `<common git dir>/hooks`, resolved by the caller.
  public let hooksDirectory: URL

  /// The first and last lines of the block chained into someone else's hook.
  public static let blockBegin = "# >>> git-rag >>>"
  public static let blockEnd = "# <<< git-rag <<<"
  /// The suffix of the copy kept when `force` replaces someone else's hook.
  public static let backupSuffix = ".git-rag-backup"

  public init(hooksDirectory: URL) {
    self.hooksDirectory = hooksDirectory
  }

  /// Writes every hook in `HookScripts.all` (sorted by name) and says what happened to each.
  public func install(force: Bool) throws -> [HookInstallResult] {
    try FileManager.default.createDirectory(at: hooksDirectory, withIntermediateDirectories: true)
    return try HookScripts.all.keys.sorted().map { try install(hook: $0, force: force) }
  }

  /// Removes what git-rag wrote from every hook (restoring a backup it made) and says what happened.
  public func uninstall() throws -> [HookInstallResult] {
    try HookScripts.all.keys.sorted().map { try uninstall(hook: $0) }
  }

  /// What each hook file holds now.
  public func status() -> [HookStatus] {
    HookScripts.all.keys.sorted().map { hook in
      let url = path(hook)
      return HookStatus(hook: hook, path: url, state: state(of: read(url)))
    }
  }

  func path(_ hook: String) -> URL { hooksDirectory.appendingPathComponent(hook) }

  private func install(hook: String, force: Bool) throws -> HookInstallResult {
    let url = path(hook)
    let script = HookScripts.all[hook]!
    func result(_ action: HookInstallResult.Action) -> HookInstallResult {
      HookInstallResult(hook: hook, path: url, action: action)
    }
    if let target = linkTarget(url), !force {
      return result(.refused(reason: "it is a symbolic link to \(target), which git-rag does not write through"))
    }
    // A dangling link counts as someone else's hook: only `force` moves it aside.
    guard let existing = read(url) ?? (linkTarget(url) != nil ? Data() : nil) else {
      try write(Data(script.utf8), to: url)
      return result(.installed)
    }
    switch state(of: existing) {
    case .missing:
      try write(Data(script.utf8), to: url)
      return result(.installed)
    case .installed:
      guard existing != Data(script.utf8) else { return result(.unchanged) }
      try write(Data(script.utf8), to: url)
      return result(.updated)
    case .chained, .foreign:
      if force {
        let backup = URL(fileURLWithPath: url.path + Self.backupSuffix)
        if FileManager.default.fileExists(atPath: backup.path) {
          throw HookInstallerError.backupExists(backup.path)
        }
        // The backup is the user's hook as it was before git-rag touched it, mode included; a
        // link is moved aside as the link it is.
        if linkTarget(url) == nil, let original = Self.removingBlock(from: existing) { try write(original, to: url, keepMode: true) }
        do {
          try FileManager.default.moveItem(at: url, to: backup)
        } catch {
          throw HookInstallerError.cannotWrite(backup.path, error.localizedDescription)
        }
        try write(Data(script.utf8), to: url)
        return result(.replaced(backup: backup))
      }
      if let unchained = Self.removingBlock(from: existing) {
        let rechained = Self.chaining(hook: hook, into: unchained)!
        guard rechained != existing else { return result(.unchanged) }
        try write(rechained, to: url, keepMode: true)
        return result(.chained)
      }
      guard let chained = Self.chaining(hook: hook, into: existing) else {
        return result(.refused(reason: "it is not a sh/bash script"))
      }
      try write(chained, to: url, keepMode: true)
      return result(.chained)
    }
  }

  private func uninstall(hook: String) throws -> HookInstallResult {
    let url = path(hook)
    let backup = URL(fileURLWithPath: url.path + Self.backupSuffix)
    func result(_ action: HookInstallResult.Action) -> HookInstallResult {
      HookInstallResult(hook: hook, path: url, action: action)
    }
    guard let existing = read(url) else { return result(.notInstalled) }
    // git-rag never writes through a link; a block in its target was put there by hand.
    if linkTarget(url) != nil { return result(.notInstalled) }
    switch state(of: existing) {
    case .missing, .foreign:
      return result(.notInstalled)
    case .installed:
      do {
        try FileManager.default.removeItem(at: url)
        if FileManager.default.fileExists(atPath: backup.path) {
          try FileManager.default.moveItem(at: backup, to: url)
          return result(.restored(backup: backup))
        }
      } catch {
        throw HookInstallerError.cannotWrite(url.path, error.localizedDescription)
      }
      return result(.removed)
    case .chained:
      guard let original = Self.removingBlock(from: existing) else { return result(.notInstalled) }
      try write(original, to: url, keepMode: true)
      return result(.unchained)
    }
  }

  func state(of data: Data?) -> HookStatus.State {
    guard let data else { return .missing }
    // Only ASCII markers are looked for, so a lossy decoding of the head is enough.
    let text = String(decoding: data.prefix(8192), as: UTF8.self)
    if let version = Self.version(in: text, linePrefix: HookScripts.marker) {
      if text.hasPrefix("#!") && Self.lines(of: text).dropFirst().first?.hasPrefix(HookScripts.marker) == true {
        return .installed(version: version)
      }
    }
    if text.contains(Self.blockBegin) {
      return .chained(version: Self.version(in: text, linePrefix: "# git-rag chained hook v") ?? 0)
    }
    return .foreign
  }

  private func read(_ url: URL) -> Data? {
    FileManager.default.contents(atPath: url.path)
  }

  /// Where `url` points when it is a symbolic link.
  private func linkTarget(_ url: URL) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: url.path)
  }

  /// Writes with mode 0755, or with the file's current mode when `keepMode` (someone else's hook).
  private func write(_ data: Data, to url: URL, keepMode: Bool = false) throws {
    // Write beside the target and rename, so git never runs a half-written hook.
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).git-rag-tmp")
    let current = (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions]) as? NSNumber
    let mode = keepMode ? current?.intValue ?? 0o755 : 0o755
    do {
      try? FileManager.default.removeItem(at: temporary)
      try ExecutableFile.write(data, to: temporary, mode: mode_t(mode & 0o7777))
      if rename(temporary.path, url.path) != 0 {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw HookInstallerError.cannotWrite(url.path, error.localizedDescription)
    }
  }

  // MARK: - Script text

  static func lines(of text: String) -> [Substring] {
    text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  static func version(in text: String, linePrefix: String) -> Int? {
    for line in lines(of: text).prefix(40) where line.hasPrefix(linePrefix) {
      let digits = line.dropFirst(linePrefix.count).prefix { $0.isNumber }
      if let version = Int(digits) { return version }
    }
    return nil
  }

  /// True for a script whose shebang names sh, bash or dash (directly or through `env`).
  static func isShellScript(_ data: Data) -> Bool {
    let first = String(decoding: data.prefix { $0 != 0x0A }, as: UTF8.self)
    guard first.hasPrefix("#!") else { return false }
    let words = first.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
    guard var program = words.first.map({ String($0.split(separator: "/").last ?? "") }) else { return false }
    if program == "env", words.count > 1 {
      program = words.dropFirst().first { !$0.hasPrefix("-") }.map(String.init) ?? ""
    }
    return ["sh", "bash", "dash"].contains(program)
  }

  /// The block chained into someone else's hook: the hook's body in a subshell, so its `exit`s
  /// and variables stay inside, followed by `|| true`, so that neither `set -e` nor a failure of
  /// git-rag's part ever stops the user's hook.
  static func block(hook: String) -> Data {
    let script = HookScripts.all[hook]!
    let body = lines(of: script).dropFirst().filter { !$0.hasPrefix("#") && !$0.isEmpty }
    let text =
      ([
        Substring(blockBegin), "# git-rag chained hook v\(HookScripts.version) (\(hook)): `git rag hooks uninstall` removes this block.",
        "(",
      ]
      + body.map { "  " + $0 } + [") || true", Substring(blockEnd)]).joined(separator: "\n") + "\n"
    return Data(text.utf8)
  }

  /// `data` with the block inserted right after its shebang line, or nil if it is no shell script.
  ///
  /// After the shebang rather than at the end: a hook that ends in `exit` or `exec` would never
  /// reach an appended block.
  static func chaining(hook: String, into data: Data) -> Data? {
    guard isShellScript(data) else { return nil }
    guard let newline = data.firstIndex(of: 0x0A) else { return data + Data("\n".utf8) + block(hook: hook) }
    let afterShebang = data.index(after: newline)
    return data[..<afterShebang] + block(hook: hook) + data[afterShebang...]
  }

  /// `data` without the chained block (byte-identical to before chaining), or nil if it has none.
  static func removingBlock(from data: Data) -> Data? {
    guard let begin = data.range(of: Data((blockBegin + "\n").utf8)),
      let end = data.range(of: Data((blockEnd + "\n").utf8), in: begin.upperBound..<data.endIndex)
    else { return nil }
    return data[..<begin.lowerBound] + data[end.upperBound...]
  }
}

/// What `HookInstaller.install` or `uninstall` did to one hook.
public struct HookInstallResult: Sendable, Hashable {
  public enum Action: Sendable, Hashable {
    /// Wrote git-rag's hook where there was none.
    case installed
    /// Replaced an older git-rag hook.
    case updated
    /// Already up to date.
    case unchanged
    /// Chained the git-rag call into someone else's shell hook.
    case chained
    /// Replaced someone else's hook (`force`), keeping it at `backup`.
    case replaced(backup: URL)
    /// Left someone else's hook alone: it cannot be chained into.
    case refused(reason: String)
    /// Removed git-rag's hook.
    case removed
    /// Removed git-rag's hook and put back the hook it had replaced.
    case restored(backup: URL)
    /// Removed the chained block, leaving the rest of the hook as it was.
    case unchained
    /// Nothing of git-rag's was there.
    case notInstalled
  }

  public let hook: String
  public let path: URL
  public let action: Action

  /// One line for the user, e.g. `post-commit: installed (/repo/.git/hooks/post-commit)`.
  public var message: String {
    switch action {
    case .installed: "\(hook): installed (\(path.path))"
    case .updated: "\(hook): updated to v\(HookScripts.version) (\(path.path))"
    case .unchanged: "\(hook): already installed (\(path.path))"
    case .chained: "\(hook): added a git-rag block to the existing hook (\(path.path))"
    case .replaced(let backup): "\(hook): replaced the existing hook, kept as \(backup.path)"
    case .refused(let reason):
      "\(hook): left \(path.path) alone: \(reason); add the line `git-rag sync --quiet --from-hook </dev/null >/dev/null 2>&1 &` to it yourself, or rerun with --force to replace it (a backup is kept)"
    case .removed: "\(hook): removed (\(path.path))"
    case .restored(let backup): "\(hook): removed, and restored the previous hook from \(backup.path)"
    case .unchained: "\(hook): removed the git-rag block from \(path.path)"
    case .notInstalled: "\(hook): not installed"
    }
  }
}

/// What one hook file holds.
public struct HookStatus: Sendable, Hashable {
  public enum State: Sendable, Hashable {
    /// No file.
    case missing
    /// git-rag's own hook, with its version (`HookScripts.version` is current).
    case installed(version: Int)
    /// Someone else's hook with git-rag's block chained in.
    case chained(version: Int)
    /// Someone else's hook without git-rag in it.
    case foreign
  }

  public let hook: String
  public let path: URL
  public let state: State

  /// True when the hook runs the current git-rag hook.
  public var isCurrent: Bool {
    switch state {
    case .installed(let v), .chained(let v): v == HookScripts.version
    case .missing, .foreign: false
    }
  }
}

/// Why hooks could not be installed or removed.
public enum HookInstallerError: UserFacingError, Equatable {
  case cannotWrite(String, String)
  case backupExists(String)

  public var errorDescription: String? {
    switch self {
    case let .cannotWrite(path, reason):
      "Cannot write the hook \(path) (\(reason)). Check the folder's permissions, or set core.hooksPath to a writable folder."
    case let .backupExists(path):
      "A backup of an earlier hook already exists at \(path). Move it away (or restore it), then run `git rag hooks install --force` again."
    }
  }
}
