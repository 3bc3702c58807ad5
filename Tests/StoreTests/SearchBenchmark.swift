import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

/// Search latency of `SQLiteStore` at scale. Not a unit test: it runs only with GIT_RAG_BENCH=1,
/// from `scripts/bench/search/run` (release build). GIT_RAG_BENCH_CHUNKS overrides the size.
@Suite struct SearchBenchmark {
  static let enabled = ProcessInfo.processInfo.environment["GIT_RAG_BENCH"] == "1"

  @Test(.enabled(if: enabled)) func sqliteStoreSearch() async throws {
    let chunks = ProcessInfo.processInfo.environment["GIT_RAG_BENCH_CHUNKS"].flatMap(Int.init) ?? 100_000
    let dimension = 384
    let folder = try TemporaryDirectory(prefix: "git-rag-bench")
    let store = SQLiteStore(directory: folder.url)
    try await store.createCollection("bench", metadata: contractMetadata(dimension: dimension))
    var random = SplitMix64(seed: 42)
    let vocabulary = BenchVocabulary(random: &random)

    // Fill: 20 chunks per file, batches of 1,000 points (one transaction each), like a sync.
    // Only the upserts are timed, not making the test data.
    var fill = Duration.zero
    var fillCPUSeconds = 0.0
    var index = 0
    while index < chunks {
      var batch: [Point] = []
      for i in index..<min(index + 1000, chunks) {
        let file = i / 20
        let path = "pkg\(file % 50)/mod\(file % 7)/file\(file).\(i % 3 == 0 ? "go" : "py")"
        let content = vocabulary.chunk(&random, words: 60)
        batch.append(
          contractPoint(
            path, i % 20, content, fileHash: "f\(file)", language: i % 3 == 0 ? "go" : "python",
            symbol: vocabulary.identifier(&random), vector: randomUnit(dimension, &random)))
      }
      let start = ContinuousClock.now
      let cpu = processCPUTime()
      try await store.upsert("bench", points: batch)
      fill += ContinuousClock.now - start
      fillCPUSeconds += processCPUTime() - cpu
      index += batch.count
    }
    let fillCPUms = fillCPUSeconds * 1e3

    let queries = (0..<60).map { _ in randomUnit(dimension, &random) }
    let loadStart = ContinuousClock.now
    let loadCPU = processCPUTime()
    _ = try await store.vectorSearch("bench", vector: queries[0], limit: 10, filter: .none)
    let firstSearch = ContinuousClock.now - loadStart
    let loadCPUms = (processCPUTime() - loadCPU) * 1e3
    // A new process (every `git rag search`) opens the store afresh: it maps the matrix file the
    // first search wrote instead of decoding every vector again.
    var freshTimes: [Duration] = []
    var freshCPU: [Double] = []
    for query in queries.prefix(5) {
      let fresh = SQLiteStore(directory: store.directory)
      let start = ContinuousClock.now
      let cpu = processCPUTime()
      _ = try await fresh.vectorSearch("bench", vector: query, limit: 10, filter: .none)
      freshTimes.append(ContinuousClock.now - start)
      freshCPU.append((processCPUTime() - cpu) * 1e3)
    }
    var vectorTimes: [Duration] = []
    var vectorCPU: [Double] = []
    for query in queries.dropFirst(10) {
      let start = ContinuousClock.now
      let cpu = processCPUTime()
      let hits = try await store.vectorSearch("bench", vector: query, limit: 10, filter: .none)
      vectorTimes.append(ContinuousClock.now - start)
      vectorCPU.append((processCPUTime() - cpu) * 1e3)
      #expect(hits.count == 10)
    }
    var filteredTimes: [Duration] = []
    for query in queries.dropFirst(10) {
      let start = ContinuousClock.now
      let hits = try await store.vectorSearch(
        "bench", vector: query, limit: 10, filter: SearchFilter(pathGlob: "pkg1*/**", language: "python"))
      filteredTimes.append(ContinuousClock.now - start)
      #expect(hits.allSatisfy { $0.payload.filePath.hasPrefix("pkg1") && $0.payload.language == "python" })
    }
    var keywordTimes: [Duration] = []
    var keywordCPU: [Double] = []
    var keywordHits = 0
    for _ in 0..<50 {
      let text = (0..<3).map { _ in vocabulary.queryWord(&random) }.joined(separator: " ")
      let start = ContinuousClock.now
      let cpu = processCPUTime()
      let hits = try await store.keywordSearch("bench", query: KeywordQuery(text: text), limit: 10, filter: .none)
      keywordTimes.append(ContinuousClock.now - start)
      keywordCPU.append((processCPUTime() - cpu) * 1e3)
      keywordHits += hits.count
    }
    #expect(keywordHits > 0)
    let fileSize = try FileManager.default.attributesOfItem(atPath: store.fileURL("bench").path)[.size] as? Int ?? 0

    func ms(_ d: Duration) -> String {
      String(format: "%.2f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3)
    }
    func pct(_ times: [Duration], _ p: Double) -> Duration { times.sorted()[min(times.count - 1, Int(Double(times.count) * p))] }
    print("BENCH sqlite-store chunks=\(chunks) dim=\(dimension) file=\(fileSize >> 20) MiB")
    func cpu(_ values: [Double], _ p: Double) -> String {
      String(format: "%.2f ms", values.sorted()[min(values.count - 1, Int(Double(values.count) * p))])
    }
    print("BENCH (wall clock; CPU time of the process in brackets, less sensitive to other load on the machine)")
    print(
      "BENCH fill: \(ms(fill)) [cpu \(String(format: "%.0f ms", fillCPUms))] (\(Int(Double(chunks) / (Double(fill.components.seconds) + Double(fill.components.attoseconds) / 1e18))) chunks/s)"
    )
    print("BENCH vectorSearch first (loads the matrix): \(ms(firstSearch)) [cpu \(String(format: "%.0f ms", loadCPUms))]")
    print(
      "BENCH vectorSearch first in a fresh store instance (maps the matrix file): p50 \(ms(pct(freshTimes, 0.5))) [cpu p50 \(cpu(freshCPU, 0.5))]"
    )
    print(
      "BENCH vectorSearch p50 \(ms(pct(vectorTimes, 0.5))) p95 \(ms(pct(vectorTimes, 0.95))) [cpu p50 \(cpu(vectorCPU, 0.5)) p95 \(cpu(vectorCPU, 0.95))]"
    )
    print("BENCH vectorSearch filtered p50 \(ms(pct(filteredTimes, 0.5))) p95 \(ms(pct(filteredTimes, 0.95)))")
    print(
      "BENCH keywordSearch p50 \(ms(pct(keywordTimes, 0.5))) p95 \(ms(pct(keywordTimes, 0.95))) [cpu p50 \(cpu(keywordCPU, 0.5))] (\(keywordHits / 50) hits/query)"
    )
  }
}

/// CPU seconds used by this process so far (all threads).
private func processCPUTime() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

private func randomUnit(_ dimension: Int, _ random: inout SplitMix64) -> [Float] {
  let v = (0..<dimension).map { _ in Float(random.nextDouble() * 2 - 1) }
  let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
  return v.map { $0 / norm }
}

/// Code-like text: Zipf-distributed words and camelCase/snake_case identifiers built from them.
private struct BenchVocabulary {
  let words: [String]
  let cumulative: [Double]

