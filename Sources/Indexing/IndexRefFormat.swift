import Foundation
import GitRAGCore

/// The vectors of one source file blob as published under `refs/rag/<name>`: format 1.
///
/// Little-endian, no padding:
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 4 | magic `GRVP` |
/// | 4 | 1 | format version, 1 |
/// | 5 | 1 | element type: 1 = IEEE float16, 2 = bfloat16 |
/// | 6 | 2 | reserved, 0 |
/// | 8 | 4 | dimension `d` |
/// | 12 | 4 | chunk count `n` |
/// | 16 | 32·n | chunk hashes (SHA-256 of the chunk text, raw bytes), in chunk order |
/// | 16+32·n | 2·d·n | the vectors, one after another |
///
/// The size is exactly `16 + n·(32 + 2·d)`. No chunk text is stored: a reader chunks its own tree.
public struct VectorPack: Sendable, Hashable {
  public static let magic: [UInt8] = Array("GRVP".utf8)
  public static let version: UInt8 = 1
  public static let headerSize = 16
  /// The largest dimension and chunk count a reader accepts.
  public static let maxDimension = 16_384
  public static let maxChunks = 200_000

  public enum Element: UInt8, Sendable {
    case float16 = 1
    case bfloat16 = 2
  }

  public var dimension: Int
  /// Chunk hash (64 hex digits) and vector, in chunk order.
  public var chunks: [(hash: String, vector: [Float])]

  public init(dimension: Int, chunks: [(hash: String, vector: [Float])]) {
    self.dimension = dimension
    self.chunks = chunks
  }

  public static func == (lhs: VectorPack, rhs: VectorPack) -> Bool {
    lhs.dimension == rhs.dimension && lhs.chunks.elementsEqual(rhs.chunks) { $0.hash == $1.hash && $0.vector == $1.vector }
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(dimension)
    for chunk in chunks { hasher.combine(chunk.hash) }
  }

  /// The bytes of this pack: float16, unless a value is beyond float16's range (then bfloat16).
  public func encoded() -> Data {
    let wide = chunks.contains { $0.vector.contains { abs($0) > 65_000 } }
    var bytes = [UInt8]()
    bytes.reserveCapacity(Self.headerSize + chunks.count * (32 + 2 * dimension))
    bytes += Self.magic
    bytes += [Self.version, (wide ? Element.bfloat16 : Element.float16).rawValue, 0, 0]
    appendUInt32(UInt32(dimension), to: &bytes)
    appendUInt32(UInt32(chunks.count), to: &bytes)
    for chunk in chunks { bytes += hexBytes(chunk.hash) }
    for chunk in chunks {
      for value in chunk.vector {
        let bits: UInt16 = wide ? UInt16(truncatingIfNeeded: Self.bfloat16Bits(value)) : Float16(value).bitPattern
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
      }
    }
    return Data(bytes)
  }

  /// Reads a pack, checking every field: magic, version, element type, `expectedDimension`, that
  /// the size adds up, and that every value is finite.
  /// Throws `VectorPackError`.
  public static func decode(_ data: Data, expectedDimension: Int) throws -> VectorPack {
    try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> VectorPack in
      guard raw.count >= headerSize, Array(raw[0..<4]) == magic else { throw VectorPackError.notAPack }
      guard raw[4] == version else { throw VectorPackError.unsupportedVersion(Int(raw[4])) }
      guard let element = Element(rawValue: raw[5]) else { throw VectorPackError.unknownElement(Int(raw[5])) }
      let dimension = Int(readUInt32(raw, at: 8))
      let count = Int(readUInt32(raw, at: 12))
      guard dimension == expectedDimension, dimension > 0, dimension <= maxDimension else {
        throw VectorPackError.wrongDimension(found: dimension, expected: expectedDimension)
      }
      guard count <= maxChunks, raw.count == headerSize + count * (32 + 2 * dimension) else {
        throw VectorPackError.sizeMismatch(size: raw.count, chunks: count, dimension: dimension)
      }
      var chunks: [(hash: String, vector: [Float])] = []
      chunks.reserveCapacity(count)
      let values = headerSize + 32 * count
      for index in 0..<count {
        let hash = hexString(raw[(headerSize + 32 * index)..<(headerSize + 32 * index + 32)])
        var vector = [Float](repeating: 0, count: dimension)
        let start = values + index * dimension * 2
        for d in 0..<dimension {
          let bits = UInt16(raw[start + 2 * d]) | UInt16(raw[start + 2 * d + 1]) << 8
          let value = element == .float16 ? Float(Float16(bitPattern: bits)) : Float(bitPattern: UInt32(bits) << 16)
          guard value.isFinite else { throw VectorPackError.nonFinite }
          vector[d] = value
        }
        chunks.append((hash, vector))
      }
      return VectorPack(dimension: dimension, chunks: chunks)
    }
  }

  /// bfloat16 bits of `value`, rounded to nearest even.
  static func bfloat16Bits(_ value: Float) -> UInt32 {
    let bits = value.bitPattern
    return (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
  }
}

