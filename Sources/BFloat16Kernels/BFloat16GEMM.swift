// Matrix products in bfloat16 with float32 sums (AVX512_BF16's VDPBF16PS), for the local model:
// twice the multiply-adds per cycle of float32 FMA, each product's inputs rounded to 8
// significant bits, which moves an all-MiniLM-L6-v2 embedding by a cosine of ~2e-5.
// (AVX-512 code only: see BFloat16Panels.swift.)
#if arch(x86_64)
  internal import CBFloat16

  /// Left-hand operands are rows of bfloat16 pairs: row r's inputs (2j, 2j + 1) are the two halves
  /// of UInt32 j of the row (`convert` writes them so from floats), rows `stride` UInt32s apart.
  public enum BFloat16GEMM {
    /// The kernel's tile: 14 rows × 32 columns of the output, 28 of the 32 vector registers.
    static let rowsPerTile = 14
    static let columnsPerTile = 32
    /// Bytes of converted input rows kept together (in L2) while every weight block passes over them.
    static let inputBlockBytes = 256 * 1024

    /// UInt32s of scratch that `multiplyAdd` needs for a weight with `inputs` columns.
    public static func scratchCount(inputs: Int) -> Int {
      let pairs = (inputs + 1) / 2
      return blockRows(pairs: pairs) * pairs
    }

    /// Input rows converted per block: a multiple of the tile's rows, about `inputBlockBytes`.
    static func blockRows(pairs: Int) -> Int {
      max(rowsPerTile, inputBlockBytes / (pairs * 4) / rowsPerTile * rowsPerTile)
    }

    /// output[rows, weight.outputs] += f(input[rows, weight.inputs]) · weightᵀ, floats, both
    /// row-major, with f the identity or, with `gelu`, GELU (applied as the input is rounded to
    /// bfloat16, so no pass over the input only for it). `scratch` holds
    /// `scratchCount(inputs: weight.inputs)` UInt32s.
    @inline(never)
    public static func multiplyAdd(
      _ input: UnsafePointer<Float>, rows: Int, weight: BFloat16Panels, into output: UnsafeMutablePointer<Float>,
      scratch: UnsafeMutablePointer<UInt32>, gelu: Bool = false
    ) {
      let blockRows = blockRows(pairs: weight.pairs)
      for first in stride(from: 0, to: rows, by: blockRows) {
        let count = min(blockRows, rows - first)
        convert(
          input + first * weight.inputs, rows: count, columns: weight.inputs, stride: weight.inputs, into: scratch, stride: weight.pairs,
          gelu: gelu)
        multiply(
          scratch, rows: count, stride: weight.pairs, by: weight, into: output + first * weight.outputs, stride: weight.outputs,
          accumulating: true)
      }
    }

    /// output[r, o] (+)= Σᵢ input[r, i] · panels[o, i] for r < rows and o < panels.outputs, with
    /// `input` rows of bfloat16 pairs `inputStride` UInt32s apart and output rows `outputStride`
    /// floats apart; with `accumulating` false the output is overwritten.
    @inline(never)
    public static func multiply(
      _ input: UnsafePointer<UInt32>, rows: Int, stride inputStride: Int, by panels: BFloat16Panels,
      into output: UnsafeMutablePointer<Float>, stride outputStride: Int, accumulating: Bool
    ) {
      let pairs = panels.pairs, n = panels.outputs
      for column in Swift.stride(from: 0, to: n, by: columnsPerTile) {
        let panel = panels.storage + column / columnsPerTile * pairs * columnsPerTile
        for row in Swift.stride(from: 0, to: rows, by: rowsPerTile) {
          multiplyTile(
            input + row * inputStride, stride: inputStride, panel, pairs: pairs,
            into: output + row * outputStride + column, stride: outputStride,
            rows: min(rowsPerTile, rows - row), columns: min(columnsPerTile, n - column), accumulating: accumulating)
        }
      }
    }

    /// Rounds `rows` rows of `columns` floats (`stride` apart) to rows of bfloat16 pairs
    /// (`outputStride` UInt32s apart), taking GELU of each first with `gelu`; an odd last column is
    /// paired with a zero.
    public static func convert(
      _ input: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into output: UnsafeMutablePointer<UInt32>,
      stride outputStride: Int, gelu: Bool = false
    ) {
      for row in 0..<rows {
        let source = input + row * stride, target = output + row * outputStride
        var column = 0
        while column + 32 <= columns {
          let raw = UnsafeRawPointer(source + column)
          var low = raw.loadUnaligned(as: Lanes.self), high = raw.loadUnaligned(fromByteOffset: 64, as: Lanes.self)
          if gelu { low = Self.gelu(low); high = Self.gelu(high) }
          UnsafeMutableRawPointer(target + column / 2).storeBytes(of: gitrag_bf16_pack(low, high), as: Pairs.self)
          column += 32
        }
        while column < columns {
          var values = Lanes()
          values[0] = source[column]
          values[1] = column + 1 < columns ? source[column + 1] : 0
          if gelu { values = Self.gelu(values) }
          target[column / 2] = pair(values[0], column + 1 < columns ? values[1] : 0)
          column += 2
        }
      }
    }

    /// gelu(x) = 0.5·x·(1 + erf(x/√2)) for each lane, erf as the Embedding module's rational
    /// function (absolute error below 5e-7), here with fused multiply-adds.
    @inline(__always)
    static func gelu(_ x: Lanes) -> Lanes {
      let limit = Lanes(repeating: 4)
      let z = gitrag_min(gitrag_max(x * 0.707_106_77, -limit), limit)
      let z2 = z * z
      var p = gitrag_fma(z2, Lanes(repeating: -2.726_142_258_013_06e-10), Lanes(repeating: 2.770_681_424_959_02e-08))
      p = gitrag_fma(p, z2, Lanes(repeating: -2.101_024_020_825_08e-06))
      p = gitrag_fma(p, z2, Lanes(repeating: -5.692_506_394_623_46e-05))
      p = gitrag_fma(p, z2, Lanes(repeating: -7.349_906_303_268_55e-04))
      p = gitrag_fma(p, z2, Lanes(repeating: -2.954_599_808_540_25e-03))
      p = gitrag_fma(p, z2, Lanes(repeating: -1.609_603_332_624_15e-02))
      var q = gitrag_fma(z2, Lanes(repeating: -1.456_607_184_649_96e-05), Lanes(repeating: -2.133_740_552_789_05e-04))
      q = gitrag_fma(q, z2, Lanes(repeating: -1.682_826_974_382_03e-03))
      q = gitrag_fma(q, z2, Lanes(repeating: -7.373_329_167_204_68e-03))
      q = gitrag_fma(q, z2, Lanes(repeating: -1.426_473_905_141_89e-02))
      let erf = z * p / q
      let half = x * 0.5
      return gitrag_fma(half, erf, half)
    }

    /// Two floats as bf16 (round to nearest even; NaN stays NaN) in one 32-bit lane, `low` first.
    @inline(__always)
    static func pair(_ low: Float, _ high: Float) -> UInt32 {
      func round(_ x: Float) -> UInt32 {
        let bits = x.bitPattern
        if x.isNaN { return (bits >> 16) | 0x40 }
        return (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
      }
      return round(low) | (round(high) << 16)
    }

    /// One 14 × 32 tile: output[r, 0..<columns] (+)= Σⱼ a[r, j] · b[j, 0..<32] over all pairs j,
    /// the sums in 28 registers for the whole loop. Rows past `rows` read row 0 again and are dropped.
    @inline(__always)
    static func multiplyTile(
      _ a: UnsafePointer<UInt32>, stride: Int, _ b: UnsafePointer<UInt32>, pairs: Int, into output: UnsafeMutablePointer<Float>,
      stride outputStride: Int, rows: Int, columns: Int, accumulating: Bool
    ) {
      @inline(__always) func row(_ r: Int) -> UnsafePointer<UInt32> { a + (r < rows ? r : 0) * stride }
      let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3), a4 = row(4), a5 = row(5), a6 = row(6)
      let a7 = row(7), a8 = row(8), a9 = row(9), a10 = row(10), a11 = row(11), a12 = row(12), a13 = row(13)
      var s0a = Lanes(), s0b = Lanes(), s1a = Lanes(), s1b = Lanes(), s2a = Lanes(), s2b = Lanes()
      var s3a = Lanes(), s3b = Lanes(), s4a = Lanes(), s4b = Lanes(), s5a = Lanes(), s5b = Lanes()
      var s6a = Lanes(), s6b = Lanes(), s7a = Lanes(), s7b = Lanes(), s8a = Lanes(), s8b = Lanes()
      var s9a = Lanes(), s9b = Lanes(), s10a = Lanes(), s10b = Lanes(), s11a = Lanes(), s11b = Lanes()
      var s12a = Lanes(), s12b = Lanes(), s13a = Lanes(), s13b = Lanes()
      @inline(__always) func step(_ x: inout Lanes, _ y: inout Lanes, _ pair: UInt32, _ left: Pairs, _ right: Pairs) {
        x = gitrag_dpbf16_broadcast(x, pair, left)
        y = gitrag_dpbf16_broadcast(y, pair, right)
      }
      var b = UnsafeRawPointer(b)
      for j in 0..<pairs {
        let left = b.load(as: Pairs.self), right = b.load(fromByteOffset: 64, as: Pairs.self)
        step(&s0a, &s0b, a0[j], left, right); step(&s1a, &s1b, a1[j], left, right)
        step(&s2a, &s2b, a2[j], left, right); step(&s3a, &s3b, a3[j], left, right)
        step(&s4a, &s4b, a4[j], left, right); step(&s5a, &s5b, a5[j], left, right)
        step(&s6a, &s6b, a6[j], left, right); step(&s7a, &s7b, a7[j], left, right)
        step(&s8a, &s8b, a8[j], left, right); step(&s9a, &s9b, a9[j], left, right)
        step(&s10a, &s10b, a10[j], left, right); step(&s11a, &s11b, a11[j], left, right)
        step(&s12a, &s12b, a12[j], left, right); step(&s13a, &s13b, a13[j], left, right)
        b += 4 * columnsPerTile
      }
      @inline(__always) func store(_ row: Int, _ x: Lanes, _ y: Lanes) {
        guard row < rows else { return }
        let target = UnsafeMutableRawPointer(output + row * outputStride)
        if columns == columnsPerTile {
          if accumulating {
            target.storeBytes(of: target.loadUnaligned(as: Lanes.self) + x, as: Lanes.self)
            target.storeBytes(of: target.loadUnaligned(fromByteOffset: 64, as: Lanes.self) + y, toByteOffset: 64, as: Lanes.self)
          } else {
            target.storeBytes(of: x, as: Lanes.self)
            target.storeBytes(of: y, toByteOffset: 64, as: Lanes.self)
          }
        } else {
          let values = output + row * outputStride
          for column in 0..<min(columns, 16) { values[column] = (accumulating ? values[column] : 0) + x[column] }
          for column in 16..<max(16, columns) { values[column] = (accumulating ? values[column] : 0) + y[column - 16] }
        }
      }
      store(0, s0a, s0b); store(1, s1a, s1b); store(2, s2a, s2b); store(3, s3a, s3b); store(4, s4a, s4b)
      store(5, s5a, s5b); store(6, s6a, s6b); store(7, s7a, s7b); store(8, s8a, s8b); store(9, s9a, s9b)
      store(10, s10a, s10b); store(11, s11a, s11b); store(12, s12a, s12b); store(13, s13a, s13b)
    }
  }
#endif
