internal import CBFloat16
internal import CBLAS
import Dispatch
import Foundation
import GitRAGCore

#if arch(x86_64)
  internal import BFloat16Kernels
#endif

/// A BERT encoder (embeddings, N transformer layers) with mean pooling and L2 normalisation,
/// evaluated on the CPU: matrix products through OpenBLAS `sgemm` or, on a CPU with AVX512_BF16,
/// the bfloat16 kernels of `BFloat16Kernels`; the rest in SIMD kernels.
///
/// Sequences of one call are packed back to back (no padding); every linear layer runs as one GEMM
/// over all their tokens, attention runs per sequence and head (one score GEMM and one context
/// GEMM per head for sequences up to 256 tokens). Biases and residuals are written
/// into a GEMM's output before it runs (`beta = 1`), so no pass over the data only adds them.
public final class BERTModel: @unchecked Sendable {
  // @unchecked: every property is a `let` set in init; the pointers point into `storage` or into
  // the mapped `file`, which this model owns and never writes. Forward passes use per-call scratch buffers.
  public let configuration: BERTConfiguration

  /// How the matrix products run: `float32` through OpenBLAS (exact to float rounding), or
  /// `bfloat16` (inputs rounded to bfloat16, sums in float32: about 1.9× the speed where the CPU
  /// has AVX512_BF16, embeddings within a cosine of 2e-5 of float32's). `automatic` takes
  /// bfloat16 where the CPU has it.
  public enum Precision: String, Sendable, CaseIterable {
    case automatic = "auto", float32, bfloat16

    /// `GIT_RAG_MODEL_PRECISION` (auto, float32 or bfloat16), `automatic` when unset.
    public static func fromEnvironment() throws(ModelFileError) -> Precision {
      try parse(ProcessInfo.processInfo.environment["GIT_RAG_MODEL_PRECISION"])
    }

