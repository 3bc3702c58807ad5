import Foundation
import Store

/// Reads a collection's chunks from a Qdrant server or a SQLite store folder, to check that an
/// index built one way (a CI pipeline, a container job) equals a local full index of the same commit.
public enum IndexComparison {
  /// One chunk without its vector: what must match exactly.
  public struct Key: Hashable, Comparable, CustomStringConvertible {
    public let path: String, start: Int, end: Int, content: String, blob: String
    public static func < (a: Key, b: Key) -> Bool { (a.path, a.start, a.end) < (b.path, b.start, b.end) }
    public var description: String { "\(path):\(start)-\(end)@\(blob.prefix(7))" }
  }

  /// The chunks of a collection with their (possibly nil) vectors.
  public static func chunks(_ store: any VectorStore, _ collection: String) async throws -> [Key: [Float]] {
    let paths = Array(try await store.inventory(collection).keys)
    var out: [Key: [Float]] = [:]
    for point in try await store.points(collection, filePaths: paths) {
      let p = point.payload
      out[Key(path: p.filePath, start: p.startLine, end: p.endLine, content: p.content, blob: p.fileHash)] = point.vector ?? []
    }
    return out
  }

  public static func qdrant(url: String, apiKey: String?, collection: String) async throws -> [Key: [Float]] {
    let store = try QdrantStore(configuration: QdrantConfiguration(url: URL(string: url)!, apiKey: apiKey))
    return try await chunks(store, collection)
  }

  public static func sqlite(directory: URL, collection: String) async throws -> [Key: [Float]] {
    try await chunks(SQLiteStore(directory: directory), collection)
  }

  /// Empty when `a` and `b` hold the same chunks with vectors pointing the same way (cosine above
  /// 0.9999: stores may renormalise, and the local model's batching moves the last digits);
  /// otherwise lines saying what differs.
  public static func differences(_ a: [Key: [Float]], _ b: [Key: [Float]]) -> [String] {
    var out: [String] = []
    for key in Set(a.keys).subtracting(b.keys).sorted().prefix(5) { out.append("only in the first: \(key)") }
    for key in Set(b.keys).subtracting(a.keys).sorted().prefix(5) { out.append("only in the second: \(key)") }
    for (key, vector) in a {
      guard let other = b[key] else { continue }
      if vector.count != other.count {
        out.append("\(key): dimension \(vector.count) vs \(other.count)")
      } else if !vector.isEmpty, cosine(vector, other) < 0.9999 {
        out.append("\(key): vectors differ (cosine \(cosine(vector, other)))")
      }
    }
    return out
  }

  static func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var dot: Float = 0, na: Float = 0, nb: Float = 0
    for i in a.indices {
      dot += a[i] * b[i]
      na += a[i] * a[i]
      nb += b[i] * b[i]
    }
    return dot / max((na * nb).squareRoot(), .leastNormalMagnitude)
  }
}
