#if arch(x86_64)
  import BFloat16Kernels
  import Embedding
  import Foundation
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
      let packed = weight.withUnsafeBufferPointer { BFloat16Panels(packing: $0.baseAddress!, outputs: n, inputs: k) }
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
          let error = Self.error(output[row * n + column], start: bias[row * n + column], count: k) {
            (input[row * k + $0], weight[column * k + $0])
          }
          worst = max(worst, error)
        }
      }
      #expect(worst < 1e-6, "rows \(m), inputs \(k), outputs \(n): relative error \(worst)")
    }

    /// Attention's use: rows read and written at strides wider than the matrix (inside the qkv and
    /// context rows), the product overwriting the output, and panels packed from a transposed view.
    @Test(arguments: [(1, 4, 1), (5, 4, 3), (17, 32, 17), (40, 32, 300), (300, 64, 40)])
    func stridedOverwritingProductMatchesTheRoundedProduct(m: Int, k: Int, n: Int) {
      var random = SplitMix(state: UInt64(m * 1000 + n))
      let inputStride = k + 5, outputStride = n + 3
      let input = (0..<(m * inputStride)).map { _ in random.nextFloat() * 2 - 1 }
      // The "weight" is stored transposed, [inputs, outputs] with row stride outputs + 2.
      let weightStride = n + 2
      let weight = (0..<(k * weightStride)).map { _ in random.nextFloat() - 0.5 }
      var output = [Float](repeating: .nan, count: m * outputStride)
      let panels = UnsafeMutablePointer<UInt32>.allocate(capacity: BFloat16Panels.count(outputs: n, inputs: k))
      defer { panels.deallocate() }
      weight.withUnsafeBufferPointer { w in
        let packed = BFloat16Panels(
          packing: w.baseAddress!, outputs: n, inputs: k, outputStride: 1, inputStride: weightStride, into: panels)
        input.withUnsafeBufferPointer { a in
          output.withUnsafeMutableBufferPointer { c in
            let pairs = (k + 1) / 2
            let rows = UnsafeMutablePointer<UInt32>.allocate(capacity: m * (pairs + 1))
            defer { rows.deallocate() }
            BFloat16GEMM.convert(a.baseAddress!, rows: m, columns: k, stride: inputStride, into: rows, stride: pairs + 1)
            BFloat16GEMM.multiply(
              rows, rows: m, stride: pairs + 1, by: packed, into: c.baseAddress!, stride: outputStride, accumulating: false)
          }
        }
      }
      var worst = 0.0
      for row in 0..<m {
        for column in 0..<outputStride {
          guard column < n else {
            #expect(output[row * outputStride + column].isNaN, "wrote past the matrix at \(row), \(column)")
            continue
          }
          let error = Self.error(output[row * outputStride + column], start: 0, count: k) {
            (input[row * inputStride + $0], weight[$0 * weightStride + column])
          }
          worst = max(worst, error)
        }
      }
      #expect(worst < 1e-6, "rows \(m), inputs \(k), outputs \(n): relative error \(worst)")
    }

    /// Keys packed from rows already in bfloat16 give the very same product as keys packed from floats.
    @Test func panelsFromBFloat16RowsEqualPanelsFromFloats() {
      let (m, k, n) = (20, 32, 45)
      var random = SplitMix(state: 99)
      let input = (0..<(m * k)).map { _ in random.nextFloat() * 2 - 1 }
      let keys = (0..<(n * k)).map { _ in random.nextFloat() * 2 - 1 }
      let pairs = k / 2
      let rows = UnsafeMutablePointer<UInt32>.allocate(capacity: m * pairs)
      let keyRows = UnsafeMutablePointer<UInt32>.allocate(capacity: n * pairs)
      let storage = UnsafeMutablePointer<UInt32>.allocate(capacity: BFloat16Panels.count(outputs: n, inputs: k))
      defer { rows.deallocate(); keyRows.deallocate(); storage.deallocate() }
      input.withUnsafeBufferPointer { BFloat16GEMM.convert($0.baseAddress!, rows: m, columns: k, stride: k, into: rows, stride: pairs) }
      keys.withUnsafeBufferPointer { BFloat16GEMM.convert($0.baseAddress!, rows: n, columns: k, stride: k, into: keyRows, stride: pairs) }
      let fromFloats = keys.withUnsafeBufferPointer { BFloat16Panels(packing: $0.baseAddress!, outputs: n, inputs: k) }
      let fromPairs = BFloat16Panels(transposing: keyRows, outputs: n, pairs: pairs, rowStride: pairs, into: storage)
      var a = [Float](repeating: 0, count: m * n), b = a
      a.withUnsafeMutableBufferPointer {
        BFloat16GEMM.multiply(rows, rows: m, stride: pairs, by: fromFloats, into: $0.baseAddress!, stride: n, accumulating: false)
      }
      b.withUnsafeMutableBufferPointer {
        BFloat16GEMM.multiply(rows, rows: m, stride: pairs, by: fromPairs, into: $0.baseAddress!, stride: n, accumulating: false)
      }
      #expect(a == b)
      #expect(a.contains { $0 != 0 })
    }

    /// The softmax's exponentials as bfloat16 pairs and their float32 sums, against Foundation's exp,
    /// for rows of every tail length (and a row of large scores, whose far tail must give zeros).
    @Test(arguments: [1, 2, 5, 16, 31, 32, 33, 100, 256])
    func softmaxWritesRoundedExponentials(columns: Int) {
      var random = SplitMix(state: UInt64(columns))
      let rows = 3, stride = columns + 1, pairs = (columns + 1) / 2
      var scores = (0..<(rows * stride)).map { _ in random.nextFloat() * 16 - 8 }
      for column in 0..<columns { scores[2 * stride + column] = column == 0 ? 500 : Float(column) - 100 }
      let output = UnsafeMutablePointer<UInt32>.allocate(capacity: rows * (pairs + 2))
      let sums = UnsafeMutablePointer<Float>.allocate(capacity: rows)
      defer { output.deallocate(); sums.deallocate() }
      output.initialize(repeating: 0xDEAD_BEEF, count: rows * (pairs + 2))
      scores.withUnsafeBufferPointer {
        BFloat16Softmax.exponentiateRows(
          $0.baseAddress!, rows: rows, columns: columns, stride: stride, sums: sums, into: output, stride: pairs + 2)
      }
      for row in 0..<rows {
        let line = (0..<columns).map { Double(scores[row * stride + $0]) }
        let maximum = line.max()!
        let expected = line.map { Foundation.exp($0 - maximum) }
        for column in 0..<columns {
          let bits = output[row * (pairs + 2) + column / 2]
          let value = Double(Float(bitPattern: (column % 2 == 0 ? bits << 16 : bits & 0xFFFF_0000)))
          #expect(
            abs(value - expected[column]) <= expected[column] * 0x1p-8 + 1e-30,
            "row \(row), column \(column): \(value) vs \(expected[column])")
        }
        if columns % 2 == 1 { #expect(output[row * (pairs + 2) + pairs - 1] >> 16 == 0, "the pad half of an odd row is not zero") }
        #expect(output[row * (pairs + 2) + pairs] == 0xDEAD_BEEF, "wrote past the row")
        let sum = expected.reduce(0, +)
        #expect(abs(Double(sums[row]) - sum) <= sum * 1e-5, "row \(row): sum \(sums[row]) vs \(sum)")
      }
    }

    @Test func roundsToNearestEven() {
      // 1 + 2⁻⁸ lies halfway between two bfloat16 values (1 and 1 + 2⁻⁷): ties go to the even one, 1.
      // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: it goes up, to the even 1 + 2⁻⁶.
      let inputs: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -2.5, 1e-3]
      for value in inputs {
        let one: [Float] = [1]
        let packed = one.withUnsafeBufferPointer { BFloat16Panels(packing: $0.baseAddress!, outputs: 1, inputs: 1) }
        let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: BFloat16GEMM.scratchCount(inputs: 1))
        defer { scratch.deallocate() }
        var output: [Float] = [0]
        [value].withUnsafeBufferPointer { a in
          output.withUnsafeMutableBufferPointer {
            BFloat16GEMM.multiplyAdd(a.baseAddress!, rows: 1, weight: packed, into: $0.baseAddress!, scratch: scratch)
          }
        }
        #expect(output[0] == Self.rounded(value), "\(value)")
      }
      #expect(Self.rounded(1 + 0x1p-8) == 1)
      #expect(Self.rounded(1 + 3 * 0x1p-8) == 1 + 0x1p-6)
    }

    /// |result − (start + Σᵢ aᵢ·bᵢ)|, the factors rounded to bfloat16 and the sum in Double, relative
    /// to the sum of the terms' magnitudes.
    static func error(_ result: Float, start: Float, count: Int, _ factors: (Int) -> (Float, Float)) -> Double {
      var sum = Double(start), magnitude = abs(Double(start))
      for i in 0..<count {
        let (a, b) = factors(i)
        let product = Double(rounded(a)) * Double(rounded(b))
        sum += product
        magnitude += abs(product)
      }
      return abs(Double(result) - sum) / max(magnitude, 1e-30)
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
