// Brace languages: C and its descendants, the JVM languages, JavaScript and TypeScript, Go, Rust,
// Zig, Swift, PHP and CSS, all cut by `BlockStructure` with the syntax below.

extension BlockSyntax {
  static let swift = BlockSyntax { $0.tripleQuoteStrings = true }
  /// JavaScript and TypeScript (also inside Vue and Svelte files): class methods are named by
  /// the word before `(` on a line ending in `{`.
  static let javaScript = BlockSyntax {
    $0.singleQuote = .string
    $0.backtickStrings = true
    $0.parenthesisNames = true
    $0.parenthesisNamesNeedBrace = true
  }
  static let go = BlockSyntax { $0.backtickStrings = true }
  /// Rust and Zig: the defaults.
  static let rust = BlockSyntax()
  static let java = BlockSyntax {
    $0.tripleQuoteStrings = true
    $0.parenthesisNames = true
    $0.bindingKeywords = false
  }
  /// Kotlin and Scala: `val`/`var` bindings name sections too.
  static let kotlin = BlockSyntax {
    $0.tripleQuoteStrings = true
    $0.parenthesisNames = true
  }
  /// Groovy and Dart: as Kotlin, and single quotes make strings.
  static let groovy = BlockSyntax {
    $0.tripleQuoteStrings = true
    $0.parenthesisNames = true
    $0.singleQuote = .string
  }
  /// C, C++, Objective-C, C# and Protocol Buffers: functions are named by the word before `(`.
  static let c = BlockSyntax {
    $0.parenthesisNames = true
    $0.bindingKeywords = false
  }
  static let php = BlockSyntax {
    $0.hashComments = true
    $0.singleQuote = .string
    $0.parenthesisNames = true
    $0.bindingKeywords = false
  }
  /// CSS: rule sets; no `//` comments.
  static let css = BlockSyntax {
    $0.slashComments = false
    $0.singleQuote = .string
    $0.bindingKeywords = false
  }
  /// SCSS and Sass: as CSS, with `//` comments.
  static let scss = BlockSyntax {
    $0.singleQuote = .string
    $0.bindingKeywords = false
  }
}
