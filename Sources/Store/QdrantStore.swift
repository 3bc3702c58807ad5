import Foundation
import GitRAGCore

/// A `VectorStore` on a Qdrant server over its REST API: the shared index for teams and CI.
///
/// A collection holds a named dense vector `dense` (cosine; absent for keyword-only collections)
/// and a named sparse vector `bm25` (IDF modifier) per point, payload indexes on `file_path`,
/// `file_hash`, `chunk_hash` and `language`, and the git-rag metadata in the collection's
/// `metadata` (Qdrant 1.16+) or, on older servers, in one reserved point that every read skips.
public final class QdrantStore: VectorStore {
  public let configuration: QdrantConfiguration
  /// Points per scroll page (inventory, vectors by chunk hash, points by file).
  public let scrollPageSize: Int
  let transport: QdrantTransport
  private let cache = QdrantCache()

  /// Payload fields with a keyword index.
  public static let indexedFields = ["file_path", "file_hash", "chunk_hash", "language"]
  /// The dense and sparse vector names of a git-rag collection.
  public static let denseVector = "dense", sparseVector = "bm25"
  /// Payload flag of the reserved point that keeps metadata on servers older than 1.16.
  public static let metadataFlag = "__git_rag_metadata__"
  /// Id of that reserved point (a UUIDv5 no chunk id can take: chunk names hold NUL separators).
  public static let metadataPointID = UUIDv5.make(namespace: PointID.namespace, name: metadataFlag).uuidString.lowercased()
  /// Payload flag of the reserved point that holds the sync lease.
  public static let leaseFlag = "__git_rag_lease__"
  /// Id of that reserved point.
  public static let leasePointID = UUIDv5.make(namespace: PointID.namespace, name: leaseFlag).uuidString.lowercased()
  /// Points no read or search returns.
  static let reservedPointIDs = [metadataPointID, leasePointID]
  /// Metadata keys git-rag owns; `setMetadata` deletes those absent from the new value (and every
  /// `sync_target.<writer>` key: see `IndexMetadata.pendingTargets`).
  static let metadataKeys = [
    "schema_version", "embedder", "dimension", "chunker_version", "created_at", "last_indexed_commit",
    "last_indexed_at", "source", "root_commits", "sync_target", "claim_id",
  ]

