import Embedding
import Foundation
import Git
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

@testable import Indexing

/// A bug report as users file them: a title, prose, code, a traceback and an environment dump.
private let bugReport = """
  GET requests always send a Content-Length header
  Hi, calling `shipit.get(url)` adds a content-length header even without a body. \
  Some servers reject GET requests with that header.

  ```
  Traceback (most recent call last):
    File "/home/me/app.py", line 3, in <module>
      shipit.get("http://example.com")
    File "/usr/lib/python3/site-packages/shipit/sessions.py", line 40, in request
      prep = self.prepare_request(req)
    File "/usr/lib/python3/site-packages/shipit/models.py", line 21, in prepare_body
      self.headers['Content-Length'] = str(length)
  ValueError: content length of a GET request
  ```

  - [x] I searched the existing issues

  INSTALLED VERSIONS
  ------------------
  python: 3.10.8 (main, Oct 13 2022)
  OS: Linux
  machine: x86_64
  shipit: 2.1.0
  numpy: None
  """

@Suite struct QueryAnalyzerTests {
  @Test func readsTracebackFramesPathsAndIdentifiers() {
    let analysis = QueryAnalyzer.analyze(bugReport)
    #expect(analysis.title == "GET requests always send a Content-Length header")
    #expect(
      analysis.frames.map(\.path) == [
        "/home/me/app.py", "/usr/lib/python3/site-packages/shipit/sessions.py", "/usr/lib/python3/site-packages/shipit/models.py",
      ])
    #expect(analysis.frames.map(\.line) == [3, 40, 21])
    #expect(analysis.frames.map(\.function) == [nil, "request", "prepare_body"])
    #expect(analysis.paths.contains("/usr/lib/python3/site-packages/shipit/models.py"))
    #expect(analysis.identifiers.contains("prepare_body"))
    #expect(analysis.identifiers.contains("prepare_request"))
    #expect(analysis.identifiers.contains("ValueError"))
    #expect(analysis.dottedNames.contains("shipit.get"))
    #expect(analysis.looksLikeBugReport)
    #expect(!analysis.mentionsDocsOrTests)
    #expect(analysis.namedInTitle.isEmpty)
  }

  @Test(
    arguments: [
      // IPython 8
      (
        "File ~/envs/dev/lib/python3.9/site-packages/xarray/core/common.py:1815, in get_chunksizes(variables)",
        "~/envs/dev/lib/python3.9/site-packages/xarray/core/common.py", 1815, "get_chunksizes"
      ),
      ("File ~/code/seaborn/seaborn/_core/plot.py:841, in Plot._plot(self, pyplot)", "~/code/seaborn/seaborn/_core/plot.py", 841, "_plot"),
      // IPython 7
      (
        "~/miniforge3/lib/python3.8/site-packages/seaborn/axisgrid.py in map(self, func, **kwargs)",
        "~/miniforge3/lib/python3.8/site-packages/seaborn/axisgrid.py", nil, "map"
      ),
      (
        "/venv/lib/python3.5/site-packages/sympy/printing/mathml.py in <listcomp>(.0)",
        "/venv/lib/python3.5/site-packages/sympy/printing/mathml.py", nil, nil
      ),
      // pytest, on Windows
      (
        "..\\..\\site-packages\\astropy\\units\\quantity.py:617: in __array_ufunc__", "../../site-packages/astropy/units/quantity.py", 617,
        "__array_ufunc__"
      ),
      ("..\\site-packages\\astropy\\units\\core.py:2554: ValueError", "../site-packages/astropy/units/core.py", 2554, nil),
    ] as [(String, String, Int?, String?)])
  func readsTheTracebackShapesReportsPaste(line: String, path: String, number: Int?, function: String?) throws {
    let frame = try #require(QueryAnalyzer.frame(in: Substring(line)))
    #expect(frame.path == path)
    #expect(frame.line == number)
    #expect(frame.function == function)
  }

  @Test(arguments: [
    "see xarray/core/dataset.py in the docs", "xarray/core/dataset.py is where it happens", "File setup.py in the root",
    "pkg/module.py:12 looks wrong",
  ])
  func proseNamingAFileIsNotAFrame(line: String) {
    #expect(QueryAnalyzer.frame(in: Substring(line)) == nil)
  }

  @Test func findsPathsAndDottedNamesInProse() {
    let analysis = QueryAnalyzer.analyze(
      """
      Session.resolve_redirects copies the request
      In src/net/session.py the call to `xr.combine_by_coords` fails; see e.g. the docs at http://x.org/a.py.
      """)
    #expect(analysis.paths == ["src/net/session.py"])
    #expect(analysis.dottedNames.contains("Session.resolve_redirects"))
    #expect(analysis.dottedNames.contains("xr.combine_by_coords"))
    #expect(!analysis.dottedNames.contains("e.g"))
    #expect(analysis.identifiers.contains("resolve_redirects"))
    #expect(analysis.identifiers.contains("combine_by_coords"))
    #expect(analysis.namedInTitle == ["Session", "resolve_redirects"])
  }

  @Test func aShortQuestionIsNotABugReport() {
    let analysis = QueryAnalyzer.analyze("where are retries configured")
    #expect(analysis.title == nil)
    #expect(analysis.frames.isEmpty && analysis.paths.isEmpty && analysis.identifiers.isEmpty)
    #expect(!analysis.looksLikeBugReport)
    let plan = QueryPlan(query: "where are retries configured")
    #expect(plan.embeddingText == "where are retries configured")
    #expect(Set(plan.keyword.terms.keys) == ["retries", "configured"])
  }

  @Test func planDropsTemplateNoiseAndWeighsCode() {
    let plan = QueryPlan(query: bugReport)
    let terms = plan.keyword.terms
    // The environment dump, the checklist and the frames' machine paths are gone...
    for noise in ["numpy", "x86_64", "linux", "searched", "site", "packages", "usr", "home"] {
      #expect(terms[noise] == nil, "\(noise) should not be a keyword term")
    }
    // ...named code outweighs prose, and the frames' file names stay.
    #expect(terms["prepare_body", default: 0] > terms["servers", default: 0])
    #expect(terms["models", default: 0] >= 1)
    #expect(plan.embeddingText.hasPrefix("GET requests always send a Content-Length header"))
    #expect(plan.embeddingText.count <= QueryPlan.embeddingBudget)
    #expect(plan.embeddingText.contains("prepare_body"))
    #expect(!plan.embeddingText.contains("x86_64"))
  }

  @Test func classifiesFilesByRole() {
    #expect(FileRole.of(path: "requests/models.py", language: "python") == .source)
    #expect(FileRole.of(path: "tests/test_models.py", language: "python") == .test)
    #expect(FileRole.of(path: "test_requests.py", language: "python") == .test)
    #expect(FileRole.of(path: "Tests/StoreTests/SQLiteTests.swift", language: "swift") == .test)
    #expect(FileRole.of(path: "pkg/handler_test.go", language: "go") == .test)
    #expect(FileRole.of(path: "HISTORY.rst", language: "restructuredtext") == .changelog)
    #expect(FileRole.of(path: "doc/whats-new.rst", language: "restructuredtext") == .changelog)
    #expect(FileRole.of(path: "CHANGELOG.md", language: "markdown") == .changelog)
    #expect(FileRole.of(path: "docs/user/advanced.rst", language: "restructuredtext") == .documentation)
    #expect(FileRole.of(path: "README.md", language: "markdown") == .documentation)
    #expect(FileRole.of(path: "setup.cfg", language: "ini") == .configuration)
    #expect(FileRole.of(path: "examples/plot.py", language: "python") == .example)
    #expect(FileRole.of(path: "requests/packages/urllib3/response.py", language: "python") == .vendored)
    #expect(FileRole.of(path: "packages/web/src/app.ts", language: "typescript") == .source)
    #expect(FileRole.of(path: "third_party/zlib/inflate.c", language: "c") == .vendored)
  }

  @Test func matchesMentionedPathsAndModules() {
    #expect(RankingPriors.pathMatches("requests/models.py", mentioned: "/usr/lib/site-packages/requests/models.py"))
    #expect(RankingPriors.pathMatches("requests/models.py", mentioned: "models.py"))
    #expect(!RankingPriors.pathMatches("requests/models.py", mentioned: "/usr/lib/django/db/models.py"))
    #expect(!RankingPriors.pathMatches("requests/api.py", mentioned: "/usr/lib/python3/httplib.py"))
    #expect(RankingPriors.moduleMatches("xarray/core/dataset.py", dotted: "xarray.core.dataset.Dataset"))
    #expect(RankingPriors.moduleMatches("src/pkg/sessions.py", dotted: "pkg.sessions.Session"))
    #expect(RankingPriors.moduleMatches("requests/__init__.py", dotted: "requests.get") == false)
    #expect(!RankingPriors.moduleMatches("xarray/core/dataset.py", dotted: "xr.Dataset"))
  }
}