    /// A setting's value: auto, float32 or bfloat16 (any case); nil or empty is `automatic`.
    public static func parse(_ value: String?) throws(ModelFileError) -> Precision {
      guard let value, !value.isEmpty else { return .automatic }
      guard let precision = Precision(rawValue: value.lowercased()) else {
        throw .unsupportedPrecision(requested: value, reason: "not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return precision
    }

    /// What runs on this CPU: `automatic` becomes bfloat16 where the CPU has it and float32
    /// elsewhere; `bfloat16` on a CPU without it is an error.
    public func resolved() throws(ModelFileError) -> Precision {
      switch self {
      case .float32: return .float32
      case .automatic: return Self.bfloat16IsSupported ? .bfloat16 : .float32
      case .bfloat16:
        guard Self.bfloat16IsSupported else { throw .unsupportedPrecision(requested: rawValue, reason: "this CPU has no AVX512_BF16") }
        return .bfloat16
      }
    }

    /// Whether this CPU runs the bfloat16 kernel (AVX-512 with AVX512_BF16, enabled by the OS).
    public static var bfloat16IsSupported: Bool {
      #if arch(x86_64)
        gitrag_cpu_has_avx512_bf16() != 0
      #else
        false
      #endif
    }
  }

  /// The precision the products run in: `float32` or `bfloat16`, never `automatic`.
  public let precision: Precision
  /// Attention in bfloat16 too: with bfloat16 and an even head width (a pair of inputs never
  /// straddles two heads).
  private let attentionInBFloat16: Bool

  /// A linear layer's weight [outputs, inputs]: float32 for OpenBLAS, or packed bfloat16.
  struct LinearWeight: @unchecked Sendable {
    // @unchecked: a read-only pointer into the model's weight storage or mapped file, and an
    // immutable packed matrix, both owned by the model.
    var float32: UnsafePointer<Float>?
    #if arch(x86_64)
      var bfloat16: BFloat16Panels?
    #endif

    /// Whether a product with this weight can take GELU of its input itself (the bfloat16 kernel can).
    var takesGELU: Bool {
      #if arch(x86_64)
        bfloat16 != nil
      #else
        false
      #endif
    }
  }

  /// Pointers into `storage`, one transformer layer's tensors.
  struct Layer: @unchecked Sendable {
    // @unchecked: read-only pointers into the model's weight storage, which outlives every use.
    /// Query, key and value weights stacked as one [3H, H] matrix; the query rows carry 1/√d.
    var qkvWeight: LinearWeight, qkvBias: UnsafePointer<Float>
    var outputWeight: LinearWeight
    var outputBias, attentionNormGamma, attentionNormBeta: UnsafePointer<Float>
    var intermediateWeight: LinearWeight, intermediateBias: UnsafePointer<Float>
    var feedForwardWeight: LinearWeight
    var feedForwardBias, outputNormGamma, outputNormBeta: UnsafePointer<Float>
  }

  private let storage: WeightStorage
  /// The mapped weights file: the large tensors are read from it in place.
  private let file: SafeTensorsFile
  let layers: [Layer]
  let wordEmbeddings, positionEmbeddings, tokenTypeEmbedding, embeddingNormGamma, embeddingNormBeta: UnsafePointer<Float>
  /// Zeros, the bias after the last layer's output LayerNorm (nothing follows it).
  let zeroBias: UnsafePointer<Float>
  /// Most tokens evaluated together; bounds scratch memory and keeps activations cache-resident.
  let tokensPerGroup = 2048
  /// Scratch buffers of earlier forward passes, kept for the next ones: allocating (and zeroing)
  /// ~30 MB per thread for every batch cost time, and left the allocator's per-thread arenas
  /// growing.
  private let workspaces = Locked<[Workspace]>([])
  /// Query rows per attention block: a whole sequence of up to 256 tokens, so OpenBLAS packs each
  /// head's keys and values once (from rows 3H apart: slow, cache-missing copies); 256 × 256 scores
  /// and as many probabilities (2 × 256 KB) still stay in L2 between the two GEMMs.
  let attentionBlock = 256

  /// Loads `config.json` and `model.safetensors` from `directory`.
  public convenience init(directory: URL, precision: Precision = .automatic) throws(ModelFileError) {
    let configuration = try BERTConfiguration.load(from: directory.appendingPathComponent("config.json"))
    let weights = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
    try self.init(configuration: configuration, weights: weights, precision: precision)
  }

  /// Takes the weights from `weights`, checking every tensor's name, dtype and shape against
  /// `configuration`. `.bfloat16` on a CPU without AVX512_BF16 is an error; `.automatic` falls
  /// back to float32 there.
  public init(configuration c: BERTConfiguration, weights: SafeTensorsFile, precision: Precision = .automatic) throws(ModelFileError) {
    try OpenBLAS.load()
    self.precision = try precision.resolved()
    guard c.hiddenSize % 8 == 0, c.intermediateSize % 8 == 0 else {
      throw .malformed(path: weights.path, reason: "hidden and intermediate sizes must be multiples of 8")
    }
    attentionInBFloat16 = self.precision == .bfloat16 && (c.hiddenSize / c.headCount) % 2 == 0
    configuration = c
    let prefix = weights.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
    func tensor(_ name: String, _ shape: Int...) throws(ModelFileError) -> [Float] {
      try weights.floats(prefix + name, shape: shape)
    }
    let h = c.hiddenSize
    var arrays: [[Float]] = []
    /// A tensor copied into `storage` (small ones, and those transformed on load) or read in place.
    enum Weight { case copied(Int), mapped(UnsafePointer<Float>) }
    func keep(_ values: [Float]) -> Weight { arrays.append(values); return .copied(arrays.count - 1) }
    // The large matrices (the 30,522-row word table is half the model) stay in the mapping: no
    // copy to make, and only the pages a forward pass touches count against memory.
    func inPlace(_ name: String, _ shape: Int...) throws(ModelFileError) -> Weight {
      if let pointer = try weights.mappedFloats(prefix + name, shape: shape) { return .mapped(pointer) }
      return keep(try weights.floats(prefix + name, shape: shape))
    }
    let word = try inPlace("embeddings.word_embeddings.weight", c.vocabSize, h)
    let position = try inPlace("embeddings.position_embeddings.weight", c.maxPositions, h)
    let type = keep(Array(try tensor("embeddings.token_type_embeddings.weight", c.typeVocabSize, h)[0..<h]))
    let gamma = keep(try tensor("embeddings.LayerNorm.weight", h))
    let beta = keep(try tensor("embeddings.LayerNorm.bias", h))
    let zero = keep([Float](repeating: 0, count: h))
    let scale = 1 / Float(h / c.headCount).squareRoot()
    let bfloat16 = self.precision == .bfloat16
    /// A linear layer's weight: packed to bfloat16 (its float32 values then never read again: a
    /// mapped tensor's pages are given back once packed), or kept for OpenBLAS.
    enum Linear { case float32(Weight), packed(LinearWeight) }
    func linear(_ values: [Float], outputs: Int, inputs: Int) -> Linear {
      #if arch(x86_64)
        if bfloat16 {
          return .packed(values.withUnsafeBufferPointer {
            LinearWeight(float32: nil, bfloat16: BFloat16Panels(packing: $0.baseAddress!, outputs: outputs, inputs: inputs))
          })
        }
      #endif
      return .float32(keep(values))
    }
    func linear(_ name: String, outputs: Int, inputs: Int) throws(ModelFileError) -> Linear {
      #if arch(x86_64)
        if bfloat16, let pointer = try weights.mappedFloats(prefix + name, shape: [outputs, inputs]) {
          let packed = BFloat16Panels(packing: pointer, outputs: outputs, inputs: inputs)
          weights.dropPages(of: prefix + name)
          return .packed(LinearWeight(float32: nil, bfloat16: packed))
        }
      #endif
      if !bfloat16 { return .float32(try inPlace(name, outputs, inputs)) }
      return linear(try tensor(name, outputs, inputs), outputs: outputs, inputs: inputs)
    }
    var layerWeights: [(linear: [Linear], vectors: [Weight])] = []
    for index in 0..<c.layerCount {
      let p = "encoder.layer.\(index)."
      let query = try tensor(p + "attention.self.query.weight", h, h).map { $0 * scale }
      let queryBias = try tensor(p + "attention.self.query.bias", h).map { $0 * scale }
      let qkv = query + (try tensor(p + "attention.self.key.weight", h, h)) + (try tensor(p + "attention.self.value.weight", h, h))
      layerWeights.append((
        linear: [
          linear(qkv, outputs: 3 * h, inputs: h),
          try linear(p + "attention.output.dense.weight", outputs: h, inputs: h),
          try linear(p + "intermediate.dense.weight", outputs: c.intermediateSize, inputs: h),
          try linear(p + "output.dense.weight", outputs: h, inputs: c.intermediateSize),
        ],
        vectors: [
          keep(queryBias + (try tensor(p + "attention.self.key.bias", h)) + (try tensor(p + "attention.self.value.bias", h))),
          keep(try tensor(p + "attention.output.dense.bias", h)),
          keep(try tensor(p + "attention.output.LayerNorm.weight", h)),
          keep(try tensor(p + "attention.output.LayerNorm.bias", h)),
          keep(try tensor(p + "intermediate.dense.bias", c.intermediateSize)),
          keep(try tensor(p + "output.dense.bias", h)),
          keep(try tensor(p + "output.LayerNorm.weight", h)),
          keep(try tensor(p + "output.LayerNorm.bias", h)),
        ]))
    }
    storage = WeightStorage(arrays)
    file = weights
    let s = storage
    func at(_ weight: Weight) -> UnsafePointer<Float> {
      switch weight {
      case .copied(let index): s[index]
      case .mapped(let pointer): pointer
      }
    }
    func at(_ weight: Linear) -> LinearWeight {
      switch weight {
      case .float32(let weight): LinearWeight(float32: at(weight))
      case .packed(let packed): packed
      }
    }
    wordEmbeddings = at(word); positionEmbeddings = at(position); tokenTypeEmbedding = at(type)
    embeddingNormGamma = at(gamma); embeddingNormBeta = at(beta); zeroBias = at(zero)
    layers = layerWeights.map { w, v in
      Layer(
        qkvWeight: at(w[0]), qkvBias: at(v[0]), outputWeight: at(w[1]), outputBias: at(v[1]),
        attentionNormGamma: at(v[2]), attentionNormBeta: at(v[3]), intermediateWeight: at(w[2]), intermediateBias: at(v[4]),
        feedForwardWeight: at(w[3]), feedForwardBias: at(v[5]), outputNormGamma: at(v[6]), outputNormBeta: at(v[7]))
    }
  }

  /// Where the time of forward passes went, in seconds (filled by `embed(_:threads:timings:)`).
  public struct Timings: Sendable, Equatable {
    /// The four linear layers of every transformer layer (OpenBLAS sgemm), biases included.
    public var linear: Double = 0
    /// Attention: per-sequence, per-head score and context sgemms and the softmax.
    public var attention: Double = 0
    /// GELU and LayerNorm kernels.
    public var elementwise: Double = 0
    /// Embedding lookup and pooling.
    public var embeddingAndPooling: Double = 0
    public init() {}
    public var total: Double { linear + attention + elementwise + embeddingAndPooling }

    mutating func add(_ other: Timings) {
      linear += other.linear; attention += other.attention
      elementwise += other.elementwise; embeddingAndPooling += other.embeddingAndPooling
    }
  }

  /// Mean-pooled, L2-normalised embeddings of token-id sequences, one per sequence, in order.
  ///
  /// Sequences longer than `maxPositions` are cut; ids outside the vocabulary read as id 0; an
  /// empty sequence gives a zero vector. With `threads` > 1, groups of sequences run on that many
  /// threads at once (OpenBLAS itself stays single-threaded).
  public func embed(_ sequences: [[Int32]], threads: Int = 1) -> [[Float]] {
    var timings: Timings?
    return embed(sequences, threads: threads, timings: &timings)
  }

  /// `embed(_:threads:)`, adding the time each phase took (summed over threads) to `timings` when it is not nil.
  public func embed(_ sequences: [[Int32]], threads: Int = 1, timings: inout Timings?) -> [[Float]] {
    let limit = configuration.maxPositions
    let sequences = sequences.map { $0.count > limit ? Array($0[0..<limit]) : $0 }
    let total = sequences.reduce(0) { $0 + $1.count }
    let threads = max(1, threads)
    // Groups of whole sequences, at most `budget` tokens each (a longer sequence is a group alone).
    let budget = min(tokensPerGroup, max(1, (total + threads - 1) / threads))
    var groups: [[Int]] = []
    var groupTokens = 0
    for (index, sequence) in sequences.enumerated() {
      if groups.isEmpty || (groupTokens + sequence.count > budget && !groups[groups.count - 1].isEmpty) {
        groups.append([])
        groupTokens = 0
      }
      groups[groups.count - 1].append(index)
      groupTokens += sequence.count
    }
    let results = ResultSlots(count: sequences.count)
    let allGroups = groups
    let workers = min(threads, groups.count)
    let measure = timings != nil
    let work: @Sendable (Int) -> Void = { worker in
      let workspace = self.workspaces.withLock { $0.popLast() } ?? Workspace()
      defer { self.workspaces.withLock { $0.append(workspace) } }
      var clock = PhaseClock(enabled: measure)
      for group in stride(from: worker, to: allGroups.count, by: workers) {
        let members = allGroups[group]
        let vectors = self.forward(members.map { sequences[$0] }, workspace: workspace, clock: &clock)
        for (index, vector) in zip(members, vectors) { results.set(index, vector, worker: worker) }
      }
      results.addTimings(clock.spent)
    }
    if workers <= 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
    if measure { timings!.add(results.timings) }
    return results.vectors
  }

  private func forward(_ sequences: [[Int32]], workspace: Workspace, clock: inout PhaseClock) -> [[Float]] {
    let c = configuration
    let h = c.hiddenSize, inter = c.intermediateSize
    let total = sequences.reduce(0) { $0 + $1.count }
    let longest = sequences.map(\.count).max() ?? 0
    guard total > 0 else { return sequences.map { _ in [Float](repeating: 0, count: h) } }
    workspace.reserve(configuration: c, tokens: total, longest: longest)
    var offsets: [Int] = []
    var start = 0
    for sequence in sequences { offsets.append(start); start += sequence.count }
    // `x` holds the layer input; `residual` holds x + the next output-projection bias, where the
    // attention output projection accumulates. They swap roles inside each layer.
    var x = workspace.hidden, residual = workspace.residual
    let qkv = workspace.qkv, context = workspace.context, intermediate = workspace.intermediate
    clock.start()

    // Embeddings: word + position + type 0, then LayerNorm.
    for (s, sequence) in sequences.enumerated() {
      for (p, id) in sequence.enumerated() {
        let row = offsets[s] + p
        let token = (id >= 0 && Int(id) < c.vocabSize) ? Int(id) : 0
        BERTKernels.add(wordEmbeddings + token * h, positionEmbeddings + p * h, tokenTypeEmbedding, into: x + row * h, count: h)
      }
    }
    BERTKernels.layerNorm(
      x, rows: total, columns: h, gamma: embeddingNormGamma, beta: embeddingNormBeta, epsilon: c.layerNormEpsilon,
      copyPlus: layers.first?.outputBias ?? zeroBias, into: residual)
    clock.lap(\.embeddingAndPooling)

    for (index, layer) in layers.enumerated() {
      BERTKernels.fillRows(qkv, rows: total, with: layer.qkvBias, columns: 3 * h)
      Self.accumulate(x, rows: total, inputs: h, weight: layer.qkvWeight, outputs: 3 * h, into: qkv, workspace: workspace)
      clock.lap(\.linear)
      if attentionInBFloat16 {
        attendInBFloat16(qkv: qkv, sequences: sequences, offsets: offsets, into: context, workspace: workspace)
      } else {
        attendInFloat32(qkv: qkv, sequences: sequences, offsets: offsets, into: context, workspace: workspace)
      }
      clock.lap(\.attention)
      // residual = x + bias + context·Wᵀ; then y = LayerNorm(residual), and x ← y + feed-forward bias.
      Self.accumulate(context, rows: total, inputs: h, weight: layer.outputWeight, outputs: h, into: residual, workspace: workspace)
      // The float32 attention accumulates onto zeros; the bfloat16 one overwrites.
      if !attentionInBFloat16 { context.update(repeating: 0, count: total * h) }
      clock.lap(\.linear)
      BERTKernels.layerNorm(
        residual, rows: total, columns: h, gamma: layer.attentionNormGamma, beta: layer.attentionNormBeta,
        epsilon: c.layerNormEpsilon, copyPlus: layer.feedForwardBias, into: x)
      swap(&x, &residual)
      clock.lap(\.elementwise)
      BERTKernels.fillRows(intermediate, rows: total, with: layer.intermediateBias, columns: inter)
      Self.accumulate(x, rows: total, inputs: h, weight: layer.intermediateWeight, outputs: inter, into: intermediate, workspace: workspace)
      clock.lap(\.linear)
      // GELU: its own pass for OpenBLAS; the bfloat16 kernel applies it as it rounds its input.
      let geluInKernel = layer.feedForwardWeight.takesGELU
      if !geluInKernel { BERTKernels.gelu(intermediate, count: total * inter) }
      clock.lap(\.elementwise)
      Self.accumulate(
        intermediate, rows: total, inputs: inter, weight: layer.feedForwardWeight, outputs: h, into: residual, workspace: workspace,
        gelu: geluInKernel)
      clock.lap(\.linear)
      let nextBias = index + 1 < layers.count ? layers[index + 1].outputBias : zeroBias
      BERTKernels.layerNorm(
        residual, rows: total, columns: h, gamma: layer.outputNormGamma, beta: layer.outputNormBeta,
        epsilon: c.layerNormEpsilon, copyPlus: nextBias, into: x)
      swap(&x, &residual)
      clock.lap(\.elementwise)
    }

    // Mean pooling over every token (no padding, so the attention mask is all ones), then L2.
    defer { clock.lap(\.embeddingAndPooling) }
    return sequences.enumerated().map { s, sequence in
      var vector = [Float](repeating: 0, count: h)
      guard !sequence.isEmpty else { return vector }
      for row in offsets[s]..<(offsets[s] + sequence.count) {
        for j in 0..<h { vector[j] += x[row * h + j] }
      }
      let count = Float(sequence.count)
      var norm: Float = 0
      for j in 0..<h { vector[j] /= count; norm += vector[j] * vector[j] }
      let inverse = 1 / max(norm.squareRoot(), 1e-12)
      for j in 0..<h { vector[j] *= inverse }
      return vector
    }
  }

  /// Self-attention of every sequence, head by head, through OpenBLAS: context ← softmax(q·kᵀ)·v
  /// (1/√d is in the query weights). `context` holds zeros.
  private func attendInFloat32(
    qkv: UnsafeMutablePointer<Float>, sequences: [[Int32]], offsets: [Int], into context: UnsafeMutablePointer<Float>,
    workspace: Workspace
  ) {
    let h = configuration.hiddenSize, heads = configuration.headCount, d = h / heads
    let scores = workspace.scores, sums = workspace.sums, probabilities = workspace.probabilities, perHead = workspace.perHead
    for (s, sequence) in sequences.enumerated() {
      let n = Int32(sequence.count), base = offsets[s]
      guard n > 0 else { continue }
      // This sequence's queries, keys and values head by head, each head's [n, d] rows contiguous:
      // OpenBLAS then packs them from a few cache lines instead of rows 3H apart.
      BERTKernels.splitHeads(qkv + base * 3 * h, rows: Int(n), groups: 3 * heads, width: d, into: perHead)
      for head in 0..<heads {
        let k = perHead + (heads + head) * Int(n) * d, v = perHead + (2 * heads + head) * Int(n) * d
        // Query rows in blocks, so a block's scores stay in L2 through softmax and the second GEMM.
        for first in stride(from: 0, to: Int(n), by: attentionBlock) {
          let m = Int32(min(attentionBlock, Int(n) - first))
          let q = perHead + (head * Int(n) + first) * d
          let out = context + (base + first) * h + head * d
          // `scores` and this head's block of `context` hold zeros, so both GEMMs accumulate
          // (beta = 1) and OpenBLAS skips its zeroing pass, slow on small blocks.
          OpenBLAS.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, Int32(d), 1, q, Int32(d), k, Int32(d), 1, scores, n)
          // Unnormalised: exp(s - max) and row sums, zeroing the scores behind it; the division
          // happens on the d-wide context rows.
          BERTKernels.exponentiateRows(scores, rows: Int(m), columns: Int(n), sums: sums, into: probabilities)
          OpenBLAS.sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, Int32(d), n, 1, probabilities, n, v, Int32(d), 1, out, Int32(h))
          BERTKernels.divideRows(out, rows: Int(m), columns: d, stride: h, by: sums)
        }
      }
    }
  }