  /// Throws `QdrantError.invalidConfiguration` for a batch size below 1 or a `caFile` that
  /// cannot be read.
  public init(configuration: QdrantConfiguration, scrollPageSize: Int = 1000) throws {
    guard configuration.batchSize > 0, scrollPageSize > 0 else {
      throw QdrantError.invalidConfiguration("Qdrant batch and page sizes must be positive (batch size \(configuration.batchSize)).")
    }
    if let caFile = configuration.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
      throw QdrantError.invalidConfiguration(
        "The Qdrant CA file \(caFile) cannot be read. Set GIT_RAG_QDRANT_CA_FILE (or rag.qdrantCaFile) to a PEM file of CA certificates.")
    }
    self.configuration = configuration
    self.scrollPageSize = scrollPageSize
    self.transport = QdrantTransport(configuration: configuration)
  }

  public var location: String { "qdrant:\(configuration.displayURL)" }

  // MARK: - Collections

  public func listCollections() async throws -> [String] {
    let reply: QdrantCollectionsResponse = try await transport.send("GET", "/collections")
    return reply.collections.map(\.name).sorted()
  }

  public func collectionExists(_ collection: String) async throws -> Bool {
    let reply: QdrantExistence = try await transport.send("GET", path(collection, "/exists"), collection: collection)
    return reply.exists
  }

  public func createCollection(_ collection: String, metadata: IndexMetadata) async throws {
    guard metadata.dimension >= 0 else {
      throw QdrantError.invalidConfiguration("Vector dimension \(metadata.dimension) is invalid for collection \(collection).")
    }
    let withMetadata = try await supportsCollectionMetadata()
    let request = CreateCollectionRequest(
      vectors: metadata.dimension > 0 ? [Self.denseVector: .init(size: metadata.dimension)] : nil,
      sparseVectors: [Self.sparseVector: .init()],
      metadata: withMetadata ? metadata.fields : nil)
    let _: Bool = try await transport.send("PUT", path(collection, ""), body: request, collection: collection)
    cache.setSchema(collection, CollectionSchema(dimension: metadata.dimension))
    for field in Self.indexedFields {
      let index = CreateFieldIndexRequest(fieldName: field, fieldSchema: "keyword")
      let _: QdrantJSON = try await transport.send("PUT", path(collection, "/index?wait=true"), body: index, collection: collection)
    }
    if !withMetadata { try await writeMetadataPoint(collection, metadata) }
  }

  public func deleteCollection(_ collection: String) async throws {
    cache.setSchema(collection, nil)
    let deleted: Bool = try await transport.send("DELETE", path(collection, ""), collection: collection)
    guard deleted else { throw QdrantError.collectionNotFound(collection: collection, location: location) }
  }

  public func info(_ collection: String) async throws -> CollectionInfo {
    let schema = try await schema(collection)
    return CollectionInfo(
      name: collection, points: try await count(collection), files: try await inventory(collection).count,
      dimension: schema.dimension, metadata: try await metadata(collection))
  }

  // MARK: - Metadata

  public func metadata(_ collection: String) async throws -> IndexMetadata? {
    let info = try await collectionInfo(collection)
    // The same reply describes the vectors: the first upsert need not ask again.
    if cache.schema(collection) == nil, let schema = try? CollectionSchema(collection: collection, params: info.config.params) {
      cache.setSchema(collection, schema)
    }
    if let stored = info.config.metadata, let metadata = IndexMetadata(fields: Self.strings(stored)) {
      return metadata
    }
    // Older servers (or a collection written by one before an upgrade) keep it in the reserved point.
    let records: [QdrantRecord<[String: QdrantJSON]>] = try await transport.send(
      "POST", path(collection, "/points"),
      body: RetrieveRequest(ids: [Self.metadataPointID], withPayload: true, withVector: false), collection: collection)
    guard var payload = records.first?.payload, payload[Self.metadataFlag] != nil else { return nil }
    payload[Self.metadataFlag] = nil
    return IndexMetadata(fields: Self.strings(payload))
  }

  public func setMetadata(_ collection: String, _ metadata: IndexMetadata) async throws {
    guard try await supportsCollectionMetadata() else {
      _ = try await schema(collection)
      try await writeMetadataPoint(collection, metadata)
      return
    }
    let fields = metadata.fields
    var stale = Self.metadataKeys
    if let stored = try await collectionInfo(collection).config.metadata {
      stale += stored.keys.filter { $0.hasPrefix("sync_target.") }
    }
    try await updateMetadata(collection, set: fields, remove: stale.filter { fields[$0] == nil })
  }

  /// One PATCH: Qdrant merges the keys into the collection's metadata (null deletes one).
  public func updateMetadata(_ collection: String, set: [String: String], remove: [String]) async throws {
    guard try await supportsCollectionMetadata() else {
      var fields = try await metadata(collection)?.fields ?? [:]
      for key in remove { fields[key] = nil }
      fields.merge(set) { _, new in new }
      if let updated = IndexMetadata(fields: fields) { try await writeMetadataPoint(collection, updated) }
      return
    }
    var patch: [String: String?] = [:]
    for key in remove { patch[key] = .some(nil) }
    for (key, value) in set { patch[key] = value }
    let _: Bool = try await transport.send(
      "PATCH", path(collection, ""), body: UpdateCollectionRequest(metadata: patch), collection: collection)
  }

  private func writeMetadataPoint(_ collection: String, _ metadata: IndexMetadata) async throws {
    let schema = try await schema(collection)
    var payload = metadata.fields.mapValues(QdrantJSON.string)
    payload[Self.metadataFlag] = .bool(true)
    // A unit vector: zero vectors have no cosine; the point is filtered out of every search anyway.
    let dense = schema.dimension > 0 ? [Float(1)] + [Float](repeating: 0, count: schema.dimension - 1) : nil
    let body = MetadataPointUpsert(points: [.init(id: Self.metadataPointID, vector: .init(dense: dense), payload: payload)])
    let _: QdrantJSON = try await transport.send("PUT", path(collection, "/points?wait=true"), body: body, collection: collection)
  }

  /// A unit vector for reserved points (zero vectors have no cosine); nil for keyword-only collections.
  private func reservedVector(_ collection: String) async throws -> [Float]? {
    let schema = try await schema(collection)
    return schema.dimension > 0 ? [Float(1)] + [Float](repeating: 0, count: schema.dimension - 1) : nil
  }

  /// Whether the server keeps collection metadata (Qdrant 1.16+), from `GET /`, asked once.
  public func supportsCollectionMetadata() async throws -> Bool {
    if let known = cache.metadataSupport { return known }
    let version = try await transport.version().version
    let parts = version.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    let supported = (parts.count >= 2) && (parts[0] > 1 || (parts[0] == 1 && parts[1] >= 16))
    cache.metadataSupport = supported
    return supported
  }

  // MARK: - Points

  public func upsert(_ collection: String, points: [Point]) async throws {
    guard !points.isEmpty else { return }
    let schema = try await schema(collection)
    for point in points {
      let size = point.vector?.count ?? 0
      if size != schema.dimension {
        throw QdrantError.dimensionMismatch(collection: collection, stored: schema.dimension, embedder: size)
      }
    }
    var start = 0
    while start < points.count {
      let batch = points[start..<min(points.count, start + configuration.batchSize)]
      let body = QdrantUpsertRequest(
        points: batch.map { point in
          QdrantPointStruct(
            id: point.id,
            vector: QdrantPointVectors(dense: schema.dimension > 0 ? point.vector : nil, bm25: QdrantTerms.document(point.payload)),
            payload: point.payload)
        })
      let _: QdrantJSON = try await transport.send("PUT", path(collection, "/points?wait=true"), body: body, collection: collection)
      start += configuration.batchSize
    }
  }

  public func deleteFiles(_ collection: String, paths: [String]) async throws {
    for group in Self.groups(Array(Set(paths)).sorted(), of: 256) {
      let body = DeleteRequest(filter: QdrantFilter(must: [.matchAny(key: "file_path", values: group)]))
      let _: QdrantJSON = try await transport.send("POST", path(collection, "/points/delete?wait=true"), body: body, collection: collection)
    }
  }

  public func deleteStale(_ collection: String, keeping files: [String: String]) async throws {
    for (filePath, fileHash) in files.sorted(by: { $0.key < $1.key }) {
      let filter = QdrantFilter(
        must: [.matchValue(key: "file_path", value: filePath)], mustNot: [.matchValue(key: "file_hash", value: fileHash)])
      let _: QdrantJSON = try await transport.send(
        "POST", path(collection, "/points/delete?wait=true"), body: DeleteRequest(filter: filter), collection: collection)
    }
  }

  public func deletePoints(_ collection: String, ids: [String]) async throws {
    for group in Self.groups(ids.filter { !Self.reservedPointIDs.contains($0) }, of: 1000) {
      let _: QdrantJSON = try await transport.send(
        "POST", path(collection, "/points/delete?wait=true"), body: DeleteByIDRequest(points: group), collection: collection)
    }
  }

  public func inventory(_ collection: String) async throws -> [String: String] {
    let records: [QdrantRecord<QdrantFileIdentity>] = try await scroll(
      collection, filter: QdrantFilter(), payload: .only(["file_path", "file_hash"]), vector: .all(false))
    var out: [String: String] = [:]
    for record in records {
      if let filePath = record.payload?.filePath, let fileHash = record.payload?.fileHash { out[filePath] = fileHash }
    }
    return out
  }

  public func fileHash(_ collection: String, filePath: String) async throws -> String? {
    let file = QdrantFilter.Condition.matchValue(key: "file_path", value: filePath)
    let request = QdrantScrollRequest(
      filter: visible(QdrantFilter(must: [file])), limit: 1, offset: nil, withPayload: .only(["file_hash"]), withVector: .all(false))
    let page: QdrantScrollResult<QdrantFileIdentity> = try await transport.send(
      "POST", path(collection, "/points/scroll"), body: request, collection: collection)
    guard let hash = page.points.first?.payload?.fileHash else { return nil }
    // Points of another version too (an interrupted replace): no single answer.
    var other = visible(QdrantFilter(must: [file]))
    other.mustNot.append(.matchValue(key: "file_hash", value: hash))
    let reply: QdrantCountResult = try await transport.send(
      "POST", path(collection, "/points/count"), body: CountRequest(filter: other, exact: true), collection: collection)
    return reply.count == 0 ? hash : nil
  }

  public func points(_ collection: String, filePaths: [String]) async throws -> [Point] {
    let schema = try await schema(collection)
    var out: [Point] = []
    for group in Self.groups(Array(Set(filePaths)).sorted(), of: 100) {
      let records: [QdrantRecord<ChunkPayload>] = try await scroll(
        collection, filter: QdrantFilter(must: [.matchAny(key: "file_path", values: group)]), payload: .all(true),
        vector: schema.dimension > 0 ? .only([Self.denseVector]) : .all(false))
      for record in records {
        guard let payload = record.payload else { continue }
        out.append(Point(payload: payload, vector: schema.dimension > 0 ? record.vector?.dense : nil))
      }
    }
    return out.sorted { ($0.payload.filePath, $0.payload.chunkIndex) < ($1.payload.filePath, $1.payload.chunkIndex) }
  }

  public func vectors(_ collection: String, chunkHashes: [String]) async throws -> [String: [Float]] {
    let schema = try await schema(collection)
    guard schema.dimension > 0 else { return [:] }
    var out: [String: [Float]] = [:]
    for group in Self.groups(Array(Set(chunkHashes)).sorted(), of: 256) {
      let records: [QdrantRecord<QdrantFileIdentity>] = try await scroll(
        collection, filter: QdrantFilter(must: [.matchAny(key: "chunk_hash", values: group)]),
        payload: .only(["chunk_hash"]), vector: .only([Self.denseVector]))
      for record in records {
        if let hash = record.payload?.chunkHash, let vector = record.vector?.dense, out[hash] == nil { out[hash] = vector }
      }
    }
    return out
  }

  public func count(_ collection: String) async throws -> Int {
    let reply: QdrantCountResult = try await transport.send(
      "POST", path(collection, "/points/count"), body: CountRequest(filter: visible(QdrantFilter()), exact: true),
      collection: collection)
    return reply.count
  }

  /// Every page of a scroll, following `next_page_offset` until it is null or absent.
  private func scroll<Payload: Decodable & Sendable>(
    _ collection: String, filter: QdrantFilter, payload: QdrantSelector, vector: QdrantSelector
  ) async throws -> [QdrantRecord<Payload>] {
    var out: [QdrantRecord<Payload>] = []
    var offset: QdrantJSON?
    var seen = Set<QdrantJSON>()
    repeat {
      let request = QdrantScrollRequest(
        filter: visible(filter), limit: scrollPageSize, offset: offset, withPayload: payload, withVector: vector)
      let page: QdrantScrollResult<Payload> = try await transport.send(
        "POST", path(collection, "/points/scroll"), body: request, collection: collection)
      out += page.points
      offset = page.nextPageOffset == .null ? nil : page.nextPageOffset
      // A server that repeats an offset would loop forever; stop instead.
      if let next = offset, !seen.insert(next).inserted { break }
    } while offset != nil
    return out
  }

  // MARK: - Search

  public func keywordSearch(_ collection: String, query: KeywordQuery, limit: Int, filter: SearchFilter) async throws -> [SearchHit] {
    guard limit > 0, let sparse = QdrantTerms.query(query) else { return [] }
    return try await search(collection, limit: limit, filter: filter) { fetch, payloadFilter in
      QdrantQueryRequest(query: .sparse(sparse), using: Self.sparseVector, filter: payloadFilter, limit: fetch)
    }.enumerated().map { rank, hit in
      var hit = hit
      hit.keywordRank = rank + 1
      return hit
    }
  }

  public func vectorSearch(_ collection: String, vector: [Float], limit: Int, filter: SearchFilter) async throws -> [SearchHit] {
    guard limit > 0 else { return [] }
    try await checkQueryVector(collection, vector)
    return try await search(collection, limit: limit, filter: filter) { fetch, payloadFilter in
      QdrantQueryRequest(query: .dense(vector), using: Self.denseVector, filter: payloadFilter, limit: fetch)
    }.enumerated().map { rank, hit in
      var hit = hit
      hit.vectorRank = rank + 1
      return hit
    }
  }

  /// Dense and keyword search fused by Qdrant with reciprocal rank fusion (`prefetch` both, then
  /// `{"fusion": "rrf"}`); scores are RRF scores. Falls back to the vector search alone when the
  /// keyword query has no terms.
  public func hybridSearch(
    _ collection: String, vector: [Float], keyword: KeywordQuery, limit: Int, filter: SearchFilter
  ) async throws -> [SearchHit] {
    guard limit > 0 else { return [] }
    guard let sparse = QdrantTerms.query(keyword) else {
      return try await vectorSearch(collection, vector: vector, limit: limit, filter: filter)
    }
    try await checkQueryVector(collection, vector)
    return try await search(collection, limit: limit, filter: filter) { fetch, payloadFilter in
      let depth = max(fetch * 4, 50)
      return QdrantQueryRequest(
        prefetch: [
          QdrantPrefetch(query: .dense(vector), using: Self.denseVector, filter: payloadFilter, limit: depth),
          QdrantPrefetch(query: .sparse(sparse), using: Self.sparseVector, filter: payloadFilter, limit: depth),
        ],
        query: .rrf, filter: payloadFilter, limit: fetch)
    }
  }

  private func checkQueryVector(_ collection: String, _ vector: [Float]) async throws {
    let schema = try await schema(collection)
    if vector.count != schema.dimension {
      throw QdrantError.dimensionMismatch(collection: collection, stored: schema.dimension, embedder: vector.count)
    }
  }

  /// Runs a query; a path glob (which Qdrant cannot match) is applied here to a deeper result
  /// list, deepened until enough hits match or the collection has no more.
  private func search(
    _ collection: String, limit: Int, filter: SearchFilter, request: (Int, QdrantFilter) -> QdrantQueryRequest
  ) async throws -> [SearchHit] {
    var payloadFilter = QdrantFilter()
    if let language = filter.language { payloadFilter.must.append(.matchValue(key: "language", value: language)) }
    let glob = filter.pathGlob.flatMap { $0.isEmpty ? nil : PathGlob($0) }
    var fetch = glob == nil ? limit : max(limit * 8, 64)
    while true {
      let reply: QdrantQueryResponse = try await transport.send(
        "POST", path(collection, "/points/query"), body: request(fetch, visible(payloadFilter)), collection: collection)
      var hits = reply.points.compactMap { point in point.payload.map { SearchHit(payload: $0, score: point.score) } }
      if let glob { hits = hits.filter { glob.matches($0.payload.filePath) } }
      if glob == nil || hits.count >= limit || reply.points.count < fetch || fetch >= 10_000 {
        return Array(hits.prefix(limit))
      }
      fetch = min(fetch * 4, 10_000)
    }
  }

  // MARK: - Helpers

  /// `filter` plus the exclusion of the reserved metadata and lease points.
  private func visible(_ filter: QdrantFilter) -> QdrantFilter {
    var filter = filter
    filter.mustNot.append(.hasID(Self.reservedPointIDs))
    return filter
  }

  private func path(_ collection: String, _ suffix: String) -> String {
    "/collections/\(QdrantTransport.segment(collection))\(suffix)"
  }

  private func collectionInfo(_ collection: String) async throws -> QdrantCollectionInfo {
    try await transport.send("GET", path(collection, ""), collection: collection)
  }

  /// The collection's vector layout, checked to be git-rag's, cached per store.
  func schema(_ collection: String) async throws -> CollectionSchema {
    if let known = cache.schema(collection) { return known }
    let info = try await collectionInfo(collection)
    let schema = try CollectionSchema(collection: collection, params: info.config.params)
    cache.setSchema(collection, schema)
    return schema
  }

  private static func strings(_ values: [String: QdrantJSON]) -> [String: String] {
    values.compactMapValues { value in
      switch value {
      case let .string(text): text
      case let .number(number): number.rounded() == number ? String(Int(number)) : String(number)
      case let .bool(flag): String(flag)
      default: nil
      }
    }
  }

  private static func groups<T>(_ items: [T], of size: Int) -> [[T]] {
    stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min(items.count, $0 + size)]) }
  }
}