/// A small project where a changelog, a test file and the docs repeat a bug report's words more
/// often than the source file that has the bug.
private let corpus: [String: String] = [
  "shipit/models.py": """
  class PreparedRequest:
      def prepare_headers(self, headers):
          self.headers = dict(headers or {})

      def prepare_body(self, data, files):
          body = encode(data, files)
          length = len(body) if body else 0
          self.headers['Content-Length'] = str(length)
          self.body = body

  def encode(data, files):
      return data
  """,
  "shipit/sessions.py": """
  class Session:
      def request(self, method, url, data=None):
          req = Request(method, url, data)
          prep = self.prepare_request(req)
          return self.send(prep)

      def send(self, prep):
          return adapter_for(prep.url).send(prep)
  """,
  "shipit/adapters.py": """
  class HTTPAdapter:
      def send(self, request, timeout=None):
          connection = self.get_connection(request.url)
          return connection.urlopen(request.method, request.url, body=request.body, headers=request.headers)
  """,
  "CHANGELOG.md": """
  # Changelog

  ## 2.1.1
  - GET requests no longer send a Content-Length header when there is no body (prepare_body).
  - Content-Length header of GET requests: prepare_body computes the content length only for a body.
  - Servers that reject GET requests with a content length header work again.
  """,
  "tests/test_models.py": """
  def test_get_request_has_no_content_length_header():
      prep = shipit.Request('GET', 'http://example.com').prepare()
      assert 'Content-Length' not in prep.headers  # GET requests send no content length header

  def test_prepare_body_content_length_header_for_get_requests():
      prep = PreparedRequest()
      prep.prepare_body(None, None)
      assert 'Content-Length' not in prep.headers  # content length header, GET requests
  """,
  "docs/quickstart.md": """
  # Quickstart

  Send GET requests with `shipit.get(url)`. A request with a body gets a Content-Length header;
  GET requests without a body send no content length header. Some servers reject GET requests
  that send a Content-Length header.
  """,
]

