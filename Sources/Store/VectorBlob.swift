import Foundation

/// How vectors are stored in SQLite: float32, little-endian, no header.
enum VectorBlob {
  static func encode(_ vector: [Float]) -> Data {
    #if _endian(little)
      return vector.withUnsafeBytes { Data($0) }
    #else
      var data = Data(capacity: vector.count * 4)
      for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
      return data
    #endif
  }

  static func decode(_ data: Data) -> [Float] {
    let count = data.count / 4
    guard count > 0 else { return [] }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      decode(data, into: buffer.baseAddress!, count: count)
      initialized = count
    }
  }

  /// Writes the first `count` floats of `data` to `target`.
  static func decode(_ data: Data, into target: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    data.withUnsafeBytes { raw in
      #if _endian(little)
        UnsafeMutableRawPointer(target).copyMemory(from: raw.baseAddress!, byteCount: count * 4)
      #else
        for i in 0..<count {
          target[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        }
      #endif
    }
  }
}
