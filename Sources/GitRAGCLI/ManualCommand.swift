import ArgumentParser
import Foundation

/// Writes the man page `git-rag.1` so that `man git-rag` and `git help rag` work once installed.
struct ManualCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate-manual",
    abstract: "Write the git-rag(1) man page.",
    shouldDisplay: false
  )

  @Option(name: .customLong("output-directory"), help: "Folder to write git-rag.1 into (default: print it).")
  var outputDirectory: String?

  func run() throws {
    let page = Self.render()
    guard let outputDirectory else {
      print(page)
      return
    }
    let url = URL(fileURLWithPath: outputDirectory).appendingPathComponent("git-rag.1")
    try Data(page.utf8).write(to: url)
    print(url.path)
  }

  /// The man page in roff: the root help, then every command's help.
  static func render() -> String {
    var out = [
      ".TH GIT-RAG 1 \"\" \"git-rag \(GitRAGCommand.configuration.version)\" \"Git Manual\"",
      ".SH NAME", "git-rag \\- \(escape(GitRAGCommand.configuration.abstract))",
      ".SH SYNOPSIS", ".B git rag", "\\fIcommand\\fR [\\fIoptions\\fR]",
      ".SH DESCRIPTION", escape(GitRAGCommand.configuration.discussion),
    ]
    // Options every command shares, and those of running as a job, are listed once at the end
    // instead of in every command's section.
    let common = optionEntries(CommonOptions.helpMessage(columns: 80))
    let runtime = optionEntries(JobOptions.helpMessage(columns: 80))
    let shared = Set(common + runtime)
    func visit(_ command: ParsableCommand.Type, path: [String]) {
      for sub in command.configuration.subcommands where sub.configuration.shouldDisplay {
        let name = path + [sub.configuration.commandName ?? "\(sub)"]
        out.append(".SH \"GIT RAG \(name.joined(separator: " ").uppercased())\"")
        out.append(".nf")
        out.append(escape(removing(shared, from: GitRAGCommand.helpMessage(for: sub, columns: 80))))
        out.append(".fi")
        visit(sub, path: name)
      }
    }
    visit(GitRAGCommand.self, path: [])
    out += [".SH \"COMMON OPTIONS\"", "Every command takes these.", ".nf", escape(common.joined(separator: "\n")), ".fi"]
    out += [".SH \"RUNNING AS A JOB\"", "sync and the upload commands take these.", ".nf", escape(runtime.joined(separator: "\n")), ".fi"]
    out.append(contentsOf: [".SH SEE ALSO", "git(1), githooks(5), gitattributes(5)"])
    return out.joined(separator: "\n") + "\n"
  }

  /// The option entries of a help text: each option's first line with its indented continuation.
  static func optionEntries(_ help: String) -> [String] {
    var entries: [String] = []
    var inOptions = false
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasSuffix(":"), !line.hasPrefix(" ") { inOptions = line == "OPTIONS:" }
      guard inOptions else { continue }
      if line.hasPrefix("  -") {
        entries.append(String(line))
      } else if line.hasPrefix("   "), !entries.isEmpty {
        entries[entries.count - 1] += "\n" + line
      }
    }
    return entries.filter { !$0.hasPrefix("  -h, --help") && !$0.hasPrefix("  --version") }
  }

  /// `help` without the option entries in `shared`.
  static func removing(_ shared: Set<String>, from help: String) -> String {
    var text = help
    for entry in optionEntries(help) where shared.contains(entry) {
      text = text.replacingOccurrences(of: entry + "\n", with: "")
    }
    return text
  }

  private struct CommonOptions: ParsableCommand {
    @OptionGroup var global: GlobalOptions
  }

  private struct JobOptions: ParsableCommand {
    @OptionGroup var runtime: RuntimeOptions
  }

  private static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\")
      .split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.hasPrefix(".") || $0.hasPrefix("'") ? "\\&" + $0 : String($0) }
      .joined(separator: "\n")
  }
}