// MARK: - Sync lease

extension QdrantStore: SyncLeasing {
  /// The lease lives in a reserved point; `tryLease` is an upsert with an `update_filter`
  /// (Qdrant 1.16+): the server applies writes to a point one after another and updates an
  /// existing point only when it matches the filter, which makes the write a compare-and-set.
  public func lease(_ collection: String) async throws -> SyncLease? {
    let records: [QdrantRecord<[String: QdrantJSON]>] = try await transport.send(
      "POST", path(collection, "/points"),
      body: RetrieveRequest(ids: [Self.leasePointID], withPayload: true, withVector: false), collection: collection)
    guard let payload = records.first?.payload, payload[Self.leaseFlag] != nil,
      let id = payload["lease_id"]?.string, let host = payload["host"]?.string,
      let pid = payload["pid"]?.int, let expires = payload["expires_at"]?.int
    else { return nil }
    return SyncLease(
      id: id, host: host, pid: Int32(clamping: pid), pidNamespace: payload["pid_namespace"]?.string ?? "",
      target: payload["target"]?.string ?? "", expiresAt: expires)
  }

  public func tryLease(_ collection: String, _ lease: SyncLease, replacing stale: String?) async throws -> SyncLease? {
    // Servers before 1.16 know no update_filter: no lease there (see docs/shared-collections.md).
    guard try await supportsCollectionMetadata() else { return lease }
    let payload: [String: QdrantJSON] = [
      Self.leaseFlag: .bool(true), "lease_id": .string(lease.id), "host": .string(lease.host),
      "pid": .number(Double(lease.pid)), "pid_namespace": .string(lease.pidNamespace), "target": .string(lease.target),
      "expires_at": .number(Double(lease.expiresAt)),
    ]
    var condition = QdrantFilter()
    condition.should = [.matchValue(key: "lease_id", value: lease.id), .lessThan(key: "expires_at", value: Double(SyncLease.now()))]
    if let stale { condition.should.append(.matchValue(key: "lease_id", value: stale)) }
    let body = LeaseUpsert(
      points: [.init(id: Self.leasePointID, vector: .init(dense: try await reservedVector(collection)), payload: payload)],
      updateFilter: condition)
    // `ordering=strong`: in a cluster the shard's leader orders the write, so two syncs racing
    // for the lease see one winner on every replica.
    let _: QdrantJSON = try await transport.send(
      "PUT", path(collection, "/points?wait=true&ordering=strong"), body: body, collection: collection)
    return try await self.lease(collection)
  }

