// Script languages with `#` comments: shell, Ruby and Perl, cut by `BlockStructure` with the
// syntax below.

extension BlockSyntax {
  /// Shell: only `{}` make blocks (`case` patterns leave `)` unbalanced); `fi`, `done` and
  /// `esac` close them too.
  static let shell = BlockSyntax {
    $0.slashComments = false
    $0.blockComments = false
    $0.hashComments = true
    $0.singleQuote = .string
    $0.bracesOnly = true
    $0.parenthesisNames = true
    $0.bindingKeywords = false
    $0.closingWords = ["fi", "done", "esac", "}"]
  }
  /// Ruby: `def … end`, `do … end`, `class … end`.
  static let ruby = BlockSyntax {
    $0.slashComments = false
    $0.blockComments = false
    $0.hashComments = true
    $0.singleQuote = .string
    $0.rubyKeywords = true
    $0.bindingKeywords = false
    $0.closingWords = ["end"]
  }
  static let perl = BlockSyntax {
    $0.hashComments = true
    $0.singleQuote = .string
    $0.bindingKeywords = false
  }
}
