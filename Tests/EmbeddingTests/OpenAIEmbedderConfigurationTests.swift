import Embedding
import Foundation
import Testing

@Suite struct OpenAIEmbedderConfigurationTests {
  static let gitConfig = ["rag.embeddingUrl": "http://git-config:1/v1", "rag.model": "git-model"]

  static func configuration(
    _ env: [String: String], url: String? = nil, model: String? = nil, git: [String: String] = gitConfig
  ) throws -> OpenAIEmbedderConfiguration {
    try OpenAIEmbedderConfiguration.fromEnvironment(env, embeddingURL: url, model: model, gitConfig: { git[$0] })
  }

  @Test func urlPrecedenceIsFlagThenEnvironmentThenGitConfigThenDefault() throws {
    let env = [
      "EMBEDDING_API_URL": "http://embedding-api-url:2/v1", "OPENAI_BASE_URL": "http://openai-base-url:3/v1",
    ]
    #expect(try Self.configuration(env, url: "http://flag:4/v1").baseURL.absoluteString == "http://flag:4/v1")
    #expect(try Self.configuration(env).baseURL.absoluteString == "http://embedding-api-url:2/v1")
    #expect(
      try Self.configuration(["OPENAI_BASE_URL": "http://openai-base-url:3/v1"]).baseURL.absoluteString
        == "http://openai-base-url:3/v1")
    #expect(try Self.configuration([:]).baseURL.absoluteString == "http://git-config:1/v1")
    #expect(try Self.configuration([:], git: ["rag.model": "m"]).baseURL == OpenAIEmbedderConfiguration.defaultBaseURL)
    // Empty values count as unset.
    #expect(try Self.configuration(["EMBEDDING_API_URL": ""], url: " ").baseURL.absoluteString == "http://git-config:1/v1")
  }

  @Test func modelPrecedenceIsFlagThenMODEL_NAMEThenGitConfig() throws {
    #expect(try Self.configuration(["MODEL_NAME": "env-model"], model: "flag-model").model == "flag-model")
    #expect(try Self.configuration(["MODEL_NAME": "env-model"]).model == "env-model")
    #expect(try Self.configuration([:]).model == "git-model")
  }

  @Test func missingModelIsAClearError() throws {
    let error = #expect(throws: OpenAIEmbedderError.self) { try Self.configuration(["MODEL_NAME": ""], git: [:]) }
    #expect(error == .missingModel)
    #expect(error?.description.contains("Set MODEL_NAME") == true)
    #expect(error?.exitCode == 2)
  }

  @Test func tokenComesFromAPI_TOKENThenOPENAI_API_KEY() throws {
    #expect(try Self.configuration(["API_TOKEN": "a", "OPENAI_API_KEY": "b"]).apiToken == "a")
    #expect(try Self.configuration(["OPENAI_API_KEY": "b"]).apiToken == "b")
    #expect(try Self.configuration([:]).apiToken == nil)
    // git config is never a source of secrets.
    #expect(try Self.configuration([:], git: ["rag.model": "m", "rag.apiToken": "c"]).apiToken == nil)
  }

  @Test func badURLsAreRejectedNamingTheirSource() throws {
    let error = #expect(throws: OpenAIEmbedderError.self) {
      try Self.configuration(["EMBEDDING_API_URL": "localhost:8080"])
    }
    #expect(error == .invalidURL(value: "localhost:8080", source: "EMBEDDING_API_URL"))
    #expect(error?.description.contains("'localhost:8080' (from EMBEDDING_API_URL)") == true)

    let secret = #expect(throws: OpenAIEmbedderError.self) {
      try Self.configuration([:], url: "https://user:hunter2@example.com/v1")
    }
    #expect(secret == .credentialsInURL(source: "--embedding-url"))
    #expect(secret?.description.contains("hunter2") == false)
  }

  @Test func endpointAppendsEmbeddingsOnce() throws {
    func endpoint(_ base: String) -> String {
      OpenAIEmbedderConfiguration(baseURL: URL(string: base)!, model: "m").endpoint.absoluteString
    }
    #expect(endpoint("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1/embeddings")
    #expect(endpoint("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1/embeddings")
    #expect(endpoint("http://127.0.0.1:8080/v1/embeddings") == "http://127.0.0.1:8080/v1/embeddings")
  }

  @Test func descriptionsNeverShowTheToken() throws {
    let configuration = try Self.configuration(["API_TOKEN": "sk-very-secret-token"])
    #expect(configuration.apiToken == "sk-very-secret-token")
    var dumped = ""
    dump(configuration, to: &dumped)
    for text in [configuration.description, String(reflecting: configuration), "\(configuration)", dumped] {
      #expect(!text.contains("sk-very-secret-token"))
      #expect(text.contains("apiToken"))
    }
  }
}