  public func releaseLease(_ collection: String, id: String) async throws {
    let filter = QdrantFilter(must: [.hasID([Self.leasePointID]), .matchValue(key: "lease_id", value: id)])
    let _: QdrantJSON = try await transport.send(
      "POST", path(collection, "/points/delete?wait=true"), body: DeleteRequest(filter: filter), collection: collection)
  }
}

struct LeaseUpsert: Encodable, Sendable {
  var points: [MetadataPointUpsert.Point]
  var updateFilter: QdrantFilter
  enum CodingKeys: String, CodingKey { case points, updateFilter = "update_filter" }
}

/// The vector layout of a git-rag collection.
struct CollectionSchema: Sendable, Hashable {
  /// Size of the `dense` vector; 0 for a keyword-only collection.
  var dimension: Int

  init(dimension: Int) { self.dimension = dimension }

  /// Reads `config.params`; throws `foreignCollection` unless it has git-rag's named vectors.
  init(collection: String, params: QdrantJSON) throws {
    guard params["sparse_vectors"]?[QdrantStore.sparseVector] != nil else {
      throw QdrantError.foreignCollection(
        collection: collection, detail: "it has no sparse vector named \(QdrantStore.sparseVector)")
    }
    let vectors = params["vectors"]?.object ?? [:]
    if vectors["size"] != nil {
      throw QdrantError.foreignCollection(
        collection: collection,
        detail: "it has one unnamed vector; git-rag uses named vectors \(QdrantStore.denseVector) and \(QdrantStore.sparseVector)")
    }
    if vectors.isEmpty {
      dimension = 0
    } else if let size = vectors[QdrantStore.denseVector]?["size"]?.int {
      dimension = size
    } else {
      throw QdrantError.foreignCollection(
        collection: collection, detail: "its vectors are \(vectors.keys.sorted().joined(separator: ", ")), not \(QdrantStore.denseVector)")
    }
  }
}