@Suite struct SearchRankingTests {
  /// A search engine over a keyword-only index; holds the folders so they outlive the test's searches.
  struct Indexed {
    var engine: SearchEngine
    let repository: TemporaryGitRepository
    let storeFolder: TemporaryDirectory
  }

  /// Indexes `files` keyword-only (no model) and returns a search engine over the index.
  private func index(_ files: [String: String], maxCharacters: Int = 400) async throws -> Indexed {
    let repo = try TemporaryGitRepository()
    try repo.commit(files)
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    var options = SyncOptions(collection: "quality")
    options.chunking.maxCharacters = maxCharacters
    let sync = SyncEngine(store: store, embedder: NoEmbedder(), cache: nil, options: options)
    _ = try await sync.sync(repository: try Repository(path: repo.url))
    return Indexed(engine: SearchEngine(store: store, embedder: nil, collection: "quality"), repository: repo, storeFolder: folder)
  }

  @Test func bugReportWithTracebackRanksTheSourceFileFirst() async throws {
    let indexed = try await index(corpus)
    let engine = indexed.engine
    var request = SearchRequest(query: bugReport)
    request.limit = 6
    let files = try await engine.files(request).map(\.filePath)
    #expect(files.first == "shipit/models.py")
    let source = try #require(files.firstIndex(of: "shipit/models.py"))
    for other in ["CHANGELOG.md", "tests/test_models.py", "docs/quickstart.md"] {
      if let rank = files.firstIndex(of: other) { #expect(source < rank, "\(other) outranks the source file") }
    }

    // Control: the plain text of the report puts a file that only repeats its words first.
    var plain = engine
    plain.analyzeQuery = false
    let plainFiles = try await plain.files(request).map(\.filePath)
    #expect(plainFiles.first != "shipit/models.py")
    withExtendedLifetime(indexed) {}
  }

  @Test func explainsBoosts() async throws {
    let indexed = try await index(corpus)
    let engine = indexed.engine
    var request = SearchRequest(query: bugReport)
    request.limit = 10
    let files = try await engine.files(request)
    let models = try #require(files.first { $0.filePath == "shipit/models.py" })
    #expect(models.boosts.contains { $0.reason.hasPrefix("traceback frame") && $0.factor > 1 })
    #expect(models.keywordRank != nil && models.vectorRank == nil)
    #expect(abs(models.score - models.boosts.reduce(models.fused) { $0 * $1.factor }) < 1e-12)
    let changelog = try #require(files.first { $0.filePath == "CHANGELOG.md" })
    #expect(changelog.boosts.contains { $0.reason.hasPrefix("changelog") && $0.factor < 1 })

    let chunks = try await engine.rankedChunks(request)
    #expect(chunks.first?.hit.payload.filePath == "shipit/models.py")
    #expect(chunks.allSatisfy { abs($0.hit.score - $0.boosts.reduce($0.fused) { $0 * $1.factor }) < 1e-12 })
    withExtendedLifetime(indexed) {}
  }

  @Test func aChunkDefiningWhatTheTitleNamesIsBoosted() async throws {
    let indexed = try await index(corpus, maxCharacters: 200)
    let engine = indexed.engine
    var request = SearchRequest(query: "`prepare_body` sets a content length for GET\nSeen with shipit 2.1 and Python 3.")
    request.limit = 10
    let chunks = try await engine.rankedChunks(request)
    let definition = try #require(
      chunks.first { $0.hit.payload.symbol?.hasSuffix("prepare_body") == true }, "symbols: \(chunks.map { $0.hit.payload.symbol ?? "-" })")
    #expect(definition.boosts.contains { $0.reason == "defines prepare_body, named in the title" })
    #expect(chunks.first?.hit.payload.filePath == "shipit/models.py")
    #expect(
      chunks.filter { $0.hit.payload.symbol?.hasSuffix("prepare_body") != true }.allSatisfy {
        !$0.boosts.contains { $0.reason.hasPrefix("defines") }
      })
    withExtendedLifetime(indexed) {}
  }

  @Test func aShortQueryKeepsDocsAndTestsUnpenalised() async throws {
    let indexed = try await index(corpus)
    let engine = indexed.engine
    var request = SearchRequest(query: "content length header")
    request.limit = 10
    let files = try await engine.files(request)
    #expect(files.allSatisfy { $0.boosts.isEmpty })
    #expect(files.contains { $0.filePath == "CHANGELOG.md" })
    withExtendedLifetime(indexed) {}
  }

  @Test func filesAreRankedByTheirBestChunk() async throws {
    // `many.py` matches "frobnicate" in every one of its chunks, weakly; `one.py` has one chunk
    // that is all about it. One row per file, ranked by the best chunk, not the number of chunks.
    let weak = (0..<12).map {
      "def helper_\($0)(x):\n    # calls frobnicate eventually, among many other things to do\n    return step_\($0)(x) + other_\($0)(x) + more_\($0)(x)\n"
    }
    let files = [
      "many.py": weak.joined(separator: "\n"),
      "one.py": "def frobnicate(x):\n    return frobnicate_all(frobnicate_one(x))\n",
      "unrelated.py": "def nothing():\n    return 1\n",
    ]
    let indexed = try await index(files)
    let engine = indexed.engine
    var request = SearchRequest(query: "frobnicate")
    request.limit = 10
    // The Python project summary (.rag_metadata/analysis.txt) names the functions too; leave it out.
    let isSummary = { (path: String) in path.hasPrefix(".rag_metadata/") }
    let chunkHits = try await engine.chunks(SearchRequest(query: "frobnicate"), limit: 50).filter { !isSummary($0.payload.filePath) }
    #expect(Set(chunkHits.map(\.payload.filePath)) == ["many.py", "one.py"])
    #expect(chunkHits.filter { $0.payload.filePath == "many.py" }.count > 1)

    let ranked = try await engine.files(request).filter { !isSummary($0.filePath) }
    #expect(ranked.map(\.filePath) == ["one.py", "many.py"])
    #expect(ranked.map(\.keywordRank).prefix(2).allSatisfy { $0 != nil })
    #expect(ranked[0].chunks == 1)
    #expect(ranked[1].chunks == chunkHits.filter { $0.payload.filePath == "many.py" }.count)
    #expect(ranked[0].best.payload.filePath == "one.py")
    withExtendedLifetime(indexed) {}
  }
}

