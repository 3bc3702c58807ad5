// Element-wise kernels of the BERT forward pass over contiguous float buffers, eight lanes at a
// time. The GEMMs go to OpenBLAS; everything between them is here. (Swift builds for baseline
// x86-64 here, so a SIMD8 operation is two SSE instructions and there is no FMA: every operation
// saved in exp and erf counts.)

typealias Lanes = SIMD8<Float>

enum BERTKernels {
  /// e^x for each lane, x ≤ 0 (softmax): one-step range reduction and a degree-5 polynomial,
  /// max relative error ~4e-7 over [-87, 0].
  @inline(__always)
  static func exp(_ x: Lanes) -> Lanes {
    // Only a lower clamp: every caller passes x ≤ 0. (pointwiseMin/Max are scalar loops in the stdlib.)
    let floor = Lanes(repeating: -87.3)
    let x = x.replacing(with: floor, where: x .< floor)
    // Adding 1.5·2^23 rounds to the nearest integer and leaves that integer in the low mantissa bits.
    let magic = Lanes(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    // One constant for ln 2 (error n·2e-9, at most 2.4e-7 relative here); a degree-5 fit of e^r
    // on [-ln2/2, ln2/2] (1.6e-7 relative): softmax needs no more.
    let r = x - n * 0.693_147_18
    var p = r * 8.312_56e-3 + 4.189_007e-2
    p = p * r + 0.166_671_14
    p = p * r + 0.499_992_3
    p = p * r * r + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- unsafeBitCast(magic, to: SIMD8<UInt32>.self)
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Lanes.self)
    return p * scale
  }

  /// erf(x) for each lane as a rational function of x on [-4, 4] (±1 beyond), the minimax fit
  /// Eigen and XLA use; absolute error below 5e-7 in Float, no exp and one division.
  @inline(__always)
  static func erf(_ x: Lanes) -> Lanes {
    let limit = Lanes(repeating: 4)
    var x = x.replacing(with: limit, where: x .> limit)
    x = x.replacing(with: -limit, where: x .< -limit)
    let x2 = x * x
    var p = x2 * -2.726_142_258_013_06e-10 + 2.770_681_424_959_02e-08
    p = p * x2 - 2.101_024_020_825_08e-06
    p = p * x2 - 5.692_506_394_623_46e-05
    p = p * x2 - 7.349_906_303_268_55e-04
    p = p * x2 - 2.954_599_808_540_25e-03
    p = p * x2 - 1.609_603_332_624_15e-02
    var q = x2 * -1.456_607_184_649_96e-05 - 2.133_740_552_789_05e-04
    q = q * x2 - 1.682_826_974_382_03e-03
    q = q * x2 - 7.373_329_167_204_68e-03
    q = q * x2 - 1.426_473_905_141_89e-02
    return x * p / q
  }