  /// `attendInFloat32` with both products in bfloat16: queries and keys are rounded to bfloat16
  /// once for all heads; per head, the keys and the transposed values are packed (a few KB), one
  /// kernel call makes the scores, the softmax writes its probabilities as bfloat16, and one more
  /// call makes the context rows. The head width must be even (a pair never straddles two heads).
  private func attendInBFloat16(
    qkv: UnsafeMutablePointer<Float>, sequences: [[Int32]], offsets: [Int], into context: UnsafeMutablePointer<Float>,
    workspace: Workspace
  ) {
    #if arch(x86_64)
      let h = configuration.hiddenSize, heads = configuration.headCount, d = h / heads
      let total = sequences.reduce(0) { $0 + $1.count }
      let queriesAndKeys = workspace.queryKeyPairs, probabilities = workspace.probabilityPairs
      let scores = workspace.scores, sums = workspace.sums
      // Row r: the queries' h/2 pairs, then the keys'.
      BFloat16GEMM.convert(qkv, rows: total, columns: 2 * h, stride: 3 * h, into: queriesAndKeys, stride: h)
      for (s, sequence) in sequences.enumerated() where !sequence.isEmpty {
        let n = sequence.count, base = offsets[s], pairs = (n + 1) / 2
        for head in 0..<heads {
          let rows = queriesAndKeys + base * h + head * d / 2
          let keys = BFloat16Panels(transposing: rows + h / 2, outputs: n, pairs: d / 2, rowStride: h, into: workspace.keyPanels)
          let values = BFloat16Panels(
            packing: qkv + base * 3 * h + 2 * h + head * d, outputs: d, inputs: n, outputStride: 1, inputStride: 3 * h,
            into: workspace.valuePanels)
          BFloat16GEMM.multiply(rows, rows: n, stride: h, by: keys, into: scores, stride: n, accumulating: false)
          BFloat16Softmax.exponentiateRows(scores, rows: n, columns: n, stride: n, sums: sums, into: probabilities, stride: pairs)
          let out = context + base * h + head * d
          BFloat16GEMM.multiply(probabilities, rows: n, stride: pairs, by: values, into: out, stride: h, accumulating: false)
          BERTKernels.divideRows(out, rows: n, columns: d, stride: h, by: sums)
        }
      }
    #else
      preconditionFailure("bfloat16 attention without the bfloat16 kernels")
    #endif
  }

