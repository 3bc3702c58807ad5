import Foundation
import Testing

@testable import Chunking

/// A full index's worth of files through the filter and the chunker. Run by
/// `scripts/bench/chunking` (release build); skipped in the normal test run.
@Test(.enabled(if: ProcessInfo.processInfo.environment["GIT_RAG_BENCH"] == "1"))
func chunkingBenchmark() {
  let samples: [(String, String)] = [
    ("py", Fixtures.python), ("md", Fixtures.markdown), ("swift", Fixtures.swift), ("ts", Fixtures.typescript),
    ("go", Fixtures.go), ("rs", Fixtures.rust), ("java", Fixtures.java), ("c", Fixtures.c), ("rb", Fixtures.ruby),
    ("sh", Fixtures.shell), ("yaml", Fixtures.yaml), ("json", Fixtures.json), ("toml", Fixtures.toml),
    ("txt", String(repeating: "plain text line\n", count: 200)),
  ]
  // 10,000 files of 1–8 copies of a sample: about the size of a mid-sized repository.
  var files: [(String, Data)] = []
  for index in 0..<10_000 {
    let (ext, text) = samples[index % samples.count]
    files.append(("src/module\(index).\(ext)", Data(String(repeating: text + "\n", count: 1 + index % 8).utf8)))
  }
  let bytes = files.reduce(0) { $0 + $1.1.count }
  let filter = FileFilter()
  let started = ContinuousClock.now
  var chunks = 0
  var inspectTime = Duration.zero
  for (path, data) in files {
    let before = ContinuousClock.now
    guard filter.precheck(path: path, kind: .regular, size: data.count, attribute: .unspecified) == nil,
      case .success(let text) = filter.inspect(path: path, data: data, attribute: .unspecified)
    else { continue }
    inspectTime += ContinuousClock.now - before
    chunks += Chunker.chunk(path: path, text: text).count
  }
  let elapsed = ContinuousClock.now - started
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  let inspectSeconds = Double(inspectTime.components.seconds) + Double(inspectTime.components.attoseconds) / 1e18
  print(
    String(
      format: "chunking: %d files, %.1f MB, %d chunks in %.2f s (%.0f files/s, %.1f MB/s); filter %.2f s of it",
      files.count, Double(bytes) / 1e6, chunks, seconds, Double(files.count) / seconds, Double(bytes) / 1e6 / seconds, inspectSeconds))
  #expect(chunks > files.count)

  // The secret scan alone, per MB: the rule table (with redaction) beside the scanner it
  // replaced, over the same files and over files dense with secret keywords.
  let texts = files.map { String(decoding: $0.1, as: UTF8.self) }
  let dense = (0..<2_000).map { index in
    "api_key = config.get('key')\ntoken = request.headers['Authorization']\npassword_field = form.password\n"
      + "secret = load_secret(name)  # sk- and eyJ and :// prefixes: https://example.com/path?sig=x\n"
      + String(repeating: "def handle_\(index)(self, key, value):\n    return self.store[key] or value\n", count: 20)
  }
  for (name, corpus) in [("code", texts), ("keyword-dense", dense)] {
    let megabytes = Double(corpus.reduce(0) { $0 + $1.utf8.count }) / 1e6
    var found = 0
    let legacyStart = ContinuousClock.now
    for text in corpus where LegacySecretScanner.scan(Array(text.utf8)) != nil { found += 1 }
    let legacy = (ContinuousClock.now - legacyStart).seconds
    let rulesStart = ContinuousClock.now
    for text in corpus { if case .success(let result) = SecretScanner.redact(text), !result.findings.isEmpty { found += 1 } }
    let rules = (ContinuousClock.now - rulesStart).seconds
    print(
      String(
        format:
          "secret scan (%@, %.1f MB): previous scanner %.2f ms/MB (%.0f MB/s), rule table + redaction %.2f ms/MB (%.0f MB/s); %d flagged",
        name, megabytes, legacy * 1000 / megabytes, megabytes / legacy, rules * 1000 / megabytes, megabytes / rules, found))
  }
}

extension Duration {
  fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