/// Files that look like a bug report or talk about the code without being it: an issue template,
/// a translation catalog (forced into the index by the `rag` attribute), a test fixture tree,
/// generated API docs and a changelog; plus a docs page that answers a how-to question.
private let lookAlikes: [String: String] = corpus.filter {
  ["shipit/models.py", "shipit/sessions.py", "shipit/adapters.py"].contains($0.key)
}
.merging([
  ".gitattributes": "*.po rag\n",
  ".github/ISSUE_TEMPLATE/bug_report.md": """
  # Bug report

  Describe the bug: what request did you send (GET requests, POST requests), which header was wrong
  (Content-Length header, content length), and the traceback. Servers that reject requests: say which.
  """,
  "locale/de/LC_MESSAGES/shipit.po": """
  msgid "GET requests send a Content-Length header"
  msgstr "GET-Anfragen senden einen Content-Length-Header"

  msgid "content length of a GET request"
  msgstr "Inhaltslänge einer GET-Anfrage"
  """,
  "tests/roots/test-get/app.py": """
  # A sample app for the GET request tests: sends GET requests and checks the Content-Length header.
  def send_get_requests(url):
      return shipit.get(url).headers.get('Content-Length')  # content length header of GET requests
  """,
  "docs/api/generated/shipit.models.rst": """
  shipit.models
  =============

  .. function:: prepare_body(data, files)

     Prepares the body of GET requests and others; sets the Content-Length header (content length).
  """,
  "CHANGES": """
  2.1.1: GET requests no longer send a Content-Length header (prepare_body); content length fixed for GET requests.
  """,
  "docs/configuration.md": """
  # Configuring retries and timeouts

  How do I configure retries? Set `retries` and `timeout` when you configure a session: the
  retries setting says how often shipit retries, the timeout how long it waits. Configure
  both per session.
  """,
]) { $1 }

extension SearchRankingTests {
  @Test func classifiesLookAlikeRoles() {
    #expect(FileRole.of(path: ".github/ISSUE_TEMPLATE/bug_report.md", language: "markdown") == .template)
    #expect(FileRole.of(path: ".github/PULL_REQUEST_TEMPLATE.md", language: "markdown") == .template)
    #expect(FileRole.of(path: ".gitlab/issue_templates/Bug.md", language: "markdown") == .template)
    #expect(FileRole.of(path: "sphinx/locale/de/LC_MESSAGES/sphinx.po", language: "text") == .translation)
    #expect(FileRole.of(path: "tests/roots/test-ext-autodoc/conf.py", language: "python") == .fixture)
    #expect(FileRole.of(path: "pkg/testdata/input.go", language: "go") == .fixture)
    #expect(FileRole.of(path: "tests/fixtures/user.json", language: "json") == .fixture)
    #expect(FileRole.of(path: "docs/api/generated/xarray.Dataset.rst", language: "restructuredtext") == .generatedDocs)
    #expect(FileRole.of(path: ".rag_metadata/analysis.txt", language: "text") == .summary)
    // Neighbours keep their roles.
    #expect(FileRole.of(path: "tests/test_data.py", language: "python") == .test)
    #expect(FileRole.of(path: "xarray/core/dataset.py", language: "python") == .source)
    #expect(FileRole.of(path: "docs/api.rst", language: "restructuredtext") == .documentation)
    #expect(FileRole.of(path: "src/templates/issue.html", language: "html") == .documentation)
  }

