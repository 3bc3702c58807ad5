internal import CBFloat16
internal import CBLAS
import Dispatch
import Foundation
import GitRAGCore

#if arch(x86_64)
  internal import BFloat16Kernels
#endif

// Self-attention, in two paths: float32 through OpenBLAS, or both products in bfloat16.

extension BERTModel {
  /// Self-attention of every sequence, head by head, through OpenBLAS: context ← softmax(q·kᵀ)·v
  /// (1/√d is in the query weights). `context` holds zeros.
  func attendInFloat32(
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
  func attendInBFloat16(
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

}