  /// x ← gelu(x) = 0.5·x·(1 + erf(x/√2)), in place; `count` is a multiple of 8.
  static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    let raw = UnsafeMutableRawPointer(x)
    for offset in stride(from: 0, to: count * 4, by: 32) {
      let v = raw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
      raw.storeBytes(of: v * 0.5 * (1 + erf(v * 0.707_106_77)), toByteOffset: offset, as: Lanes.self)
    }
  }

  /// Regroups `rows` rows of `groups` × `width` floats (row r, group g at r·groups·width + g·width)
  /// so that each group's rows are contiguous: group g, row r lands at (g·rows + r)·width.
  static func splitHeads(_ x: UnsafePointer<Float>, rows: Int, groups: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
    guard width % 8 == 0 else {
      for row in 0..<rows {
        for group in 0..<groups { (out + (group * rows + row) * width).update(from: x + (row * groups + group) * width, count: width) }
      }
      return
    }
    // Inline eight-lane copies: a memcpy call per 128-byte piece costs more than the copy.
    let source = UnsafeRawPointer(x), target = UnsafeMutableRawPointer(out)
    for row in 0..<rows {
      for group in 0..<groups {
        let from = (row * groups + group) * width * 4, to = (group * rows + row) * width * 4
        for j in stride(from: 0, to: width * 4, by: 32) {
          target.storeBytes(of: source.loadUnaligned(fromByteOffset: from + j, as: Lanes.self), toByteOffset: to + j, as: Lanes.self)
        }
      }
    }
  }

  /// Every row of `x` ← `row` (a GEMM's bias, before it accumulates with beta = 1).
  static func fillRows(_ x: UnsafeMutablePointer<Float>, rows: Int, with row: UnsafePointer<Float>, columns: Int) {
    for index in 0..<rows { (x + index * columns).update(from: row, count: columns) }
  }

  /// out ← a + b + c over `count` floats (a multiple of 8).
  static func add(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
  ) {
    let (ra, rb, rc, ro) = (UnsafeRawPointer(a), UnsafeRawPointer(b), UnsafeRawPointer(c), UnsafeMutableRawPointer(out))
    for offset in stride(from: 0, to: count * 4, by: 32) {
      let sum =
        ra.loadUnaligned(fromByteOffset: offset, as: Lanes.self) + rb.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
        + rc.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
      ro.storeBytes(of: sum, toByteOffset: offset, as: Lanes.self)
    }
  }

  /// Each row of `x` ← LayerNorm(row)·gamma + beta, in place; and the same row plus `bias` into `copy`
  /// (the next GEMM's output, which then accumulates onto the residual and its bias).
  static func layerNorm(
    _ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    epsilon: Float, copyPlus bias: UnsafePointer<Float>, into copy: UnsafeMutablePointer<Float>
  ) {
    precondition(columns % 8 == 0)
    let bytes = columns * 4
    let g = UnsafeRawPointer(gamma), bt = UnsafeRawPointer(beta), b = UnsafeRawPointer(bias)
    for row in 0..<rows {
      let line = UnsafeMutableRawPointer(x + row * columns)
      let out = UnsafeMutableRawPointer(copy + row * columns)
      var sum = Lanes()
      for j in stride(from: 0, to: bytes, by: 32) { sum += line.loadUnaligned(fromByteOffset: j, as: Lanes.self) }
      let mean = sum.sum() / Float(columns)
      var squares = Lanes()
      for j in stride(from: 0, to: bytes, by: 32) {
        let d = line.loadUnaligned(fromByteOffset: j, as: Lanes.self) - mean
        squares += d * d
      }
      let scale = 1 / (squares.sum() / Float(columns) + epsilon).squareRoot()
      for j in stride(from: 0, to: bytes, by: 32) {
        let v = (line.loadUnaligned(fromByteOffset: j, as: Lanes.self) - mean) * scale
        let normed = v * g.loadUnaligned(fromByteOffset: j, as: Lanes.self) + bt.loadUnaligned(fromByteOffset: j, as: Lanes.self)
        line.storeBytes(of: normed, toByteOffset: j, as: Lanes.self)
        out.storeBytes(of: normed + b.loadUnaligned(fromByteOffset: j, as: Lanes.self), toByteOffset: j, as: Lanes.self)
      }
    }
  }

  /// Row i of `probabilities` ← exp(row i of `scores` − its max), `sums[i]` ← its sum, and the
  /// scores ← 0 as they are read (the next score GEMM accumulates onto zeros).
  static func exponentiateRows(
    _ scores: UnsafeMutablePointer<Float>, rows: Int, columns: Int, sums: UnsafeMutablePointer<Float>,
    into probabilities: UnsafeMutablePointer<Float>
  ) {
    let full = columns & ~7
    let zero = Lanes()
    for row in 0..<rows {
      let line = scores + row * columns, target = probabilities + row * columns
      let raw = UnsafeMutableRawPointer(line), out = UnsafeMutableRawPointer(target)
      var maxLanes = Lanes(repeating: -.infinity)
      for j in Swift.stride(from: 0, to: full * 4, by: 32) {
        let v = raw.loadUnaligned(fromByteOffset: j, as: Lanes.self)
        maxLanes = maxLanes.replacing(with: v, where: v .> maxLanes)
      }
      var maximum = Swift.max(
        Swift.max(Swift.max(maxLanes[0], maxLanes[1]), Swift.max(maxLanes[2], maxLanes[3])),
        Swift.max(Swift.max(maxLanes[4], maxLanes[5]), Swift.max(maxLanes[6], maxLanes[7])))
      for j in full..<columns { maximum = Swift.max(maximum, line[j]) }
      var sumLanes = Lanes()
      for j in Swift.stride(from: 0, to: full * 4, by: 32) {
        let e = exp(raw.loadUnaligned(fromByteOffset: j, as: Lanes.self) - maximum)
        raw.storeBytes(of: zero, toByteOffset: j, as: Lanes.self)
        out.storeBytes(of: e, toByteOffset: j, as: Lanes.self)
        sumLanes += e
      }
      var sum = sumLanes.sum()
      if full < columns {
        var tail = Lanes(repeating: -100)
        for j in full..<columns { tail[j - full] = line[j] - maximum }
        let e = exp(tail)
        for j in full..<columns { target[j] = e[j - full]; line[j] = 0; sum += e[j - full] }
      }
      sums[row] = sum
    }
  }

  /// Row i of the `rows` × `columns` block at `x` (row stride `stride`) ← row / sums[i].
  static func divideRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride rowStride: Int, by sums: UnsafePointer<Float>) {
    for row in 0..<rows {
      let inverse = 1 / sums[row]
      let line = x + row * rowStride
      for j in 0..<columns { line[j] *= inverse }
    }
  }
}
