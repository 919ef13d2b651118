/* tinyml native runtime: CONV_2D, and CONV_2D fused with the ADD after it (see tinyml_nn.h for the layouts).
 *
 * A convolution is a matrix product taken two output pixels by two output channels at a time:
 * the two pixels' receptive fields (im2col rows; padded taps read the input zero point) are widened
 * to int16 once into a pair buffer, interleaved so that one 64-bit load feeds two SMLADs, and the
 * weights of each channel pair are stored interleaved the same way by the generator. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

/* The pair buffer (two int16 rows) and, for non-pointwise convolutions, two int8 im2col rows. */
size_t tm_conv_scratch(const tm_conv_t *p) { return (size_t)2 * p->k_padded * (sizeof(int16_t) + 1); }

/* Widen pixel rows r0, r1 (n int8 values, n a multiple of 4) into the pair buffer. */
static void widen_pair(const int8_t *r0, const int8_t *r1, int16_t *dst, int n) {
#if TM_USE_DSP
  uint32_t *d = (uint32_t *)(void *)dst;
  for (int j = 0; j < n; j += 4, d += 4) {
    const uint32_t a = tm_load32(r0 + j), b = tm_load32(r1 + j);
    d[0] = tm_sxtb16(a);
    d[1] = tm_sxtb16(b);
    d[2] = tm_sxtb16_ror8(a);
    d[3] = tm_sxtb16_ror8(b);
  }
#else
  for (int k = 0; k < n; ++k) {
    dst[tm_pair_index(0, k)] = r0[k];
    dst[tm_pair_index(1, k)] = r1[k];
  }
#endif
}

/* The im2col row of output pixel n, natural int8 order (padded taps read the input zero point,
 * K padded with zeros), copied a kernel row at a time where it lies inside the input. */
static void im2col_row(const tm_conv_t *p, const int8_t *in, int n, int8_t *dst) {
  const int oy = n / p->out_w, ox = n % p->out_w;
  const int run = p->k_w * p->in_c;
  const int ix0 = ox * p->stride_w - p->pad_left;
  const int inside_x = ix0 >= 0 && ix0 + (p->k_w - 1) * p->dil_w < p->in_w && p->dil_w == 1;
  int8_t *d = dst;
  for (int ky = 0; ky < p->k_h; ++ky, d += run) {
    const int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
    if (iy < 0 || iy >= p->in_h) {
      memset(d, p->in_zp, (size_t)run);
    } else if (inside_x) {
      memcpy(d, in + ((size_t)iy * p->in_w + ix0) * p->in_c, (size_t)run);
    } else {
      for (int kx = 0; kx < p->k_w; ++kx) {
        const int ix = ix0 + kx * p->dil_w;
        if (ix < 0 || ix >= p->in_w) {
          memset(d + kx * p->in_c, p->in_zp, p->in_c);
        } else {
          memcpy(d + kx * p->in_c, in + ((size_t)iy * p->in_w + ix) * p->in_c, p->in_c);
        }
      }
    }
  }
  memset(d, 0, (size_t)(p->k_padded - p->k_h * run));
}

typedef struct {
  int32_t s00, s01, s10, s11; /* s<channel><pixel> */
} acc4_t;