  /// output[rows, outputs] += input[rows, inputs] · weightᵀ, with `weight` stored [outputs, inputs]
  /// as PyTorch does; with `gelu` (bfloat16 weights only), GELU(input) instead of input.
  private static func accumulate(
    _ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: LinearWeight, outputs: Int, into output: UnsafeMutablePointer<Float>,
    workspace: Workspace, gelu: Bool = false
  ) {
    #if arch(x86_64)
      if let packed = weight.bfloat16 {
        BFloat16GEMM.multiplyAdd(input, rows: rows, weight: packed, into: output, scratch: workspace.packedInput(inputs: inputs), gelu: gelu)
        return
      }
    #endif
    precondition(!gelu, "GELU is applied in the bfloat16 kernel only")
    OpenBLAS.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1, input, Int32(inputs), weight.float32, Int32(inputs), 1, output, Int32(outputs))
  }
}

/// Every weight tensor in one allocation, freed with the model.
final class WeightStorage: @unchecked Sendable {
  // @unchecked: written only in init, read-only afterwards.
  private let base: UnsafeMutablePointer<Float>
  private let offsets: [Int]

  init(_ arrays: [[Float]]) {
    // Each tensor starts on a 64-byte boundary.
    var offsets: [Int] = []
    var size = 0
    for array in arrays { offsets.append(size); size += (array.count + 15) & ~15 }
    base = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(size, 1))
    for (array, offset) in zip(arrays, offsets) { (base + offset).initialize(from: array, count: array.count) }
    self.offsets = offsets
  }

  subscript(index: Int) -> UnsafePointer<Float> { UnsafePointer(base + offsets[index]) }

  deinit { base.deallocate() }
}

