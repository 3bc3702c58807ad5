internal import CBLAS
import Dispatch
import Foundation
import GitRAGCore

/// A BERT encoder (embeddings, N transformer layers) with mean pooling and L2 normalisation,
/// evaluated on the CPU: matrix products through OpenBLAS `sgemm`, the rest in SIMD kernels.
///
/// Sequences of one call are packed back to back (no padding); every linear layer runs as one GEMM
/// over all their tokens, attention runs per sequence and head.
public final class BERTModel: Sendable {
  public let configuration: BERTConfiguration

  struct Layer: Sendable {
    /// Query, key and value weights stacked as one [3H, H] matrix; the query rows carry 1/√d.
    var qkvWeight: [Float], qkvBias: [Float]
    var outputWeight: [Float], outputBias: [Float]
    var attentionNormGamma: [Float], attentionNormBeta: [Float]
    var intermediateWeight: [Float], intermediateBias: [Float]
    var feedForwardWeight: [Float], feedForwardBias: [Float]
    var outputNormGamma: [Float], outputNormBeta: [Float]
  }

  let wordEmbeddings: [Float]
  let positionEmbeddings: [Float]
  /// Token type 0 embeddings (every token is type 0 for single-text encoding).
  let tokenTypeEmbedding: [Float]
  let embeddingNormGamma: [Float], embeddingNormBeta: [Float]
  let layers: [Layer]
  /// Most tokens evaluated together; bounds scratch memory and keeps activations cache-resident.
  let tokensPerGroup = 2048

  /// Loads `config.json` and `model.safetensors` from `directory`.
  public convenience init(directory: URL) throws(ModelFileError) {
    let configuration = try BERTConfiguration.load(from: directory.appendingPathComponent("config.json"))
    let weights = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
    try self.init(configuration: configuration, weights: weights)
  }

  /// Takes the weights from `weights`, checking every tensor's name, dtype and shape against `configuration`.
  public init(configuration c: BERTConfiguration, weights: SafeTensorsFile) throws(ModelFileError) {
    configuration = c
    let prefix = weights.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
    func tensor(_ name: String, _ shape: Int...) throws(ModelFileError) -> [Float] {
      try weights.floats(prefix + name, shape: shape)
    }
    let h = c.hiddenSize
    wordEmbeddings = try tensor("embeddings.word_embeddings.weight", c.vocabSize, h)
    positionEmbeddings = try tensor("embeddings.position_embeddings.weight", c.maxPositions, h)
    tokenTypeEmbedding = Array(try tensor("embeddings.token_type_embeddings.weight", c.typeVocabSize, h)[0..<h])
    embeddingNormGamma = try tensor("embeddings.LayerNorm.weight", h)
    embeddingNormBeta = try tensor("embeddings.LayerNorm.bias", h)
    let scale = 1 / Float(h / c.headCount).squareRoot()
    var layers: [Layer] = []
    for index in 0..<c.layerCount {
      let p = "encoder.layer.\(index)."
      let query = try tensor(p + "attention.self.query.weight", h, h).map { $0 * scale }
      let queryBias = try tensor(p + "attention.self.query.bias", h).map { $0 * scale }
      layers.append(
        Layer(
          qkvWeight: query + (try tensor(p + "attention.self.key.weight", h, h)) + (try tensor(p + "attention.self.value.weight", h, h)),
          qkvBias: queryBias + (try tensor(p + "attention.self.key.bias", h)) + (try tensor(p + "attention.self.value.bias", h)),
          outputWeight: try tensor(p + "attention.output.dense.weight", h, h),
          outputBias: try tensor(p + "attention.output.dense.bias", h),
          attentionNormGamma: try tensor(p + "attention.output.LayerNorm.weight", h),
          attentionNormBeta: try tensor(p + "attention.output.LayerNorm.bias", h),
          intermediateWeight: try tensor(p + "intermediate.dense.weight", c.intermediateSize, h),
          intermediateBias: try tensor(p + "intermediate.dense.bias", c.intermediateSize),
          feedForwardWeight: try tensor(p + "output.dense.weight", h, c.intermediateSize),
          feedForwardBias: try tensor(p + "output.dense.bias", h),
          outputNormGamma: try tensor(p + "output.LayerNorm.weight", h),
          outputNormBeta: try tensor(p + "output.LayerNorm.bias", h)
        ))
    }
    self.layers = layers
    guard h % 8 == 0, c.intermediateSize % 8 == 0 else {
      throw .malformed(path: weights.path, reason: "hidden and intermediate sizes must be multiples of 8")
    }
    BLASThreads.useOneThread()
  }

