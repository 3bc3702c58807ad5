import Chunking
import GitRAGCore
import Testing

/// Golden outlines (`first-last symbol`) of the fixtures, reviewed by hand, at budgets small
/// enough to make every structure split.
struct GoldenCase: Sendable, CustomTestStringConvertible {
  var path: String
  var text: String
  var language: String
  var maxCharacters: Int
  var outline: [String]
  var testDescription: String { path }
}

let goldenCases: [GoldenCase] = [
  GoldenCase(
    path: "a.py", text: Fixtures.python, language: "python", maxCharacters: 400,
    outline: [
      "1-10 -",
      "13-23 LineItem",
      "26-32 Invoice",
      "34-37 Invoice.__init__",
      "39-47 Invoice.add",
      "49-57 Invoice.pay",
      "60-66 render",
    ]),
  GoldenCase(
    path: "README.md", text: Fixtures.markdown, language: "markdown", maxCharacters: 120,
    outline: [
      "1-3 git-rag",
      "5-7 git-rag > Install",
      "9-14 git-rag > Install > Linux",
      "16-20 git-rag > Install > macOS",
      "22-24 git-rag > Usage",
      "26-29 git-rag > Setext heading",
    ]),
  GoldenCase(
    path: "a.swift", text: Fixtures.swift, language: "swift", maxCharacters: 300,
    outline: [
      "1-6 VectorStore",
      "8-11 SearchEngine",
      "13-16 SearchEngine.init",
      "18-21 SearchEngine.search",
      "22-35 SearchEngine.search",
    ]),
  GoldenCase(
    path: "a.ts", text: Fixtures.typescript, language: "typescript", maxCharacters: 250,
    outline: [
      "1-2 -",
      "4-11 Options",
      "13-14 Loader",
      "16-19 Loader.load",
      "21-24 Loader.describe",
      "26-28 handler",
      "30-32 main",
    ]),
  GoldenCase(
    path: "a.go", text: Fixtures.go, language: "go", maxCharacters: 200,
    outline: [
      "1-12 Server",
      "14-17 New",
      "19-22 Server.Start",
      "21-24 Server.Start",
    ]),
  GoldenCase(
    path: "a.rs", text: Fixtures.rust, language: "rust", maxCharacters: 250,
    outline: [
      "1-7 Cache",
      "9-17 Cache",
      "19-23 Cache",
      "25-31 tests",
    ]),
  GoldenCase(
    path: "A.java", text: Fixtures.java, language: "java", maxCharacters: 250,
    outline: [
      "1-4 -",
      "6-13 InvoiceService",
      "15-18 InvoiceService.toString",
      "20-26 InvoiceService.add",
    ]),
  GoldenCase(
    path: "a.c", text: Fixtures.c, language: "c", maxCharacters: 200,
    outline: [
      "1-4 -",
      "6-9 item",
      "11-15 compare",
      "17-22 main",
    ]),
  GoldenCase(
    path: "a.rb", text: Fixtures.ruby, language: "ruby", maxCharacters: 150,
    outline: [
      "1-5 Billing.Invoice",
      "7-9 Billing.Invoice.initialize",
      "11-13 Billing.Invoice.total",
      "15-19 Billing.Invoice.paid?",
      "21-25 report",
    ]),
  GoldenCase(
    path: "build", text: Fixtures.shell, language: "shell", maxCharacters: 150,
    outline: [
      "1-2 -",
      "4-8 usage",
      "10-17 build",
      "19-23 -",
    ]),
  GoldenCase(
    path: "ci.yml", text: Fixtures.yaml, language: "yaml", maxCharacters: 120,
    outline: [
      "1-11 name",
      "12-16 jobs.test.steps",
    ]),
  GoldenCase(
    path: "package.json", text: Fixtures.json, language: "json", maxCharacters: 60,
    outline: [
      "1-2 name",
      "3-4 version",
      "5-5 scripts.build",
      "6-7 scripts.test",
      "8-9 keywords",
    ]),
  GoldenCase(
    path: "Cargo.toml", text: Fixtures.toml, language: "toml", maxCharacters: 60,
    outline: [
      "1-3 package",
      "2-6 package",
      "7-7 dependencies",
      "9-11 dev-dependencies",
    ]),
]

@Test(arguments: goldenCases)
func goldenOutline(_ golden: GoldenCase) {
  let chunks = chunked(golden.path, golden.text, options: ChunkingOptions(maxCharacters: golden.maxCharacters))
  #expect(outline(chunks) == golden.outline)
  #expect(chunks.allSatisfy { $0.language == golden.language })
}
