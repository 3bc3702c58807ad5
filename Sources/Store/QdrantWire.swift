import Foundation
import GitRAGCore

// The JSON shapes of Qdrant's REST API that QdrantStore sends and reads (field names as in
// `qdrant_client.http.models`). Internal: only QdrantStore speaks them.

/// Any JSON value, for the parts of Qdrant replies whose shape varies (collection config).
enum QdrantJSON: Codable, Hashable, Sendable {
  case null, bool(Bool), number(Double), string(String), array([QdrantJSON]), object([String: QdrantJSON])

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([QdrantJSON].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: QdrantJSON].self))
    }
  }

  func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case let .bool(value): try container.encode(value)
    case let .number(value): try container.encode(value)
    case let .string(value): try container.encode(value)
    case let .array(value): try container.encode(value)
    case let .object(value): try container.encode(value)
    }
  }

  subscript(key: String) -> QdrantJSON? {
    if case let .object(object) = self { return object[key] }
    return nil
  }

  var object: [String: QdrantJSON]? { if case let .object(value) = self { value } else { nil } }
  var int: Int? { if case let .number(value) = self { Int(exactly: value.rounded()) } else { nil } }
  var string: String? { if case let .string(value) = self { value } else { nil } }
}

/// A payload filter: every `must` condition holds and no `mustNot` condition does.
struct QdrantFilter: Encodable, Sendable {
  enum Condition: Encodable, Sendable {
    case matchAny(key: String, values: [String])
    case matchValue(key: String, value: String)
    case hasID([String])
    /// A numeric payload field below `value`.
    case lessThan(key: String, value: Double)

    private enum Keys: String, CodingKey { case key, match, range, hasID = "has_id" }
    private enum MatchKeys: String, CodingKey { case any, value }
    private enum RangeKeys: String, CodingKey { case lt }

    func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: Keys.self)
      switch self {
      case let .matchAny(key, values):
        try container.encode(key, forKey: .key)
        var match = container.nestedContainer(keyedBy: MatchKeys.self, forKey: .match)
        try match.encode(values, forKey: .any)
      case let .matchValue(key, value):
        try container.encode(key, forKey: .key)
        var match = container.nestedContainer(keyedBy: MatchKeys.self, forKey: .match)
        try match.encode(value, forKey: .value)
      case let .hasID(ids):
        try container.encode(ids, forKey: .hasID)
      case let .lessThan(key, value):
        try container.encode(key, forKey: .key)
        var range = container.nestedContainer(keyedBy: RangeKeys.self, forKey: .range)
        try range.encode(value, forKey: .lt)
      }
    }
  }

  var must: [Condition] = []
  var mustNot: [Condition] = []
  /// At least one of these holds (when any is given).
  var should: [Condition] = []

  private enum Keys: String, CodingKey { case must, mustNot = "must_not", should }

  func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: Keys.self)
    if !must.isEmpty { try container.encode(must, forKey: .must) }
    if !should.isEmpty { try container.encode(should, forKey: .should) }
    if !mustNot.isEmpty { try container.encode(mustNot, forKey: .mustNot) }
  }
}

/// A sparse vector: parallel arrays of term indices (sorted, unique) and weights.
struct QdrantSparseVector: Codable, Hashable, Sendable {
  var indices: [UInt32]
  var values: [Float]
}

/// The vectors of one point as sent: the named dense vector and/or the named sparse one.
struct QdrantPointVectors: Encodable, Sendable {
  var dense: [Float]?
  var bm25: QdrantSparseVector?
}

struct QdrantPointStruct: Encodable, Sendable {
  var id: String
  var vector: QdrantPointVectors
  var payload: ChunkPayload
}

struct QdrantUpsertRequest: Encodable, Sendable {
  var points: [QdrantPointStruct]
}

/// `with_payload` / `with_vector`: a flag or a list of field / vector names.
enum QdrantSelector: Encodable, Sendable {
  case all(Bool)
  case only([String])

  func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case let .all(flag): try container.encode(flag)
    case let .only(names): try container.encode(names)
    }
  }
}

