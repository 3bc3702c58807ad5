import Foundation
import GitRAGCore
import Store
import Testing

/// `VectorStore.fileHash` on `store`: nil for an unknown file, the hash of a file's points, and
/// nil again while points of two versions of the file coexist.
public func contractFileHash(_ store: any VectorStore) async throws {
  let collection = contractCollectionName("filehash")
  try await store.createCollection(collection, metadata: contractMetadata(dimension: 4))
  #expect(try await store.fileHash(collection, filePath: "a.py") == nil)

  let old = String(repeating: "a", count: 40)
  let new = String(repeating: "b", count: 40)
  let version1 = (0..<3).map { contractPoint("a.py", $0, "old chunk \($0)", fileHash: old, vector: contractUnit(4, $0)) }
  try await store.upsert(collection, points: version1 + [contractPoint("b.py", 0, "other", fileHash: new, vector: contractUnit(4, 3))])
  #expect(try await store.fileHash(collection, filePath: "a.py") == old)
  #expect(try await store.fileHash(collection, filePath: "b.py") == new)
  #expect(try await store.fileHash(collection, filePath: "a") == nil)

  // The new version is written, the old one not yet deleted: no single hash.
  try await store.upsert(collection, points: [contractPoint("a.py", 5, "new chunk", fileHash: new, vector: contractUnit(4, 1))])
  #expect(try await store.fileHash(collection, filePath: "a.py") == nil)
  try await store.deleteStale(collection, keeping: ["a.py": new])
  #expect(try await store.fileHash(collection, filePath: "a.py") == new)
  try await store.deleteFiles(collection, paths: ["a.py"])
  #expect(try await store.fileHash(collection, filePath: "a.py") == nil)
  try await store.deleteCollection(collection)
}