/// Scratch buffers of one worker, grown as needed.
final class Workspace: @unchecked Sendable {
  // @unchecked: used by one forward pass at a time; handed between passes through the model's
  // lock-protected pool.
  private(set) var hidden = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var residual = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var qkv = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var context = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var intermediate = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var scores = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var sums = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private(set) var probabilities = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  /// One sequence's queries, keys and values regrouped head by head.
  private(set) var perHead = UnsafeMutablePointer<Float>.allocate(capacity: 1)
  private var tokens = 0, longest = 0
  /// A bfloat16 product's input rows, rounded to bfloat16 pairs.
  private var packed = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
  private var packedCount = 1
  /// Every token's queries and keys as bfloat16 pairs; one attention head's keys and transposed
  /// values packed for the kernel; one head's probabilities as bfloat16 pairs.
  private(set) var queryKeyPairs = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
  private(set) var keyPanels = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
  private(set) var valuePanels = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
  private(set) var probabilityPairs = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)

  #if arch(x86_64)
    /// Scratch for `BFloat16GEMM.multiplyAdd` with `inputs` columns.
    func packedInput(inputs: Int) -> UnsafeMutablePointer<UInt32> {
      let count = BFloat16GEMM.scratchCount(inputs: inputs)
      if count > packedCount {
        packed.deallocate()
        packed = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: UInt32.self, capacity: count)
        packedCount = count
      }
      return packed
    }
  #endif

  func reserve(configuration c: BERTConfiguration, tokens: Int, longest: Int) {
    func grow(_ pointer: inout UnsafeMutablePointer<Float>, _ count: Int) {
      pointer.deallocate()
      pointer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
      pointer.initialize(repeating: 0, count: count)
    }
    if tokens > self.tokens {
      self.tokens = tokens
      grow(&hidden, tokens * c.hiddenSize)
      grow(&residual, tokens * c.hiddenSize)
      grow(&qkv, tokens * 3 * c.hiddenSize)
      grow(&context, tokens * c.hiddenSize)
      grow(&intermediate, tokens * c.intermediateSize)
      queryKeyPairs.deallocate()
      queryKeyPairs = .allocate(capacity: tokens * c.hiddenSize)
    }
    if longest > self.longest {
      self.longest = longest
      grow(&scores, longest * longest)
      grow(&probabilities, longest * longest)
      grow(&perHead, longest * 3 * c.hiddenSize)
      grow(&sums, longest)
      #if arch(x86_64)
        let d = c.hiddenSize / c.headCount
        keyPanels.deallocate()
        keyPanels = .allocate(capacity: BFloat16Panels.count(outputs: longest, inputs: d))
        valuePanels.deallocate()
        valuePanels = .allocate(capacity: BFloat16Panels.count(outputs: d, inputs: longest))
      #endif
      probabilityPairs.deallocate()
      probabilityPairs = .allocate(capacity: longest * ((longest + 1) / 2))
    }
  }

  deinit {
    for pointer in [hidden, residual, qkv, context, intermediate, scores, sums, probabilities, perHead] { pointer.deallocate() }
    packed.deallocate()
    for pointer in [queryKeyPairs, keyPanels, valuePanels, probabilityPairs] { pointer.deallocate() }
  }
}