/// What QdrantStore remembers between calls: the server's metadata support and collection layouts.
final class QdrantCache: Sendable {
  private let metadataSupportState = Locked<Bool?>(nil)
  private let schemas = Locked<[String: CollectionSchema]>([:])

  var metadataSupport: Bool? {
    get { metadataSupportState.withLock { $0 } }
    set { metadataSupportState.withLock { $0 = newValue } }
  }

  func schema(_ collection: String) -> CollectionSchema? { schemas.withLock { $0[collection] } }
  func setSchema(_ collection: String, _ schema: CollectionSchema?) { schemas.withLock { $0[collection] = schema } }
}

// MARK: - Request bodies

struct CreateCollectionRequest: Encodable, Sendable {
  struct Dense: Encodable, Sendable {
    var size: Int
    var distance = "Cosine"
  }
  struct Sparse: Encodable, Sendable {
    var modifier = "idf"
  }
  var vectors: [String: Dense]?
  var sparseVectors: [String: Sparse]
  var metadata: [String: String]?

  enum CodingKeys: String, CodingKey { case vectors, sparseVectors = "sparse_vectors", metadata }
}

struct UpdateCollectionRequest: Encodable, Sendable {
  /// A nil value deletes the key.
  var metadata: [String: String?]

  func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: DynamicKey.self)
    var nested = container.nestedContainer(keyedBy: DynamicKey.self, forKey: DynamicKey("metadata"))
    for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
      if let value { try nested.encode(value, forKey: DynamicKey(key)) } else { try nested.encodeNil(forKey: DynamicKey(key)) }
    }
  }
}

struct DynamicKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ string: String) { stringValue = string }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

struct CreateFieldIndexRequest: Encodable, Sendable {
  var fieldName: String
  var fieldSchema: String
  enum CodingKeys: String, CodingKey { case fieldName = "field_name", fieldSchema = "field_schema" }
}

struct RetrieveRequest: Encodable, Sendable {
  var ids: [String]
  var withPayload: Bool
  var withVector: Bool
  enum CodingKeys: String, CodingKey { case ids, withPayload = "with_payload", withVector = "with_vector" }
}

struct DeleteRequest: Encodable, Sendable {
  var filter: QdrantFilter
}

struct DeleteByIDRequest: Encodable, Sendable {
  var points: [String]
}

struct CountRequest: Encodable, Sendable {
  var filter: QdrantFilter
  var exact: Bool
}

struct MetadataPointUpsert: Encodable, Sendable {
  struct Point: Encodable, Sendable {
    var id: String
    var vector: QdrantPointVectors
    var payload: [String: QdrantJSON]
  }
  var points: [Point]
}
