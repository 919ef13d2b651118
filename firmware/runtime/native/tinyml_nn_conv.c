/* tinyml native runtime: CONV_2D and FULLY_CONNECTED (see tinyml_nn.h for the layouts).
 *
 * A convolution is a matrix product over output pixels taken two at a time: each pixel's
 * receptive field (its im2col row, padded taps reading the input zero point) is widened to int16 in
 * the interleaved order once, then every output channel is a dot product with its weight row. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

size_t tm_conv_scratch(const tm_conv_t *p) { return (size_t)2 * p->k_padded * sizeof(int16_t); }

/* Widen n int8 values (n a multiple of 4) to int16 in interleaved order. */
static void widen_row(const int8_t *src, int16_t *dst, int n) {
#if TM_USE_DSP
  for (int j = 0; j < n; j += 4) {
    const uint32_t w = tm_load32(src + j);
    tm_store32(dst + j, tm_sxtb16(w));
    tm_store32(dst + j + 2, tm_sxtb16_ror8(w));
  }
#else
  for (int j = 0; j < n; ++j) dst[tm_ilv(j)] = src[j];
#endif
}

/* The im2col row of output pixel (oy, ox), widened and interleaved, K padded with zeros. */
static void im2col_row(const tm_conv_t *p, const int8_t *in, int oy, int ox, int16_t *dst) {
  const int k = p->k_h * p->k_w * p->in_c;
  int j = 0;
  for (int ky = 0; ky < p->k_h; ++ky) {
    const int iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
    for (int kx = 0; kx < p->k_w; ++kx) {
      const int ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
      if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
        for (int c = 0; c < p->in_c; ++c, ++j) dst[tm_ilv(j)] = p->in_zp;
      } else {
        const int8_t *src = in + ((size_t)iy * p->in_w + ix) * p->in_c;
        for (int c = 0; c < p->in_c; ++c, ++j) dst[tm_ilv(j)] = src[c];
      }
    }
  }
  for (; j < p->k_padded; ++j) dst[tm_ilv(j)] = 0;
  (void)k;
}

static inline int8_t requant(int32_t acc, const tm_requant_t *rq, int c, int32_t zp, int32_t lo, int32_t hi) {
  return tm_clamp8(tm_mbqm(acc, rq->mult[c], rq->shift[c]) + zp, lo, hi);
}

/* Dot products of two output channels' weight rows with two pixels' widened rows. */
typedef struct {
  int32_t s00, s01, s10, s11;
} acc4_t;

static acc4_t dot2x2_w16(const int16_t *w0, const int16_t *w1, const int16_t *a0, const int16_t *a1, int kp,
                         acc4_t s) {
#if TM_USE_DSP
  for (int j = 0; j < kp; j += 4) {
    uint64_t x0, x1, v0, v1;
    memcpy(&x0, a0 + j, 8);
    memcpy(&x1, a1 + j, 8);
    memcpy(&v0, w0 + j, 8);
    memcpy(&v1, w1 + j, 8);
    s.s00 = tm_smlad((uint32_t)x0, (uint32_t)v0, s.s00);
    s.s00 = tm_smlad((uint32_t)(x0 >> 32), (uint32_t)(v0 >> 32), s.s00);
    s.s01 = tm_smlad((uint32_t)x1, (uint32_t)v0, s.s01);
    s.s01 = tm_smlad((uint32_t)(x1 >> 32), (uint32_t)(v0 >> 32), s.s01);
    s.s10 = tm_smlad((uint32_t)x0, (uint32_t)v1, s.s10);
    s.s10 = tm_smlad((uint32_t)(x0 >> 32), (uint32_t)(v1 >> 32), s.s10);
    s.s11 = tm_smlad((uint32_t)x1, (uint32_t)v1, s.s11);
    s.s11 = tm_smlad((uint32_t)(x1 >> 32), (uint32_t)(v1 >> 32), s.s11);
  }
#else
  for (int j = 0; j < kp; ++j) {
    s.s00 += a0[j] * w0[j];
    s.s01 += a1[j] * w0[j];
    s.s10 += a0[j] * w1[j];
    s.s11 += a1[j] * w1[j];
  }
#endif
  return s;
}

