/// A language the chunker knows: how its files are recognised and what cuts them. Adding a
/// language: docs/architecture.md, "Where to add things".
struct Language: Sendable {
  let name: String
  var extensions: [String] = []
  /// Whole file names (`Makefile`), looked up as written, then lowercased.
  var fileNames: [String] = []
  /// Interpreters a `#!` line may name, without version digits (`python` for `python3`).
  var interpreters: [String] = []
  var structure = StructureKind.lines
}

/// What cuts a language's files into sections.
enum StructureKind: Sendable {
  /// Lines only, with overlap (text without known structure).
  case lines
  case markdown, python, yaml
  /// TOML and INI `[table]` headers.
  case tables
  /// A brace-like language, with its syntax (Languages/BraceLanguages.swift and others).
  case blocks(BlockSyntax)

  func make(language: String) -> any Structure {
    switch self {
    case .lines: return LineStructure()
    case .markdown: return MarkdownStructure()
    case .python: return PythonStructure()
    case .yaml: return YAMLStructure()
    case .tables: return TableStructure()
    case .blocks(var syntax):
      syntax.language = language
      return BlockStructure(syntax: syntax)
    }
  }
}

/// Every language, one line each: adding one is a line here, plus its structure in the file of its
/// family under Languages/ when lines are not enough.
enum LanguageRegistry {
  static let all: [Language] = [
    // Python, prose (Languages/Python.swift, Languages/Markdown.swift)
    Language(name: "python", extensions: ["py", "pyi", "pyw"], interpreters: ["python", "pypy"], structure: .python),
    Language(name: "markdown", extensions: ["md", "markdown", "mdx", "mkd"], structure: .markdown),
    Language(name: "restructuredtext", extensions: ["rst"]),
    Language(name: "asciidoc", extensions: ["adoc"]),
    Language(name: "latex", extensions: ["tex"]),
    Language(name: "text", extensions: ["txt"], fileNames: ["go.mod", "Procfile"]),
    // Brace languages (Languages/BraceLanguages.swift)
    Language(name: "swift", extensions: ["swift"], interpreters: ["swift"], structure: .blocks(.swift)),
    Language(
      name: "javascript", extensions: ["js", "mjs", "cjs", "jsx"], interpreters: ["node", "deno", "bun"], structure: .blocks(.javaScript)),
    Language(name: "typescript", extensions: ["ts", "tsx", "mts", "cts"], structure: .blocks(.javaScript)),
    Language(name: "vue", extensions: ["vue"], structure: .blocks(.javaScript)),
    Language(name: "svelte", extensions: ["svelte"], structure: .blocks(.javaScript)),
    Language(name: "go", extensions: ["go"], structure: .blocks(.go)),
    Language(name: "rust", extensions: ["rs"], structure: .blocks(.rust)),
    Language(name: "zig", extensions: ["zig"], structure: .blocks(.rust)),
    Language(name: "java", extensions: ["java"], structure: .blocks(.java)),
    Language(name: "kotlin", extensions: ["kt", "kts"], structure: .blocks(.kotlin)),
    Language(name: "scala", extensions: ["scala", "sc"], structure: .blocks(.kotlin)),
    Language(name: "groovy", extensions: ["groovy", "gradle"], fileNames: ["Jenkinsfile"], structure: .blocks(.groovy)),
    Language(name: "dart", extensions: ["dart"], structure: .blocks(.groovy)),
    Language(name: "c", extensions: ["c", "h"], structure: .blocks(.c)),
    Language(name: "cpp", extensions: ["cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "ipp"], structure: .blocks(.c)),
    Language(name: "objective-c", extensions: ["m", "mm"], structure: .blocks(.c)),
    Language(name: "csharp", extensions: ["cs"], structure: .blocks(.c)),
    Language(name: "proto", extensions: ["proto"], structure: .blocks(.c)),
    Language(name: "php", extensions: ["php"], interpreters: ["php"], structure: .blocks(.php)),
    Language(name: "css", extensions: ["css", "less"], structure: .blocks(.css)),
    Language(name: "scss", extensions: ["scss", "sass"], structure: .blocks(.scss)),
    // Script languages (Languages/ScriptLanguages.swift)
    Language(
      name: "shell", extensions: ["sh", "bash", "zsh", "ksh", "fish"], fileNames: [".bashrc", ".bash_profile", ".zshrc", ".profile"],
      interpreters: ["sh", "bash", "zsh", "ksh", "dash", "ash", "fish"], structure: .blocks(.shell)),
    Language(
      name: "ruby", extensions: ["rb", "rake", "gemspec"],
      fileNames: ["Gemfile", "Rakefile", "Podfile", "Vagrantfile", "Brewfile", "Fastfile"],
      interpreters: ["ruby"], structure: .blocks(.ruby)),
    Language(name: "perl", extensions: ["pl", "pm"], interpreters: ["perl"], structure: .blocks(.perl)),
    // Configuration and data (Languages/Config.swift)
    Language(name: "yaml", extensions: ["yaml", "yml"], structure: .yaml),
    Language(name: "toml", extensions: ["toml"], fileNames: ["Cargo.lock", "Pipfile"], structure: .tables),
    Language(
      name: "ini", extensions: ["ini", "cfg", "conf", "properties"], fileNames: [".editorconfig", ".gitconfig"], structure: .tables),
    Language(name: "json", extensions: ["json", "jsonc", "json5", "ipynb", "geojson"], structure: .blocks(.json)),
    Language(name: "terraform", extensions: ["tf", "hcl"], structure: .blocks(.terraform)),
    // Cut by lines
    Language(name: "lua", extensions: ["lua"], interpreters: ["lua"]),
    Language(name: "r", extensions: ["r"], interpreters: ["Rscript"]),
    Language(name: "elixir", extensions: ["ex", "exs"]),
    Language(name: "erlang", extensions: ["erl"]),
    Language(name: "haskell", extensions: ["hs"]),
    Language(name: "ocaml", extensions: ["ml"]),
    Language(name: "fsharp", extensions: ["fs"]),
    Language(name: "clojure", extensions: ["clj"]),
    Language(name: "nim", extensions: ["nim"]),
    Language(name: "julia", extensions: ["jl"]),
    Language(name: "html", extensions: ["html", "htm"]),
    Language(name: "xml", extensions: ["xml", "xsd", "plist", "svg"]),
    Language(name: "sql", extensions: ["sql"]),
    Language(name: "graphql", extensions: ["graphql", "gql"]),
    Language(name: "starlark", extensions: ["bzl", "star"], fileNames: ["BUILD", "BUILD.bazel", "WORKSPACE"]),
    Language(name: "cmake", extensions: ["cmake"], fileNames: ["CMakeLists.txt"]),
    Language(name: "makefile", extensions: ["mk"], fileNames: ["Makefile", "makefile", "GNUmakefile", "Justfile", "justfile"]),
    // `Dockerfile.*`, `Containerfile*` and `*.dockerfile` are recognised by LanguageDetector.
    Language(name: "dockerfile", extensions: ["dockerfile"]),
    Language(name: "powershell", extensions: ["ps1"]),
    Language(name: "batch", extensions: ["bat", "cmd"]),
  ]

  static let byName = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
  static let byExtension = index(\.extensions)
  static let byFileName = index(\.fileNames)
  static let byInterpreter = index(\.interpreters)

  /// The structure that cuts files of `language` (lines for a name the table does not hold).
  static func structure(for language: String) -> any Structure {
    byName[language]?.structure.make(language: language) ?? LineStructure()
  }

  /// Key to language name. A key two languages claim is a mistake in the table (a test checks).
  private static func index(_ keys: KeyPath<Language, [String]>) -> [String: String] {
    var map: [String: String] = [:]
    for language in all {
      for key in language[keyPath: keys] where map[key] == nil { map[key] = language.name }
    }
    return map
  }
}