  @Test func aBugReportRanksLookAlikesBelowTheSource() async throws {
    let indexed = try await index(lookAlikes)
    var request = SearchRequest(query: bugReport)
    request.limit = 20
    let files = try await indexed.engine.files(request)
    let paths = files.map(\.filePath)
    #expect(paths.first == "shipit/models.py", "ranked: \(paths)")
    let expected: [String: String] = [
      ".github/ISSUE_TEMPLATE/bug_report.md": "template", "locale/de/LC_MESSAGES/shipit.po": "translation",
      "tests/roots/test-get/app.py": "fixture", "docs/api/generated/shipit.models.rst": "generated-docs", "CHANGES": "changelog",
    ]
    for (path, role) in expected {
      let file = try #require(files.first { $0.filePath == path }, "\(path) is not among \(paths)")
      #expect(file.boosts.contains { $0.reason == "\(role) file for a bug report" && $0.factor < 1 }, "\(path): \(file.boosts)")
      #expect(paths.firstIndex(of: "shipit/models.py")! < paths.firstIndex(of: path)!, "\(path) outranks the source")
    }
    // Control: the role priors are what move them down; without them a look-alike ranks higher.
    var flat = indexed.engine
    for role in FileRole.allCases { flat.priors.bugReportRoleFactor[role] = 1 }
    let flatPaths = try await flat.files(request).map(\.filePath)
    let best = { (ranked: [String]) in ranked.indices.first { expected[ranked[$0]] != nil } ?? ranked.count }
    #expect(best(flatPaths) < best(paths), "without priors: \(flatPaths)")
    withExtendedLifetime(indexed) {}
  }

  @Test func aDocsQuestionStillRanksTheDocsFirst() async throws {
    let indexed = try await index(lookAlikes)
    var request = SearchRequest(query: "how do I configure retries and timeouts")
    request.limit = 5
    let files = try await indexed.engine.files(request)
    #expect(files.first?.filePath == "docs/configuration.md", "ranked: \(files.map(\.filePath))")
    #expect(files.allSatisfy { $0.boosts.isEmpty })
    withExtendedLifetime(indexed) {}
  }

  @Test(arguments: ["prepare_body", "PreparedRequest", "encode", "where is prepare_body"])
  func aQueryNamingCodePutsItsDefinitionFirstAndTheSummaryBelow(query: String) async throws {
    let indexed = try await index(corpus, maxCharacters: 200)
    var request = SearchRequest(query: query)
    request.limit = 10
    let files = try await indexed.engine.files(request)
    let paths = files.map(\.filePath)
    #expect(paths.first == "shipit/models.py", "ranked: \(paths)")
    if let summary = paths.firstIndex(of: ".rag_metadata/analysis.txt") { #expect(summary > 0) }
    let chunks = try await indexed.engine.rankedChunks(request)
    let first = try #require(chunks.first)
    #expect(first.hit.payload.filePath == "shipit/models.py")
    let firstSymbol = first.hit.payload.symbol ?? "-"
    #expect(first.boosts.contains { $0.isDefinition }, "first chunk: \(firstSymbol) \(first.boosts)")
    let definition = try #require(chunks.firstIndex { $0.boosts.contains(where: \.isDefinition) })
    for (index, chunk) in chunks.enumerated() where chunk.hit.payload.filePath.hasPrefix(".rag_metadata/") {
      #expect(index > definition, "the summary outranks the definition")
    }
    withExtendedLifetime(indexed) {}
  }

  @Test func theSummaryNeverOutranksADefinitionEvenWhenItMatchesBetter() async throws {
    // The summary lists every class and function, so for a name it matches as well as the
    // definition does; a summary that matched better still ranks below the definition.
    let indexed = try await index(corpus, maxCharacters: 200)
    var engine = indexed.engine
    engine.priors.summaryForCodeFactor = 1
    engine.priors.titleDefinitionFactor = 1
    engine.priors.namedDefinitionFactor = 1.0001
    var request = SearchRequest(query: "PreparedRequest prepare_headers prepare_body")
    request.limit = 10
    let files = try await engine.files(request)
    let defining = try #require(files.firstIndex { $0.boosts.contains(where: \.isDefinition) })
    if let summary = files.firstIndex(where: { $0.filePath == ".rag_metadata/analysis.txt" }) {
      #expect(summary > defining)
    }
    withExtendedLifetime(indexed) {}
  }

  @Test func aNameInTheReportReachesItsDefinitionWhenTheProseMatchesOtherFiles() async throws {
    let indexed = try await index(corpus, maxCharacters: 200)
    let report = """
      Servers reject GET requests after `encode`
      GET requests send a Content-Length header, and servers that reject GET requests with a content length
      header fail. The changelog says content length header of GET requests was fixed.
      """
    var request = SearchRequest(query: report)
    request.limit = 10
    #expect(QueryPlan(query: report).definitionLookups == ["encode"])
    let chunks = try await indexed.engine.rankedChunks(request)
    let definition = try #require(
      chunks.firstIndex { $0.hit.payload.symbol == "encode" }, "symbols: \(chunks.map { $0.hit.payload.symbol ?? "-" })")
    #expect(chunks[definition].boosts.contains { $0.reason == "defines encode, named in the title" })
    for (index, chunk) in chunks.enumerated() where chunk.hit.payload.filePath == "CHANGELOG.md" {
      #expect(definition < index, "a changelog chunk outranks the definition")
    }
    #expect(definition == 0, "chunks: \(chunks.map(\.hit.payload.filePath))")
    // The definition list holds it (a keyword search for the name alone).
    let lists = try await indexed.engine.candidates(QueryPlan(query: report), filter: .none, depth: 10)
    #expect(lists.definitions.map(\.payload.symbol) == ["encode"])
    withExtendedLifetime(indexed) {}
  }

