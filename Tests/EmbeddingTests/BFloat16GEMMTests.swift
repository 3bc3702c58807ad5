#if arch(x86_64)
import BFloat16Kernels
import Embedding
import Testing

/// The bfloat16 kernel against a double-precision product of the same bfloat16-rounded inputs, so
/// that only the order of float32 sums may differ: every tile edge (rows not a multiple of 14,
/// outputs not a multiple of 32, an odd number of inputs) and more rows than one packed block.
@Suite(LocalFixtures.needsBFloat16) struct BFloat16GEMMTests {
  static let shapes: [(rows: Int, inputs: Int, outputs: Int)] = [
    (1, 1, 1), (1, 2, 32), (13, 7, 31), (14, 32, 32), (15, 33, 33), (29, 384, 100), (200, 1000, 16), (700, 384, 64),
  ]

  @Test(arguments: shapes.indices)
  func matchesTheRoundedProduct(shape: Int) {
    let (m, k, n) = Self.shapes[shape]
    var random = SplitMix(state: UInt64(shape) + 1)
    let input = (0..<(m * k)).map { _ in random.nextFloat() * 2 - 1 }
    let weight = (0..<(n * k)).map { _ in random.nextFloat() * 0.2 - 0.1 }
    let bias = (0..<(m * n)).map { _ in random.nextFloat() }
    let packed = weight.withUnsafeBufferPointer { BFloat16Matrix(packing: $0.baseAddress!, outputs: n, inputs: k) }
    let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: BFloat16GEMM.scratchCount(inputs: k))
    defer { scratch.deallocate() }
    var output = bias
    input.withUnsafeBufferPointer { a in
      output.withUnsafeMutableBufferPointer { c in
        BFloat16GEMM.multiplyAdd(a.baseAddress!, rows: m, weight: packed, into: c.baseAddress!, scratch: scratch)
      }
    }
    var worst = 0.0
    for row in 0..<m {
      for column in 0..<n {
        var sum = Double(bias[row * n + column]), magnitude = abs(sum)
        for i in 0..<k {
          let product = Double(Self.rounded(input[row * k + i])) * Double(Self.rounded(weight[column * k + i]))
          sum += product
          magnitude += abs(product)
        }
        worst = max(worst, abs(Double(output[row * n + column]) - sum) / max(magnitude, 1e-30))
      }
    }
    #expect(worst < 1e-6, "rows \(m), inputs \(k), outputs \(n): relative error \(worst)")
  }

  @Test func roundsToNearestEven() {
    // 1 + 2⁻⁸ lies halfway between two bfloat16 values (1 and 1 + 2⁻⁷): ties go to the even one, 1.
    // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: it goes up, to the even 1 + 2⁻⁶.
    let inputs: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -2.5, 1e-3]
    for value in inputs {
      let one: [Float] = [1]
      let packed = one.withUnsafeBufferPointer { BFloat16Matrix(packing: $0.baseAddress!, outputs: 1, inputs: 1) }
      let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: BFloat16GEMM.scratchCount(inputs: 1))
      defer { scratch.deallocate() }
      var output: [Float] = [0]
      [value].withUnsafeBufferPointer { a in
        output.withUnsafeMutableBufferPointer { BFloat16GEMM.multiplyAdd(a.baseAddress!, rows: 1, weight: packed, into: $0.baseAddress!, scratch: scratch) }
      }
      #expect(output[0] == Self.rounded(value), "\(value)")
    }
    #expect(Self.rounded(1 + 0x1p-8) == 1)
    #expect(Self.rounded(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
  }

  /// Round to nearest even at 8 significant bits, written independently of the kernel.
  static func rounded(_ x: Float) -> Float {
    let bits = x.bitPattern
    let lower = bits & 0xFFFF, kept = bits & 0xFFFF_0000
    let up = lower > 0x8000 || (lower == 0x8000 && (kept >> 16) & 1 == 1)
    return Float(bitPattern: up ? kept &+ 0x1_0000 : kept)
  }
}
#endif
