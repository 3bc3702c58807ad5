import Foundation
import GitRAGCore
import GitRAGKit
import Indexing

enum JSONOutput {
  static func encode<T: Encodable>(_ value: T) throws -> String { try JSONContract.encode(value) }
}

extension Console {
  /// An informational line on stderr (stdout is for results), control characters escaped.
  static func info(_ text: String) {
    FileHandle.standardError.write(Data((TerminalText.safe(text, keepNewlines: true) + "\n").utf8))
  }
}

/// A one-line progress bar on a terminal (files, chunks, rate, ETA); silent otherwise.
final class ProgressPrinter: @unchecked Sendable {
  // @unchecked: all state is behind `lock`.
  private let lock = NSLock()
  private let enabled: Bool
  private let start = Date()
  private var drawn = false

  init(enabled: Bool) { self.enabled = enabled }

  func handle(_ event: SyncEvent) {
    guard enabled, case let .indexed(files, total, chunks) = event, total > 0 else { return }
    lock.withLock {
      let elapsed = Date().timeIntervalSince(start)
      let rate = elapsed > 0 ? Double(files) / elapsed : 0
      let eta = rate > 0 ? Double(total - files) / rate : 0
      let width = 24
      let filled = Int(Double(width) * Double(files) / Double(total))
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
      let line = String(format: "\r[%@] %d/%d files, %d chunks, %.1f files/s, ETA %.0fs ", bar, files, total, chunks, rate, eta)
      FileHandle.standardError.write(Data(line.utf8))
      drawn = true
    }
  }

  func finish() {
    lock.withLock {
      if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
      drawn = false
    }
  }
}
