import ArgumentParser
import Chunking
import Foundation
import Git
import GitRAGCore
import GitRAGKit

struct InspectCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Show how files would be filtered and chunked (boundaries, symbols, sizes).",
    discussion: "The tool for tuning .gitattributes: `vendor/** -rag` excludes paths, `docs/** rag` forces them in."
  )

  @Argument(help: "Files to inspect.")
  var paths: [String]

  @Flag(help: "Print as JSON.")
  var json = false

  @Flag(help: "Print each chunk's full text.")
  var full = false

  struct Inspection: Codable {
    var path: String
    var language: String?
    var skipped: String?
    /// Secrets replaced by `«redacted:<rule>»`: rule and line, never the value.
    var redacted: [String]?
    var chunks: [Chunk]
  }
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if paths.isEmpty { throw ValidationError("Name at least one file, e.g. git rag inspect README.md.") }
  }

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    let filter = FileFilter(maxFileSize: try context.maxFileSize())
    let allowance = try context.secretAllowance()
    var inspections: [Inspection] = []
    for path in paths {
      inspections.append(try inspect(path, filter: filter, allowance: allowance, repository: context.repository))
    }
    if json {
      print(try JSONOutput.encode(Versioned(["files": inspections])))
      return
    }
    for inspection in inspections {
      if let reason = inspection.skipped {
        print("\(inspection.path.terminalSafe): skipped (\(reason.terminalSafe))")
        continue
      }
      print(
        "\(inspection.path.terminalSafe): \(inspection.language ?? "text"), \(inspection.chunks.count) chunk\(inspection.chunks.count == 1 ? "" : "s")"
      )
      for redaction in inspection.redacted ?? [] { print("  redacted: \(redaction.terminalSafe)") }
      for (index, chunk) in inspection.chunks.enumerated() {
        print(
          "  #\(index) lines \(chunk.startLine)-\(chunk.endLine), \(chunk.content.count) chars\(chunk.symbol.map { ", \($0.terminalSafe)" } ?? "")"
        )
        if full {
          for line in chunk.content.split(separator: "\n", omittingEmptySubsequences: false) { print("    | \(line.terminalSafe)") }
        }
      }
    }
  }

  private func inspect(_ path: String, filter: FileFilter, allowance: SecretAllowance, repository: Repository?) throws -> Inspection {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw GitRAGError("File not found: \(path). Check the path.")
    }
    if isDirectory.boolValue { throw GitRAGError("\(path) is a folder; name files to inspect.") }
    var relative = url.standardizedFileURL.path
    var attribute = RagAttribute.unspecified
    var allowance = allowance
    if let repository, let root = repository.workdir?.standardizedFileURL.path, relative.hasPrefix(root + "/") {
      relative = String(relative.dropFirst(root.count + 1))
      switch repository.attribute("rag", path: relative) {
      case .set: attribute = .forceInclude
      case .unset: attribute = .exclude
      case .value(let v): attribute = (v == "false" || v == "0") ? .exclude : .forceInclude
      case .unspecified: break
      }
      switch repository.attribute("rag-allow-secrets", path: relative) {
      case .set: allowance = SecretAllowance(everything: true)
      case .value(let list): allowance = allowance.union(SecretAllowance(parsing: list))
      case .unset, .unspecified: break
      }
    } else {
      relative = path
    }
    let values = try url.resourceValues(forKeys: [.isSymbolicLinkKey, .fileSizeKey, .isExecutableKey])
    let kind: FileKind = values.isSymbolicLink == true ? .symlink : (values.isExecutable == true ? .executable : .regular)
    // The sync's gate: a file skipped by name is not even read.
    let admitted = try filter.admit(path: relative, kind: kind, size: values.fileSize ?? 0, attribute: attribute, allowance: allowance) {
      try Data(contentsOf: url)
    }
    switch admitted {
    case .failure(let reason):
      return Inspection(path: relative, language: nil, skipped: reason.description, redacted: nil, chunks: [])
    case .success(let gated):
      let chunks = Chunker.chunk(path: relative, text: gated.text)
      let redacted = gated.redactions.isEmpty ? nil : gated.redactions.map(\.description)
      return Inspection(path: relative, language: chunks.first?.language, skipped: nil, redacted: redacted, chunks: chunks)
    }
  }
}

struct EmbedCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "embed",
    abstract: "Print the vectors of texts as JSON (for debugging and for other tools)."
  )

  @Argument(help: "Texts to embed.")
  var texts: [String]
  @OptionGroup var global: GlobalOptions

  func validate() throws {
    if texts.isEmpty { throw ValidationError("Give at least one text, e.g. git rag embed \"hello world\".") }
  }

  func run() async throws {
    global.bootstrapLogging()
    let context = try CommandContext(options: global, requireRepository: false)
    let embedder = try context.makeEmbedder()
    let vectors = try await embedder.embed(texts)
    struct Row: Encodable { var text: String; var embedding: [Float] }
    let output = Output(model: try await embedder.fingerprint, data: zip(texts, vectors).map { Row(text: $0, embedding: $1) })
    struct Output: Encodable { var model: String; var data: [Row] }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(output), as: UTF8.self))
  }
}
