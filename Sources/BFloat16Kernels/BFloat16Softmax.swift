// The softmax between attention's two products, writing its probabilities as the bfloat16 rows
// the second product reads. (AVX-512 code only: see BFloat16Panels.swift.)
#if arch(x86_64)
  internal import CBFloat16

  public enum BFloat16Softmax {
    /// Row i of `probabilities` (`outputStride` UInt32s apart) ← exp(row i of `scores` − its max)
    /// as bfloat16 pairs, and `sums[i]` ← the float32 sum of those exponentials (the caller
    /// divides the product's rows by it). `scores` rows are `columns` floats, `stride` apart.
    @inline(never)
    public static func exponentiateRows(
      _ scores: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, sums: UnsafeMutablePointer<Float>,
      into probabilities: UnsafeMutablePointer<UInt32>, stride outputStride: Int
    ) {
      let full = columns / 32 * 32
      for row in 0..<rows {
        let line = scores + row * stride, target = probabilities + row * outputStride
        let raw = UnsafeRawPointer(line)
        var maxima = Lanes(repeating: -.infinity)
        var column = 0
        while column + 16 <= columns {
          let v = raw.loadUnaligned(fromByteOffset: 4 * column, as: Lanes.self)
          maxima = gitrag_max(maxima, v)
          column += 16
        }
        var maximum = largest(maxima)
        while column < columns { maximum = Swift.max(maximum, line[column]); column += 1 }
        var total = Lanes()
        column = 0
        while column < full {
          let low = exp(raw.loadUnaligned(fromByteOffset: 4 * column, as: Lanes.self) - maximum)
          let high = exp(raw.loadUnaligned(fromByteOffset: 4 * column + 64, as: Lanes.self) - maximum)
          total += low + high
          UnsafeMutableRawPointer(target + column / 2).storeBytes(of: gitrag_bf16_pack(low, high), as: Pairs.self)
          column += 32
        }
        if full < columns {
          // The last 1–31 columns; lanes past the row hold -100, whose exp (clamped: ~1e-38) adds
          // nothing to the sum next to the row maximum's 1.
          var low = Lanes(repeating: -100), high = Lanes(repeating: -100)
          for index in full..<columns {
            let lane = index - full
            if lane < 16 { low[lane] = line[index] - maximum } else { high[lane - 16] = line[index] - maximum }
          }
          low = exp(low)
          high = exp(high)
          total += low + high
          let packed = unsafeBitCast(gitrag_bf16_pack(low, high), to: SIMD16<UInt32>.self)
          for pair in 0..<((columns - full) / 2) { target[full / 2 + pair] = packed[pair] }
          // An odd row's last pair: its second half is zero.
          if columns % 2 == 1 { target[columns / 2] = packed[(columns - full) / 2] & 0xFFFF }
        }
        sums[row] = sum(total)
      }
    }

    /// e^x for each lane, x ≤ 0: one-step range reduction and a degree-5 polynomial (the
    /// Embedding module's softmax exp, here with fused multiply-adds and VSCALEFPS for the 2ⁿ),
    /// max relative error ~4e-7.
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
      let x = gitrag_max(x, Lanes(repeating: -87.3))
      let magic = Lanes(repeating: 12_582_912)
      let shifted = gitrag_fma(x, Lanes(repeating: 1.442_695_04), magic)
      let n = shifted - magic
      let r = gitrag_fma(n, Lanes(repeating: -0.693_147_18), x)
      var p = gitrag_fma(r, Lanes(repeating: 8.312_56e-3), Lanes(repeating: 4.189_007e-2))
      p = gitrag_fma(p, r, Lanes(repeating: 0.166_671_14))
      p = gitrag_fma(p, r, Lanes(repeating: 0.499_992_3))
      p = gitrag_fma(p, r * r, r + 1)
      return gitrag_scale(p, n)
    }

    @inline(__always)
    static func largest(_ x: Lanes) -> Float {
      var largest = x[0]
      for lane in 1..<16 { largest = Swift.max(largest, x[lane]) }
      return largest
    }

    @inline(__always)
    static func sum(_ x: Lanes) -> Float {
      let a = x.lowHalf + x.highHalf
      let b = a.lowHalf + a.highHalf
      let c = b.lowHalf + b.highHalf
      return c[0] + c[1]
    }
  }
#endif