  /// Where the time of forward passes went, in seconds (filled by `embed(_:timings:)`).
  public struct Timings: Sendable, Equatable {
    /// The four linear layers of every transformer layer (OpenBLAS sgemm).
    public var linear: Double = 0
    /// Attention: per-sequence, per-head score and context sgemms and the softmax.
    public var attention: Double = 0
    /// Bias, GELU, residual and LayerNorm kernels.
    public var elementwise: Double = 0
    /// Embedding lookup and pooling.
    public var embeddingAndPooling: Double = 0
    public init() {}
    public var total: Double { linear + attention + elementwise + embeddingAndPooling }
  }

  /// Mean-pooled, L2-normalised embeddings of token-id sequences, one per sequence, in order.
  ///
  /// Sequences longer than `maxPositions` are cut; ids outside the vocabulary read as id 0; an
  /// empty sequence gives a zero vector.
  public func embed(_ sequences: [[Int32]]) -> [[Float]] {
    var timings: Timings?
    return embed(sequences, timings: &timings)
  }

  /// `embed(_:)`, adding the time each phase took to `timings` when it is not nil.
  public func embed(_ sequences: [[Int32]], timings: inout Timings?) -> [[Float]] {
    let limit = configuration.maxPositions
    let sequences = sequences.map { $0.count > limit ? Array($0[0..<limit]) : $0 }
    var results = [[Float]](repeating: [], count: sequences.count)
    var workspace = Workspace(configuration: configuration, tokens: min(tokensPerGroup, max(1, sequences.map(\.count).reduce(0, +))), longest: sequences.map(\.count).max() ?? 1)
    var group: [Int] = []
    var groupTokens = 0
    func run() {
      guard !group.isEmpty else { return }
      let vectors = forward(group.map { sequences[$0] }, workspace: &workspace, timings: &timings)
      for (index, vector) in zip(group, vectors) { results[index] = vector }
      group.removeAll()
      groupTokens = 0
    }
    for (index, sequence) in sequences.enumerated() {
      if groupTokens + sequence.count > tokensPerGroup { run() }
      group.append(index)
      groupTokens += sequence.count
    }
    run()
    return results
  }

  /// Scratch buffers for one group of tokens.
  struct Workspace {
    var hidden: [Float], qkv: [Float], context: [Float], projected: [Float], intermediate: [Float], scores: [Float]
    var capacity: Int

    init(configuration c: BERTConfiguration, tokens: Int, longest: Int) {
      capacity = 0
      hidden = []; qkv = []; context = []; projected = []; intermediate = []; scores = []
      reserve(configuration: c, tokens: tokens, longest: longest)
    }

    mutating func reserve(configuration c: BERTConfiguration, tokens: Int, longest: Int) {
      if tokens > capacity {
        capacity = tokens
        hidden = [Float](repeating: 0, count: tokens * c.hiddenSize)
        qkv = [Float](repeating: 0, count: tokens * 3 * c.hiddenSize)
        context = [Float](repeating: 0, count: tokens * c.hiddenSize)
        projected = [Float](repeating: 0, count: tokens * c.hiddenSize)
        intermediate = [Float](repeating: 0, count: tokens * c.intermediateSize)
      }
      if scores.count < longest * longest { scores = [Float](repeating: 0, count: longest * longest) }
    }
  }

