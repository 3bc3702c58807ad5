import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A single-pass reader for the `data[].index` / `data[].embedding` parts of an embeddings response.
///
/// `JSONDecoder` spends about 0.8 µs per number; a 64 x 1536 response from a hosted model is
/// ~100k numbers, so decoding alone would cost ~80 ms of CPU per request. This reads the numbers
/// in place. It returns nil for anything outside the plain shape (the caller then falls back to
/// `JSONDecoder`, which also explains what is wrong).
enum OpenAIEmbeddingResponseParser {
  struct Item: Decodable {
    let index: Int
    let embedding: [Float]
  }

  static func parse(_ data: Data) -> [Item]? {
    data.withUnsafeBytes { raw -> [Item]? in
      var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
      return scanner.response()
    }
  }

  private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    private static let dataKey = Array("data".utf8), indexKey = Array("index".utf8)
    private static let embeddingKey = Array("embedding".utf8)

    mutating func response() -> [Item]? {
      var items: [Item]?
      guard
        objectMembers({ scanner, key in
          if key.elementsEqual(Self.dataKey) {
            items = scanner.dataArray()
            return items != nil
          }
          return scanner.skipValue(depth: 0)
        })
      else { return nil }
      skipWhitespace()
      return position == bytes.count ? items : nil
    }

    private mutating func dataArray() -> [Item]? {
      var items: [Item] = []
      let ok = arrayElements { scanner in
        var index: Int?
        var embedding: [Float]?
        guard
          scanner.objectMembers({ scanner, key in
            if key.elementsEqual(Self.indexKey) {
              index = scanner.integer()
              return index != nil
            }
            if key.elementsEqual(Self.embeddingKey) {
              embedding = scanner.floats()
              return embedding != nil
            }
            return scanner.skipValue(depth: 0)
          }), let index, let embedding
        else { return false }
        items.append(Item(index: index, embedding: embedding))
        return true
      }
      return ok ? items : nil
    }

    private mutating func floats() -> [Float]? {
      var values: [Float] = []
      let ok = arrayElements { scanner in
        guard let value = scanner.float() else { return false }
        values.append(value)
        return true
      }
      return ok ? values : nil
    }

    // MARK: - JSON structure

    /// Calls `member` for every key of an object, positioned at its value.
    private mutating func objectMembers(_ member: (inout Scanner, Slice<UnsafeBufferPointer<UInt8>>) -> Bool) -> Bool {
      guard consume(UInt8(ascii: "{")) else { return false }
      if consume(UInt8(ascii: "}")) { return true }
      while true {
        skipWhitespace()
        guard let key = string(), consume(UInt8(ascii: ":")) else { return false }
        skipWhitespace()
        guard member(&self, key) else { return false }
        if consume(UInt8(ascii: ",")) { continue }
        return consume(UInt8(ascii: "}"))
      }
    }

    /// Calls `element` for every element of an array, positioned at it.
    private mutating func arrayElements(_ element: (inout Scanner) -> Bool) -> Bool {
      guard consume(UInt8(ascii: "[")) else { return false }
      if consume(UInt8(ascii: "]")) { return true }
      while true {
        skipWhitespace()
        guard element(&self) else { return false }
        if consume(UInt8(ascii: ",")) { continue }
        return consume(UInt8(ascii: "]"))
      }
    }

    private mutating func skipValue(depth: Int) -> Bool {
      guard depth < 64, position < bytes.count else { return false }
      switch bytes[position] {
      case UInt8(ascii: "{"):
        return objectMembers { scanner, _ in scanner.skipValue(depth: depth + 1) }
      case UInt8(ascii: "["):
        return arrayElements { scanner in scanner.skipValue(depth: depth + 1) }
      case Self.quote:
        return string() != nil
      case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
        while position < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[position]) { position += 1 }
        return true
      default:
        return numberToken() != nil
      }
    }

    /// The raw bytes of a string (escapes left as they are), after its closing quote.
    private mutating func string() -> Slice<UnsafeBufferPointer<UInt8>>? {
      guard position < bytes.count, bytes[position] == Self.quote else { return nil }
      let start = position + 1
      var i = start
      while i < bytes.count {
        switch bytes[i] {
        case Self.quote:
          position = i + 1
          return bytes[start..<i]
        case Self.backslash: i += 2
        default: i += 1
        }
      }
      return nil
    }

    // MARK: - Numbers

    private mutating func numberToken() -> Range<Int>? {
      let start = position
      while position < bytes.count {
        switch bytes[position] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
          UInt8(ascii: "e"), UInt8(ascii: "E"):
          position += 1
        default:
          return position > start ? start..<position : nil
        }
      }
      return position > start ? start..<position : nil
    }

    private mutating func integer() -> Int? {
      guard let token = numberToken() else { return nil }
      var value = 0
      for byte in bytes[token] {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), value < Int.max / 10 - 10 else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
      }
      return value
    }

    private mutating func float() -> Float? {
      guard let token = numberToken(), token.count < 64 else { return nil }
      return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Float? in
        for (offset, byte) in bytes[token].enumerated() { buffer[offset] = CChar(bitPattern: byte) }
        buffer[token.count] = 0
        var end: UnsafeMutablePointer<CChar>?
        let value = strtof(buffer.baseAddress!, &end)
        // A whole-token parse, or none: strtof follows LC_NUMERIC, which a host may have changed.
        guard let end, end - buffer.baseAddress! == token.count, value.isFinite else { return nil }
        return value
      }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
      skipWhitespace()
      guard position < bytes.count, bytes[position] == byte else { return false }
      position += 1
      return true
    }

    private mutating func skipWhitespace() {
      while position < bytes.count {
        switch bytes[position] {
        case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
        default: return
        }
      }
    }
  }
}
