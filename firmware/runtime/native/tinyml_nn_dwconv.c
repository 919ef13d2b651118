/* tinyml native runtime: DEPTHWISE_CONV_2D, optionally in place.
 *
 * For each output pixel the kernel taps are resolved to row pointers once; a tap outside the
 * input points at a row filled with the input zero point, which contributes exactly what TFLM's
 * skipped tap does once the zero point is folded into the bias. In place (stride 1, equal shapes),
 * finished output rows wait in scratch until no later output row reads the input row they replace. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

#define TM_MAX_TAPS 64

static size_t zp_row_bytes(const tm_dwconv_t *p) { return ((size_t)p->in_c + 3u) & ~(size_t)3u; }
static size_t out_row_bytes(const tm_dwconv_t *p) { return (size_t)p->out_w * p->out_c; }

size_t tm_dwconv_scratch(const tm_dwconv_t *p, int in_place) {
  size_t n = zp_row_bytes(p);
  if (in_place) n += (size_t)(p->pad_top + 1) * out_row_bytes(p);
  return n;
}

static inline int8_t requant(int32_t acc, const tm_dwconv_t *p, int c) {
  if (p->rq.fast) {
    return tm_clamp8(tm_rq_fast(p->acc_x2 ? acc : acc * 2, p->rq.mult[c], p->rq.shift[c], p->rq.add[c]), p->act_min,
                     p->act_max);
  }
  return tm_clamp8(tm_mbqm(acc, p->rq.mult[c], p->rq.shift[c]) + p->out_zp, p->act_min, p->act_max);
}

#if TM_USE_DSP
typedef struct {
  int32_t a0, a1, a2, a3;
} acc4_t;

/* Four channels of one pixel: weights w are this group's [tap][4] (interleaved), 8 bytes per tap. */
/* One tap of a 3x3 group in assembly: the tap's input pointer at a constant offset in taps[], one
 * word of four channels, SXTB16 into (c0, c2) and (c1, c3), one LDRD of the four weights, four
 * 16x16 multiply-accumulates: 9 instructions (C leaves GCC short of registers and it spills). */
#define TM_DW_TAP(T)                          \
  "ldr %[p], [%[taps], #(" #T " * 4)]\n\t"   \
  "ldr %[x], [%[p], %[c]]\n\t"               \
  "ldrd %[we], %[wo], [%[w]], #8\n\t"        \
  "sxtb16 %[xe], %[x]\n\t"                   \
  "sxtb16 %[x], %[x], ror #8\n\t"            \
  "smlabb %[a0], %[xe], %[we], %[a0]\n\t"    \
  "smlatt %[a2], %[xe], %[we], %[a2]\n\t"    \
  "smlabb %[a1], %[x], %[wo], %[a1]\n\t"     \
  "smlatt %[a3], %[x], %[wo], %[a3]\n\t"

static inline acc4_t group_fast(const int8_t *const *taps, int ntaps, const int16_t *w, int c, acc4_t s) {
  int32_t a0 = s.a0, a1 = s.a1, a2 = s.a2, a3 = s.a3;
  const uint32_t *wp = (const uint32_t *)(const void *)w;
  for (int t = 0; t < ntaps; ++t, wp += 2) {
    const uint32_t x = tm_load32(taps[t] + c);
    const uint32_t xe = tm_sxtb16(x), xo = tm_sxtb16_ror8(x);
    const uint32_t we = wp[0], wo = wp[1];
    a0 = tm_smlabb(xe, we, a0);
    a2 = tm_smlatt(xe, we, a2);
    a1 = tm_smlabb(xo, wo, a1);
    a3 = tm_smlatt(xo, wo, a3);
  }
  s.a0 = a0;
  s.a1 = a1;
  s.a2 = a2;
  s.a3 = a3;
  return s;
}

static inline int8_t out_fast(int32_t acc2, int32_t mult, int r, int32_t add) {
  return (int8_t)tm_ssat8(tm_rq_fast(acc2, mult, r, add));
}

/* The common fast case (depth multiplier 1, channels a multiple of 4, doubled int16 weights, fast
 * requantization, no clamp beyond int8), four channels at a time; 3x3 kernels fully unrolled. */
