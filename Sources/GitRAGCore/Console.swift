import Foundation
import Logging

#if canImport(Glibc)
  import Glibc
#endif

/// Terminal facts and a swift-log handler that writes short lines to stderr.
public enum Console {
  /// True when stderr is a terminal and `NO_COLOR` is unset: the only case we colour output.
  public static var useColor: Bool {
    isatty(2) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
      && ProcessInfo.processInfo.environment["TERM"] != "dumb"
  }

  public static var stderrIsTerminal: Bool { isatty(2) == 1 }
  public static var stdoutIsTerminal: Bool { isatty(1) == 1 }

  /// Sets up logging once per process: `--quiet` shows errors only, `--verbose` shows debug lines.
  public static func bootstrapLogging(verbose: Bool, quiet: Bool) {
    let level: Logger.Level = quiet ? .error : (verbose ? .debug : .info)
    let color = useColor
    LoggingSystem.bootstrap { label in
      var handler = StderrLogHandler(label: label, color: color)
      handler.logLevel = level
      return handler
    }
  }

  /// Writes `text` to stderr as one line.
  public static func error(_ text: String) {
    let safe = TerminalText.safe(text, keepNewlines: true)
    let line = useColor ? "\u{1B}[31merror:\u{1B}[0m \(safe)\n" : "error: \(safe)\n"
    FileHandle.standardError.write(Data(line.utf8))
  }
}

/// A log handler that prints `message` (and `level:` for warnings and worse) on stderr.
public struct StderrLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level = .info
  let label: String
  let color: Bool

  public init(label: String, color: Bool) {
    self.label = label
    self.color = color
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    let prefix: String
    switch event.level {
    case .trace, .debug: prefix = color ? "\u{1B}[2m" : ""
    case .info, .notice: prefix = ""
    case .warning: prefix = color ? "\u{1B}[33mwarning:\u{1B}[0m " : "warning: "
    case .error, .critical: prefix = color ? "\u{1B}[31merror:\u{1B}[0m " : "error: "
    }
    let suffix = color && event.level <= .debug ? "\u{1B}[0m" : ""
    let message = TerminalText.safe(event.message.description, keepNewlines: true)
    FileHandle.standardError.write(Data("\(prefix)\(message)\(suffix)\n".utf8))
  }
}

/// Phase timings on stderr when `GIT_RAG_TRACE=1`: `trace   12.34 ms  label`, measured from the
/// first mark (the start of `main`). For finding where a slow command spends its time.
public enum Trace {
  public static let enabled = getenv("GIT_RAG_TRACE").map { String(cString: $0) == "1" } ?? false
  private static let start = ContinuousClock.now

  public static func mark(_ label: @autoclosure () -> String) {
    guard enabled else { return }
    let elapsed = ContinuousClock.now - start
    let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
    FileHandle.standardError.write(Data(String(format: "trace %8.2f ms  %@\n", ms, label()).utf8))
  }
}
