import Chunking
import Foundation
import Testing

/// The Python summary against CPython: every file `ast.parse` accepts must scan without a syntax
/// error. Not a unit test: it runs only with GIT_RAG_BENCH=1, from `scripts/bench/python-summary/run`,
/// which lists the files CPython accepts in GIT_RAG_BENCH_PYTHON_LIST (one path a line).
@Suite struct PythonParityBenchmark {
  static let list =
    ProcessInfo.processInfo.environment["GIT_RAG_BENCH"] == "1"
    ? ProcessInfo.processInfo.environment["GIT_RAG_BENCH_PYTHON_LIST"] : nil

  @Test(.enabled(if: list != nil)) func everyFileCPythonParsesScans() throws {
    let paths = try String(contentsOfFile: Self.list!, encoding: .utf8).split(separator: "\n").map(String.init)
    var failures: [String] = []
    let start = ContinuousClock.now
    var bytes = 0
    for path in paths {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      bytes += data.count
      let facts = PythonFileFacts(text: String(decoding: data, as: UTF8.self))
      if let issue = facts.issue { failures.append("\(path): line \(issue.line): \(issue.message)") }
    }
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    print(
      "python-summary: \(paths.count) files CPython parses, \(failures.count) with a scanner syntax error, \(bytes / 1024) KiB in \(String(format: "%.2f", seconds)) s"
    )
    for failure in failures.prefix(50) { print("  \(failure)") }
    #expect(failures.isEmpty)
  }
}
