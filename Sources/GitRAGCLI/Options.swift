import ArgumentParser
import GitRAGCore
import GitRAGKit

/// Flags every command shares: output and where the index lives. Help texts come from the
/// settings table (`Setting`), which also names each flag's environment variable and git key.
struct GlobalOptions: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Show debug lines, including why each skipped file was skipped.")
  var verbose = false

  @Flag(name: .shortAndLong, help: "Print errors only.")
  var quiet = false

  @Option(name: .long, help: ArgumentHelp(Setting.collection.help))
  var collection: String?

  @Option(name: .long, help: ArgumentHelp(Setting.store.help))
  var store: String?

  @Option(name: .customLong("store-path"), help: ArgumentHelp(Setting.storePath.help))
  var storePath: String?

  @Option(name: .customLong("qdrant-url"), help: ArgumentHelp(Setting.qdrantURL.help))
  var qdrantURL: String?

  @Option(name: .long, help: ArgumentHelp(Setting.embedder.help))
  var embedder: String?

  @Option(name: .customLong("embedding-url"), help: ArgumentHelp(Setting.embeddingURL.help))
  var embeddingURL: String?

  @Option(name: .long, help: ArgumentHelp(Setting.model.help))
  var model: String?

  @Option(name: .customLong("model-path"), help: ArgumentHelp(Setting.modelPath.help))
  var modelPath: String?

  @Option(name: .customLong("max-file-size"), help: ArgumentHelp(Setting.maxFileSize.help))
  var maxFileSize: Int?

  func bootstrapLogging() {
    Console.bootstrapLogging(verbose: verbose, quiet: quiet)
  }

  /// The flags as settings overrides for the shared library.
  var overrides: SettingOverrides {
    var overrides = SettingOverrides()
    overrides.collection = collection
    overrides.store = store
    overrides.storePath = storePath
    overrides.qdrantURL = qdrantURL
    overrides.embedder = embedder
    overrides.embeddingURL = embeddingURL
    overrides.model = model
    overrides.modelPath = modelPath
    overrides.maxFileSize = maxFileSize
    return overrides
  }
}

extension CommandContext {
  /// The context for a command-line command, from its shared flags.
  convenience init(options: GlobalOptions, requireRepository: Bool = true) throws {
    try self.init(options: options.overrides, requireRepository: requireRepository)
    quiet = options.quiet
  }
}
