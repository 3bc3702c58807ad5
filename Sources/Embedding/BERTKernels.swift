// Element-wise kernels of the BERT forward pass over contiguous float buffers, eight lanes at a
// time. The GEMMs go to OpenBLAS; everything between them is here.

typealias Lanes = SIMD8<Float>

enum BERTKernels {
  /// e^x for each lane, x ≤ 0: Cody–Waite range reduction and a degree-6 polynomial (max rel. error ~2 ulp).
  @inline(__always)
  static func exp(_ x: Lanes) -> Lanes {
    // Only a lower clamp: every caller passes x ≤ 0. (pointwiseMin/Max are scalar loops in the stdlib.)
    let floor = Lanes(repeating: -87.3)
    let x = x.replacing(with: floor, where: x .< floor)
    // Adding 1.5·2^23 rounds to the nearest integer and leaves that integer in the low mantissa bits.
    let magic = Lanes(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    var r = x - n * 0.693_145_751_953_125
    r = r - n * 1.428_606_765_330_187e-06
    var p = Lanes(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 0.166_666_66
    p = p * r + 0.5
    p = p * r * r + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- unsafeBitCast(magic, to: SIMD8<UInt32>.self)
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Lanes.self)
    return p * scale
  }

  /// erf(x) for each lane, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
  @inline(__always)
  static func erf(_ x: Lanes) -> Lanes {
    let signMask = SIMD8<UInt32>(repeating: 0x8000_0000)
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    let a = unsafeBitCast(bits & ~signMask, to: Lanes.self)
    let t = 1 / (a * 0.327_591_1 + 1)
    var y = Lanes(repeating: 1.061_405_429)
    y = y * t - 1.453_152_027
    y = y * t + 1.421_413_741
    y = y * t - 0.284_496_736
    y = y * t + 0.254_829_592
    let positive = 1 - y * t * exp(-(a * a))
    return unsafeBitCast(unsafeBitCast(positive, to: SIMD8<UInt32>.self) | (bits & signMask), to: Lanes.self)
  }

  /// x ← gelu(x + bias) over `rows` rows of `bias.count` columns: 0.5·x·(1 + erf(x/√2)).
  static func addBiasGELU(_ x: UnsafeMutablePointer<Float>, rows: Int, bias: UnsafePointer<Float>, columns: Int) {
    precondition(columns % 8 == 0)
    for row in 0..<rows {
      let line = UnsafeMutableRawPointer(x + row * columns)
      let b = UnsafeRawPointer(bias)
      for j in stride(from: 0, to: columns, by: 8) {
        let offset = j * 4
        let v = line.loadUnaligned(fromByteOffset: offset, as: Lanes.self) + b.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
        let g = v * 0.5 * (1 + erf(v * 0.707_106_77))
        line.storeBytes(of: g, toByteOffset: offset, as: Lanes.self)
      }
    }
  }

  /// x ← x + bias, row by row.
  static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, bias: UnsafePointer<Float>, columns: Int) {
    precondition(columns % 8 == 0)
    for row in 0..<rows {
      let line = UnsafeMutableRawPointer(x + row * columns)
      let b = UnsafeRawPointer(bias)
      for j in stride(from: 0, to: columns * 4, by: 32) {
        let v = line.loadUnaligned(fromByteOffset: j, as: Lanes.self) + b.loadUnaligned(fromByteOffset: j, as: Lanes.self)
        line.storeBytes(of: v, toByteOffset: j, as: Lanes.self)
      }
    }
  }

  /// residual ← LayerNorm(residual + x + bias) · gamma + beta, row by row.
  static func addBiasResidualLayerNorm(
    _ x: UnsafePointer<Float>, residual: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
    bias: UnsafePointer<Float>?, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float
  ) {
    precondition(columns % 8 == 0)
    let bytes = columns * 4
    let g = UnsafeRawPointer(gamma), bt = UnsafeRawPointer(beta)
    for row in 0..<rows {
      let source = UnsafeRawPointer(x + row * columns)
      let line = UnsafeMutableRawPointer(residual + row * columns)
      var sum = Lanes(), squares = Lanes()
      for j in stride(from: 0, to: bytes, by: 32) {
        var v = line.loadUnaligned(fromByteOffset: j, as: Lanes.self) + source.loadUnaligned(fromByteOffset: j, as: Lanes.self)
        if let bias { v += UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: j, as: Lanes.self) }
        line.storeBytes(of: v, toByteOffset: j, as: Lanes.self)
        sum += v
      }
      let mean = sum.sum() / Float(columns)
      for j in stride(from: 0, to: bytes, by: 32) {
        let d = line.loadUnaligned(fromByteOffset: j, as: Lanes.self) - mean
        squares += d * d
      }
      let scale = 1 / (squares.sum() / Float(columns) + epsilon).squareRoot()
      for j in stride(from: 0, to: bytes, by: 32) {
        let v = (line.loadUnaligned(fromByteOffset: j, as: Lanes.self) - mean) * scale
        let out = v * g.loadUnaligned(fromByteOffset: j, as: Lanes.self) + bt.loadUnaligned(fromByteOffset: j, as: Lanes.self)
        line.storeBytes(of: out, toByteOffset: j, as: Lanes.self)
      }
    }
  }

  /// Softmax of each of `rows` rows of length `columns` (stride `stride`), in place.
  static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride rowStride: Int) {
    let full = columns & ~7
    for row in 0..<rows {
      let line = x + row * rowStride
      let raw = UnsafeMutableRawPointer(line)
      var maxLanes = Lanes(repeating: -.infinity)
      for j in Swift.stride(from: 0, to: full, by: 8) {
        let v = raw.loadUnaligned(fromByteOffset: j * 4, as: Lanes.self)
        maxLanes = maxLanes.replacing(with: v, where: v .> maxLanes)
      }
      var maximum = maxLanes.max()
      for j in full..<columns { maximum = Swift.max(maximum, line[j]) }
      var sumLanes = Lanes()
      for j in Swift.stride(from: 0, to: full, by: 8) {
        let e = exp(raw.loadUnaligned(fromByteOffset: j * 4, as: Lanes.self) - maximum)
        raw.storeBytes(of: e, toByteOffset: j * 4, as: Lanes.self)
        sumLanes += e
      }
      var sum = sumLanes.sum()
      if full < columns {
        var tail = Lanes(repeating: -.infinity)
        for j in full..<columns { tail[j - full] = line[j] - maximum }
        let e = exp(tail)
        for j in full..<columns { line[j] = e[j - full]; sum += e[j - full] }
      }
      let inverse = 1 / sum
      for j in Swift.stride(from: 0, to: full, by: 8) {
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: j * 4, as: Lanes.self) * inverse, toByteOffset: j * 4, as: Lanes.self)
      }
      for j in full..<columns { line[j] *= inverse }
    }
  }
}