/* Channel pair with int16 pair-interleaved weights w (2 * kp values) against the pair buffer x. */
static inline acc4_t dot_w16(const int16_t *w, const int16_t *x, int kp, acc4_t s) {
#if TM_USE_DSP
  /* Per group of four K: two 64-bit loads of the pixel pair, two of the channel pair, 8 SMLADs. */
  const uint32_t *xw = (const uint32_t *)(const void *)x, *ww = (const uint32_t *)(const void *)w;
  const uint32_t *end = xw + kp;
  uint32_t a, b, c, d;
  if ((kp & 7) == 0) {
    /* An even number of groups, two per iteration; per group one LDM brings the pixel pair's four
     * words (LDM fills registers in ascending order, hence the fixed registers) and two LDRDs the
     * channel pair's: 24 instructions per 32 MACs. */
    register uint32_t xe0 __asm__("r4");
    register uint32_t ye0 __asm__("r5");
    register uint32_t xo0 __asm__("r6");
    register uint32_t yo0 __asm__("r8");
    __asm__ volatile(
        "1:\n\t"
        "ldmia %[xw]!, {%[xe], %[ye], %[xo], %[yo]}\n\t"
        "ldrd %[c], %[d], [%[ww]], #8\n\t"
        "smlad %[s00], %[xe], %[c], %[s00]\n\t"
        "smlad %[s01], %[ye], %[c], %[s01]\n\t"
        "smlad %[s10], %[xe], %[d], %[s10]\n\t"
        "smlad %[s11], %[ye], %[d], %[s11]\n\t"
        "ldrd %[c], %[d], [%[ww]], #8\n\t"
        "smlad %[s00], %[xo], %[c], %[s00]\n\t"
        "smlad %[s01], %[yo], %[c], %[s01]\n\t"
        "smlad %[s10], %[xo], %[d], %[s10]\n\t"
        "smlad %[s11], %[yo], %[d], %[s11]\n\t"
        "ldmia %[xw]!, {%[xe], %[ye], %[xo], %[yo]}\n\t"
        "ldrd %[c], %[d], [%[ww]], #8\n\t"
        "smlad %[s00], %[xe], %[c], %[s00]\n\t"
        "smlad %[s01], %[ye], %[c], %[s01]\n\t"
        "smlad %[s10], %[xe], %[d], %[s10]\n\t"
        "smlad %[s11], %[ye], %[d], %[s11]\n\t"
        "ldrd %[c], %[d], [%[ww]], #8\n\t"
        "smlad %[s00], %[xo], %[c], %[s00]\n\t"
        "smlad %[s01], %[yo], %[c], %[s01]\n\t"
        "smlad %[s10], %[xo], %[d], %[s10]\n\t"
        "smlad %[s11], %[yo], %[d], %[s11]\n\t"
        "cmp %[xw], %[end]\n\t"
        "bne 1b\n\t"
        : [s00] "+r"(s.s00), [s01] "+r"(s.s01), [s10] "+r"(s.s10), [s11] "+r"(s.s11), [xw] "+r"(xw), [ww] "+r"(ww),
          [xe] "=&r"(xe0), [ye] "=&r"(ye0), [xo] "=&r"(xo0), [yo] "=&r"(yo0), [c] "=&r"(c), [d] "=&r"(d)
        : [end] "r"(end)
        : "cc", "memory");
    (void)a;
    (void)b;
    return s;
  }
  __asm__ volatile(
      "1:\n\t"
      "ldrd %[a], %[b], [%[xw]], #8\n\t"
      "ldrd %[c], %[d], [%[ww]], #8\n\t"
      "smlad %[s00], %[a], %[c], %[s00]\n\t"
      "smlad %[s01], %[b], %[c], %[s01]\n\t"
      "smlad %[s10], %[a], %[d], %[s10]\n\t"
      "smlad %[s11], %[b], %[d], %[s11]\n\t"
      "ldrd %[a], %[b], [%[xw]], #8\n\t"
      "ldrd %[c], %[d], [%[ww]], #8\n\t"
      "smlad %[s00], %[a], %[c], %[s00]\n\t"
      "smlad %[s01], %[b], %[c], %[s01]\n\t"
      "smlad %[s10], %[a], %[d], %[s10]\n\t"
      "smlad %[s11], %[b], %[d], %[s11]\n\t"
      "cmp %[xw], %[end]\n\t"
      "bne 1b\n\t"
      : [s00] "+r"(s.s00), [s01] "+r"(s.s01), [s10] "+r"(s.s10), [s11] "+r"(s.s11), [xw] "+r"(xw), [ww] "+r"(ww),
        [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d)
      : [end] "r"(end)
      : "cc", "memory");
#else
  for (int k = 0; k < kp; ++k) {
    const int32_t a = x[tm_pair_index(0, k)], b = x[tm_pair_index(1, k)];
    const int32_t v = w[tm_pair_index(0, k)], u = w[tm_pair_index(1, k)];
    s.s00 += a * v;
    s.s01 += b * v;
    s.s10 += a * u;
    s.s11 += b * u;
  }
#endif
  return s;
}