struct QdrantScrollRequest: Encodable, Sendable {
  var filter: QdrantFilter?
  var limit: Int
  var offset: QdrantJSON?
  var withPayload: QdrantSelector
  var withVector: QdrantSelector

  enum CodingKeys: String, CodingKey {
    case filter, limit, offset, withPayload = "with_payload", withVector = "with_vector"
  }
}

/// A record as scroll and retrieve return it. `id` stays raw JSON so `next_page_offset` can echo it.
struct QdrantRecord<Payload: Decodable & Sendable>: Decodable, Sendable {
  var id: QdrantJSON
  var payload: Payload?
  var vector: QdrantNamedVectors?
}

struct QdrantNamedVectors: Decodable, Sendable {
  var dense: [Float]?
}

struct QdrantScrollResult<Payload: Decodable & Sendable>: Decodable, Sendable {
  var points: [QdrantRecord<Payload>]
  /// Null or absent at the end.
  var nextPageOffset: QdrantJSON?

  enum CodingKeys: String, CodingKey { case points, nextPageOffset = "next_page_offset" }
}

/// Only the fields the inventory needs.
struct QdrantFileIdentity: Decodable, Sendable {
  var filePath: String?
  var fileHash: String?
  var chunkHash: String?

  enum CodingKeys: String, CodingKey { case filePath = "file_path", fileHash = "file_hash", chunkHash = "chunk_hash" }
}

enum QdrantQueryInput: Encodable, Sendable {
  case dense([Float])
  case sparse(QdrantSparseVector)
  case rrf

  private enum Keys: String, CodingKey { case fusion }

  func encode(to encoder: Encoder) throws {
    switch self {
    case let .dense(vector):
      var container = encoder.singleValueContainer()
      try container.encode(vector)
    case let .sparse(vector):
      var container = encoder.singleValueContainer()
      try container.encode(vector)
    case .rrf:
      var container = encoder.container(keyedBy: Keys.self)
      try container.encode("rrf", forKey: .fusion)
    }
  }
}

struct QdrantPrefetch: Encodable, Sendable {
  var query: QdrantQueryInput
  var using: String
  var filter: QdrantFilter?
  var limit: Int
}

struct QdrantQueryRequest: Encodable, Sendable {
  var prefetch: [QdrantPrefetch]?
  var query: QdrantQueryInput
  var using: String?
  var filter: QdrantFilter?
  var limit: Int
  var withPayload: Bool = true

  enum CodingKeys: String, CodingKey {
    case prefetch, query, using, filter, limit, withPayload = "with_payload"
  }
}

struct QdrantScoredPoint: Decodable, Sendable {
  var id: QdrantJSON
  var score: Double
  var payload: ChunkPayload?
}

struct QdrantQueryResponse: Decodable, Sendable {
  var points: [QdrantScoredPoint]
}

struct QdrantCountResult: Decodable, Sendable {
  var count: Int
}

struct QdrantCollectionsResponse: Decodable, Sendable {
  struct Description: Decodable, Sendable { var name: String }
  var collections: [Description]
}

struct QdrantExistence: Decodable, Sendable {
  var exists: Bool
}

struct QdrantVersionInfo: Decodable, Sendable {
  var title: String?
  var version: String
}

/// `GET /collections/{c}`: only what QdrantStore reads, the rest stays raw.
struct QdrantCollectionInfo: Decodable, Sendable {
  struct Config: Decodable, Sendable {
    var params: QdrantJSON
    var metadata: [String: QdrantJSON]?
  }
  var pointsCount: Int?
  var config: Config
  var payloadSchema: [String: QdrantJSON]?

  enum CodingKeys: String, CodingKey {
    case pointsCount = "points_count", config, payloadSchema = "payload_schema"
  }
}

/// `{"result": …, "status": "ok", "time": …}`.
struct QdrantEnvelope<Result: Decodable>: Decodable {
  var result: Result
}

/// `{"status": {"error": "…"}}`.
struct QdrantErrorEnvelope: Decodable {
  struct Status: Decodable { var error: String? }
  var status: Status?
}
