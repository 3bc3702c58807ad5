import GitRAGCore
import Testing

@Suite struct TerminalTextTests {
  @Test func escapesC0C1AndEscapeSequences() {
    let title = "\u{1B}]0;pwned\u{07}name.py"
    #expect(title.terminalSafe == "\\x1b]0;pwned\\x07name.py")
    #expect("clear\u{1B}[2J\u{1B}[H".terminalSafe == "clear\\x1b[2J\\x1b[H")
    #expect("csi\u{9B}31m".terminalSafe == "csi\\x9b31m")
    #expect("nul\u{0}del\u{7F}".terminalSafe == "nul\\x00del\\x7f")
    // An OSC 8 link that would hide its target.
    #expect("\u{1B}]8;;http://evil\u{1B}\\ok\u{1B}]8;;\u{1B}\\".terminalSafe.contains("\u{1B}") == false)
  }

  @Test func escapesBidirectionalOverrides() {
    let name = "invoice\u{202E}fdp.exe"
    #expect(name.terminalSafe == "invoice\\u{202e}fdp.exe")
    #expect("a\u{2066}b\u{2069}c\u{200F}".terminalSafe == "a\\u{2066}b\\u{2069}c\\u{200f}")
  }

  @Test func newlinesOnlyWhereAsked() {
    #expect("a\nb\tc".terminalSafe == "a\\x0ab\\x09c")
    #expect(TerminalText.safe("a\nb\tc\u{1B}", keepNewlines: true) == "a\nb\tc\\x1b")
  }

  @Test func ordinaryTextIsUnchanged() {
    let text = "Grüße, 世界 — naïve café 🙂 def main():"
    #expect(text.terminalSafe == text)
  }
}