/* Channel pair with int8 weights w: per group of four K, 4 bytes of channel 0 then 4 of channel 1. */
static inline acc4_t dot_w8(const int8_t *w, const int16_t *x, int kp, acc4_t s) {
#if TM_USE_DSP
  const uint32_t *xw = (const uint32_t *)(const void *)x, *ww = (const uint32_t *)(const void *)w;
  const uint32_t *end = xw + kp;
  uint32_t a, b, c, d, e, f;
  __asm__ volatile(
      "1:\n\t"
      "ldrd %[e], %[f], [%[ww]], #8\n\t"
      "ldrd %[a], %[b], [%[xw]], #8\n\t"
      "sxtb16 %[c], %[e]\n\t"
      "sxtb16 %[d], %[f]\n\t"
      "smlad %[s00], %[a], %[c], %[s00]\n\t"
      "smlad %[s01], %[b], %[c], %[s01]\n\t"
      "smlad %[s10], %[a], %[d], %[s10]\n\t"
      "smlad %[s11], %[b], %[d], %[s11]\n\t"
      "ldrd %[a], %[b], [%[xw]], #8\n\t"
      "sxtb16 %[c], %[e], ror #8\n\t"
      "sxtb16 %[d], %[f], ror #8\n\t"
      "smlad %[s00], %[a], %[c], %[s00]\n\t"
      "smlad %[s01], %[b], %[c], %[s01]\n\t"
      "smlad %[s10], %[a], %[d], %[s10]\n\t"
      "smlad %[s11], %[b], %[d], %[s11]\n\t"
      "cmp %[xw], %[end]\n\t"
      "bne 1b\n\t"
      : [s00] "+r"(s.s00), [s01] "+r"(s.s01), [s10] "+r"(s.s10), [s11] "+r"(s.s11), [xw] "+r"(xw), [ww] "+r"(ww),
        [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d), [e] "=&r"(e), [f] "=&r"(f)
      : [end] "r"(end)
      : "cc", "memory");
#else
  for (int k = 0; k < kp; ++k) {
    const int32_t a = x[tm_pair_index(0, k)], b = x[tm_pair_index(1, k)];
    const int32_t v = w[8 * (k >> 2) + (k & 3)], u = w[8 * (k >> 2) + 4 + (k & 3)];
    s.s00 += a * v;
    s.s01 += b * v;
    s.s10 += a * u;
    s.s11 += b * u;
  }
#endif
  return s;
}

/* The packed fast path: all output channels of the two pixels in the pair buffer x; pixel n's
 * outputs at out, pixel n+1's at out + out1_off (0 when there is no second pixel: both pixels of the
 * pair are then the same and write the same bytes). Each channel pair's four accumulators start at
 * its doubled bias and end in tm_rq_fast with its packed constants. */
#if TM_USE_DSP
typedef struct {
  const int16_t *x;     /* +0  pair buffer */
  uint32_t groups;      /* +4  k_padded / 4 */
  const void *w;        /* +8  weights, channel pairs back to back */
  const int32_t *q;     /* +12 packed constants */
  const int32_t *q_end; /* +16 */
  int8_t *out;          /* +20 */
  int32_t out1_off;     /* +24 */
} tm_conv_job_t;

#define TM_PW_GROUP16_BYTES "40"

/* One group of four K, int8 weights: the pixel pair's LDM, one LDRD of the channel pair's two words
 * (r6: c0 k0..k3, r7: c1), each widened by SXTB16 into r12/lr (k0,k2), then ROR 8 (k1,k3). */
#define TM_PW_GROUP8                       \
  "ldmia.w r0!, {r2, r3, r4, r5}\n\t"      \
  "ldrd r6, r7, [r1], #8\n\t"              \
  "sxtb16 r12, r6\n\t"                     \
  "sxtb16 lr, r7\n\t"                      \
  "smlad r8, r2, r12, r8\n\t"              \
  "smlad r9, r3, r12, r9\n\t"              \
  "smlad r10, r2, lr, r10\n\t"             \
  "smlad r11, r3, lr, r11\n\t"             \
  "sxtb16 r12, r6, ror #8\n\t"             \
  "sxtb16 lr, r7, ror #8\n\t"              \
  "smlad r8, r4, r12, r8\n\t"              \
  "smlad r9, r5, r12, r9\n\t"              \
  "smlad r10, r4, lr, r10\n\t"             \
  "smlad r11, r5, lr, r11\n\t"
#define TM_PW_GROUP8_BYTES "56"

/* int8 weights and plain bias: the accumulators are doubled for tm_rq_fast (int16 weights and their
 * bias are stored doubled instead). */
#define TM_PW_DOUBLE "lsl r8, r8, #1\n\tlsl r9, r9, #1\n\tlsl r10, r10, #1\n\tlsl r11, r11, #1\n\t"

