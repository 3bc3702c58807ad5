import ArgumentParser
import Embedding
import Foundation
import Git
import GitRAGCore
import Hooks

struct ModelCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Fetch and list models for the built-in local embedder.",
    subcommands: [Pull.self, List.self]
  )

  struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "pull",
      abstract: "Download a sentence-transformers model from the Hugging Face Hub (HF_ENDPOINT honoured) into the user's cache.")
    @Argument(help: "Model name.") var name = LocalEmbedder.defaultModelName
    @OptionGroup var global: GlobalOptions

    func run() async throws {
      global.bootstrapLogging()
      let quiet = global.quiet
      let path = try await ModelRegistry().pull(name) { line in if !quiet { Console.info(line) } }
      if !quiet { print("Installed \(name) at \(path.path)") }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List installed models.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
      global.bootstrapLogging()
      let models = try ModelRegistry().list()
      if models.isEmpty {
        print("No models installed in \(UserPaths.models.path). Run `git rag model pull \(LocalEmbedder.defaultModelName)`.")
      }
      for model in models {
        let size = ByteCountFormatter.string(fromByteCount: model.size, countStyle: .file)
        print("\(model.name)\t\(size)\t\(model.isComplete ? "" : "(incomplete) ")\(model.path.path)")
      }
    }
  }
}

struct HooksCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hooks",
    abstract: "Install git hooks that keep the index fresh after commits, merges, checkouts and rebases.",
    subcommands: [Install.self, Uninstall.self, Status.self, Print.self]
  )

  /// `core.hooksPath` when set (relative to the work tree), else `<common git dir>/hooks`.
  ///
  /// A `core.hooksPath` from the user's or the system's configuration serves every repository,
  /// so writing there needs `--global`; without it, `writing` refuses and says both ways on.
  static func hooksDirectory(global: Bool, writing: Bool = false) throws -> URL {
    if global {
      guard let path = GitConfig.global("core.hooksPath") else {
        throw GitRAGError(
          "--global needs core.hooksPath. Run `git config --global core.hooksPath ~/.git-hooks` first, then install again.", exitCode: 2)
      }
      return URL(fileURLWithPath: (path as NSString).expandingTildeInPath, isDirectory: true)
    }
    let repository = try Repository.discover()
    if let path = repository.config("core.hooksPath") {
      if writing, repository.configIsRepositoryLocal("core.hooksPath") == false {
        throw GitRAGError(
          "core.hooksPath is set in your global git configuration (\(path)), so hooks there run in every repository. Rerun with --global to install there, or run `git config core.hooksPath \(repository.commonDir.appendingPathComponent("hooks").path)` to give this repository its own hooks, then install again.",
          exitCode: 2)
      }
      let expanded = (path as NSString).expandingTildeInPath
      if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded, isDirectory: true) }
      let base = repository.workdir ?? repository.commonDir
      return base.appendingPathComponent(expanded, isDirectory: true)
    }
    return repository.commonDir.appendingPathComponent("hooks", isDirectory: true)
  }

  struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "install", abstract: "Install the hooks (a foreign hook gets a marked git-rag block instead).")
    @Flag(help: "Replace hooks git-rag did not write (they are kept as <hook>.git-rag-backup).") var force = false
    @Flag(help: "Install into the global core.hooksPath.") var global = false

    func run() throws {
      let results = try HookInstaller(hooksDirectory: try HooksCommand.hooksDirectory(global: global, writing: true)).install(force: force)
      var refused = false
      for result in results {
        print(result.message)
        if case .refused = result.action { refused = true }
      }
      if refused { throw ExitCode(1) }
    }
  }

  struct Uninstall: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "uninstall", abstract: "Remove what git-rag installed, restoring other hooks exactly.")
    @Flag(help: "Uninstall from the global core.hooksPath.") var global = false

    func run() throws {
      for result in try HookInstaller(hooksDirectory: try HooksCommand.hooksDirectory(global: global, writing: true)).uninstall() {
        print(result.message)
      }
    }
  }

  struct Print: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "print", abstract: "Print the script git-rag installs as one hook (the repository's hooks/ holds these).")
    @Argument(help: "The hook: \(HookScripts.all.keys.sorted().joined(separator: ", ")).") var hook: String

    func validate() throws {
      guard HookScripts.all[hook] != nil else {
        throw ValidationError("No git-rag hook is named \(hook). Choose one of: \(HookScripts.all.keys.sorted().joined(separator: ", ")).")
      }
    }

    func run() { print(HookScripts.all[hook] ?? "", terminator: "") }
  }

  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show which hooks are installed.")
    @Flag(help: "Look at the global core.hooksPath.") var global = false

    func run() throws {
      for status in HookInstaller(hooksDirectory: try HooksCommand.hooksDirectory(global: global)).status() {
        let state: String
        switch status.state {
        case .missing: state = "not installed"
        case .installed(let version): state = "installed (v\(version))\(status.isCurrent ? "" : ", outdated: run `git rag hooks install`")"
        case .chained(let version): state = "chained into an existing hook (v\(version))"
        case .foreign: state = "another tool's hook (run `git rag hooks install` to add git-rag to it)"
        }
        print("\(status.hook): \(state)")
      }
    }
  }
}

struct CICommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ci",
    abstract: "Write CI pipelines that index on every push into a shared Qdrant.",
    subcommands: [Init.self]
  )

  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init", abstract: "Write the GitHub Actions workflow or GitLab CI job into this repository.")
    @Argument(help: "github or gitlab.") var provider: String
    @Option(help: "Store the pipeline writes to (CI indexes into a shared store: qdrant).") var store = "qdrant"
    @Flag(help: "Overwrite an existing file.") var force = false
    @Flag(help: "Also publish the index under refs/rag after each sync (git rag push), for clones to git rag pull.") var publishIndex =
      false

    func run() throws {
      let repository = try Repository.discover()
      guard let root = repository.workdir else {
        throw GitRAGError("This repository has no working tree; run `git rag ci init` in a checkout.")
      }
      let written = try writeCITemplate(provider: provider, store: store, repositoryRoot: root, force: force, publishIndex: publishIndex)
      for file in written.files { print("wrote \(file.path)") }
      for line in written.instructions { print(line) }
    }
  }
}
