internal import CBFloat16
internal import CBLAS
import Dispatch
import Foundation
import GitRAGCore

#if arch(x86_64)
  internal import BFloat16Kernels
#endif

// The forward pass: token groups spread over threads, the embedding lookup, the transformer
// layers (linear products, GELU, LayerNorm) and mean pooling.

extension BERTModel {
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

  /// output[rows, outputs] += input[rows, inputs] · weightᵀ, with `weight` stored [outputs, inputs]
  /// as PyTorch does; with `gelu` (bfloat16 weights only), GELU(input) instead of input.
  private static func accumulate(
    _ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: LinearWeight, outputs: Int, into output: UnsafeMutablePointer<Float>,
    workspace: Workspace, gelu: Bool = false
  ) {
    #if arch(x86_64)
      if let packed = weight.bfloat16 {
        BFloat16GEMM.multiplyAdd(
          input, rows: rows, weight: packed, into: output, scratch: workspace.packedInput(inputs: inputs), gelu: gelu)
        return
      }
    #endif
    precondition(!gelu, "GELU is applied in the bfloat16 kernel only")
    OpenBLAS.sgemm(
      CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1, input, Int32(inputs), weight.float32,
      Int32(inputs), 1, output, Int32(outputs))
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