/* Hand-scheduled for Cortex-M4/M7 (AAPCS; all 14 usable registers): GROUP per four K, no loop
 * counter — the K loop is unrolled 16 groups deep (every instruction 32-bit: GROUP_BYTES a group) and
 * entered part-way so that the first pass runs ((groups - 1) % 16) + 1 groups; further passes of 16
 * are counted on the stack. int16 weights: 10 instructions per 16 MACs; int8: 14. The frame holds
 * [0] x, [4] passes - 1, [8] entry | 1, [12] q_end, [16] out, [20] out1_off, [24] q, [28] passes left. */
#define TM_CONV_PACK_ASM(name, GROUP, GROUP_BYTES, DOUBLE)                 \
  __attribute__((naked, noinline)) static void name(const tm_conv_job_t *job) { \
    __asm__ volatile(                                                     \
        "push {r4-r11, lr}\n\t"                                           \
        "sub sp, sp, #32\n\t"                                             \
        "ldr r2, [r0, #4]\n\t"                                            \
        "sub r3, r2, #1\n\t"                                              \
        "lsr r4, r3, #4\n\t"                                              \
        "and r3, r3, #15\n\t"                                             \
        "rsb r3, r3, #15\n\t"                                             \
        "movs r5, #" GROUP_BYTES "\n\t"                                   \
        "mul r3, r3, r5\n\t"                                              \
        "adr r5, 2f\n\t"                                                  \
        "bic r5, r5, #1\n\t"                                              \
        "add r3, r3, r5\n\t"                                              \
        "orr r3, r3, #1\n\t"                                              \
        "ldr r5, [r0, #0]\n\t"                                            \
        "strd r5, r4, [sp, #0]\n\t"                                       \
        "str r3, [sp, #8]\n\t"                                            \
        "ldr r5, [r0, #16]\n\t"                                           \
        "str r5, [sp, #12]\n\t"                                           \
        "ldrd r5, r6, [r0, #20]\n\t"                                      \
        "strd r5, r6, [sp, #16]\n\t"                                      \
        "ldr r1, [r0, #8]\n\t"                                            \
        "ldr lr, [r0, #12]\n\t"                                           \
        "1:\n\t"                                                          \
        "ldrd r8, r10, [lr], #8\n\t"                                      \
        "mov r9, r8\n\t"                                                  \
        "mov r11, r10\n\t"                                                \
        "str lr, [sp, #24]\n\t"                                           \
        "ldrd r0, r2, [sp, #0]\n\t"                                       \
        "str r2, [sp, #28]\n\t"                                           \
        "ldr pc, [sp, #8]\n\t"                                            \
        ".p2align 2\n"                                                    \
        "2:\n\t"                                                          \
        ".rept 16\n\t" GROUP ".endr\n\t"                                  \
        "ldr r2, [sp, #28]\n\t"                                           \
        "subs r2, r2, #1\n\t"                                             \
        "str r2, [sp, #28]\n\t"                                           \
        "bpl 2b\n\t"                                                      \
        DOUBLE                                                            \
        "ldr lr, [sp, #24]\n\t"                                           \
        "ldmia lr!, {r2, r3, r4, r5, r6}\n\t" /* mult0 add0 mult1 add1 shifts */ \
        "add r7, r3, r8, asr #31\n\t"                                     \
        "smmlar r8, r8, r2, r7\n\t"                                       \
        "add r7, r3, r9, asr #31\n\t"                                     \
        "smmlar r9, r9, r2, r7\n\t"                                       \
        "add r7, r5, r10, asr #31\n\t"                                    \
        "smmlar r10, r10, r4, r7\n\t"                                     \
        "add r7, r5, r11, asr #31\n\t"                                    \
        "smmlar r11, r11, r4, r7\n\t"                                     \
        "asr r8, r8, r6\n\t"                                              \
        "asr r9, r9, r6\n\t"                                              \
        "lsr r6, r6, #8\n\t"                                              \
        "asr r10, r10, r6\n\t"                                            \
        "asr r11, r11, r6\n\t"                                            \
        "ssat r8, #8, r8\n\t"                                             \
        "ssat r9, #8, r9\n\t"                                             \
        "ssat r10, #8, r10\n\t"                                           \
        "ssat r11, #8, r11\n\t"                                           \
        "ldrd r2, r3, [sp, #16]\n\t"                                      \
        "strb r9, [r2, r3]\n\t"                                           \
        "strb r8, [r2], #1\n\t"                                           \
        "strb r11, [r2, r3]\n\t"                                          \
        "strb r10, [r2], #1\n\t"                                          \
        "str r2, [sp, #16]\n\t"                                           \
        "ldr r3, [sp, #12]\n\t"                                           \
        "cmp lr, r3\n\t"                                                  \
        "bne 1b\n\t"                                                      \
        "add sp, sp, #32\n\t"                                             \
        "pop {r4-r11, pc}\n\t");                                          \
  }

