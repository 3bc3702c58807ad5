// AVX-512 BF16 for the BFloat16Kernels module: the CPU check, and the two instructions Swift
// cannot name (its importer has no type for vectors of __bf16, so bf16 pairs travel as 32-bit
// integer lanes). Header only, nothing to link.
#include <stdint.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/// 1 when the CPU has AVX-512 F/CD/BW/DQ/VL and AVX512_BF16 and the OS saves the ZMM registers.
static inline int gitrag_cpu_has_avx512_bf16(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
  unsigned int low, high;
  __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  if ((low & 0xE6) != 0xE6) return 0;  // SSE, AVX, opmask, ZMM state enabled by the OS
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  const unsigned int avx512 = (1u << 16) | (1u << 17) | (1u << 28) | (1u << 30) | (1u << 31);  // F DQ CD BW VL
  if ((b & avx512) != avx512) return 0;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
  return (a & (1u << 5)) != 0;  // AVX512_BF16
}

#define GITRAG_BF16 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512bf16")))

/// acc + a·b over bf16 pairs: lane i gains a₂ᵢ·b₂ᵢ + a₂ᵢ₊₁·b₂ᵢ₊₁, with `pair` (two bf16) in every lane of a.
GITRAG_BF16 __m512 gitrag_dpbf16_broadcast(__m512 acc, uint32_t pair, __m512i b) {
  return _mm512_dpbf16_ps(acc, (__m512bh)_mm512_set1_epi32((int)pair), (__m512bh)b);
}

/// 32 floats rounded to bf16 (to nearest even): `low` fills the low 16 halves, `high` the upper.
GITRAG_BF16 __m512i gitrag_bf16_pack(__m512 low, __m512 high) {
  return (__m512i)_mm512_cvtne2ps_pbh(high, low);
}
/// a·b + c and max(a, b) for each lane: Swift's generic SIMD multiply-add and select compile to
/// lane-by-lane code here.
GITRAG_BF16 __m512 gitrag_fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
GITRAG_BF16 __m512 gitrag_max(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
GITRAG_BF16 __m512 gitrag_min(__m512 a, __m512 b) { return _mm512_min_ps(a, b); }
/// a·2ⁿ for each lane, n an integral float (VSCALEFPS).
GITRAG_BF16 __m512 gitrag_scale(__m512 a, __m512 n) { return _mm512_scalef_ps(a, n); }

/// Lane i of the result holds (a[i], b[i]) rounded to bf16 (to nearest even), a[i] in the low half.
GITRAG_BF16 __m512i gitrag_bf16_interleave(__m512 a, __m512 b) {
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                         23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(order, (__m512i)_mm512_cvtne2ps_pbh(b, a));
}
#else
static inline int gitrag_cpu_has_avx512_bf16(void) { return 0; }
#endif
