import Chunking
import Testing

@Test func dump() {
  for (path, text, max) in [("a.py", Fixtures.python, 400), ("README.md", Fixtures.markdown, 120), ("a.swift", Fixtures.swift, 300), ("a.ts", Fixtures.typescript, 250), ("a.go", Fixtures.go, 200), ("a.rs", Fixtures.rust, 250), ("A.java", Fixtures.java, 250), ("a.c", Fixtures.c, 200), ("a.rb", Fixtures.ruby, 150), ("build", Fixtures.shell, 150), ("ci.yml", Fixtures.yaml, 120), ("package.json", Fixtures.json, 60), ("Cargo.toml", Fixtures.toml, 60)] {
    let options = ChunkingOptions(maxCharacters: max)
    let chunks = chunked(path, text, options: options)
    print("== \(path) [\(chunks.first?.language ?? "")]")
    for chunk in chunks { print("  \(chunk.startLine)-\(chunk.endLine) \(chunk.symbol ?? "-") | \(chunk.content.prefix(40).replacingOccurrences(of: "\n", with: "⏎"))") }
  }
}
