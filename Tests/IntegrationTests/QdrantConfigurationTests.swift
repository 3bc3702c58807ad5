import Foundation
import GitRAGCore
import Testing

@testable import Store

@Suite("Qdrant configuration, terms and globs")
struct QdrantConfigurationTests {
  @Test func urlPrecedence() throws {
    let git: (String) -> String? = { $0 == "rag.qdrantUrl" ? "http://git-config:7000" : nil }
    let none: (String) -> String? = { _ in nil }
    #expect(try QdrantConfiguration.fromEnvironment([:], urlFlag: nil, gitConfig: none).url.absoluteString == "http://localhost:6333")
    #expect(try QdrantConfiguration.fromEnvironment([:], urlFlag: nil, gitConfig: git).url.absoluteString == "http://git-config:7000")
    let hostPort = try QdrantConfiguration.fromEnvironment(["QDRANT_HOST": "qdrant", "QDRANT_PORT": "6400"], urlFlag: nil, gitConfig: git)
    #expect(hostPort.url.absoluteString == "http://qdrant:6400")
    #expect(hostPort.address == "qdrant:6400")
    let hostOnly = try QdrantConfiguration.fromEnvironment(["QDRANT_HOST": "qdrant"], urlFlag: nil, gitConfig: none)
    #expect(hostOnly.url.absoluteString == "http://qdrant:6333")
    let env = ["QDRANT_URL": "https://cloud.example:6333/", "QDRANT_HOST": "ignored", "QDRANT_API_KEY": "k"]
    let fromEnv = try QdrantConfiguration.fromEnvironment(env, urlFlag: nil, gitConfig: git)
    #expect(fromEnv.displayURL == "https://cloud.example:6333")
    #expect(fromEnv.apiKey == "k")
    #expect(try QdrantConfiguration.fromEnvironment(env, urlFlag: "http://flag:1", gitConfig: git).url.absoluteString == "http://flag:1")
    let tuned = try QdrantConfiguration.fromEnvironment(
      ["GIT_RAG_QDRANT_BATCH_SIZE": "250", "GIT_RAG_QDRANT_TIMEOUT": "5"], urlFlag: nil, gitConfig: none)
    #expect(tuned.batchSize == 250 && tuned.timeout == 5 && tuned.maxRetries == 4 && tuned.apiKey == nil)
  }

  @Test func invalidValuesAreUsageErrors() {
    let none: (String) -> String? = { _ in nil }
    for (env, flag) in [
      (["QDRANT_URL": "localhost:6333"], nil), ([:], "ftp://x"), (["QDRANT_PORT": "abc"], nil),
      (["QDRANT_URL": "http://user:pw@host:6333"], nil), (["GIT_RAG_QDRANT_BATCH_SIZE": "0"], nil),
    ] as [([String: String], String?)] {
      #expect(throws: QdrantError.self) { try QdrantConfiguration.fromEnvironment(env, urlFlag: flag, gitConfig: none) }
    }
    do {
      _ = try QdrantConfiguration.fromEnvironment(["QDRANT_URL": "http://user:secretpw@host:6333"], urlFlag: nil, gitConfig: none)
    } catch {
      #expect(!error.localizedDescription.contains("secretpw"))
      #expect((error as? QdrantError)?.exitCode == 2)
    }
  }

  @Test func sparseTermsAreStableAndSaturated() {
    // FNV-1a reference values.
    #expect(QdrantTerms.index("") == 0x811c_9dc5)
    #expect(QdrantTerms.index("a") == 0xe40c_292c)
    #expect(QdrantTerms.index("foobar") == 0xbf9c_f968)
    let payload = ChunkPayload(
      filePath: "src/http_client.py", content: "retry retry retry backoff", chunkIndex: 0, startLine: 1, endLine: 1,
      language: "python", symbol: "HTTPClient", fileHash: "", chunkHash: "", commit: "", timestamp: "")
    let vector = QdrantTerms.document(payload)!
    #expect(vector.indices == vector.indices.sorted())
    #expect(Set(vector.indices).count == vector.indices.count)
    func weight(_ term: String) -> Float? { vector.indices.firstIndex(of: QdrantTerms.index(term)).map { vector.values[$0] } }
    #expect(weight("retry")! > weight("backoff")!)
    #expect(weight("retry")! < 3 * weight("backoff")!)  // saturation
    #expect(weight("httpclient") != nil && weight("http") != nil && weight("client") != nil && weight("src") != nil)
    #expect(QdrantTerms.query(KeywordQuery(terms: [:])) == nil)
  }

  @Test func pathGlobs() {
    let cases: [(String, String, Bool)] = [
      ("*.py", "main.py", true), ("*.py", "src/main.py", false), ("**/*.py", "main.py", true),
      ("**/*.py", "src/a/b/main.py", true), ("src/**", "src/a/b.txt", true), ("src/**", "lib/a.txt", false),
      ("src/*/x.py", "src/a/x.py", true), ("src/*/x.py", "src/a/b/x.py", false), ("src/**/x.py", "src/x.py", true),
      ("docs/?.md", "docs/a.md", true), ("docs/?.md", "docs/ab.md", false), ("[ab]*.c", "beta.c", true),
      ("[!ab]*.c", "beta.c", false), ("file[0-9].py", "file7.py", true), ("README.md", "README.md", true),
      ("README.md", "docs/README.md", false),
    ]
    for (pattern, path, expected) in cases {
      #expect(QdrantStore.PathGlob(pattern).matches(path) == expected, "\(pattern) vs \(path)")
    }
  }

  @Test func retryAfterHeader() {
    #expect(QdrantTransport.retryAfter("2") == 2)
    #expect(QdrantTransport.retryAfter("600") == 60)
    #expect(QdrantTransport.retryAfter(nil) == nil)
    #expect(QdrantTransport.retryAfter("soon") == nil)
    #expect(QdrantTransport.dimensionMismatch("Wrong input: Vector dimension error: expected dim: 16, got 384")! == (16, 384))
  }
}