  @Test func namesInTheBodyLiftTheirDefinitionsWithoutALookup() {
    let plan = QueryPlan(query: "Uploads hang\nThe body goes through `encode` and then `prepare_body` before the send.")
    #expect(Set(plan.definitionTargets) == ["encode", "prepare_body"])
    #expect(plan.definitionLookups.isEmpty)
    let priors = RankingPriors()
    #expect(
      priors.definitionBoost(symbol: "PreparedRequest.prepare_body", plan: plan)
        == Boost(reason: "defines prepare_body, named in the query", factor: priors.namedDefinitionFactor))
    #expect(priors.definitionBoost(symbol: "PreparedRequest.prepare_headers", plan: plan) == nil)
    // A short query is a name to look up; a traceback's functions are looked up too.
    #expect(QueryPlan(query: "prepare_body").definitionLookups == ["prepare_body"])
    #expect(QueryPlan(query: bugReport).definitionLookups == ["prepare_body", "request"])
  }
}

/// A package whose public names are re-exported up to the top (`from pkg import render`), and
/// modules whose words match a report about rendering fractions better than the one that renders.
private let packageCorpus: [String: String] = [
  "pkg/__init__.py": """
  from .core import Fraction, simplify
  from .printing import (render,
      render_plain)
  """,
  "pkg/core/__init__.py": """
  from .fraction import Fraction
  from .simplify import simplify
  """,
  "pkg/core/fraction.py": """
  class Fraction:
      \"\"\"A fraction: numerator over denominator. The output of a fraction, its numerator and
      denominator, is wrong when the denominator is negative; output of fractions.\"\"\"
      def __init__(self, numerator, denominator):
          self.numerator = numerator
          self.denominator = denominator
  """,
  "pkg/core/simplify.py": """
  def simplify(fraction):
      \"\"\"Simplify a fraction: the output fraction has a positive denominator. Wrong output of
      fractions with a negative numerator or denominator is simplified.\"\"\"
      return fraction
  """,
  "pkg/printing/__init__.py": """
  from .latex import render, render_plain
  """,
  "pkg/printing/latex.py": """
  def render(expr):
      return "\\\\frac{%s}{%s}" % (expr.numerator, expr.denominator)

  def render_plain(expr):
      return "%s/%s" % (expr.numerator, expr.denominator)
  """,
  "pkg/units/__init__.py": """
  from .quantity import *
  from .unit import *
  """,
  "pkg/units/quantity.py": """
  class Quantity:
      def __init__(self, value, unit):
          self.value = value
  """,
  "pkg/units/unit.py": """
  class Unit:
      pass
  """,
]

@Suite struct ModuleMentionTests {
  @Test func readsTheNamesAReportImports() {
    let report = """
      render gives the wrong fraction
      ```
      >>> from pkg import render, Fraction as F
      >>> from pkg.units import *
      In [3]: import pkg.core.simplify, os
      from .local import thing
      ```
      """
    #expect(QueryAnalyzer.analyze(report).importedNames == ["pkg.render", "pkg.Fraction", "pkg.core.simplify", "os"])
    let plan = QueryPlan(query: report + "\nSee pkg.units.Quantity too.")
    #expect(plan.moduleMentions.prefix(4) == ["pkg.render", "pkg.Fraction", "pkg.core.simplify", "os"])
    #expect(plan.moduleMentions.contains("pkg.units.Quantity"))
  }

  private func index(_ files: [String: String]) async throws -> (engine: SearchEngine, keep: (TemporaryGitRepository, TemporaryDirectory)) {
    let repo = try TemporaryGitRepository()
    try repo.commit(files)
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    var options = SyncOptions(collection: "modules")
    options.chunking.maxCharacters = 120
    let sync = SyncEngine(store: store, embedder: NoEmbedder(), cache: nil, options: options)
    _ = try await sync.sync(repository: try Repository(path: repo.url))
    return (SearchEngine(store: store, embedder: nil, collection: "modules"), (repo, folder))
  }

