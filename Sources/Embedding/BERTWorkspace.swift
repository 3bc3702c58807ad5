internal import CBFloat16
internal import CBLAS
import Dispatch
import Foundation
import GitRAGCore

#if arch(x86_64)
  internal import BFloat16Kernels
#endif

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
