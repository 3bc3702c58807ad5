// The right-hand operand of the bfloat16 kernel, packed.
//
// This module is compiled for AVX-512 (see Package.swift) and runs only where the CPU has it and
// AVX512_BF16 (`gitrag_cpu_has_avx512_bf16` in CBFloat16), which the Embedding module checks, in
// its own baseline code, before anything here is called. So that no AVX-512 code leaks into the
// rest of the binary, nothing here may make the compiler emit a helper that other modules emit
// too under the same name (the linker keeps one copy for all): no generic code of the standard
// library, and no public struct (its value witnesses copy it with a shared `__swift_memcpy…`);
// raw pointers, SIMD loads and stores, classes, and the intrinsics of CBFloat16. A test
// (BFloat16KernelsSymbolsTests) checks the object files for such symbols.
#if arch(x86_64)
  internal import CBFloat16

  typealias Lanes = SIMD16<Float>
  typealias Pairs = SIMD8<Int64>

  /// A matrix [outputs, inputs] rounded to bfloat16 and laid out for the kernel: blocks of 32
  /// outputs; in each block, for every pair of inputs (k, k + 1), 32 32-bit lanes holding
  /// (w[o, k], w[o, k + 1]) as two bf16. Outputs and inputs past the ends are zeros. A view: the
  /// storage is the panels' own (`init(packing:outputs:inputs:)`, for weights) or a caller's
  /// scratch buffer.
  public final class BFloat16Panels: @unchecked Sendable {
    // @unchecked: written only in init; the storage is read-only afterwards, and a caller's
    // scratch is kept alive and unchanged by the caller while the panels are in use.
    public let outputs: Int
    public let inputs: Int
    let pairs: Int
    let storage: UnsafeMutablePointer<UInt32>
    private let ownsStorage: Bool

    static let width = BFloat16GEMM.columnsPerTile

    /// UInt32s that an [outputs, inputs] matrix takes packed.
    public static func count(outputs: Int, inputs: Int) -> Int {
      (outputs + width - 1) / width * width * ((inputs + 1) / 2)
    }

    private init(outputs: Int, inputs: Int, storage: UnsafeMutablePointer<UInt32>, ownsStorage: Bool) {
      self.outputs = outputs
      self.inputs = inputs
      pairs = (inputs + 1) / 2
      self.storage = storage
      self.ownsStorage = ownsStorage
    }

    /// Packs element (o, i) = source[o·outputStride + i·inputStride] into `storage`, which holds
    /// `count(outputs:inputs:)` UInt32s: a weight as PyTorch stores it (strides inputs, 1), or an
    /// attention head's transposed values (strides 1, row).
    public convenience init(
      packing source: UnsafePointer<Float>, outputs: Int, inputs: Int, outputStride: Int, inputStride: Int,
      into storage: UnsafeMutablePointer<UInt32>
    ) {
      self.init(outputs: outputs, inputs: inputs, storage: storage, ownsStorage: false)
      Self.pack(source, outputs: outputs, inputs: inputs, outputStride: outputStride, inputStride: inputStride, into: storage)
    }

    /// Rounds and packs `weight` ([outputs, inputs], row-major) into storage of its own.
    public convenience init(packing weight: UnsafePointer<Float>, outputs: Int, inputs: Int) {
      let count = max(1, Self.count(outputs: outputs, inputs: inputs))
      let storage = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: UInt32.self, capacity: count)
      self.init(outputs: outputs, inputs: inputs, storage: storage, ownsStorage: true)
      Self.pack(weight, outputs: outputs, inputs: inputs, outputStride: inputs, inputStride: 1, into: storage)
    }

    deinit { if ownsStorage { storage.deallocate() } }

    /// The packing of `init(packing:outputs:inputs:outputStride:inputStride:into:)`.
    static func pack(
      _ source: UnsafePointer<Float>, outputs: Int, inputs: Int, outputStride: Int, inputStride: Int,
      into storage: UnsafeMutablePointer<UInt32>
    ) {
      let width = Self.width, pairs = (inputs + 1) / 2
      for block in 0..<((outputs + width - 1) / width) {
        let panel = storage + block * pairs * width
        let first = block * width
        if outputStride == 1 && first + width <= outputs {
          // Consecutive outputs are consecutive floats: 32 lanes at a time.
          for pair in 0..<pairs {
            let low = UnsafeRawPointer(source + first + 2 * pair * inputStride)
            let high = 2 * pair + 1 < inputs ? UnsafeRawPointer(source + first + (2 * pair + 1) * inputStride) : nil
            let target = UnsafeMutableRawPointer(panel + pair * width)
            for half in 0..<2 {
              let a = low.loadUnaligned(fromByteOffset: 64 * half, as: Lanes.self)
              let b = high?.loadUnaligned(fromByteOffset: 64 * half, as: Lanes.self) ?? Lanes()
              target.storeBytes(of: gitrag_bf16_interleave(a, b), toByteOffset: 64 * half, as: Pairs.self)
            }
          }
          continue
        }
        for column in 0..<width {
          let output = first + column
          var target = panel + column
          for pair in 0..<pairs {
            let k = 2 * pair
            let low = output < outputs ? source[output * outputStride + k * inputStride] : 0
            let high = output < outputs && k + 1 < inputs ? source[output * outputStride + (k + 1) * inputStride] : 0
            target.pointee = BFloat16GEMM.pair(low, high)
            target += width
          }
        }
      }
    }

    /// Packs rows that are already bfloat16 pairs (as `BFloat16GEMM.convert` writes them): output o's
    /// pairs are `pairs` UInt32s at rows + o·rowStride, e.g. an attention head's keys.
    public convenience init(
      transposing rows: UnsafePointer<UInt32>, outputs: Int, pairs: Int, rowStride: Int, into storage: UnsafeMutablePointer<UInt32>
    ) {
      self.init(outputs: outputs, inputs: 2 * pairs, storage: storage, ownsStorage: false)
      let width = Self.width
      for block in 0..<((outputs + width - 1) / width) {
        let panel = storage + block * pairs * width
        for column in 0..<width {
          let output = block * width + column
          var target = panel + column
          guard output < outputs else {
            for _ in 0..<pairs { target.pointee = 0; target += width }
            continue
          }
          var source = rows + output * rowStride
          for _ in 0..<pairs {
            target.pointee = source.pointee
            target += width
            source += 1
          }
        }
      }
    }
  }

#endif
