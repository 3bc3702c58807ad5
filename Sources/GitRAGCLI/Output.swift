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
final class ProgressPrinter: Sendable {
  private let enabled: Bool
  private let start = Date()
  /// Whether a bar is on the terminal; held while drawing, so lines never interleave.
  private let drawn = Locked(false)

  init(enabled: Bool) { self.enabled = enabled }

  func handle(_ event: SyncEvent) {
    guard enabled, case let .indexed(progress) = event, progress.totalFiles > 0 else { return }
    drawn.withLock { drawn in
      let elapsed = Date().timeIntervalSince(start)
      // The rate in bytes of files written: chunks and tokens follow bytes, not file counts.
      let done =
        progress.totalBytes > 0
        ? Double(progress.bytes) / Double(progress.totalBytes) : Double(progress.files) / Double(progress.totalFiles)
      let eta = done > 0 ? elapsed * (1 - done) / done : 0
      let rate = elapsed > 0 ? Double(progress.chunks) / elapsed : 0
      let width = 24
      let filled = min(width, Int(Double(width) * done))
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
      let line = String(
        format: "\r[%@] %d/%d files, %d chunks, %.1f chunks/s, ETA %@ ", bar, progress.files, progress.totalFiles, progress.chunks, rate,
        done > 0 ? Self.duration(eta) : "…")
      FileHandle.standardError.write(Data(line.utf8))
      drawn = true
    }
  }

  /// `42s`, `3m05s`, `1h02m`.
  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total < 60 { return "\(total)s" }
    if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
    return String(format: "%dh%02dm", total / 3600, total % 3600 / 60)
  }

  func finish() {
    drawn.withLock { drawn in
      if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
      drawn = false
    }
  }
}
