import Foundation
import GitRAGCore
import GitRAGTestSupport
import Store
import Testing

/// Upsert throughput into the Qdrant test server: batches of 100 against one point per request.
/// Run by `scripts/bench/qdrant/upsert-throughput` (`GIT_RAG_BENCH=1`, release build).
@Suite("Qdrant upsert benchmark", .enabled(if: ProcessInfo.processInfo.environment["GIT_RAG_BENCH"] == "1"))
struct QdrantUpsertBenchmark {
  static var environment: [String: String] { ProcessInfo.processInfo.environment }

  @Test func upsertThroughput() async throws {
    let count = Int(Self.environment["GIT_RAG_BENCH_POINTS"] ?? "") ?? 20_000
    let single = Int(Self.environment["GIT_RAG_BENCH_SINGLE_POINTS"] ?? "") ?? count
    let dimension = 384
    let points = (0..<count).map { i in
      QdrantSamples.point(
        path: "src/module\(i / 20)/file\(i / 5).py", index: i % 5,
        content: "def handler_\(i)(request, retries=3):\n    return process(request, attempt=\(i))\n", dimension: dimension)
    }
    var lines: [String] = []
    for (label, batchSize, subset) in [("batch=100", 100, points), ("batch=1", 1, Array(points.prefix(single)))] {
      // A fresh server per run so neither pays for the other's data.
      let fixture = try await QdrantFixture.start(ownServer: true)
      let store = try fixture.store(batchSize: batchSize)
      try await store.createCollection("bench", metadata: QdrantSamples.metadata(dimension: dimension))
      try await fixture.resetStats()
      let started = Date()
      try await store.upsert("bench", points: subset)
      let seconds = Date().timeIntervalSince(started)
      let requests = try await fixture.stats()["PUT /collections/{c}/points"] ?? 0
      let serverSeconds = try await fixture.serverSeconds()["PUT /collections/{c}/points"] ?? 0
      #expect(try await store.count("bench") == subset.count)
      #expect(requests == (subset.count + batchSize - 1) / batchSize)
      let line = String(
        format: "%@: %d points (%d-d) in %d requests, %.2f s, %.0f points/s, %.2f ms/request (server %.2f ms/request)",
        label, subset.count, dimension, requests, seconds, Double(subset.count) / seconds, seconds * 1000 / Double(requests),
        serverSeconds * 1000 / Double(requests))
      lines.append(line)
      print("QDRANT-BENCH \(line)")
      fixture.server?.stop()
    }
    if let out = Self.environment["GIT_RAG_BENCH_OUT"] {
      try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    }
  }
}
