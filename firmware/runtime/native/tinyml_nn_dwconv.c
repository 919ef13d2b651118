/* tinyml native runtime: DEPTHWISE_CONV_2D, optionally in place.
 *
 * For each output pixel the kernel taps are resolved to row pointers once; a tap outside the
 * input points at a row filled with the input zero point, which contributes exactly what TFLM's
 * skipped tap does once the zero point is folded into the bias. In place (stride 1, equal shapes),
 * finished output rows wait in scratch until no later output row reads the input row they replace.
 * Packed 3x3 layers at stride 1 or 2 with enough output pixels take the planar path instead
 * (tinyml_nn_plane.c; the generator's choice, tinyml/native/plane.py). */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

#define TM_MAX_TAPS 64

static size_t zp_row_bytes(const tm_dwconv_t *p) { return tm_align4(p->in_c); }
static size_t out_row_bytes(const tm_dwconv_t *p) { return (size_t)p->out_w * p->out_c; }

size_t tm_dwconv_scratch(const tm_dwconv_t *p, int in_place) {
  if (p->planar) return tm_dwconv_plane_scratch(p);
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

typedef struct {
  const int8_t *const *taps; /* +0  the pixel's nine tap pointers */
  const int16_t *w;          /* +4  */
  const int32_t *q;          /* +8  packed constants */
  int8_t *out;               /* +12 */
  int8_t *out_end;           /* +16 */
} tm_dw_job_t;

/* One tap: the tap's input pointer at a constant offset in taps[], one word of four channels, SXTB16
 * into (c0, c2) and (c1, c3), one LDRD of the four weights, four 16x16 multiply-accumulates. */
#define TM_DW_TAP(T)              \
  "ldr r5, [r0, #" #T " * 4]\n\t" \
  "ldr r6, [r5, r1]\n\t"          \
  "ldrd r12, lr, [r2], #8\n\t"    \
  "sxtb16 r7, r6\n\t"             \
  "sxtb16 r6, r6, ror #8\n\t"     \
  "smlabb r8, r7, r12, r8\n\t"    \
  "smlatt r10, r7, r12, r10\n\t"  \
  "smlabb r9, r6, lr, r9\n\t"     \
  "smlatt r11, r6, lr, r11\n\t"

/* One pixel of a packed 3x3 layer, hand-scheduled (AAPCS; all 14 usable registers): per group of
 * four channels one LDM of the biases into the accumulators (r8-r11), nine TM_DW_TAPs, then
 * tm_rq_fast on each channel with its (mult, add) pair (two LDMs) and its shift byte, SSAT, STRB.
 * r0 taps, r1 channel byte offset, r2 weights, r3 constants, r4 out; the frame holds out_end. */
__attribute__((naked, noinline)) static void pixel3x3_pack_asm(const tm_dw_job_t *job) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "sub sp, sp, #8\n\t"
      "ldr r5, [r0, #16]\n\t"
      "str r5, [sp, #0]\n\t"
      "ldr r2, [r0, #4]\n\t"
      "ldr r3, [r0, #8]\n\t"
      "ldr r4, [r0, #12]\n\t"
      "ldr r0, [r0, #0]\n\t"
      "movs r1, #0\n\t"
      "1:\n\t"
      "ldmia r3!, {r8, r9, r10, r11}\n\t"
      TM_DW_TAP(0) TM_DW_TAP(1) TM_DW_TAP(2) TM_DW_TAP(3) TM_DW_TAP(4) TM_DW_TAP(5) TM_DW_TAP(6)
      TM_DW_TAP(7) TM_DW_TAP(8)
      "ldmia r3!, {r5, r6, r7, r12}\n\t" /* mult0 add0 mult1 add1 */
      "add r6, r6, r8, asr #31\n\t"
      "smmlar r8, r8, r5, r6\n\t"
      "add r12, r12, r9, asr #31\n\t"
      "smmlar r9, r9, r7, r12\n\t"
      "ldmia r3!, {r5, r6, r7, r12}\n\t" /* mult2 add2 mult3 add3 */
      "add r6, r6, r10, asr #31\n\t"
      "smmlar r10, r10, r5, r6\n\t"
      "add r12, r12, r11, asr #31\n\t"
      "smmlar r11, r11, r7, r12\n\t"
      "ldr r5, [r3], #4\n\t" /* shifts */
      "asr r8, r8, r5\n\t"
      "lsr r5, r5, #8\n\t"
      "asr r9, r9, r5\n\t"
      "lsr r5, r5, #8\n\t"
      "asr r10, r10, r5\n\t"
      "lsr r5, r5, #8\n\t"
      "asr r11, r11, r5\n\t"
      "ssat r8, #8, r8\n\t"
      "ssat r9, #8, r9\n\t"
      "ssat r10, #8, r10\n\t"
      "ssat r11, #8, r11\n\t"
      "strb r8, [r4], #1\n\t"
      "strb r9, [r4], #1\n\t"
      "strb r10, [r4], #1\n\t"
      "strb r11, [r4], #1\n\t"
      "adds r1, r1, #4\n\t"
      "ldr r5, [sp, #0]\n\t"
      "cmp r4, r5\n\t"
      "bne 1b\n\t"
      "add sp, sp, #8\n\t"
      "pop {r4-r11, pc}\n\t");
}
#endif

