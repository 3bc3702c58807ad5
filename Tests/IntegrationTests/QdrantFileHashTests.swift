import GitRAGTestSupport
import Store
import Testing

@Suite struct QdrantFileHashTests {
  @Test func qdrantFileHashFollowsTheFilesPoints() async throws {
    let fixture = try await QdrantFixture.sharedFixture()
    try await contractFileHash(try fixture.store())
  }
}
