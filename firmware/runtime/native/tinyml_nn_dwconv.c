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
  return tm_clamp8(tm_mbqm(acc, p->rq.mult[c], p->rq.shift[c]) + p->out_zp, p->act_min, p->act_max);
}

/* One output pixel: taps[t] points at the input pixel under tap t (or the zero-point row). */
static void pixel(const tm_dwconv_t *p, const int8_t *const *taps, int ntaps, int8_t *out) {
  const int cp = p->c_padded;
#if TM_USE_DSP
  if (p->depth_mult == 1 && (p->in_c & 3) == 0) {
    for (int c = 0; c < p->out_c; c += 4) {
      int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
      const int16_t *w = p->weights + c;
      for (int t = 0; t < ntaps; ++t, w += cp) {
        const uint32_t x = tm_load32(taps[t] + c);
        const uint32_t xe = tm_sxtb16(x), xo = tm_sxtb16_ror8(x);
        uint64_t v;
        memcpy(&v, w, 8);
        a0 = tm_smlabb(xe, (uint32_t)v, a0);
        a2 = tm_smlatt(xe, (uint32_t)v, a2);
        a1 = tm_smlabb(xo, (uint32_t)(v >> 32), a1);
        a3 = tm_smlatt(xo, (uint32_t)(v >> 32), a3);
      }
      out[c] = requant(a0, p, c);
      out[c + 1] = requant(a1, p, c + 1);
      out[c + 2] = requant(a2, p, c + 2);
      out[c + 3] = requant(a3, p, c + 3);
    }
    return;
  }
#endif
  for (int c = 0; c < p->out_c; ++c) {
    const int ic = c / p->depth_mult;
    const int wc = tm_ilv(c);
    int32_t acc = p->bias[c];
    for (int t = 0; t < ntaps; ++t) acc += taps[t][ic] * p->weights[(size_t)t * cp + wc];
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
