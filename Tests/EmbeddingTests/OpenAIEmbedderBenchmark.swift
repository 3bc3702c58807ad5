import Embedding
import Foundation
import GitRAGCore
import Testing

/// "Remote embedder saturation", run by `scripts/bench/embedder/run.sh` (skipped unless
/// `GIT_RAG_BENCH=1`): full-index throughput of `OpenAIEmbedder.embed` against the test server with
/// a fixed latency per request, beside the seed's algorithm (one text per request from 5 workers).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GIT_RAG_BENCH"] == "1"))
struct OpenAIEmbedderBenchmark {
  static let environment = ProcessInfo.processInfo.environment
  static func setting(_ name: String, _ fallback: Int) -> Int { environment[name].flatMap(Int.init) ?? fallback }

  /// Hands out indexes to the seed's workers.
  final class Cursor: Sendable {
    private let next = Locked(0)
    let end: Int
    init(end: Int) { self.end = end }
    func take() -> Int? {
      next.withLock { next in
        guard next < end else { return nil }
        defer { next += 1 }
        return next
      }
    }
  }

  /// CPU seconds (user + system) this process has used.
  static func processCPU() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  /// CPU seconds the process `pid` has used, from /proc (nil elsewhere).
  static func childCPU(_ pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  static func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
  }

  @Test func remoteEmbedderSaturation() async throws {
    let latency = Self.setting("BENCH_LATENCY_MS", 50)
    let count = Self.setting("BENCH_TEXTS", 20_000)
    let seedCount = Self.setting("BENCH_SEED_TEXTS", 1_000)
    let dimension = Self.setting("BENCH_DIMENSION", 16)
    let server = try await OpenAIEmbeddingServer.start(dimension: dimension, latencyMilliseconds: latency)
    let texts = (0..<count).map { "def handler_\($0)(request):\n    return respond(\($0))" }

    // Batched, 5 in flight (the defaults).
    let configuration = server.configuration(timeout: 60, initialBackoff: 0.5)
    let embedder = OpenAIEmbedder(configuration: configuration)
    _ = try await embedder.embed(["warm-up"])
    try await server.resetStats()
    var vectors: [[Float]] = []
    let serverPID = server.server.process.processIdentifier
    let (clientCPU0, serverCPU0) = (Self.processCPU(), Self.childCPU(serverPID))
    let seconds = try await OpenAIEmbeddingServer.seconds { vectors = try await embedder.embed(texts) }
    let clientCPU = Self.processCPU() - clientCPU0
    let serverCPU = Self.childCPU(serverPID).flatMap { now in serverCPU0.map { now - $0 } }
    let stats = try await server.stats()
    let throughput = Double(count) / seconds
    let ideal = Double(configuration.maxConcurrentRequests * configuration.maxTextsPerRequest) / (Double(latency) / 1000)
    #expect(vectors.count == count && server.matches(vectors[count - 1], texts[count - 1]))

    // The seed: one text per request from 5 workers.
    let seedEmbedder = OpenAIEmbedder(configuration: server.configuration(maxTexts: 1, concurrency: 5))
    _ = try await seedEmbedder.embed(["warm-up"])
    try await server.resetStats()
    let cursor = Cursor(end: seedCount)
    let seedSeconds = try await OpenAIEmbeddingServer.seconds {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<5 {
          group.addTask {
            while let index = cursor.take() { _ = try await seedEmbedder.embed([texts[index]]) }
          }
        }
        try await group.waitForAll()
      }
    }
    let seedStats = try await server.stats()
    let seedThroughput = Double(seedCount) / seedSeconds
    let seedIdeal = 5 / (Double(latency) / 1000)

    func f(_ value: Double) -> String { String(format: "%.1f", value) }
    let report = """
      BENCH remote-embedder-saturation latency_ms=\(latency) dimension=\(dimension)
      BENCH batched: \(count) texts in \(String(format: "%.3f", seconds)) s = \(f(throughput)) texts/s; \
      requests=\(stats.requests) max_in_flight=\(stats.maxInFlight); ideal \(f(ideal)) texts/s \
      (\(configuration.maxConcurrentRequests) in flight x \(configuration.maxTextsPerRequest) texts / \(latency) ms); \
      efficiency \(f(100 * throughput / ideal))%; CPU: client \(String(format: "%.2f", clientCPU)) s, \
      server \(serverCPU.map { String(format: "%.2f", $0) } ?? "?") s, load average \(Self.loadAverage())
      BENCH seed (1 text/request, 5 workers): \(seedCount) texts in \(String(format: "%.3f", seedSeconds)) s = \
      \(f(seedThroughput)) texts/s; requests=\(seedStats.requests) max_in_flight=\(seedStats.maxInFlight); \
      ideal \(f(seedIdeal)) texts/s; efficiency \(f(100 * seedThroughput / seedIdeal))%
      BENCH speed-up batched/seed: \(f(throughput / seedThroughput))x
      """
    print(report)
    #expect(stats.maxInFlight <= configuration.maxConcurrentRequests)
    #expect(throughput >= 0.9 * ideal, "throughput \(f(throughput)) texts/s is under 90% of \(f(ideal))")
  }
}
