import Embedding
import Foundation
import GitRAGCore
import Testing

/// A tiny BERT written by the test: random weights, hidden 8, 2 heads, 2 layers, a 10-word vocabulary.
struct SyntheticModel {
  static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", ",", "git", "rag"]
  static let configuration = BERTConfiguration(
    vocabSize: vocabulary.count, hiddenSize: 8, layerCount: 2, headCount: 2, intermediateSize: 16, maxPositions: 16)

  let folder: URL
  var tensors: [(name: String, shape: [Int], values: [Float])] = []

  /// Writes config.json, vocab.txt and model.safetensors into a new folder named `name`.
  init(name: String = "tiny-bert", seed: UInt64 = 42) throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("synthetic-\(UUID().uuidString)/\(name)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var random = SplitMix(state: seed)
    let c = Self.configuration, h = c.hiddenSize
    func add(_ name: String, _ shape: [Int], around center: Float = 0) {
      tensors.append((name, shape, (0..<shape.reduce(1, *)).map { _ in center + random.nextFloat() * 0.8 - 0.4 }))
    }
    add("embeddings.word_embeddings.weight", [c.vocabSize, h])
    add("embeddings.position_embeddings.weight", [c.maxPositions, h])
    add("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h])
    add("embeddings.LayerNorm.weight", [h], around: 1)
    add("embeddings.LayerNorm.bias", [h])
    for layer in 0..<c.layerCount {
      let p = "encoder.layer.\(layer)."
      for part in ["query", "key", "value"] {
        add(p + "attention.self.\(part).weight", [h, h])
        add(p + "attention.self.\(part).bias", [h])
      }
      add(p + "attention.output.dense.weight", [h, h])
      add(p + "attention.output.dense.bias", [h])
      add(p + "attention.output.LayerNorm.weight", [h], around: 1)
      add(p + "attention.output.LayerNorm.bias", [h])
      add(p + "intermediate.dense.weight", [c.intermediateSize, h])
      add(p + "intermediate.dense.bias", [c.intermediateSize])
      add(p + "output.dense.weight", [h, c.intermediateSize])
      add(p + "output.dense.bias", [h])
      add(p + "output.LayerNorm.weight", [h], around: 1)
      add(p + "output.LayerNorm.bias", [h])
    }
    try writeConfiguration(c)
    try (Self.vocabulary.joined(separator: "\n") + "\n").write(
      to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
    try writeWeights()
  }

  func tensor(_ name: String) -> [Float] { tensors.first { $0.name == name }!.values }

  func writeConfiguration(_ c: BERTConfiguration) throws {
    let json = """
      {"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": \(c.hiddenSize), "intermediate_size": \(c.intermediateSize),
       "layer_norm_eps": 1e-12, "max_position_embeddings": \(c.maxPositions), "model_type": "bert", "num_attention_heads": \(c.headCount),
       "num_hidden_layers": \(c.layerCount), "type_vocab_size": \(c.typeVocabSize), "vocab_size": \(c.vocabSize)}
      """
    try json.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
  }

  /// The safetensors layout: u64 header length, JSON header, data; plus the I64 `position_ids` real exports carry.
  func writeWeights(dtypeOf: (String) -> String = { _ in "F32" }) throws {
    var header: [String: Any] = ["__metadata__": ["format": "pt"]]
    var body = Data()
    let positions = (0..<Int64(Self.configuration.maxPositions)).flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    header["embeddings.position_ids"] = [
      "dtype": "I64", "shape": [1, Self.configuration.maxPositions], "data_offsets": [0, positions.count],
    ]
    body.append(contentsOf: positions)
    for tensor in tensors {
      let bytes = tensor.values.withUnsafeBytes { Data($0) }
      header[tensor.name] = ["dtype": dtypeOf(tensor.name), "shape": tensor.shape, "data_offsets": [body.count, body.count + bytes.count]]
      body.append(bytes)
    }
    let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    var file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
    file.append(json)
    file.append(body)
    try file.write(to: folder.appendingPathComponent("model.safetensors"))
  }

  func remove() { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }

  /// Straightforward scalar BERT + mean pooling + L2, independent of the optimised forward pass.
  func referenceEmbedding(_ ids: [Int32]) -> [Float] {
    let c = Self.configuration, h = c.hiddenSize, heads = c.headCount, d = h / heads, n = ids.count
    func linear(_ x: [[Float]], _ name: String, _ outputs: Int) -> [[Float]] {
      let w = tensor(name + ".weight"), b = tensor(name + ".bias"), inputs = x[0].count
      return x.map { row in (0..<outputs).map { o in (0..<inputs).reduce(b[o]) { $0 + row[$1] * w[o * inputs + $1] } } }
    }
    func norm(_ x: [[Float]], _ name: String) -> [[Float]] {
      let g = tensor(name + ".weight"), b = tensor(name + ".bias")
      return x.map { row in
        let mean = row.reduce(0, +) / Float(row.count)
        let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(row.count)
        return row.indices.map { (row[$0] - mean) / (variance + c.layerNormEpsilon).squareRoot() * g[$0] + b[$0] }
      }
    }
    let words = tensor("embeddings.word_embeddings.weight"), positions = tensor("embeddings.position_embeddings.weight")
    let types = tensor("embeddings.token_type_embeddings.weight")
    var x = (0..<n).map { t in (0..<h).map { words[Int(ids[t]) * h + $0] + positions[t * h + $0] + types[$0] } }
    x = norm(x, "embeddings.LayerNorm")
    for layer in 0..<c.layerCount {
      let p = "encoder.layer.\(layer)."
      let q = linear(x, p + "attention.self.query", h), k = linear(x, p + "attention.self.key", h),
        v = linear(x, p + "attention.self.value", h)
      var context = [[Float]](repeating: [Float](repeating: 0, count: h), count: n)
      for head in 0..<heads {
        for i in 0..<n {
          let scores = (0..<n).map { j in
            (0..<d).reduce(Float(0)) { $0 + q[i][head * d + $1] * k[j][head * d + $1] } / Float(d).squareRoot()
          }
          let top = scores.max()!
          let e = scores.map { Foundation.exp($0 - top) }
          let total = e.reduce(0, +)
          for j in 0..<n { for dd in 0..<d { context[i][head * d + dd] += e[j] / total * v[j][head * d + dd] } }
        }
      }
      let attended = linear(context, p + "attention.output.dense", h)
      x = norm(zip(x, attended).map { zip($0, $1).map(+) }, p + "attention.output.LayerNorm")
      let inner = linear(x, p + "intermediate.dense", c.intermediateSize).map {
        $0.map { 0.5 * $0 * (1 + Foundation.erf($0 / Float(2).squareRoot())) }
      }
      let out = linear(inner, p + "output.dense", h)
      x = norm(zip(x, out).map { zip($0, $1).map(+) }, p + "output.LayerNorm")
    }
    var pooled = (0..<h).map { j in x.reduce(0) { $0 + $1[j] } / Float(n) }
    let length = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
    pooled = pooled.map { $0 / length }
    return pooled
  }
}

struct SplitMix {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}

@Suite struct SafeTensorsTests {
  /// float32 within float rounding of the scalar reference; bfloat16 (where the CPU has it) within
  /// its rounding of the inputs of each product.
  @Test(arguments: LocalFixtures.precisions)
  func syntheticModelLoadsAndMatchesAScalarReference(precision: BERTModel.Precision) async throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let embedder = try LocalEmbedder(modelDirectory: model.folder, batchSize: 2, precision: precision)
    #expect(embedder.model.precision == precision)
    let tolerance: Float = precision == .float32 ? 1e-4 : 4e-3
    #expect(try await (embedder as any Embedder).dimension == 8)
    #expect(embedder.fingerprint == "local:tiny-bert:8:mean:l2")
    #expect(embedder.tokenLimit == 16)
    let texts = [
      "hello world", "Hellos, git rag!", "rag", "",
      "world world world world world world world world world world world world world world world world",
    ]
    let vectors = try await embedder.embed(texts)
    #expect(vectors.count == texts.count)
    for (text, vector) in zip(texts, vectors) {
      let ids = embedder.tokenizer.encode(text)
      #expect(ids.count <= 16)
      let expected = model.referenceEmbedding(ids)
      #expect(vector.count == 8)
      for (a, b) in zip(vector, expected) { #expect(abs(a - b) < tolerance, "\(text): \(vector) vs \(expected)") }
      if !ids.isEmpty { #expect(LocalFixtures.cosine(vector, expected) > 0.9999) }
    }
    #expect(embedder.tokenizer.encode("Hellos, git rag!") == [2, 4, 6, 7, 8, 9, 1, 3])
  }

  @Test(arguments: LocalFixtures.precisions)
  func threadsAndGroupsDoNotChangeVectors(precision: BERTModel.Precision) throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let bert = try BERTModel(directory: model.folder, precision: precision)
    var random = SplitMix(state: 7)
    let sequences: [[Int32]] = (0..<40).map { _ in (0..<(1 + Int(random.next() % 16))).map { _ in Int32(random.next() % 10) } } + [[]]
    let alone = sequences.map { bert.embed([$0])[0] }
    for threads in [1, 2, 3] {
      let together = bert.embed(sequences, threads: threads)
      for (a, b) in zip(alone, together) { #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 }) }
    }
    #expect(alone.last == [Float](repeating: 0, count: 8))
  }

  @Test func headerIsParsed() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let file = try SafeTensorsFile(url: model.folder.appendingPathComponent("model.safetensors"))
    #expect(file.tensors["embeddings.position_ids"]?.dtype == "I64")
    #expect(file.tensors["embeddings.word_embeddings.weight"]?.shape == [10, 8])
    #expect(try file.floats("encoder.layer.1.output.dense.bias", shape: [8]) == model.tensor("encoder.layer.1.output.dense.bias"))
    #expect(throws: ModelFileError.wrongType(path: file.path, name: "embeddings.position_ids", expected: "F32", found: "I64")) {
      try file.floats("embeddings.position_ids", shape: [1, 16])
    }
  }

  @Test func missingFilesAreNamed() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    try FileManager.default.removeItem(at: model.folder.appendingPathComponent("config.json"))
    #expect(throws: ModelFileError.self) { try LocalEmbedder(modelDirectory: model.folder) }
    try FileManager.default.removeItem(at: model.folder.appendingPathComponent("model.safetensors"))
    #expect(throws: LocalModelError.notInstalled(path: model.folder.path, name: "tiny-bert")) {
      try LocalEmbedder(modelDirectory: model.folder)
    }
  }

  @Test func missingVocabularyIsNamed() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    try FileManager.default.removeItem(at: model.folder.appendingPathComponent("vocab.txt"))
    #expect { try LocalEmbedder(modelDirectory: model.folder) } throws: { error in
      (error as? UserFacingError)?.errorDescription?.contains("vocab.txt") == true
    }
  }

  @Test func wrongShapeAgainstConfigIsRejected() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    var bigger = SyntheticModel.configuration
    bigger.intermediateSize = 24
    try model.writeConfiguration(bigger)
    #expect(
      throws: ModelFileError.wrongShape(
        path: model.folder.appendingPathComponent("model.safetensors").path, name: "encoder.layer.0.intermediate.dense.weight",
        expected: [24, 8], found: [16, 8])
    ) { try BERTModel(directory: model.folder) }
  }

  @Test func wrongDtypeIsRejected() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    // Same byte count as F32 with twice the elements would be malformed; declare I32 instead.
    try model.writeWeights { $0.hasSuffix("LayerNorm.bias") ? "I32" : "F32" }
    #expect(throws: ModelFileError.self) { try BERTModel(directory: model.folder) }
  }

  @Test(arguments: [0, 5, 8, 40, 200])
  func truncatedFileIsAnErrorNotACrash(keeping bytes: Int) throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let url = model.folder.appendingPathComponent("model.safetensors")
    let whole = try Data(contentsOf: url)
    try whole.prefix(bytes).write(to: url)
    #expect { try BERTModel(directory: model.folder) } throws: { error in
      guard case .malformed = error as? ModelFileError else { return false }
      return (error as? UserFacingError)?.errorDescription?.contains(url.path) == true
    }
  }

  @Test func truncatedDataIsAnErrorNotACrash() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let url = model.folder.appendingPathComponent("model.safetensors")
    let whole = try Data(contentsOf: url)
    try whole.dropLast(100).write(to: url)
    #expect { try BERTModel(directory: model.folder) } throws: { error in
      (error as? ModelFileError)?.errorDescription?.contains("truncated") == true
    }
  }

  @Test func garbageHeaderIsAnError() throws {
    let model = try SyntheticModel()
    defer { model.remove() }
    let url = model.folder.appendingPathComponent("model.safetensors")
    var file = withUnsafeBytes(of: UInt64(12).littleEndian) { Data($0) }
    file.append(Data("not json at all".utf8))
    try file.write(to: url)
    #expect(throws: ModelFileError.malformed(path: url.path, reason: "header is not valid JSON")) { try SafeTensorsFile(url: url) }
  }
}