TM_CONV_PACK_ASM(conv_pack_asm, TM_PW_GROUP16, TM_PW_GROUP16_BYTES, "")
TM_CONV_PACK_ASM(conv_pack8_asm, TM_PW_GROUP8, TM_PW_GROUP8_BYTES, TM_PW_DOUBLE)
#endif

/* One group's channels (all of them when dense): K = kp values of the pair buffer x against the
 * group's weights w, its packed constants q and outputs out. */
static void conv_packed_group(const tm_conv_t *p, const int16_t *x, const void *w, const int32_t *q, int out_c,
                              int kp, int8_t *out, int32_t out1_off) {
#if TM_USE_DSP
  const tm_conv_job_t job = {x, (uint32_t)kp / 4u, w, q, q + TM_CONV_PACK * (out_c / 2), out, out1_off};
  if (p->wide) {
    conv_pack_asm(&job);
  } else {
    conv_pack8_asm(&job);
  }
#else
  const int x2_shift = p->acc_x2 ? 0 : 1;
  for (int c = 0; c < out_c; c += 2, q += TM_CONV_PACK) {
    acc4_t s = {q[0], q[0], q[1], q[1]};
    if (p->wide) {
      s = dot_w16((const int16_t *)w + (size_t)c * kp, x, kp, s);
    } else {
      s = dot_w8((const int8_t *)w + (size_t)c * kp, x, kp, s);
    }
    const int r0 = q[6] & 0xff, r1 = (q[6] >> 8) & 0xff;
    out[c + out1_off] = (int8_t)tm_ssat8(tm_rq_fast((int32_t)((uint32_t)s.s01 << x2_shift), q[2], r0, q[3]));
    out[c] = (int8_t)tm_ssat8(tm_rq_fast((int32_t)((uint32_t)s.s00 << x2_shift), q[2], r0, q[3]));
    out[c + 1 + out1_off] = (int8_t)tm_ssat8(tm_rq_fast((int32_t)((uint32_t)s.s11 << x2_shift), q[4], r1, q[5]));
    out[c + 1] = (int8_t)tm_ssat8(tm_rq_fast((int32_t)((uint32_t)s.s10 << x2_shift), q[4], r1, q[5]));
  }
#endif
}

/* The packed fast path, group by group: group g reads K values g * kp .. of the pair buffer (two
 * pixels' four K take 8 int16 values, so they start at x + 2 * g * kp). */
static void conv_packed(const tm_conv_t *p, const int16_t *x, int8_t *out, int32_t out1_off) {
  const int groups = p->groups > 1 ? p->groups : 1;
  const int kp = p->k_padded / groups, out_c = p->out_c / groups;
  const size_t w_step = (size_t)out_c * kp * (p->wide ? sizeof(int16_t) : sizeof(int8_t));
  for (int g = 0; g < groups; ++g) {
    conv_packed_group(p, x + (size_t)2 * g * kp, (const int8_t *)p->weights + g * w_step,
                      p->pack + (size_t)TM_CONV_PACK * (out_c / 2) * g, out_c, kp, out + g * out_c, out1_off);
  }
}

