import ArgumentParser
import Foundation
import GitRAGTestSupport
import Testing

@testable import GitRAGCLI

/// `git rag sync …` skips building the whole command tree (`GitRAGCommand.fastParse`); whatever
/// it accepts must parse exactly as the full parse does, and whatever it declines goes to the
/// full parse. The flags come from `sync`'s own help dump, so a new flag is covered unasked.
@Suite struct FastSyncParseTests {
  struct Argument {
    var names: [String]
    var isOption: Bool
    var repeats: Bool
  }

  /// `sync`'s arguments as swift-argument-parser describes them (`--experimental-dump-help`).
  static func syncArguments() throws -> [Argument] {
    var dump = ""
    do {
      _ = try GitRAGCommand.parseAsRoot(["sync", "--experimental-dump-help"])
    } catch {
      dump = GitRAGCommand.fullMessage(for: error)
    }
    struct Help: Decodable {
      struct Command: Decodable { var arguments: [Entry] }
      struct Entry: Decodable {
        struct Name: Decodable { var kind: String; var name: String }
        var kind: String
        var names: [Name]?
        var isRepeating: Bool?
      }
      var command: Command
    }
    let help = try JSONDecoder().decode(Help.self, from: Data(dump.utf8))
    return help.command.arguments.compactMap { entry in
      let names = (entry.names ?? []).map { $0.kind == "short" ? "-\($0.name)" : "--\($0.name)" }
      guard !names.isEmpty, !names.contains("--help"), !names.contains("--version") else { return nil }
      return Argument(names: names, isOption: entry.kind == "option", repeats: entry.isRepeating ?? false)
    }
  }

  /// The parsed command, every field with its value.
  static func fields(_ command: ParsableCommand) -> String {
    var text = ""
    dump(command, to: &text)
    return text
  }

  /// Words for one argument: a name (short or long), and for an option a value, spelled
  /// `--name value` or `--name=value`.
  static func words(_ argument: Argument, value: Int, random: inout SeededRandom) -> [String] {
    let name = argument.names.randomElement(using: &random)!
    guard argument.isOption else { return [name] }
    let text = String(value)
    if name.hasPrefix("--"), Bool.random(using: &random) { return ["\(name)=\(text)"] }
    return [name, text]
  }

  static func expectSameParse(_ arguments: [String]) {
    let given = ["sync"] + arguments
    let fast = GitRAGCommand.fastParse(given)
    let full = Result { try GitRAGCommand.parseAsRoot(given) }
    guard let fast else {
      Issue.record("the fast parse declined valid arguments: \(given)")
      return
    }
    guard case .success(let command) = full else {
      Issue.record("the full parse refused what the fast parse took: \(given)")
      return
    }
    #expect(command is SyncCommand)
    #expect(fields(fast) == fields(command), "\(given)")
  }

  /// No flag, each flag alone, then random subsets in random order (repeatable options given
  /// several times). A parse takes tens of milliseconds in a debug build, so the subsets are
  /// sampled rather than enumerated (about a third of the flags each, so every pair is likely).
  @Test func eachFlagAndRandomCombinationsParseAsTheFullParseDoes() throws {
    let arguments = try Self.syncArguments()
    #expect(
      arguments.count > 20 && arguments.contains { $0.names.contains("--dry-run") }
        && arguments.contains { $0.names.contains("--collection") })
    var random = SeededRandom(seed: 19)
    Self.expectSameParse([])
    for (i, argument) in arguments.enumerated() { Self.expectSameParse(Self.words(argument, value: i, random: &random)) }
    for _ in 0..<150 {
      var words: [[String]] = []
      for (i, argument) in arguments.enumerated() where Int.random(in: 0..<3, using: &random) == 0 {
        words.append(Self.words(argument, value: i, random: &random))
        if argument.repeats, Bool.random(using: &random) { words.append(Self.words(argument, value: i + 100, random: &random)) }
      }
      words.shuffle(using: &random)
      Self.expectSameParse(words.flatMap { $0 })
    }
  }

  /// Help, mistakes and other commands are left to the full parse, which words the message.
  @Test(arguments: [
    ["sync", "--help"], ["sync", "-h"], ["sync", "--no-such-flag"], ["sync", "--collection"], ["sync", "extra"],
    ["sync", "--max-file-size", "many"], ["search", "alpha"], ["status"], [],
  ])
  func whatTheFastParseDeclinesGoesToTheFullParse(_ given: [String]) {
    #expect(GitRAGCommand.fastParse(given) == nil)
  }
}
