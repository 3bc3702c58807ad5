/// Names a file's language from its extension, its file name, or its shebang line.
public enum LanguageDetector {
  /// The language of the file at `path` (e.g. `python`, `markdown`, `cpp`), `text` when unknown.
  public static func language(path: String, firstLine: Substring?) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    if let language = fileNames[name] ?? fileNames[name.lowercased()] { return language }
    let lower = name.lowercased()
    if lower.hasPrefix("dockerfile") || lower.hasPrefix("containerfile") || lower.hasSuffix(".dockerfile") { return "dockerfile" }
    if let dot = lower.lastIndex(of: "."), dot != lower.startIndex {
      let ext = String(lower[lower.index(after: dot)...])
      if let language = extensions[ext] { return language }
    }
    if let firstLine, firstLine.hasPrefix("#!") { return shebang(firstLine) ?? "text" }
    return "text"
  }

  private static func shebang(_ line: Substring) -> String? {
    // `#!/usr/bin/env -S python3 -u` names the interpreter after env and its options.
    let words = line.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" })
    var interpreter = words.first.map { $0.split(separator: "/").last.map(String.init) ?? "" } ?? ""
    if interpreter == "env" {
      interpreter = words.dropFirst().first(where: { !$0.hasPrefix("-") && !$0.contains("=") }).map(String.init) ?? ""
    }
    let base = interpreter.prefix(while: { $0.isLetter })
    switch base {
    case "python", "pypy": return "python"
    case "sh", "bash", "zsh", "ksh", "dash", "ash", "fish": return "shell"
    case "node", "deno", "bun": return "javascript"
    case "ruby": return "ruby"
    case "perl": return "perl"
    case "php": return "php"
    case "swift": return "swift"
    case "lua": return "lua"
    case "Rscript": return "r"
    default: return nil
    }
  }

  private static let fileNames: [String: String] = [
    "Makefile": "makefile", "makefile": "makefile", "GNUmakefile": "makefile", "CMakeLists.txt": "cmake",
    "Gemfile": "ruby", "Rakefile": "ruby", "Podfile": "ruby", "Vagrantfile": "ruby", "Brewfile": "ruby", "Fastfile": "ruby",
    "Jenkinsfile": "groovy", "BUILD": "starlark", "BUILD.bazel": "starlark", "WORKSPACE": "starlark",
    ".bashrc": "shell", ".bash_profile": "shell", ".zshrc": "shell", ".profile": "shell",
    "go.mod": "text", "Procfile": "text", "Justfile": "makefile", "justfile": "makefile",
    "Cargo.lock": "toml", "Pipfile": "toml", ".editorconfig": "ini", ".gitconfig": "ini",
  ]

  private static let extensions: [String: String] = [
    "py": "python", "pyi": "python", "pyw": "python",
    "md": "markdown", "markdown": "markdown", "mdx": "markdown", "mkd": "markdown",
    "swift": "swift",
    "js": "javascript", "mjs": "javascript", "cjs": "javascript", "jsx": "javascript",
    "ts": "typescript", "tsx": "typescript", "mts": "typescript", "cts": "typescript",
    "go": "go", "rs": "rust", "java": "java", "kt": "kotlin", "kts": "kotlin", "scala": "scala", "sc": "scala",
    "groovy": "groovy", "gradle": "groovy", "dart": "dart",
    "c": "c", "h": "c", "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "c++": "cpp", "hpp": "cpp", "hh": "cpp", "hxx": "cpp",
    "ipp": "cpp", "m": "objective-c", "mm": "objective-c", "cs": "csharp", "rb": "ruby", "rake": "ruby", "gemspec": "ruby",
    "php": "php", "sh": "shell", "bash": "shell", "zsh": "shell", "ksh": "shell", "fish": "shell",
    "pl": "perl", "pm": "perl", "lua": "lua", "r": "r", "ex": "elixir", "exs": "elixir", "erl": "erlang", "hs": "haskell",
    "ml": "ocaml", "fs": "fsharp", "clj": "clojure", "zig": "zig", "nim": "nim", "jl": "julia", "vue": "vue", "svelte": "svelte",
    "yaml": "yaml", "yml": "yaml", "toml": "toml", "json": "json", "jsonc": "json", "json5": "json", "ipynb": "json",
    "geojson": "json", "ini": "ini", "cfg": "ini", "conf": "ini", "properties": "ini",
    "html": "html", "htm": "html", "xml": "xml", "xsd": "xml", "plist": "xml", "svg": "xml",
    "css": "css", "scss": "scss", "sass": "scss", "less": "css",
    "sql": "sql", "proto": "proto", "graphql": "graphql", "gql": "graphql", "tf": "terraform", "hcl": "terraform",
    "bzl": "starlark", "star": "starlark", "cmake": "cmake", "mk": "makefile", "dockerfile": "dockerfile",
    "rst": "restructuredtext", "adoc": "asciidoc", "tex": "latex", "txt": "text",
    "ps1": "powershell", "bat": "batch", "cmd": "batch",
  ]
}