  init(random: inout SplitMix64) {
    let letters = Array("abcdefghijklmnopqrstuvwxyz")
    var words: [String] = []
    var seen: Set<String> = []
    while words.count < 20_000 {
      let length = 3 + Int(random.next() % 7)
      let word = String((0..<length).map { _ in letters[Int(random.next() % 26)] })
      if seen.insert(word).inserted { words.append(word) }
    }
    self.words = words
    var total = 0.0
    cumulative = words.indices.map {
      total += 1 / Double($0 + 1); return total
    }
  }

  func word(_ random: inout SplitMix64) -> String {
    let target = random.nextDouble() * cumulative.last!
    var low = 0, high = cumulative.count - 1
    while low < high {
      let mid = (low + high) / 2
      if cumulative[mid] < target { low = mid + 1 } else { high = mid }
    }
    return words[low]
  }

  /// A mid-frequency word, as a user would search for.
  func queryWord(_ random: inout SplitMix64) -> String { words[50 + Int(random.next() % 2000)] }

  func identifier(_ random: inout SplitMix64) -> String {
    let a = word(&random), b = word(&random)
    return random.next() % 2 == 0 ? a + b.prefix(1).uppercased() + b.dropFirst() : a + "_" + b
  }

  func chunk(_ random: inout SplitMix64, words count: Int) -> String {
    var out: [String] = []
    for i in 0..<count {
      out.append(i % 6 == 0 ? identifier(&random) + "(" : word(&random))
      if i % 12 == 11 { out.append("\n") }
    }
    return out.joined(separator: " ")
  }
}
