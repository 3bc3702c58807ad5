// Matrix products in bfloat16 with float32 sums (AVX512_BF16's VDPBF16PS), for the local model's
// linear layers: twice the multiply-adds per cycle of float32 FMA, and each product's inputs
// rounded to 8 significant bits, which moves an all-MiniLM-L6-v2 embedding by a cosine of ~1e-5.
//
// This module is compiled for AVX-512 (see Package.swift) and runs only where the CPU has it and
// AVX512_BF16 (`gitrag_cpu_has_avx512_bf16` in CBFloat16), which the Embedding module checks, in
// its own baseline code, before anything here is called.
// So that no AVX-512 code leaks into the rest of the binary, it uses no generic code of the
// standard library that the compiler could emit as a shared (linker-deduplicated) copy: raw
// pointers, SIMD loads and the intrinsics of CBFloat16 only.
#if arch(x86_64)
  internal import CBFloat16

  typealias Lanes = SIMD16<Float>
  typealias Pairs = SIMD8<Int64>

  /// A weight matrix [outputs, inputs] (PyTorch's layout) rounded to bfloat16 and laid out for
  /// the kernel: blocks of 32 outputs; in each block, for every pair of inputs (k, k + 1), 32
  /// 32-bit lanes holding (w[n, k], w[n, k + 1]) as two bf16. Outputs and inputs past the ends
  /// are zeros.
  public final class BFloat16Matrix: @unchecked Sendable {
    // @unchecked: written only in init, read-only afterwards.
    public let outputs: Int
    public let inputs: Int
    let pairs: Int
    let storage: UnsafeMutablePointer<UInt32>

    /// Rounds and packs `weight` ([outputs, inputs], row-major). Only on a CPU with AVX512_BF16.
    public init(packing weight: UnsafePointer<Float>, outputs: Int, inputs: Int) {
      self.outputs = outputs
      self.inputs = inputs
      pairs = (inputs + 1) / 2
      let blocks = (outputs + BFloat16GEMM.columnsPerTile - 1) / BFloat16GEMM.columnsPerTile
      let count = max(1, blocks * pairs * BFloat16GEMM.columnsPerTile)
      storage = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: UInt32.self, capacity: count)
      for block in 0..<blocks {
        for column in 0..<BFloat16GEMM.columnsPerTile {
          let output = block * BFloat16GEMM.columnsPerTile + column
          var target = storage + block * pairs * BFloat16GEMM.columnsPerTile + column
          for pair in 0..<pairs {
            let k = 2 * pair
            let low = output < outputs ? weight[output * inputs + k] : 0
            let high = output < outputs && k + 1 < inputs ? weight[output * inputs + k + 1] : 0
            target.pointee = BFloat16GEMM.pair(low, high)
            target += BFloat16GEMM.columnsPerTile
          }
        }
      }
    }

    /// Bytes of the packed matrix.
    public var byteCount: Int { (outputs + BFloat16GEMM.columnsPerTile - 1) / BFloat16GEMM.columnsPerTile * pairs * BFloat16GEMM.columnsPerTile * 4 }

    deinit { storage.deallocate() }
  }

  public enum BFloat16GEMM {
    /// The kernel's tile: 14 rows × 32 columns of the output, 28 of the 32 vector registers.
    static let rowsPerTile = 14
    static let columnsPerTile = 32
    /// Bytes of packed input rows kept together (in L2) while every weight block passes over them.
    static let inputBlockBytes = 256 * 1024

    /// UInt32s of scratch that `multiplyAdd` needs for a weight with `inputs` columns.
    public static func scratchCount(inputs: Int) -> Int {
      let pairs = (inputs + 1) / 2
      return blockRows(pairs: pairs) * pairs
    }

    /// Input rows packed per block: a multiple of the tile's rows, about `inputBlockBytes`.
    static func blockRows(pairs: Int) -> Int {
      max(rowsPerTile, inputBlockBytes / (pairs * 4) / rowsPerTile * rowsPerTile)
    }

    /// output[rows, weight.outputs] += input[rows, weight.inputs] · weightᵀ, both row-major.
    /// `scratch` holds `scratchCount(inputs: weight.inputs)` UInt32s.
    @inline(never)
    public static func multiplyAdd(
      _ input: UnsafePointer<Float>, rows: Int, weight: BFloat16Matrix, into output: UnsafeMutablePointer<Float>,
      scratch: UnsafeMutablePointer<UInt32>
    ) {
      let pairs = weight.pairs, n = weight.outputs
      let blockRows = blockRows(pairs: pairs)
      for first in stride(from: 0, to: rows, by: blockRows) {
        let count = min(blockRows, rows - first)
        packRows(input + first * weight.inputs, rows: count, inputs: weight.inputs, into: scratch)
        let tiles = (count + rowsPerTile - 1) / rowsPerTile
        for column in stride(from: 0, to: n, by: columnsPerTile) {
          let panel = weight.storage + column / columnsPerTile * pairs * columnsPerTile
          for tile in 0..<tiles {
            let row = tile * rowsPerTile
            multiplyTile(
              scratch + tile * pairs * rowsPerTile, panel, pairs: pairs,
              into: output + (first + row) * n + column, stride: n,
              rows: min(rowsPerTile, count - row), columns: min(columnsPerTile, n - column))
          }
        }
      }
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

    /// `rows` rows of `inputs` floats as bf16 pairs in tiles of `rowsPerTile` rows: tile t, pair j,
    /// row r at (t·pairs + j)·rowsPerTile + r. Rows past `rows` are zeros.
    @inline(__always)
    static func packRows(_ input: UnsafePointer<Float>, rows: Int, inputs: Int, into out: UnsafeMutablePointer<UInt32>) {
      let pairs = (inputs + 1) / 2
      let tiles = (rows + rowsPerTile - 1) / rowsPerTile
      for tile in 0..<tiles {
        let base = out + tile * pairs * rowsPerTile
        for r in 0..<rowsPerTile {
          let row = tile * rowsPerTile + r
          var target = base + r
          guard row < rows else {
            for _ in 0..<pairs { target.pointee = 0; target += rowsPerTile }
            continue
          }
          let source = UnsafeRawPointer(input + row * inputs)
          var pair = 0
          // 32 floats (16 pairs) at a time.
          while 2 * pair + 32 <= inputs {
            let low = source.loadUnaligned(fromByteOffset: 8 * pair, as: Lanes.self)
            let high = source.loadUnaligned(fromByteOffset: 8 * pair + 64, as: Lanes.self)
            let packed = unsafeBitCast(gitrag_bf16_pack(low, high), to: SIMD16<UInt32>.self)
            for lane in 0..<16 { target.pointee = packed[lane]; target += rowsPerTile }
            pair += 16
          }
          let values = input + row * inputs
          while pair < pairs {
            target.pointee = Self.pair(values[2 * pair], 2 * pair + 1 < inputs ? values[2 * pair + 1] : 0)
            target += rowsPerTile
            pair += 1
          }
        }
      }
    }

    /// One 14 × 32 tile: output[r, 0..<columns] += Σⱼ a[j, r] · b[j, 0..<32] over all pairs j, the
    /// sums in 28 registers for the whole loop.
    @inline(__always)
    static func multiplyTile(
      _ a: UnsafePointer<UInt32>, _ b: UnsafePointer<UInt32>, pairs: Int, into output: UnsafeMutablePointer<Float>,
      stride: Int, rows: Int, columns: Int
    ) {
      var s0a = Lanes(), s0b = Lanes(), s1a = Lanes(), s1b = Lanes(), s2a = Lanes(), s2b = Lanes()
      var s3a = Lanes(), s3b = Lanes(), s4a = Lanes(), s4b = Lanes(), s5a = Lanes(), s5b = Lanes()
      var s6a = Lanes(), s6b = Lanes(), s7a = Lanes(), s7b = Lanes(), s8a = Lanes(), s8b = Lanes()
      var s9a = Lanes(), s9b = Lanes(), s10a = Lanes(), s10b = Lanes(), s11a = Lanes(), s11b = Lanes()
      var s12a = Lanes(), s12b = Lanes(), s13a = Lanes(), s13b = Lanes()
      @inline(__always) func step(_ x: inout Lanes, _ y: inout Lanes, _ pair: UInt32, _ left: Pairs, _ right: Pairs) {
        x = gitrag_dpbf16_broadcast(x, pair, left)
        y = gitrag_dpbf16_broadcast(y, pair, right)
      }
      var a = a
      var b = UnsafeRawPointer(b)
      for _ in 0..<pairs {
        let left = b.load(as: Pairs.self), right = b.load(fromByteOffset: 64, as: Pairs.self)
        step(&s0a, &s0b, a[0], left, right); step(&s1a, &s1b, a[1], left, right)
        step(&s2a, &s2b, a[2], left, right); step(&s3a, &s3b, a[3], left, right)
        step(&s4a, &s4b, a[4], left, right); step(&s5a, &s5b, a[5], left, right)
        step(&s6a, &s6b, a[6], left, right); step(&s7a, &s7b, a[7], left, right)
        step(&s8a, &s8b, a[8], left, right); step(&s9a, &s9b, a[9], left, right)
        step(&s10a, &s10b, a[10], left, right); step(&s11a, &s11b, a[11], left, right)
        step(&s12a, &s12b, a[12], left, right); step(&s13a, &s13b, a[13], left, right)
        a += rowsPerTile
        b += 4 * columnsPerTile
      }
      @inline(__always) func add(_ row: Int, _ x: Lanes, _ y: Lanes) {
        guard row < rows else { return }
        let target = UnsafeMutableRawPointer(output + row * stride)
        if columns == columnsPerTile {
          target.storeBytes(of: target.loadUnaligned(as: Lanes.self) + x, as: Lanes.self)
          target.storeBytes(of: target.loadUnaligned(fromByteOffset: 64, as: Lanes.self) + y, toByteOffset: 64, as: Lanes.self)
        } else {
          let values = output + row * stride
          for column in 0..<min(columns, 16) { values[column] += x[column] }
          for column in 16..<max(16, columns) { values[column] += y[column - 16] }
        }
      }
      add(0, s0a, s0b); add(1, s1a, s1b); add(2, s2a, s2b); add(3, s3a, s3b); add(4, s4a, s4b)
      add(5, s5a, s5b); add(6, s6a, s6b); add(7, s7a, s7b); add(8, s8a, s8b); add(9, s9a, s9b)
      add(10, s10a, s10b); add(11, s11a, s11b); add(12, s12a, s12b); add(13, s13a, s13b)
    }
  }
#endif
