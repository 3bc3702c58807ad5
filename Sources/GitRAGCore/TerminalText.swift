/// Text from a repository, an archive or a server made safe to print on a terminal.
///
/// File names, chunk text, symbols and error messages can carry control characters that a
/// terminal obeys: ESC sequences (title changes, screen clears, OSC 8 links, colours), C1 controls
/// (U+0080-U+009F, which some terminals read as ESC sequences) and bidirectional overrides that
/// make a line read differently from what it holds. Each such scalar is shown escaped instead:
/// `\x1b`, `\x9b`, `\u{202e}`. Everything else, including non-ASCII letters, passes unchanged.
public enum TerminalText {
  /// `text` with every control scalar escaped; `keepNewlines` lets `\n` and `\t` through (for
  /// text printed as several lines).
  public static func safe(_ text: some StringProtocol, keepNewlines: Bool = false) -> String {
    let scalars = text.unicodeScalars
    guard scalars.contains(where: { needsEscape($0, keepNewlines: keepNewlines) }) else { return String(text) }
    var out = String.UnicodeScalarView()
    for scalar in scalars {
      guard needsEscape(scalar, keepNewlines: keepNewlines) else {
        out.append(scalar)
        continue
      }
      let hex = String(scalar.value, radix: 16)
      let escaped = scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
      out.append(contentsOf: escaped.unicodeScalars)
    }
    return String(out)
  }

  /// True for C0 and C1 controls, DEL, and the bidirectional formatting characters.
  static func needsEscape(_ scalar: Unicode.Scalar, keepNewlines: Bool) -> Bool {
    switch scalar.value {
    case 0x0A, 0x09: !keepNewlines
    case 0x00...0x1F, 0x7F...0x9F: true
    // LRM, RLM, ALM; LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
    case 0x200E, 0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
  }
}

extension StringProtocol {
  /// This text safe to print on a terminal, on one line (see `TerminalText`).
  public var terminalSafe: String { TerminalText.safe(self) }
}