/* All output channels of the two pixels in the pair buffer x (out1 NULL: only one pixel). */
static void conv_pair(const tm_conv_t *p, const int16_t *x, int8_t *out0, int8_t *out1) {
  const int kp = p->k_padded;
  const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
  const int32_t *bias = p->bias, *mult = p->rq.mult;
  const int8_t *shift = p->rq.shift;
  const int x2_shift = p->acc_x2 ? 0 : 1;
  const int full_range = lo == -128 && hi == 127;
  for (int c = 0; c < p->out_c; c += 2) {
    const int c1 = c + 1 < p->out_c ? c + 1 : c; /* odd channel count: the last pair repeats c */
    acc4_t s = {bias[c], bias[c], bias[c1], bias[c1]};
    if (p->wide) {
      s = dot_w16((const int16_t *)p->weights + (size_t)c * kp, x, kp, s);
    } else {
      s = dot_w8((const int8_t *)p->weights + (size_t)c * kp, x, kp, s);
    }
    if (p->rq.fast) {
      const int32_t m0 = mult[c], m1 = mult[c1], a0 = p->rq.add[c], a1 = p->rq.add[c1];
      const int r0 = shift[c], r1 = shift[c1];
      const int32_t v00 = tm_rq_fast((int32_t)((uint32_t)s.s00 << x2_shift), m0, r0, a0);
      const int32_t v10 = tm_rq_fast((int32_t)((uint32_t)s.s10 << x2_shift), m1, r1, a1);
      const int32_t v01 = tm_rq_fast((int32_t)((uint32_t)s.s01 << x2_shift), m0, r0, a0);
      const int32_t v11 = tm_rq_fast((int32_t)((uint32_t)s.s11 << x2_shift), m1, r1, a1);
      if (full_range) {
        out0[c] = (int8_t)tm_ssat8(v00);
        out0[c1] = (int8_t)tm_ssat8(v10);
        if (out1 != NULL) {
          out1[c] = (int8_t)tm_ssat8(v01);
          out1[c1] = (int8_t)tm_ssat8(v11);
        }
      } else {
        out0[c] = tm_clamp8(v00, lo, hi);
        out0[c1] = tm_clamp8(v10, lo, hi);
        if (out1 != NULL) {
          out1[c] = tm_clamp8(v01, lo, hi);
          out1[c1] = tm_clamp8(v11, lo, hi);
        }
      }
    } else {
      out0[c] = tm_clamp8(tm_mbqm(s.s00, mult[c], shift[c]) + zp, lo, hi);
      out0[c1] = tm_clamp8(tm_mbqm(s.s10, mult[c1], shift[c1]) + zp, lo, hi);
      if (out1 != NULL) {
        out1[c] = tm_clamp8(tm_mbqm(s.s01, mult[c], shift[c]) + zp, lo, hi);
        out1[c1] = tm_clamp8(tm_mbqm(s.s11, mult[c1], shift[c1]) + zp, lo, hi);
      }
    }
  }
}

/* The pixel-pair loop of tm_conv_s8 (add NULL: the outputs go to out) and tm_conv_add_s8 (each
 * pair's outputs go to the pair buffer, then their sums with the residual to out). */
static void conv_pixels(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch, const tm_add_t *add,
                        int conv_is_in1, const int8_t *residual) {
  int16_t *x = (int16_t *)(void *)scratch;
  int8_t *pair = scratch + tm_align4(tm_conv_scratch(p));
  const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                        p->pad_top == 0 && p->pad_left == 0 && (p->in_c & 3) == 0;
  const int pixels = p->out_h * p->out_w;
  /* Both pixels are widened before any output is written: with in == out (pointwise,
   * out_c <= in_c) the outputs of pixels n, n+1 only overwrite input bytes of pixels <= n+1. */
  for (int n = 0; n < pixels; n += 2) {
    const int m = n + 1 < pixels ? n + 1 : n; /* odd pixel count: the last pair repeats n */
    if (pointwise) {
      widen_pair(in + (size_t)n * p->in_c, in + (size_t)m * p->in_c, x, p->in_c);
    } else {
      int8_t *r0 = scratch + (size_t)2 * p->k_padded * sizeof(int16_t);
      int8_t *r1 = r0 + p->k_padded;
      im2col_row(p, in, n, r0);
      im2col_row(p, in, m, r1);
      widen_pair(r0, r1, x, p->k_padded);
    }
    const size_t at = (size_t)n * p->out_c;
    int8_t *dst = add != NULL ? pair : out + at;
    if (p->pack != NULL) {
      conv_packed(p, x, dst, m != n ? p->out_c : 0);
    } else {
      conv_pair(p, x, dst, m != n ? dst + p->out_c : NULL);
    }
    if (add != NULL) {
      const uint32_t count = (uint32_t)(m != n ? 2 : 1) * p->out_c;
      tm_add_n_s8(add, conv_is_in1 ? pair : residual + at, conv_is_in1 ? residual + at : pair, out + at, count);
    }
  }
}

void tm_conv_s8(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch) {
  conv_pixels(p, in, out, scratch, NULL, 0, NULL);
}

void tm_conv_add_s8(const tm_conv_t *p, const tm_add_t *add, int conv_is_in1, const int8_t *in,
                    const int8_t *residual, int8_t *out, int8_t *scratch) {
  conv_pixels(p, in, out, scratch, add, conv_is_in1, residual);
}
