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
///
/// This file holds the weights: their layout and loading. The forward pass is in
/// BERTForward.swift, attention in BERTAttention.swift, scratch buffers in BERTWorkspace.swift and
/// the phase clock in BERTTimings.swift.
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
  let attentionInBFloat16: Bool

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
  let workspaces = Locked<[Workspace]>([])
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
          return .packed(
            values.withUnsafeBufferPointer {
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
      layerWeights.append(
        (
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
          ]
        ))
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
