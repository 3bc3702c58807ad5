import Embedding
import Foundation
import GitRAGTestSupport
import Testing

/// The embedder over HTTPS, with a certificate authority made for the test.
@Suite struct OpenAIEmbedderTLSTests {
  @Test func aCustomCAFileIsHonoured() async throws {
    let directory = try TemporaryDirectory(prefix: "embedder-tls")
    let authority = try TestCertificateAuthority(in: directory.url)
    let server = try await OpenAIEmbeddingServer.start(dimension: 16, tls: authority)

    var trusting = server.configuration()
    trusting.caFile = authority.caFile
    let vectors = try await OpenAIEmbedder(configuration: trusting).embed(["over TLS"])
    #expect(vectors.count == 1 && server.matches(vectors[0], "over TLS"))

    // Without the CA file: one clear line, at once (a retry would first wait 30 s).
    let started = ContinuousClock.now
    do {
      _ = try await OpenAIEmbedder(configuration: server.configuration(initialBackoff: 30)).embed(["over TLS"])
      Issue.record("a certificate from an unknown CA was trusted")
    } catch let error as OpenAIEmbedderError {
      guard case let .unreachable(_, reason) = error else { Issue.record("expected unreachable, got \(error)"); return }
      #expect(reason.hasPrefix("TLS: SSL certificate problem"), "\(reason)")
      let message = error.description
      #expect(message.hasPrefix("Cannot reach the embedding API at \(server.baseURL.absoluteString)/embeddings (TLS: "))
      #expect(message.hasSuffix("for a private CA set GIT_RAG_EMBEDDING_CA_FILE to its PEM file."))
      #expect(!message.contains("\n"))
    }
    #expect(started.duration(to: .now) < .seconds(15))
    #expect(try await server.stats().requests == 1)
  }

  @Test func theCAFileComesFromTheEnvironmentOrGitConfigAndMustBeReadable() throws {
    let directory = try TemporaryDirectory(prefix: "embedder-ca")
    let ca = directory.url.appendingPathComponent("ca.pem").path
    try "-----BEGIN CERTIFICATE-----\n".write(toFile: ca, atomically: true, encoding: .utf8)
    let fromEnvironment = try OpenAIEmbedderConfiguration.fromEnvironment(
      ["MODEL_NAME": "m", "GIT_RAG_EMBEDDING_CA_FILE": ca], embeddingURL: nil, model: nil, gitConfig: { _ in nil })
    #expect(fromEnvironment.caFile == ca)
    let fromGit = try OpenAIEmbedderConfiguration.fromEnvironment(
      ["MODEL_NAME": "m"], embeddingURL: nil, model: nil, gitConfig: { $0 == "rag.embeddingCaFile" ? ca : nil })
    #expect(fromGit.caFile == ca)
    let missing = directory.url.appendingPathComponent("missing.pem").path
    #expect(throws: OpenAIEmbedderError.unreadableCAFile(path: missing)) {
      try OpenAIEmbedderConfiguration.fromEnvironment(
        ["MODEL_NAME": "m", "GIT_RAG_EMBEDDING_CA_FILE": missing], embeddingURL: nil, model: nil, gitConfig: { _ in nil })
    }
    #expect(OpenAIEmbedderError.unreadableCAFile(path: missing).exitCode == 2)
  }
}