  private func forward(_ sequences: [[Int32]], workspace: inout Workspace, timings: inout Timings?) -> [[Float]] {
    var clock = PhaseClock(enabled: timings != nil)
    defer { if timings != nil { clock.add(to: &timings!) } }
    let c = configuration
    let h = c.hiddenSize, inter = c.intermediateSize, heads = c.headCount, d = h / heads
    let total = sequences.reduce(0) { $0 + $1.count }
    let longest = sequences.map(\.count).max() ?? 0
    guard total > 0 else { return sequences.map { _ in [Float](repeating: 0, count: h) } }
    workspace.reserve(configuration: c, tokens: total, longest: longest)
    var offsets: [Int] = []
    var start = 0
    for sequence in sequences { offsets.append(start); start += sequence.count }

    workspace.hidden.withUnsafeMutableBufferPointer { hiddenBuffer in
      let hidden = hiddenBuffer.baseAddress!
      // Embeddings: word + position + type, then LayerNorm (the sum goes through the fused kernel).
      workspace.projected.withUnsafeMutableBufferPointer { sumBuffer in
        let sum = sumBuffer.baseAddress!
        wordEmbeddings.withUnsafeBufferPointer { words in
          positionEmbeddings.withUnsafeBufferPointer { positions in
            for (s, sequence) in sequences.enumerated() {
              for (p, id) in sequence.enumerated() {
                let row = offsets[s] + p
                let token = (id >= 0 && Int(id) < c.vocabSize) ? Int(id) : 0
                (hidden + row * h).update(from: words.baseAddress! + token * h, count: h)
                (sum + row * h).update(from: positions.baseAddress! + p * h, count: h)
              }
            }
          }
        }
        tokenTypeEmbedding.withUnsafeBufferPointer { type in
          embeddingNormGamma.withUnsafeBufferPointer { gamma in
            embeddingNormBeta.withUnsafeBufferPointer { beta in
              BERTKernels.addBiasResidualLayerNorm(
                sum, residual: hidden, rows: total, columns: h, bias: type.baseAddress!,
                gamma: gamma.baseAddress!, beta: beta.baseAddress!, epsilon: c.layerNormEpsilon)
            }
          }
        }
      }

      clock.lap(\.embeddingAndPooling)
      for layer in layers {
        workspace.qkv.withUnsafeMutableBufferPointer { qkvBuffer in
          let qkv = qkvBuffer.baseAddress!
          Self.linear(hidden, rows: total, inputs: h, weight: layer.qkvWeight, outputs: 3 * h, into: qkv)
          clock.lap(\.linear)
          layer.qkvBias.withUnsafeBufferPointer { BERTKernels.addBias(qkv, rows: total, bias: $0.baseAddress!, columns: 3 * h) }
          clock.lap(\.elementwise)
          workspace.context.withUnsafeMutableBufferPointer { contextBuffer in
            let context = contextBuffer.baseAddress!
            workspace.scores.withUnsafeMutableBufferPointer { scoresBuffer in
              let scores = scoresBuffer.baseAddress!
              for (s, sequence) in sequences.enumerated() {
                let n = Int32(sequence.count), base = offsets[s]
                guard n > 0 else { continue }
                for head in 0..<heads {
                  let q = qkv + base * 3 * h + head * d
                  let k = q + h, v = q + 2 * h
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, Int32(d), 1, q, Int32(3 * h), k, Int32(3 * h), 0, scores, n)
                  BERTKernels.softmaxRows(scores, rows: Int(n), columns: Int(n), stride: Int(n))
                  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(d), n, 1, scores, n, v, Int32(3 * h), 0, context + base * h + head * d, Int32(h))
                }
              }
            }
            clock.lap(\.attention)
            workspace.projected.withUnsafeMutableBufferPointer { projectedBuffer in
              let projected = projectedBuffer.baseAddress!
              Self.linear(context, rows: total, inputs: h, weight: layer.outputWeight, outputs: h, into: projected)
              clock.lap(\.linear)
              Self.addResidualNorm(projected, hidden, rows: total, columns: h, bias: layer.outputBias, gamma: layer.attentionNormGamma, beta: layer.attentionNormBeta, epsilon: c.layerNormEpsilon)
            }
          }
        }
        workspace.intermediate.withUnsafeMutableBufferPointer { interBuffer in
          let intermediate = interBuffer.baseAddress!
          clock.lap(\.elementwise)
          Self.linear(hidden, rows: total, inputs: h, weight: layer.intermediateWeight, outputs: inter, into: intermediate)
          clock.lap(\.linear)
          layer.intermediateBias.withUnsafeBufferPointer { BERTKernels.addBiasGELU(intermediate, rows: total, bias: $0.baseAddress!, columns: inter) }
          clock.lap(\.elementwise)
          workspace.projected.withUnsafeMutableBufferPointer { projectedBuffer in
            let projected = projectedBuffer.baseAddress!
            Self.linear(intermediate, rows: total, inputs: inter, weight: layer.feedForwardWeight, outputs: h, into: projected)
            clock.lap(\.linear)
            Self.addResidualNorm(projected, hidden, rows: total, columns: h, bias: layer.feedForwardBias, gamma: layer.outputNormGamma, beta: layer.outputNormBeta, epsilon: c.layerNormEpsilon)
            clock.lap(\.elementwise)
          }
        }
      }
    }

    // Mean pooling over every token (no padding, so the attention mask is all ones), then L2.
    defer { clock.lap(\.embeddingAndPooling) }
    return workspace.hidden.withUnsafeBufferPointer { hidden in
      sequences.enumerated().map { s, sequence in
        var vector = [Float](repeating: 0, count: h)
        guard !sequence.isEmpty else { return vector }
        for row in offsets[s]..<(offsets[s] + sequence.count) {
          for j in 0..<h { vector[j] += hidden[row * h + j] }
        }
        let count = Float(sequence.count)
        var norm: Float = 0
        for j in 0..<h { vector[j] /= count; norm += vector[j] * vector[j] }
        let inverse = 1 / max(norm.squareRoot(), 1e-12)
        for j in 0..<h { vector[j] *= inverse }
        return vector
      }
    }
  }

  /// output[rows, outputs] = input[rows, inputs] · weightᵀ, with `weight` stored [outputs, inputs] as PyTorch does.
  private static func linear(_ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: [Float], outputs: Int, into output: UnsafeMutablePointer<Float>) {
    weight.withUnsafeBufferPointer { w in
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1, input, Int32(inputs), w.baseAddress!, Int32(inputs), 0, output, Int32(outputs))
    }
  }

  private static func addResidualNorm(_ x: UnsafeMutablePointer<Float>, _ residual: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: [Float], gamma: [Float], beta: [Float], epsilon: Float) {
    bias.withUnsafeBufferPointer { b in
      gamma.withUnsafeBufferPointer { g in
        beta.withUnsafeBufferPointer { bt in
          BERTKernels.addBiasResidualLayerNorm(x, residual: residual, rows: rows, columns: columns, bias: b.baseAddress!, gamma: g.baseAddress!, beta: bt.baseAddress!, epsilon: epsilon)
        }
      }
    }
  }
}

/// Splits a forward pass into phases when asked to; free when not.
struct PhaseClock {
  let enabled: Bool
  private var last: UInt64
  private var spent = BERTModel.Timings()

  init(enabled: Bool) {
    self.enabled = enabled
    last = enabled ? DispatchTime.now().uptimeNanoseconds : 0
  }

  mutating func lap(_ phase: WritableKeyPath<BERTModel.Timings, Double>) {
    guard enabled else { return }
    let now = DispatchTime.now().uptimeNanoseconds
    spent[keyPath: phase] += Double(now - last) / 1e9
    last = now
  }

  func add(to timings: inout BERTModel.Timings) {
    timings.linear += spent.linear
    timings.attention += spent.attention
    timings.elementwise += spent.elementwise
    timings.embeddingAndPooling += spent.embeddingAndPooling
  }
}

/// OpenBLAS's own thread pool; we parallelise (if at all) above it.
enum BLASThreads {
  private static let once: Void = { openblas_set_num_threads(1) }()
  static func useOneThread() { _ = once }
}