  @Test func followsReExportsToTheDefiningModule() async throws {
    let indexed = try await index(packageCorpus)
    let store = indexed.engine.store
    let paths = try await store.inventory("modules").keys
    let mentions = ModuleMentions(store: store, collection: "modules", paths: paths)
    // Two hops of explicit re-exports (one split over two lines), then a module named outright.
    #expect(try await mentions.implementation(of: "pkg.render_plain") == ["pkg/printing/latex.py"])
    #expect(try await mentions.implementation(of: "pkg.core.fraction") == ["pkg/core/fraction.py"])
    #expect(try await mentions.implementation(of: "pkg.core.fraction.Fraction") == ["pkg/core/fraction.py"])
    // Through a star import; a sub-module named through its package.
    #expect(try await mentions.implementation(of: "pkg.units.Quantity") == ["pkg/units/quantity.py"])
    #expect(try await mentions.implementation(of: "units.Unit") == ["pkg/units/unit.py"])
    // A package named alone stands for the module it imports from, when there are one or two.
    #expect(try await mentions.implementation(of: "pkg.printing") == ["pkg/printing/latex.py"])
    #expect(try await mentions.implementation(of: "printing") == [])
    // Named in prose (not imported), a package's public name is how users call it: not followed.
    #expect(try await mentions.implementation(of: "pkg.render", followingReExports: false) == [])
    #expect(try await mentions.implementation(of: "pkg.core.fraction.Fraction", followingReExports: false) == ["pkg/core/fraction.py"])
    // A re-export that cannot be followed, a variable's attribute, something outside: nothing.
    #expect(try await mentions.implementation(of: "pkg.missing") == [])
    #expect(try await mentions.implementation(of: "fraction.numerator") == [])
    #expect(try await mentions.implementation(of: "numpy.float64") == [])
    withExtendedLifetime(indexed.keep) {}
  }

  @Test func aReportImportingANameRanksTheModuleDefiningItFirst() async throws {
    let indexed = try await index(packageCorpus)
    let report = """
      Wrong output of fractions with a negative denominator
      The output of a fraction is wrong when the denominator is negative:
      ```
      >>> from pkg import render
      >>> render(half)
      ```
      The numerator and denominator of the output fraction should be simplified.
      """
    var request = SearchRequest(query: report)
    request.limit = 5
    let files = try await indexed.engine.files(request)
    #expect(files.first?.filePath == "pkg/printing/latex.py", "ranked: \(files.map(\.filePath))")
    #expect(files.first?.boosts.contains { $0.reason == "implements pkg.render, named in the query" } == true)
    let chunks = try await indexed.engine.rankedChunks(request)
    #expect(chunks.first?.hit.payload.filePath == "pkg/printing/latex.py", "ranked: \(chunks.map(\.hit.payload.filePath))")

    // Control: without the lever, the prose puts the fraction modules first.
    var without = indexed.engine
    without.moduleWeight = 0
    without.priors.mentionedModuleFactor = 1
    let plain = try await without.files(request).map(\.filePath)
    #expect(plain.first != "pkg/printing/latex.py", "ranked: \(plain)")
    withExtendedLifetime(indexed.keep) {}
  }

  @Test func aPathFilterKeepsTheModulesItExcludesOut() async throws {
    let indexed = try await index(packageCorpus)
    var request = SearchRequest(query: "Wrong output of fractions\n>>> from pkg import render\n>>> render(x)")
    request.filter = SearchFilter(pathGlob: "pkg/core/**")
    let files = try await indexed.engine.files(request)
    #expect(files.allSatisfy { $0.filePath.hasPrefix("pkg/core/") }, "ranked: \(files.map(\.filePath))")
    withExtendedLifetime(indexed.keep) {}
  }
}

@Suite struct ReportShapeTests {
  @Test func aTitleWordTheCodeCallsIsNamedInTheTitle() {
    let report = """
      Rational calc value error
      python 3.11: Rational('0.5', '100') gives 1/100100, but Rational(0.5, 100) gives 1/200, the true value.
      """
    #expect(QueryAnalyzer.analyze(report).namedInTitle == ["Rational"])
    #expect(QueryPlan(query: report).definitionLookups == ["Rational"])
    // A definition or a traceback frame quoted in the report calls nothing.
    let traceback = """
      Accessing chunks loads the array
      File ~/xarray/core/dataset.py:2110, in Dataset.chunks(self)
         2096 def chunks(self) -> Mapping:
      """
    #expect(QueryAnalyzer.calledNames(in: traceback).isEmpty)
    #expect(!QueryAnalyzer.analyze(traceback).namedInTitle.contains("chunks"))
  }
}

