internal import CBFloat16
internal import CBLAS
import Dispatch
import Foundation
import GitRAGCore

#if arch(x86_64)
  internal import BFloat16Kernels
#endif

extension BERTModel {
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