/* A packed layer's pixel: four channels at a time, accumulators from the packed doubled biases. */
static void pixel_packed(const tm_dwconv_t *p, const int8_t *const *taps, int ntaps, int8_t *out) {
  const int16_t *w = p->weights;
  const int32_t *q = p->pack;
#if TM_USE_DSP
  if (ntaps == 9) {
    const tm_dw_job_t job = {taps, w, q, out, out + p->out_c};
    pixel3x3_pack_asm(&job);
    return;
  }
#endif
  for (int c = 0; c < p->out_c; c += 4, w += 4 * ntaps, q += TM_DWCONV_PACK) {
    int32_t acc[4] = {q[0], q[1], q[2], q[3]};
#if TM_USE_DSP
    acc4_t s = {acc[0], acc[1], acc[2], acc[3]};
    s = group_fast(taps, ntaps, w, c, s);
    acc[0] = s.a0;
    acc[1] = s.a1;
    acc[2] = s.a2;
    acc[3] = s.a3;
#else
    for (int t = 0; t < ntaps; ++t) {
      for (int j = 0; j < 4; ++j) acc[j] += taps[t][c + j] * w[4 * t + tm_ilv(j)];
    }
#endif
    for (int j = 0; j < 4; ++j) {
      const int r = (int)(((uint32_t)q[12] >> (8 * j)) & 0xffu);
      out[c + j] = (int8_t)tm_ssat8(tm_rq_fast(acc[j], q[4 + 2 * j], r, q[5 + 2 * j]));
    }
  }
}

/* One output pixel: taps[t] points at the input pixel under tap t (or the zero-point row). */
static void pixel(const tm_dwconv_t *p, const int8_t *const *taps, int ntaps, int8_t *out) {
  if (p->pack != NULL) {
    pixel_packed(p, taps, ntaps, out);
    return;
  }
#if TM_USE_DSP
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
  if (p->planar) {
    tm_dwconv_planar(p, in, out, (int16_t *)(void *)scratch);
    return;
  }
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

void tm_pw_dw_s8(const tm_conv_t *pw, const tm_dwconv_t *dw, const int8_t *in, int8_t *out, int8_t *scratch) {
  const int span = (dw->k_h - 1) * dw->dil_h + 1; /* pointwise rows one depthwise output row reads */
  const size_t row = (size_t)dw->in_w * dw->in_c, in_row = (size_t)pw->in_w * pw->in_c;
  int8_t *window = scratch;
  int8_t *pw_scratch = window + tm_align4((size_t)span * row);
  int8_t *dw_scratch = pw_scratch + tm_align4(tm_conv_scratch(pw));
  tm_conv_t band = *pw;
  tm_dwconv_t one = *dw;
  one.planar = 0u;
  one.out_h = 1u;
  int lo = 0, hi = 0; /* the window holds pointwise rows [lo, hi) */
  for (int v = 0; v < dw->out_h; ++v) {
    const int first = v * dw->stride_h - dw->pad_top; /* the rows output row v reads: [first, first + span) */
    const int need_lo = first > 0 ? first : 0;
    const int need_hi = first + span < dw->in_h ? first + span : dw->in_h;
    if (need_lo >= hi) {
      lo = hi = need_lo;
    } else if (need_lo > lo) {
      memmove(window, window + (size_t)(need_lo - lo) * row, (size_t)(hi - need_lo) * row);
      lo = need_lo;
    }
    if (need_hi > hi) {
      band.in_h = band.out_h = (uint16_t)(need_hi - hi);
      tm_conv_s8(&band, in + (size_t)hi * in_row, window + (size_t)(hi - lo) * row, pw_scratch);
      hi = need_hi;
    }
    one.in_h = (uint16_t)(hi - lo);
    one.pad_top = (uint8_t)(lo - first);
    tm_dwconv_s8(&one, window, out + (size_t)v * out_row_bytes(dw), dw_scratch);
  }
}