static acc4_t dot2x2_w8(const int8_t *w0, const int8_t *w1, const int16_t *a0, const int16_t *a1, int kp,
                        acc4_t s) {
#if TM_USE_DSP
  for (int j = 0; j < kp; j += 4) {
    uint64_t x0, x1;
    memcpy(&x0, a0 + j, 8);
    memcpy(&x1, a1 + j, 8);
    const uint32_t b0 = tm_load32(w0 + j), b1 = tm_load32(w1 + j);
    const uint32_t e0 = tm_sxtb16(b0), o0 = tm_sxtb16_ror8(b0), e1 = tm_sxtb16(b1), o1 = tm_sxtb16_ror8(b1);
    s.s00 = tm_smlad((uint32_t)x0, e0, s.s00);
    s.s00 = tm_smlad((uint32_t)(x0 >> 32), o0, s.s00);
    s.s01 = tm_smlad((uint32_t)x1, e0, s.s01);
    s.s01 = tm_smlad((uint32_t)(x1 >> 32), o0, s.s01);
    s.s10 = tm_smlad((uint32_t)x0, e1, s.s10);
    s.s10 = tm_smlad((uint32_t)(x0 >> 32), o1, s.s10);
    s.s11 = tm_smlad((uint32_t)x1, e1, s.s11);
    s.s11 = tm_smlad((uint32_t)(x1 >> 32), o1, s.s11);
  }
#else
  for (int j = 0; j < kp; ++j) {
    const int i = tm_ilv(j);
    s.s00 += a0[i] * w0[j];
    s.s01 += a1[i] * w0[j];
    s.s10 += a0[i] * w1[j];
    s.s11 += a1[i] * w1[j];
  }
#endif
  return s;
}

/* Output channels for two pixels whose widened rows are a0, a1 (a1 may equal a0; out1 NULL then). */
static void dot_rows(const tm_conv_t *p, const int16_t *a0, const int16_t *a1, int8_t *out0, int8_t *out1) {
  const int kp = p->k_padded;
  const int32_t zp = p->out_zp, lo = p->act_min, hi = p->act_max;
  for (int c = 0; c < p->out_c; c += 2) {
    const int c1 = c + 1 < p->out_c ? c + 1 : c; /* odd channel count: the last pair repeats c */
    acc4_t s = {p->bias[c], p->bias[c], p->bias[c1], p->bias[c1]};
    if (p->wide) {
      const int16_t *w = (const int16_t *)p->weights;
      s = dot2x2_w16(w + (size_t)c * kp, w + (size_t)c1 * kp, a0, a1, kp, s);
    } else {
      const int8_t *w = (const int8_t *)p->weights;
      s = dot2x2_w8(w + (size_t)c * kp, w + (size_t)c1 * kp, a0, a1, kp, s);
    }
    out0[c] = requant(s.s00, &p->rq, c, zp, lo, hi);
    out0[c1] = requant(s.s10, &p->rq, c1, zp, lo, hi);
    if (out1 != NULL) {
      out1[c] = requant(s.s01, &p->rq, c, zp, lo, hi);
      out1[c1] = requant(s.s11, &p->rq, c1, zp, lo, hi);
    }
  }
}

void tm_conv_s8(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch) {
  int16_t *row0 = (int16_t *)(void *)scratch;
  int16_t *row1 = row0 + p->k_padded;
  const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                        p->pad_top == 0 && p->pad_left == 0 && (p->in_c & 3) == 0;
  const int pixels = p->out_h * p->out_w;
  /* Both rows are widened before any output is written: with in == out (pointwise, out_c <= in_c)
   * the outputs of pixels n, n+1 only overwrite input bytes of pixels <= n+1. */
  for (int n = 0; n < pixels; n += 2) {
    const int pair = n + 1 < pixels;
    if (pointwise) {
      widen_row(in + (size_t)n * p->in_c, row0, p->in_c);
      if (pair) widen_row(in + (size_t)(n + 1) * p->in_c, row1, p->in_c);
    } else {
      im2col_row(p, in, n / p->out_w, n % p->out_w, row0);
      if (pair) im2col_row(p, in, (n + 1) / p->out_w, (n + 1) % p->out_w, row1);
    }
    dot_rows(p, row0, pair ? row1 : row0, out + (size_t)n * p->out_c,
             pair ? out + (size_t)(n + 1) * p->out_c : NULL);
  }
}

void tm_fc_s8(const tm_fc_t *p, const int8_t *in, int8_t *out) {
  for (int c = 0; c < p->out_c; ++c) {
    const int8_t *w = p->weights + (size_t)c * p->k_padded;
    int32_t acc = p->bias[c];
    for (int j = 0; j < p->in_c; ++j) acc += in[j] * w[j];
    out[c] = requant(acc, &p->rq, c, p->out_zp, p->act_min, p->act_max);
  }
}