extension SearchRankingTests {
  @Test func aReportWhoseTitleNamesACalledClassRanksItsDefinitionFirst() async throws {
    let indexed = try await index([
      "numbers/rational.py": """
      class Rational:
          def __new__(cls, p, q=1):
              return object.__new__(cls)
      """,
      "numbers/calc.py": """
      def calc_value(value):
          \"\"\"Calc a value: the value error of a calc is the true value minus the value.\"\"\"
          return value
      """,
      "docs/values.md": "# Values\n\nA calc value error is the true value minus the computed value; calc the value again.\n",
    ])
    let report = "Rational calc value error\nRational('0.5', '100') gives the wrong value, Rational(0.5, 100) the true value."
    var request = SearchRequest(query: report)
    request.limit = 3
    let files = try await indexed.engine.files(request)
    #expect(files.first?.filePath == "numbers/rational.py", "ranked: \(files.map(\.filePath))")
    #expect(files.first?.boosts.contains { $0.reason == "defines Rational, named in the title" } == true)
    withExtendedLifetime(indexed) {}
  }
}

extension ModuleMentionTests {
  @Test func aBareFileNameThatIsADottedNameIsAModuleMention() async throws {
    // `format="units.quantity"` reads as a file name, and names `pkg/units/quantity.py` as a module.
    let plan = QueryPlan(query: "Writing fails\n>>> table.write(out, format=\"units.quantity\")\nsee core.py")
    #expect(plan.moduleMentions.contains("units.quantity"))
    #expect(!plan.moduleMentions.contains("core.py"))
    let indexed = try await index(packageCorpus)
    let paths = try await indexed.engine.store.inventory("modules").keys
    let mentions = ModuleMentions(store: indexed.engine.store, collection: "modules", paths: paths)
    #expect(try await mentions.implementation(of: "units.quantity") == ["pkg/units/quantity.py"])
    withExtendedLifetime(indexed.keep) {}
  }
}

extension ModuleMentionTests {
  @Test(arguments: ["pkg.render_plain", "render_plain", "pkg.printing.latex.render", "from pkg import render"])
  func aQueryNamingADefinitionPutsItFirstAndTheSummaryBelow(query: String) async throws {
    let indexed = try await index(packageCorpus)
    var request = SearchRequest(query: query)
    request.limit = 10
    let paths = try await indexed.engine.files(request).map(\.filePath)
    #expect(paths.first == "pkg/printing/latex.py", "ranked: \(paths)")
    #expect(paths.contains(".rag_metadata/analysis.txt") == false || paths.firstIndex(of: ".rag_metadata/analysis.txt")! > 0)
    let chunks = try await indexed.engine.rankedChunks(request)
    #expect(chunks.first?.hit.payload.filePath == "pkg/printing/latex.py", "ranked: \(chunks.map(\.hit.payload.filePath))")
    withExtendedLifetime(indexed.keep) {}
  }
}

/// A file's further chunks in a list count in an index of small chunks (a model's token limit),
/// where one passage spans several chunks, and not in one of 1,500-character chunks.
@Suite struct ChunkShareTests {
  @Test func readsTheTokenLimitTheChunksEndAt() {
    #expect(SyncEngine.chunkTokenLimit("chunker-2;chars=1500;overlap=2;tokens=256|filter-1;max=1048576;secrets-2") == 256)
    #expect(SyncEngine.chunkTokenLimit("chunker-2;chars=1500;overlap=2;tokens=0|filter-1;max=1048576;secrets-2") == nil)
    #expect(SyncEngine.chunkTokenLimit("chunker-1;max=1048576") == nil)
  }

  /// `retry.py` matches in many small chunks; each adds a share of the file's best chunk.
  @Test(arguments: [(Optional(64), true), (nil, false)] as [(Int?, Bool)])
  func furtherChunksCountOnlyInAnIndexOfSmallChunks(tokens: Int?, counts: Bool) async throws {
    let repo = try TemporaryGitRepository()
    let passage = (0..<12).map { "def backoff_\($0)(attempt):\n    # backoff grows with each retry attempt\n    return 2 ** attempt\n" }
    try repo.commit(["shipit/retry.py": passage.joined(separator: "\n"), "shipit/other.py": "def unrelated():\n    return 1\n"])
    let folder = try TemporaryDirectory()
    let store = SQLiteStore(directory: folder.url)
    var options = SyncOptions(collection: "share")
    options.chunking.maxTokens = tokens
    if tokens != nil { options.chunking.tokenCounter = { $0.split(whereSeparator: \.isWhitespace).count } }
    _ = try await SyncEngine(store: store, embedder: NoEmbedder(), cache: nil, options: options).sync(
      repository: try Repository(path: repo.url))
    var engine = SearchEngine(store: store, embedder: nil, collection: "share")
    engine.definitionWeight = 0
    engine.moduleWeight = 0
    let file = try #require(try await engine.files(SearchRequest(query: "retry backoff attempt")).first)
    #expect(file.filePath == "shipit/retry.py")
    let best = engine.keywordWeight / (engine.rrfK + 1)
    if counts {
      #expect(file.chunks > 1)
      #expect(abs(file.fused - best * (1 + engine.splitChunkShare * Double(file.chunks - 1) / Double(file.chunks))) < 1e-12)
    } else {
      #expect(file.chunks == 1)
      #expect(abs(file.fused - best) < 1e-12)
    }
    withExtendedLifetime((repo, folder)) {}
  }
}
