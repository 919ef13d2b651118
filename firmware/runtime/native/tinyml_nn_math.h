/* tinyml native runtime: TFLM's fixed-point helpers (internal to the kernels). */
#ifndef TINYML_NN_MATH_H_
#define TINYML_NN_MATH_H_

#include <stdint.h>
#include <string.h>

/* n rounded up to a multiple of 4 (scratch parts start word-aligned). */
static inline size_t tm_align4(size_t n) { return (n + 3u) & ~(size_t)3u; }

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TM_USE_DSP 1
static inline uint32_t tm_sxtb16(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
  return r;
}
static inline uint32_t tm_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
/* Cortex-M kernels' 2x2 tile, one group of four K with int16 weights: one LDM of the pixel pair's four words (r2-r5), one LDM of the
 * channel pair's four (r6, r7, r12, lr), eight SMLADs into s00 s01 s10 s11 (r8-r11). */
#define TM_PW_GROUP16                      \
  "ldmia.w r0!, {r2, r3, r4, r5}\n\t"      \
  "ldmia.w r1!, {r6, r7, r12, lr}\n\t"     \
  "smlad r8, r2, r6, r8\n\t"               \
  "smlad r9, r3, r6, r9\n\t"               \
  "smlad r10, r2, r7, r10\n\t"             \
  "smlad r11, r3, r7, r11\n\t"             \
  "smlad r8, r4, r12, r8\n\t"              \
  "smlad r9, r5, r12, r9\n\t"              \
  "smlad r10, r4, lr, r10\n\t"             \
  "smlad r11, r5, lr, r11\n\t"
/* acc + the 16x16 products the instruction names (SMLAD: both halves; SMLAxy: half x of a, y of b;
 * SMLADX: the halves of b crossed). */
#define TM_DSP_MAC(insn)                                                       \
  static inline int32_t tm_##insn(uint32_t a, uint32_t b, int32_t acc) {       \
    int32_t r;                                                                 \
    __asm__(#insn " %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));     \
    return r;                                                                  \
  }
TM_DSP_MAC(smlad)
TM_DSP_MAC(smladx)
TM_DSP_MAC(smlabb)
TM_DSP_MAC(smlabt)
TM_DSP_MAC(smlatb)
TM_DSP_MAC(smlatt)
/* (low half of lo, high half of hi) */
static inline uint32_t tm_pkhbt(uint32_t lo, uint32_t hi) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}
/* Both 16-bit halves at once (the generator keeps every half within int16). */
static inline uint32_t tm_sadd16(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("sadd16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static inline uint32_t tm_ssub16(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("ssub16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
static inline int32_t tm_ssat8(int32_t v) {
  int32_t r;
  __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
  return r;
}
static inline int32_t tm_smmlar(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
#else
static inline int32_t tm_smmlar(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((((int64_t)acc << 32) + (int64_t)a * b + (int64_t)0x80000000u) >> 32);
}
static inline int32_t tm_ssat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
#define TM_USE_DSP 0
#endif

static inline uint32_t tm_load32(const void *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void tm_store32(void *p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* Position of natural index j inside its interleaved group of four: (0, 1, 2, 3) -> (0, 2, 1, 3). */
static inline int tm_ilv(int j) { return (j & ~3) | ((j & 1) << 1) | ((j >> 1) & 1); }

/* int16 index of (pixel or channel p of a pair, natural k) in a pair-interleaved block: per group of
 * four k the words (p0: k0,k2) (p1: k0,k2) (p0: k1,k3) (p1: k1,k3). */
static inline int tm_pair_index(int p, int k) { return 2 * (4 * (k >> 2) + 2 * (k & 1) + p) + ((k >> 1) & 1); }

/* gemmlowp::RoundingDivideByPOT. */
static inline int32_t tm_rdbp(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((1u << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0);
  return (x >> exponent) + (remainder > threshold);
}

/* gemmlowp::SaturatingRoundingDoublingHighMul for b >= 0 (TFLM multipliers are never negative):
 * floor((a*b + 2^30) / 2^31) equals gemmlowp's sign-dependent nudge and truncating division. */
static inline int32_t tm_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 30)) >> 31);
}

/* TFLM's MultiplyByQuantizedMultiplier (double rounding). */
static inline int32_t tm_mbqm(int32_t x, int32_t mult, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return tm_rdbp(tm_srdhm((int32_t)((uint32_t)x << left), mult), right);
}

/* Fast requantization to the output integer, zero point included: with add = 2^(r-1) + (zp << r)
 * (per channel, from the generator), (add + sign(acc) + SMMLAR-high(2*acc * mult)) >> r equals
 * RoundingDivideByPOT(SRDHM(acc, mult), r) + zp: SMMLAR adds `add` to the rounded high word, the
 * zero point rides along as a multiple of 2^r, and sign(acc) stands in for the sign of the high
 * word (they differ only when it is 0, where both give zp). Exact while |acc| < 2^30 and
 * |zp << r| + 2^(r-1) < 2^30, which the generator checks. */
static inline int32_t tm_rq_fast(int32_t acc2, int32_t mult, int right, int32_t add) {
  return tm_smmlar(acc2, mult, add + (acc2 >> 31)) >> right;
}

static inline int8_t tm_clamp8(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return (int8_t)v;
}

#endif
