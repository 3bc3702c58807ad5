import ArgumentParser
import Foundation
import GitRAGCore
import GitRAGKit
import Indexing
import Store

struct CollectionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "collection",
    abstract: "Create, delete, list and describe collections.",
    subcommands: [Create.self, Delete.self, List.self, Info.self]
  )

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "create", abstract: "Create an empty collection for the configured embedder.")
    @Argument(help: "Collection name (default: the repository's).") var name: String?
    @OptionGroup var global: GlobalOptions

    @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

    func run() async throws {
      global.bootstrapLogging()
      let context = try CommandContext(options: global, requireRepository: false)
      if runtime.runtime != nil {
        let arguments = ["create", name ?? context.collection]
        try await runtime.submit(operation: .collection, arguments: arguments, context: context)
        return
      }
      let store = try context.makeStore()
      let embedder = try context.makeEmbedder()
      let collection = name ?? context.collection
      var options = SyncOptions(collection: collection)
      options.maxFileSize = try context.maxFileSize()
      options.fit(to: embedder)
      let metadata = IndexMetadata(
        embedder: try await embedder.fingerprint, dimension: try await embedder.dimension,
        chunkerVersion: SyncEngine(store: store, embedder: embedder, cache: nil, options: options).chunkerVersion,
        source: context.repository?.workdir?.path ?? "")
      try await store.createCollection(collection, metadata: metadata)
      if !global.quiet { print("Created collection \(collection) in \(store.location).") }
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delete", abstract: "Delete a collection and everything in it.",
      discussion: "Name the collection to delete, or pass --yes to delete the current repository's.")
    @Argument(help: "Collection name.") var name: String?
    @Flag(help: "Delete the current repository's collection without naming it.") var yes = false
    @OptionGroup var global: GlobalOptions

    @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

    func run() async throws {
      global.bootstrapLogging()
      let context = try CommandContext(options: global, requireRepository: false)
      guard let collection = name ?? (yes ? context.collection : nil) else {
        throw GitRAGError(
          "Refusing to delete without a name: run `git rag collection delete \(context.collection)` to delete this repository's collection (or add --yes).",
          exitCode: 2)
      }
      if runtime.runtime != nil {
        try await runtime.submit(operation: .collection, arguments: ["delete", collection], context: context)
        return
      }
      let store = try context.makeStore()
      try await store.deleteCollection(collection)
      if !global.quiet { print("Deleted collection \(collection) from \(store.location).") }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the collections of the store.")
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

    func run() async throws {
      global.bootstrapLogging()
      let context = try CommandContext(options: global, requireRepository: false)
      if runtime.runtime != nil {
        let arguments = ["list"] + (json ? ["--json"] : [])
        try await runtime.submit(operation: .collection, arguments: arguments, context: context)
        return
      }
      let store = try context.makeStore()
      let names = try await store.listCollections().sorted()
      if json {
        print(try JSONOutput.encode(Versioned(["collections": names])))
      } else if names.isEmpty {
        print("No collections in \(store.location).")
      } else {
        for name in names { print(name.terminalSafe) }
      }
    }
  }

  struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a collection's counts and metadata.")
    @Argument(help: "Collection name (default: the repository's).") var name: String?
    @Flag(help: "Print as JSON.") var json = false
    @OptionGroup var global: GlobalOptions

    @OptionGroup(title: "Running as a job") var runtime: RuntimeOptions

    func run() async throws {
      global.bootstrapLogging()
      let context = try CommandContext(options: global, requireRepository: false)
      if runtime.runtime != nil {
        let arguments = ["info", name ?? context.collection] + (json ? ["--json"] : [])
        try await runtime.submit(operation: .collection, arguments: arguments, context: context)
        return
      }
      let store = try context.makeStore()
      let info = try await store.info(name ?? context.collection)
      if json {
        print(try JSONOutput.encode(Versioned(info)))
        return
      }
      print("collection:  \(info.name) (\(store.location))")
      print("chunks:      \(info.points) in \(info.files) files")
      print("dimension:   \(info.dimension == 0 ? "keyword-only" : String(info.dimension))")
      if let metadata = info.metadata {
        for (key, value) in metadata.fields.sorted(by: { $0.key < $1.key }) {
          print("\(key.padding(toLength: 20, withPad: " ", startingAt: 0)) \(value.terminalSafe)")
        }
      }
    }
  }
}
