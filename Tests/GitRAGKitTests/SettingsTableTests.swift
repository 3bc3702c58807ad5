import Foundation
import GitRAGCore
import GitRAGKit
import GitRAGTestSupport
import Testing

@Suite struct SettingsTableTests {
  /// Every key of the table set in a repository's config reaches the resolver: the key list read at
  /// start-up is derived from the table (once `rag.qdrantCaFile` was read but never loaded).
  @Test func everyGitKeyOfTheTableIsRead() throws {
    let repo = try TemporaryGitRepository()
    try repo.commit(["README.md": "# x\n"])
    for (index, key) in Setting.gitConfigKeys.enumerated() { try repo.git("config", key, "value-\(index)") }
    let context = try CommandContext(options: SettingOverrides(), environment: repo.environment, directory: repo.url)
    for (index, key) in Setting.gitConfigKeys.enumerated() {
      #expect(context.settings.gitConfig(key) == "value-\(index)", "\(key)")
    }
    #expect(Setting.gitConfigKeys.contains("rag.qdrantCaFile"))
    #expect(context.settings.value(.qdrantCaFile) == context.settings.gitConfig("rag.qdrantCaFile"))
  }

  /// Flag, then environment, then git config, then the default.
  @Test func precedence() throws {
    let repo = try TemporaryGitRepository()
    try repo.commit(["README.md": "# x\n"])
    try repo.git("config", "rag.collection", "from-git")
    var environment = repo.environment
    var context = try CommandContext(options: SettingOverrides(), environment: environment, directory: repo.url)
    #expect(context.collection == "from-git")
    environment["GIT_RAG_COLLECTION"] = "from-env"
    context = try CommandContext(options: SettingOverrides(), environment: environment, directory: repo.url)
    #expect(context.collection == "from-env")
    var flags = SettingOverrides()
    flags.collection = "from-flag"
    context = try CommandContext(options: flags, environment: environment, directory: repo.url)
    #expect(context.collection == "from-flag")
    #expect(context.storeKind == Setting.store.defaultValue)
  }

  /// No `rag.*` key appears in the sources without a row in the table.
  @Test func noGitKeyOutsideTheTable() throws {
    let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources")
    let pattern = try Regex(#""(rag\.[a-zA-Z]+)""#)
    var found: Set<String> = []
    let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
    for case let url as URL in files where url.pathExtension == "swift" {
      let text = try String(contentsOf: url, encoding: .utf8)
      for match in text.matches(of: pattern) {
        found.insert(String(text[match.range]).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
      }
    }
    #expect(!found.isEmpty)
    #expect(found.subtracting(Setting.gitConfigKeys).isEmpty, "read but not declared: \(found.subtracting(Setting.gitConfigKeys).sorted())")
  }
}
