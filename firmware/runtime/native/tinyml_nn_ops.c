/* tinyml native runtime: pooling, MEAN, ADD, PAD and copies, as TFLM's reference kernels compute them. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

static void pool_window(const tm_pool_t *p, int oy, int ox, int *y0, int *y1, int *x0, int *x1, int *iy, int *ix) {
  *iy = oy * p->stride_h - p->pad_top;
  *ix = ox * p->stride_w - p->pad_left;
  *y0 = *iy < 0 ? -*iy : 0;
  *x0 = *ix < 0 ? -*ix : 0;
  *y1 = p->k_h < p->in_h - *iy ? p->k_h : p->in_h - *iy;
  *x1 = p->k_w < p->in_w - *ix ? p->k_w : p->in_w - *ix;
}

void tm_avgpool_s8(const tm_pool_t *p, const int8_t *in, int8_t *out) {
  for (int oy = 0; oy < p->out_h; ++oy) {
    for (int ox = 0; ox < p->out_w; ++ox) {
      int y0, y1, x0, x1, iy, ix;
      pool_window(p, oy, ox, &y0, &y1, &x0, &x1, &iy, &ix);
      const int count = (y1 - y0) * (x1 - x0);
      int8_t *dst = out + ((size_t)oy * p->out_w + ox) * p->c;
      for (int c = 0; c < p->c; ++c) {
        int32_t acc = 0;
        for (int y = y0; y < y1; ++y) {
          const int8_t *src = in + ((size_t)(iy + y) * p->in_w + ix) * p->c + c;
          for (int x = x0; x < x1; ++x) acc += src[(size_t)x * p->c];
        }
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        dst[c] = tm_clamp8(acc, p->act_min, p->act_max);
      }
    }
  }
}

void tm_maxpool_s8(const tm_pool_t *p, const int8_t *in, int8_t *out) {
  for (int oy = 0; oy < p->out_h; ++oy) {
    for (int ox = 0; ox < p->out_w; ++ox) {
      int y0, y1, x0, x1, iy, ix;
      pool_window(p, oy, ox, &y0, &y1, &x0, &x1, &iy, &ix);
      int8_t *dst = out + ((size_t)oy * p->out_w + ox) * p->c;
      for (int c = 0; c < p->c; ++c) {
        int32_t m = -128;
        for (int y = y0; y < y1; ++y) {
          const int8_t *src = in + ((size_t)(iy + y) * p->in_w + ix) * p->c + c;
          for (int x = x0; x < x1; ++x) m = src[(size_t)x * p->c] > m ? src[(size_t)x * p->c] : m;
        }
        dst[c] = tm_clamp8(m, p->act_min, p->act_max);
      }
    }
  }
}

void tm_mean_s8(const tm_mean_t *p, const int8_t *in, int8_t *out) {
  for (int o = 0; o < p->outer; ++o) {
    for (int i = 0; i < p->inner; ++i) {
      const int8_t *src = in + (size_t)o * p->reduce * p->inner + i;
      int32_t sum = 0;
      for (int r = 0; r < p->reduce; ++r) sum += src[(size_t)r * p->inner];
      const int32_t shifted = sum - p->in_zp * (int32_t)p->reduce;
      out[(size_t)o * p->inner + i] = tm_clamp8(tm_mbqm(shifted, p->mult, p->shift) + p->out_zp, -128, 127);
    }
  }
}

void tm_add_n_s8(const tm_add_t *p, const int8_t *in1, const int8_t *in2, int8_t *out, uint32_t n) {
  const int32_t *t1 = p->in1_table, *t2 = p->in2_table;
  const int32_t lo = p->act_min, hi = p->act_max;
  if (p->fast) {
    const int32_t mult = p->out_mult, add = p->out_add;
    const int right = p->out_shift;
    for (uint32_t i = 0; i < n; ++i) {
      const int32_t sum = t1[(uint8_t)in1[i]] + t2[(uint8_t)in2[i]];
      out[i] = tm_clamp8(tm_rq_fast((int32_t)((uint32_t)sum << 1), mult, right, add), lo, hi);
    }
    return;
  }
  for (uint32_t i = 0; i < n; ++i) {
    const int32_t sum = t1[(uint8_t)in1[i]] + t2[(uint8_t)in2[i]];
    out[i] = tm_clamp8(tm_mbqm(sum, p->out_mult, p->out_shift) + p->out_zp, lo, hi);
  }
}

void tm_add_s8(const tm_add_t *p, const int8_t *in1, const int8_t *in2, int8_t *out) {
  tm_add_n_s8(p, in1, in2, out, p->size);
}

void tm_pad_s8(const tm_pad_t *p, const int8_t *in, int8_t *out) {
  const size_t row = (size_t)p->in_w * p->c;
  for (int y = 0; y < p->out_h; ++y) {
    int8_t *dst = out + (size_t)y * p->out_w * p->c;
    const int iy = y - p->pad_top;
    if (iy < 0 || iy >= p->in_h) {
      memset(dst, p->value, (size_t)p->out_w * p->c);
      continue;
    }
    const size_t left = (size_t)p->pad_left * p->c;
    memset(dst, p->value, left);
    memcpy(dst + left, in + (size_t)iy * row, row);
    memset(dst + left + row, p->value, (size_t)p->out_w * p->c - left - row);
  }
}

void tm_copy_s8(const int8_t *in, int8_t *out, size_t n) {
  if (in != out) memmove(out, in, n);
}
