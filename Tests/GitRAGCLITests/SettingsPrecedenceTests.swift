import Embedding
import Foundation
import GitRAGCore
import GitRAGKit
import GitRAGTestSupport
import Indexing
import Store
import Testing

@testable import GitRAGCLI

/// Every setting with a flag, given on the command line, in the environment and in git config in
/// each combination: the flag wins, then the environment, then `rag.*`, then the default. Values
/// are read where the commands read them (the context's store, embedder and paths).
@Suite struct SettingsPrecedenceTests {
  /// One setting: a value per source, the extra environment that makes its reader run, and the
  /// value the command ends up using (nil when it has none and refuses to go on).
  struct Case: CustomStringConvertible, Sendable {
    let setting: Setting
    var values = (flag: "from-flag", environment: "from-env", git: "from-git")
    var extraEnvironment: [String: String] = [:]
    let read: @Sendable (CommandContext) throws -> String?
    let defaultValue: @Sendable (CommandContext) -> String?
    var description: String { setting.flag ?? "?" }
  }

  static let cases: [Case] = [
    Case(setting: .collection, read: { $0.collection }, defaultValue: { CollectionName.default(for: $0.repository) }),
    Case(setting: .store, read: { $0.storeKind }, defaultValue: { _ in "sqlite" }),
    Case(
      setting: .storePath, values: ("/tmp/flag-store", "/tmp/env-store", "/tmp/git-store"), read: { $0.storeDirectory.path },
      defaultValue: { $0.repository?.commonDir.appendingPathComponent("rag").path }),
    Case(
      setting: .qdrantURL, values: ("http://flag.example:1", "http://env.example:2", "http://git.example:3"),
      extraEnvironment: ["GIT_RAG_STORE": "qdrant"],
      read: { try ($0.makeStore() as? QdrantStore)?.configuration.url.absoluteString }, defaultValue: { _ in "http://localhost:6333" }),
    Case(setting: .embedder, read: { $0.embedderKind }, defaultValue: { _ in "local" }),
    Case(
      setting: .embeddingURL, values: ("http://flag.example/v1", "http://env.example/v1", "http://git.example/v1"),
      extraEnvironment: ["GIT_RAG_EMBEDDER": "openai", "MODEL_NAME": "m"],
      read: { try ($0.makeEmbedder() as? OpenAIEmbedder)?.configuration.baseURL.absoluteString },
      defaultValue: { _ in "https://api.openai.com/v1" }),
    Case(
      setting: .model, extraEnvironment: ["GIT_RAG_EMBEDDER": "openai"],
      read: { try? ($0.makeEmbedder() as? OpenAIEmbedder)?.configuration.model },
      // No model named: the openai embedder refuses to start.
      defaultValue: { _ in nil }),
    Case(
      setting: .modelPath, values: ("/tmp/flag-model", "/tmp/env-model", "/tmp/git-model"), read: { $0.modelDirectory.path },
      defaultValue: { _ in LocalEmbedder.defaultModelDirectory.path }),
    Case(setting: .maxFileSize, values: ("111", "222", "333"), read: { String(try $0.maxFileSize()) }, defaultValue: { _ in "1048576" }),
  ]

  @Test(arguments: cases) func flagThenEnvironmentThenGitConfigThenDefault(_ item: Case) throws {
    let repo = try TemporaryGitRepository()
    try repo.commit(["README.md": "# x\n"])
    let setting = item.setting
    let flag = try #require(setting.flag)
    let variable = try #require(setting.environment.first)
    let key = try #require(setting.gitKey)
    for combination in 0..<8 {
      let (givesFlag, givesEnvironment, givesGit) = (combination & 1 != 0, combination & 2 != 0, combination & 4 != 0)
      if givesGit {
        try repo.git("config", key, item.values.git)
      } else {
        _ = try? repo.git("config", "--unset", key)
      }
      var environment = repo.environment.merging(item.extraEnvironment) { _, extra in extra }
      if givesEnvironment { environment[variable] = item.values.environment }
      // Parsed as the command line parses it, then resolved as every command resolves it.
      let command = try SyncCommand.parse(givesFlag ? ["--\(flag)", item.values.flag] : [])
      let context = try CommandContext(options: command.global.overrides, environment: environment, directory: repo.url)
      let expected =
        givesFlag ? item.values.flag : givesEnvironment ? item.values.environment : givesGit ? item.values.git : item.defaultValue(context)
      #expect(try item.read(context) == expected, "\(flag): flag \(givesFlag), \(variable) \(givesEnvironment), \(key) \(givesGit)")
    }
  }

  /// An empty environment variable counts as not set: git config applies.
  @Test func anEmptyEnvironmentVariableFallsThroughToGitConfig() throws {
    let repo = try TemporaryGitRepository()
    try repo.commit(["README.md": "# x\n"])
    try repo.git("config", "rag.collection", "from-git")
    var environment = repo.environment
    environment["GIT_RAG_COLLECTION"] = ""
    let context = try CommandContext(options: SettingOverrides(), environment: environment, directory: repo.url)
    #expect(context.collection == "from-git")
  }

  /// Every setting of the table with a flag is a flag of `sync` that reaches its options.
  @Test func everyFlagOfTheTableIsAFlag() throws {
    for setting in Setting.all {
      guard let flag = setting.flag else { continue }
      let value = flag == "max-file-size" ? "5" : "value"
      let command = try SyncCommand.parse(["--\(flag)", value])
      let parsed = command.global.overrides.value(named: flag) ?? command.runtime.value(named: flag)
      #expect(parsed == value, "--\(flag)")
    }
  }
}

extension RuntimeOptions {
  /// The option for a flag name.
  fileprivate func value(named flag: String) -> String? {
    switch flag {
    case "image": image
    case "job-queue": jobQueue
    case "job-definition": jobDefinition
    default: nil
    }
  }
}

extension SettingOverrides {
  /// The override for a flag name, as text.
  fileprivate func value(named flag: String) -> String? {
    switch flag {
    case "collection": collection
    case "store": store
    case "store-path": storePath
    case "qdrant-url": qdrantURL
    case "embedder": embedder
    case "embedding-url": embeddingURL
    case "model": model
    case "model-path": modelPath
    case "max-file-size": maxFileSize.map(String.init)
    default: nil
    }
  }
}
