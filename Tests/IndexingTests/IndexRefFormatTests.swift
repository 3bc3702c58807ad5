import Foundation
import Indexing
import Testing

@Suite struct IndexRefFormatTests {
  let hashes = (0..<3).map { String(repeating: String($0 + 1), count: 64) }

  @Test func packsRoundTripInFloat16WithTheDocumentedSize() throws {
    let vectors: [[Float]] = (0..<3).map { i in (0..<384).map { Float(sin(Double($0 * (i + 1)))) / 20 } }
    let pack = VectorPack(dimension: 384, chunks: zip(hashes, vectors).map { (hash: $0, vector: $1) })
    let data = pack.encoded()
    #expect(data.count == 16 + 3 * (32 + 2 * 384))
    #expect(Array(data.prefix(6)) == Array("GRVP".utf8) + [1, 1])
    let decoded = try VectorPack.decode(data, expectedDimension: 384)
    #expect(decoded.chunks.map(\.hash) == hashes)
    for (original, read) in zip(vectors, decoded.chunks.map(\.vector)) {
      // float16 keeps 11 significant bits: relative error at most 2^-11.
      #expect(zip(original, read).allSatisfy { abs($0 - $1) <= abs($0) / 2048 + 1e-7 })
    }
  }

  @Test func valuesBeyondFloat16UseBFloat16() throws {
    let pack = VectorPack(dimension: 2, chunks: [(hash: hashes[0], vector: [1e6, -0.5])])
    let data = pack.encoded()
    #expect(data[5] == 2)
    let read = try VectorPack.decode(data, expectedDimension: 2).chunks[0].vector
    #expect(abs(read[0] - 1e6) / 1e6 < 1.0 / 128 && read[1] == -0.5)
  }

  @Test func damagedPacksAreRefused() {
    let data = VectorPack(dimension: 4, chunks: [(hash: hashes[0], vector: [0.1, 0.2, 0.3, 0.4])]).encoded()
    func error(_ bytes: Data, dimension: Int = 4) -> VectorPackError? {
      do { _ = try VectorPack.decode(bytes, expectedDimension: dimension); return nil } catch { return error as? VectorPackError }
    }
    #expect(error(data) == nil)
    #expect(error(data, dimension: 8) == .wrongDimension(found: 4, expected: 8))
    #expect(error(data.dropLast()) == .sizeMismatch(size: data.count - 1, chunks: 1, dimension: 4))
    #expect(error(Data("GRVQ".utf8) + data.dropFirst(4)) == .notAPack)
    #expect(error(Data(data.prefix(4)) + Data([9]) + data.dropFirst(5)) == .unsupportedVersion(9))
    #expect(error(Data(data.prefix(5)) + Data([7]) + data.dropFirst(6)) == .unknownElement(7))
    var huge = data
    huge.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0xFF, 0x7F])
    #expect(error(huge) == .sizeMismatch(size: data.count, chunks: 0x7FFF_FFFF, dimension: 4))
    #expect(error(data.prefix(data.count - 2) + Data([0x00, 0x7E])) == .nonFinite)  // a NaN
    #expect(error(Data()) == .notAPack)
  }

  @Test func manifestsMergeAsUnions() throws {
    let a = IndexRefManifest(embedder: "e", dimension: 8, commit: "c1", chunker: "k1", filter: "f", files: 2, chunks: 5)
    let b = IndexRefManifest(embedder: "e", dimension: 8, commit: "c2", chunker: "k2", filter: "f", files: 3, chunks: 7)
    let merged = a.union(b, files: 4, chunks: 10)
    #expect(merged.commits == ["c1", "c2"] && merged.chunker == ["k1", "k2"] && merged.filter == ["f"])
    #expect(merged.files == 4 && merged.chunks == 10 && merged.format == 1)
    let decoded = try JSONDecoder().decode(IndexRefManifest.self, from: try merged.encoded())
    #expect(decoded == merged)
  }
}