static void pixel_fast(const int8_t *const *taps, int ntaps, const int16_t *w, int channels, const int32_t *bias,
                       const int32_t *mult, const int8_t *shift, const int32_t *add, int8_t *out) {
  for (int c = 0; c < channels; c += 4, w += 4 * ntaps) {
    int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
    if (ntaps == 9) {
      const int16_t *wp = w;
      const int8_t *p;
      uint32_t x, xe, we, wo;
      __asm__ volatile(TM_DW_TAP(0) TM_DW_TAP(1) TM_DW_TAP(2) TM_DW_TAP(3) TM_DW_TAP(4) TM_DW_TAP(5) TM_DW_TAP(6)
                           TM_DW_TAP(7) TM_DW_TAP(8)
                       : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(wp), [p] "=&r"(p),
                         [x] "=&r"(x), [xe] "=&r"(xe), [we] "=&r"(we), [wo] "=&r"(wo)
                       : [taps] "r"(taps), [c] "r"(c)
                       : "memory");
    } else {
      acc4_t s = {a0, a1, a2, a3};
      s = group_fast(taps, ntaps, w, c, s);
      a0 = s.a0;
      a1 = s.a1;
      a2 = s.a2;
      a3 = s.a3;
    }
    out[c] = out_fast(a0, mult[c], shift[c], add[c]);
    out[c + 1] = out_fast(a1, mult[c + 1], shift[c + 1], add[c + 1]);
    out[c + 2] = out_fast(a2, mult[c + 2], shift[c + 2], add[c + 2]);
    out[c + 3] = out_fast(a3, mult[c + 3], shift[c + 3], add[c + 3]);
  }
}
#endif

/* One output pixel: taps[t] points at the input pixel under tap t (or the zero-point row). */
static void pixel(const tm_dwconv_t *p, const int8_t *const *taps, int ntaps, int8_t *out) {
#if TM_USE_DSP
  if (p->depth_mult == 1 && (p->in_c & 3) == 0 && p->acc_x2 && p->rq.fast && p->act_min == -128 &&
      p->act_max == 127) {
    pixel_fast(taps, ntaps, p->weights, p->out_c, p->bias, p->rq.mult, p->rq.shift, p->rq.add, out);
    return;
  }
  if (p->depth_mult == 1 && (p->in_c & 3) == 0) {
    const int16_t *w = p->weights;
    for (int c = 0; c < p->out_c; c += 4, w += 4 * ntaps) {
      acc4_t s = {p->bias[c], p->bias[c + 1], p->bias[c + 2], p->bias[c + 3]};
      s = group_fast(taps, ntaps, w, c, s);
      out[c] = requant(s.a0, p, c);
      out[c + 1] = requant(s.a1, p, c + 1);
      out[c + 2] = requant(s.a2, p, c + 2);
      out[c + 3] = requant(s.a3, p, c + 3);
    }
    return;
  }
#endif
  for (int c = 0; c < p->out_c; ++c) {
    const int ic = c / p->depth_mult;
    const int16_t *w = p->weights + (size_t)(c >> 2) * 4 * ntaps + tm_ilv(c & 3);
    int32_t acc = p->bias[c];
    for (int t = 0; t < ntaps; ++t) acc += taps[t][ic] * w[4 * t];
    out[c] = requant(acc, p, c);
  }
}

void tm_dwconv_s8(const tm_dwconv_t *p, const int8_t *in, int8_t *out, int8_t *scratch) {
  const int8_t *taps[TM_MAX_TAPS];
  const int ntaps = p->k_h * p->k_w;
  int8_t *zp_row = scratch;
  memset(zp_row, p->in_zp, zp_row_bytes(p));
  const int in_place = in == out;
  const int ring = p->pad_top + 1;
  const size_t row_bytes = out_row_bytes(p);
  int8_t *rows = scratch + zp_row_bytes(p);
  for (int oy = 0; oy < p->out_h; ++oy) {
    int8_t *dst = in_place ? rows + (size_t)(oy % ring) * row_bytes : out + (size_t)oy * row_bytes;
    if (in_place && oy >= ring) {  /* input row oy - ring is read by no output row >= oy */
      memcpy(out + (size_t)(oy - ring) * row_bytes, dst, row_bytes);
    }
    for (int ox = 0; ox < p->out_w; ++ox) {
      int t = 0;
      for (int ky = 0; ky < p->k_h; ++ky) {
        const int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
        for (int kx = 0; kx < p->k_w; ++kx, ++t) {
          const int ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
          const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
          taps[t] = inside ? in + ((size_t)iy * p->in_w + ix) * p->in_c : zp_row;
        }
      }
      pixel(p, taps, ntaps, dst + (size_t)ox * p->out_c);
    }
  }
  if (in_place) {
    const int first = p->out_h > ring ? p->out_h - ring : 0;
    for (int oy = first; oy < p->out_h; ++oy) {
      memcpy(out + (size_t)oy * row_bytes, rows + (size_t)(oy % ring) * row_bytes, row_bytes);
    }
  }
}