/// Why a published vector pack was refused.
public enum VectorPackError: Error, Equatable, Sendable {
  case notAPack
  case unsupportedVersion(Int)
  case unknownElement(Int)
  case wrongDimension(found: Int, expected: Int)
  case sizeMismatch(size: Int, chunks: Int, dimension: Int)
  case nonFinite

  public var reason: String {
    switch self {
    case .notAPack: "not a vector pack (bad magic)"
    case .unsupportedVersion(let version): "pack format \(version) (this git-rag reads \(VectorPack.version))"
    case .unknownElement(let element): "unknown element type \(element)"
    case .wrongDimension(let found, let expected): "vectors of dimension \(found), the manifest says \(expected)"
    case .sizeMismatch(let size, let chunks, let dimension): "\(size) bytes do not hold \(chunks) chunks of dimension \(dimension)"
    case .nonFinite: "a vector holds a value that is not a finite number"
    }
  }
}

/// `manifest.json` at the root of a `refs/rag/<name>` commit.
public struct IndexRefManifest: Codable, Hashable, Sendable {
  public static let currentFormat = 1

  /// Format of the tree and its packs (`VectorPack`); a reader refuses any other.
  public var format: Int
  /// Fingerprint of the embedder that made the vectors; a reader refuses any other.
  public var embedder: String
  public var dimension: Int
  /// The commits indexed, newest first: one per push, several after racing pushes were merged.
  public var commits: [String]
  /// Chunker versions the vectors came from.
  public var chunker: [String]
  /// File filter versions (which files were indexed at all).
  public var filter: [String]
  /// Source blobs and chunks the tree holds.
  public var files: Int
  public var chunks: Int

  public init(embedder: String, dimension: Int, commit: String, chunker: String, filter: String, files: Int, chunks: Int) {
    format = Self.currentFormat
    self.embedder = embedder
    self.dimension = dimension
    commits = [commit]
    self.chunker = [chunker]
    self.filter = [filter]
    self.files = files
    self.chunks = chunks
  }

  /// This manifest joined with `other`'s (racing pushes): commits, chunker and filter versions are
  /// unions; `files` and `chunks` are what the merged tree holds.
  public func union(_ other: IndexRefManifest, files: Int, chunks: Int) -> IndexRefManifest {
    var merged = self
    merged.commits = Self.union(commits, other.commits)
    merged.chunker = Self.union(chunker, other.chunker)
    merged.filter = Self.union(filter, other.filter)
    merged.files = files
    merged.chunks = chunks
    return merged
  }

  private static func union(_ a: [String], _ b: [String]) -> [String] {
    var seen = Set<String>()
    return (a + b).filter { seen.insert($0).inserted }
  }

  public func encoded() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self) + Data("\n".utf8)
  }
}

/// The file filter's version, as published in manifests: which files get indexed at all.
public func fileFilterVersion(maxFileSize: Int) -> String { "filter-1;max=\(maxFileSize)" }

private func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
  for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}

private func readUInt32(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
  (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[offset + $1]) << UInt32(8 * $1) }
}

private let hexDigits = Array("0123456789abcdef".utf8)

private func hexString(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
  var out = [UInt8]()
  out.reserveCapacity(64)
  for byte in bytes {
    out.append(hexDigits[Int(byte >> 4)])
    out.append(hexDigits[Int(byte & 15)])
  }
  return String(decoding: out, as: UTF8.self)
}

/// The 32 bytes of a 64-hex-digit hash (zeros for anything that is not hex).
private func hexBytes(_ hex: String) -> [UInt8] {
  let utf8 = Array(hex.utf8)
  func nibble(_ c: UInt8) -> UInt8 {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    case 0x41...0x46: c - 0x41 + 10
    default: 0
    }
  }
  return (0..<32).map { i in 2 * i + 1 < utf8.count ? nibble(utf8[2 * i]) << 4 | nibble(utf8[2 * i + 1]) : 0 }
}