/// Result vectors written by several workers, each index by exactly one, and their timings.
final class ResultSlots: Sendable {
  private struct State {
    var slots: [[Float]]
    var merged = BERTModel.Timings()
  }
  private let state: Locked<State>

  init(count: Int) { state = Locked(State(slots: [[Float]](repeating: [], count: count))) }

  func set(_ index: Int, _ vector: [Float], worker: Int) { state.withLock { $0.slots[index] = vector } }
  func addTimings(_ timings: BERTModel.Timings) { state.withLock { $0.merged.add(timings) } }

  var vectors: [[Float]] { state.withLock { $0.slots } }
  var timings: BERTModel.Timings { state.withLock { $0.merged } }
}

/// Splits a forward pass into phases when asked to; free when not.
struct PhaseClock {
  let enabled: Bool
  private var last: UInt64 = 0
  private(set) var spent = BERTModel.Timings()

  init(enabled: Bool) { self.enabled = enabled }

  mutating func start() { if enabled { last = DispatchTime.now().uptimeNanoseconds } }

  mutating func lap(_ phase: WritableKeyPath<BERTModel.Timings, Double>) {
    guard enabled else { return }
    let now = DispatchTime.now().uptimeNanoseconds
    spent[keyPath: phase] += Double(now - last) / 1e9
    last = now
  }
}


