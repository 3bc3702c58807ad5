import ArgumentParser
import Foundation
import GitRAGCore
import GitRAGMCP

/// `git rag mcp`: the index as MCP tools over stdio, for coding agents.
struct MCPCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mcp",
    abstract: "Serve the index to coding agents: Model Context Protocol over stdio (tools search, status, sync).",
    discussion: """
      Started by an MCP client (Claude Code, Cursor, VS Code, Codex), not by hand: it reads \
      JSON-RPC on stdin and answers on stdout until stdin closes. See the README for each \
      client's snippet.
      """
  )

  @OptionGroup var global: GlobalOptions

  @Option(name: [.customShort("C"), .customLong("directory")], help: "Serve the repository at this folder (default: the current one).")
  var directory: String?

  func run() async throws {
    // stdout carries the protocol: logs go to stderr, and only errors.
    Console.bootstrapLogging(verbose: global.verbose, quiet: !global.verbose)
    if let directory {
      guard FileManager.default.changeCurrentDirectoryPath(directory) else {
        throw GitRAGError("Cannot enter \(directory). Check the path given with -C.", exitCode: ExitStatus.usage)
      }
    }
    try await GitRAGMCPServer.run(overrides: global.overrides)
  }
}
