import Embedding
import Foundation
import Testing

/// Throughput of the local forward pass; run by scripts/bench/embedding/run.sh, skipped otherwise.
@Suite struct LocalEmbeddingBenchmark {
  static let environment = ProcessInfo.processInfo.environment

  @Test(
    .enabled(
      if: environment["GIT_RAG_BENCH"] == "1",
      "set GIT_RAG_BENCH=1 (scripts/bench/embedding/run.sh)"))
  func forwardPassThroughput() throws {
    let folder = try #require(
      LocalFixtures.installedModel, Comment(rawValue: LocalFixtures.installedModelMissing))
    // The default (bfloat16 products where the CPU has them) and float32, side by side, unless
    // GIT_RAG_BENCH_PRECISIONS names some (e.g. "bfloat16" alone, for a profile).
    let precisions = try (Self.environment["GIT_RAG_BENCH_PRECISIONS"] ?? "auto float32").split(separator: " ").map {
      try BERTModel.Precision.parse(String($0))
    }
    var models: [BERTModel] = []
    for precision in precisions where !models.contains(where: { $0.precision == precision }) {
      let model = try BERTModel(directory: folder, precision: precision)
      if !models.contains(where: { $0.precision == model.precision }) { models.append(model) }
    }

    let batch = Int(Self.environment["GIT_RAG_BENCH_BATCH"] ?? "") ?? 32
    let seconds = Double(Self.environment["GIT_RAG_BENCH_SECONDS"] ?? "") ?? 8
    let lengths = (Self.environment["GIT_RAG_BENCH_LENGTHS"] ?? "128 256").split(separator: " ")
      .compactMap { Int($0) }
    let threadCounts = (Self.environment["GIT_RAG_BENCH_THREADS"] ?? "1").split(separator: " ")
      .compactMap { Int($0) }
    // Accuracy first: the sentence-transformers reference texts, one at a time.
    let reference = try #require(try LocalFixtures.json("st_ref") as? [String: Any])
    let ids = try #require(reference["token_ids"] as? [[Int]])
    let expected = try #require(reference["embeddings"] as? [[Double]])
    for model in models {
      let worst =
        zip(ids, expected).map { ids, vector in
          LocalFixtures.cosine(model.embed([ids.map { Int32($0) }])[0], vector.map { Float($0) })
        }.min() ?? 0
      print(
        model.precision == .bfloat16 ? "swift" : "swift-float32", String(format: "min_cosine_vs_reference=%.7f", worst),
        "precision=\(model.precision.rawValue)")
    }
    var random = SplitMix(state: 0)
    for threads in threadCounts {
      for length in lengths {
        let sequences = (0..<batch).map { _ in
          [101] + (0..<(length - 2)).map { _ in Int32(1000 + Int(random.next() % 29000)) } + [102]
        }
        for model in models {
          let label = model.precision == .bfloat16 ? "swift" : (models.count > 1 ? "swift-float32" : "swift")
          _ = model.embed(sequences, threads: threads)
          var timings: BERTModel.Timings? = BERTModel.Timings()
          var runs = 0
          let cpuStart = Self.processCPUTime()
          let start = Date()
          var best = Double.infinity
          while Date().timeIntervalSince(start) < seconds || runs < 2 {
            let runStart = Date()
            _ = model.embed(sequences, threads: threads, timings: &timings)
            best = min(best, Date().timeIntervalSince(runStart))
            runs += 1
          }
          let elapsed = Date().timeIntervalSince(start)
          let cpu = Self.processCPUTime() - cpuStart
          let t = timings!
          func share(_ value: Double) -> String { String(format: "%.1f%%", 100 * value / t.total) }
          let flops =
            Double(runs * batch * length) * 2 * 6 * (4 * 384 * 384 + 2 * 384 * 1536) / t.linear
            * Double(threads)
          print(
            label,
            String(
              format: "threads=%d seq=%d chunks_per_s=%.2f chunks_per_cpu_s=%.2f best_run_chunks_per_s=%.2f", threads, length,
              Double(runs * batch) / elapsed, Double(runs * batch) / cpu, Double(batch) / best),
            "linear=\(share(t.linear)) attention=\(share(t.attention)) elementwise=\(share(t.elementwise)) embedding+pooling=\(share(t.embeddingAndPooling))",
            String(format: "linear_gflops=%.1f", flops / 1e9), "precision=\(model.precision.rawValue)")
        }
      }
    }
  }

  @Test(
    .enabled(
      if: environment["GIT_RAG_BENCH"] == "1",
      "set GIT_RAG_BENCH=1 (scripts/bench/embedding/run.sh)"))
  func tokenizerThroughput() throws {
    let folder = try #require(
      LocalFixtures.installedModel, Comment(rawValue: LocalFixtures.installedModelMissing))
    let tokenizer = try WordPieceTokenizer.load(modelDirectory: folder)
    let line = "func parseConfig(_ path: String) throws -> Config { // Zürich café, 日本語\n"
    let text = String(repeating: line, count: 1_000_000 / line.utf8.count)
    let start = Date()
    let count = tokenizer.tokenCount(text)
    let elapsed = Date().timeIntervalSince(start)
    print(
      String(
        format: "swift tokenizer mb_per_s=%.1f tokens_per_s=%.0f",
        Double(text.utf8.count) / elapsed / 1e6, Double(count) / elapsed))
  }

  /// Throughput on real chunk texts (a JSON array of strings at GIT_RAG_BENCH_TEXTS, written by
  /// scripts/bench/embedding/sync-throughput.sh from a synced store): the raw forward pass on
  /// pre-tokenised batches, and `LocalEmbedder.embed` (tokenising included), in the texts' order.
  @Test(
    .enabled(
      if: environment["GIT_RAG_BENCH_TEXTS"] != nil,
      "set GIT_RAG_BENCH_TEXTS (scripts/bench/embedding/sync-throughput.sh)"))
  func chunkTextsThroughput() async throws {
    let folder = try #require(
      LocalFixtures.installedModel, Comment(rawValue: LocalFixtures.installedModelMissing))
    let path = try #require(Self.environment["GIT_RAG_BENCH_TEXTS"])
    let texts = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String])
    let embedder = try LocalEmbedder(modelDirectory: folder)
    let batch = embedder.batchSize
    _ = embedder.embedNow(Array(texts.prefix(batch)))
    let tokenized = texts.map(embedder.tokenizer.encode)
    let tokens = tokenized.reduce(0) { $0 + $1.count }
    var start = Date()
    var cpuStart = Self.processCPUTime()
    for first in stride(from: 0, to: tokenized.count, by: batch) {
      _ = embedder.model.embed(Array(tokenized[first..<min(tokenized.count, first + batch)]), threads: embedder.threads)
    }
    let forwardWall = Date().timeIntervalSince(start)
    let forwardCPU = Self.processCPUTime() - cpuStart
    start = Date()
    cpuStart = Self.processCPUTime()
    _ = try await embedder.embed(texts)
    let embedWall = Date().timeIntervalSince(start)
    let embedCPU = Self.processCPUTime() - cpuStart
    let count = Double(texts.count)
    print(
      String(
        format: "swift texts=%d tokens=%d mean_tokens=%.1f threads=%d", texts.count, tokens,
        Double(tokens) / max(count, 1), embedder.threads))
    print(
      String(
        format: "swift forward chunks_per_s=%.2f chunks_per_cpu_s=%.2f seconds=%.2f cpu_seconds=%.2f",
        count / forwardWall, count / forwardCPU, forwardWall, forwardCPU))
    print(
      String(
        format: "swift embed chunks_per_s=%.2f chunks_per_cpu_s=%.2f seconds=%.2f cpu_seconds=%.2f",
        count / embedWall, count / embedCPU, embedWall, embedCPU))
  }

  /// CPU seconds this process has used: throughput per CPU second holds up on a busy machine.
  static func processCPUTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}
