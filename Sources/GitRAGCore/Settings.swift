import Foundation

/// Where each setting comes from, in order: a flag, then the environment, then git config
/// (`rag.*`, repository over global over system), then the default.
public struct SettingsResolver: Sendable {
  public let environment: [String: String]
  public let gitConfig: @Sendable (String) -> String?

  public init(environment: [String: String] = ProcessInfo.processInfo.environment, gitConfig: @escaping @Sendable (String) -> String?) {
    self.environment = environment
    self.gitConfig = gitConfig
  }

  /// The first non-empty of: `flag`, each of `env` in order, each git config key in order.
  public func value(flag: String?, env: [String] = [], git: [String] = []) -> String? {
    if let flag, !flag.isEmpty { return flag }
    for name in env { if let value = environment[name], !value.isEmpty { return value } }
    for key in git { if let value = gitConfig(key), !value.isEmpty { return value } }
    return nil
  }

  /// Like `value`, but parsed as an integer; a value that is not one is a usage error naming its source.
  public func integer(flag: Int?, env: [String] = [], git: [String] = [], name: String) throws -> Int? {
    if let flag { return flag }
    guard let text = value(flag: nil, env: env, git: git) else { return nil }
    guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
      throw GitRAGError("\(name) must be a whole number, got \"\(text)\". Fix the environment variable or git config value.", exitCode: 2)
    }
    return number
  }
}

/// A deadline in seconds from the environment (`GIT_RAG_CONNECT_TIMEOUT=30`), or its default.
public enum DeadlineSetting {
  public static func seconds(_ name: String, in environment: [String: String], default value: TimeInterval) throws -> TimeInterval {
    guard let text = environment[name], !text.isEmpty else { return value }
    guard let seconds = TimeInterval(text), seconds > 0, seconds.isFinite else {
      throw GitRAGError("\(name) '\(text)' is not a positive number of seconds. Set it like \(name)=\(Int(value)).", exitCode: 2)
    }
    return seconds
  }
}
