/* tinyml native runtime: 3x3 stride-1 CONV_2D by Winograd F(2x2, 3x3), exact in integers.
 *
 * Each 2x2 block of outputs (a tile) comes from a 4x4 input patch d: Y = A^T [sum over the input
 * channels of U (.) V] A, with V = B^T d B here and the filters transformed by the generator as
 * U = (2G) g (2G)^T, so Y is exactly 4 times the convolution's sum (|V| <= 512, |U| <= 1152, and the
 * generator keeps in_c small enough for every sum to stay in int32). 16 multiplies per tile and channel
 * pair instead of 36. The patch holds raw int8 values (outside the input: the input zero point), as the
 * direct path's im2col rows do, so the bias with the zero point folded in applies unchanged.
 *
 * Two tiles side by side are taken at a time: their V (16 elements x in_c each) go to one buffer laid
 * out like the direct path's pixel pair with K = element * in_c + channel, and each output channel
 * pair's 16 x 2 x 2 sums come from the pointwise kernel's SMLAD tile (two tiles by two channels, four
 * K a group), one element after another. The output transform, requantization (the packed fast path's)
 * and the residual ADD, when fused, follow per channel pair and per output row. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

#define WINO_E 16 /* elements of a transformed tile */
#define WINO_M_BYTES (WINO_E * 4 * sizeof(int32_t))

static size_t v_bytes(const tm_conv_t *p) { return (size_t)2 * WINO_E * p->in_c * sizeof(int16_t); }
static size_t block_bytes(const tm_conv_t *p) { return tm_align4((size_t)8 * p->out_c); }

size_t tm_conv_winograd_scratch(const tm_conv_t *p) {
  return v_bytes(p) + WINO_M_BYTES + block_bytes(p) + tm_align4(p->in_c);
}

/* The 16 input pixels of the tile whose outputs start at (oy, ox); those outside the input read zp_row. */
static void patch(const tm_conv_t *p, const int8_t *in, const int8_t *zp_row, int oy, int ox, const int8_t *src[16]) {
  for (int r = 0; r < 4; ++r) {
    const int iy = oy - p->pad_top + r;
    for (int c = 0; c < 4; ++c) {
      const int ix = ox - p->pad_left + c;
      const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
      src[4 * r + c] = inside ? in + ((size_t)iy * p->in_w + ix) * p->in_c : zp_row;
    }
  }
}

#if TM_USE_DSP
/* The 4-point transform (x0 - x2, x1 + x2, x2 - x1, x1 - x3) of B^T on two channels per word (every
 * half stays within int16), from and to words `stride` words apart. */
static inline __attribute__((always_inline)) void transform4(uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3,
                                                             uint32_t *out, int stride) {
  out[0] = tm_ssub16(x0, x2);
  out[stride] = tm_sadd16(x1, x2);
  out[2 * stride] = tm_ssub16(x2, x1);
  out[3 * stride] = tm_ssub16(x1, x3);
}

/* Tile `tile` (0 or 1) of the pair: four channels a time, SXTB16 splitting each word into the
 * pair-interleaved halves (k0, k2) and (k1, k3) the SMLAD tile reads. B^T d B in two passes through
 * the buffer: along each patch row as it is loaded, then down each column. Element e of channel
 * group ch sits at word 4 * ((e * in_c + ch) / 4) = e * in_c + ch (+ 2 for the odd half, + tile). */
static void transform_tile(const tm_conv_t *p, const int8_t *const src[16], int tile, int16_t *v) {
  const int in_c = p->in_c, e_words = in_c; /* words from one element to the next */
  uint32_t *vw = (uint32_t *)(void *)v + tile;
  for (int ch = 0; ch < in_c; ch += 4) {
    uint32_t *g = vw + ch;
    for (int r = 0; r < 4; ++r) {
      const uint32_t w0 = tm_load32(src[4 * r] + ch), w1 = tm_load32(src[4 * r + 1] + ch);
      const uint32_t w2 = tm_load32(src[4 * r + 2] + ch), w3 = tm_load32(src[4 * r + 3] + ch);
      uint32_t *row = g + 4 * r * e_words;
      transform4(tm_sxtb16(w0), tm_sxtb16(w1), tm_sxtb16(w2), tm_sxtb16(w3), row, e_words);
      transform4(tm_sxtb16_ror8(w0), tm_sxtb16_ror8(w1), tm_sxtb16_ror8(w2), tm_sxtb16_ror8(w3), row + 2, e_words);
    }
    for (int half = 0; half < 4; half += 2) {
      for (int c = 0; c < 4; ++c) {
        uint32_t *col = g + c * e_words + half;
        transform4(col[0], col[4 * e_words], col[8 * e_words], col[12 * e_words], col, 4 * e_words);
      }
    }
  }
}

typedef struct {
  const int16_t *v; /* +0 the tile pair's transformed inputs */
  const int16_t *u; /* +4 the channel pair's transformed filters */
  int32_t *m;       /* +8 out: [element][s00 s01 s10 s11] */
} wino_job_t;

/* The first group of an element starts its sums (SMUAD) instead of adding to them. */
#define WINO_FIRST_GROUP                 \
  "ldmia.w r0!, {r2, r3, r4, r5}\n\t"    \
  "ldmia.w r1!, {r6, r7, r12, lr}\n\t"   \
  "smuad r8, r2, r6\n\t"                 \
  "smuad r9, r3, r6\n\t"                 \
  "smuad r10, r2, r7\n\t"                \
  "smuad r11, r3, r7\n\t"                \
  "smlad r8, r4, r12, r8\n\t"            \
  "smlad r9, r5, r12, r9\n\t"            \
  "smlad r10, r4, lr, r10\n\t"           \
  "smlad r11, r5, lr, r11\n\t"

/* The 16 elements' 2x2 sums of one channel pair, in_c / 4 groups an element fully unrolled (MORE:
 * in_c / 4 - 1, a string), all 14 usable registers in the tile: the out pointer and its end live on
 * the stack ([sp] m, [sp, #4] m + 256). 10 instructions per 16 MACs, and 6 per element. */
#define WINO_PRODUCTS_ASM(name, MORE)                                   \
  __attribute__((naked, noinline)) static void name(const wino_job_t *job) { \
    __asm__ volatile(                                                   \
        "push {r4-r11, lr}\n\t"                                         \
        "sub sp, sp, #8\n\t"                                            \
        "ldr r2, [r0, #8]\n\t"                                          \
        "add r3, r2, #256\n\t"                                          \
        "strd r2, r3, [sp]\n\t"                                         \
        "ldr r1, [r0, #4]\n\t"                                          \
        "ldr r0, [r0, #0]\n\t"                                          \
        "1:\n\t" WINO_FIRST_GROUP ".rept " MORE "\n\t" TM_PW_GROUP16 ".endr\n\t" \
        "ldr r2, [sp]\n\t"                                              \
        "stmia r2!, {r8, r9, r10, r11}\n\t"                             \
        "ldr r3, [sp, #4]\n\t"                                          \
        "str r2, [sp]\n\t"                                              \
        "cmp r2, r3\n\t"                                                \
        "bne 1b\n\t"                                                    \
        "add sp, sp, #8\n\t"                                            \
        "pop {r4-r11, pc}\n\t");                                        \
  }

WINO_PRODUCTS_ASM(products_c16, "3")
WINO_PRODUCTS_ASM(products_c32, "7")
WINO_PRODUCTS_ASM(products_c64, "15")
#else
static inline void input_transform(int32_t d[16]) {
  for (int c = 0; c < 4; ++c) {
    const int32_t d0 = d[c], d1 = d[4 + c], d2 = d[8 + c], d3 = d[12 + c];
    d[c] = d0 - d2;
    d[4 + c] = d1 + d2;
    d[8 + c] = d2 - d1;
    d[12 + c] = d1 - d3;
  }
  for (int r = 0; r < 16; r += 4) {
    const int32_t t0 = d[r], t1 = d[r + 1], t2 = d[r + 2], t3 = d[r + 3];
    d[r] = t0 - t2;
    d[r + 1] = t1 + t2;
    d[r + 2] = t2 - t1;
    d[r + 3] = t1 - t3;
  }
}

static void transform_tile(const tm_conv_t *p, const int8_t *const src[16], int tile, int16_t *v) {
  for (int ch = 0; ch < p->in_c; ++ch) {
    int32_t d[16];
    for (int i = 0; i < 16; ++i) d[i] = src[i][ch];
    input_transform(d);
    for (int e = 0; e < WINO_E; ++e) v[tm_pair_index(tile, e * p->in_c + ch)] = (int16_t)d[e];
  }
}
#endif

/* m[element][s00 s01 s10 s11] (s<channel><tile>) of channel pair u against the tile pair v. */
static void products(const tm_conv_t *p, const int16_t *v, const int16_t *u, int32_t *m) {
#if TM_USE_DSP
  const wino_job_t job = {v, u, m};
  switch (p->in_c) {
    case 16: products_c16(&job); return;
    case 32: products_c32(&job); return;
    case 64: products_c64(&job); return;
    default: break;
  }
#endif
  for (int e = 0; e < WINO_E; ++e) {
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0;
    for (int ch = 0; ch < p->in_c; ++ch) {
      const int k = e * p->in_c + ch;
      const int32_t a = v[tm_pair_index(0, k)], b = v[tm_pair_index(1, k)];
      const int32_t w0 = u[tm_pair_index(0, k)], w1 = u[tm_pair_index(1, k)];
      s00 += a * w0;
      s01 += b * w0;
      s10 += a * w1;
      s11 += b * w1;
    }
    m[4 * e] = s00;
    m[4 * e + 1] = s01;
    m[4 * e + 2] = s10;
    m[4 * e + 3] = s11;
  }
}

/* A^T M A for sum j of the products (m[4 * element + j], elements row-major), bias and requantization:
 * the tile's four outputs (y00 y01 y10 y11; A^T M A is 4 times the convolution's sum, so half of it is
 * the fast path's doubled accumulator) at out, out + 1 pixel, out + 1 row of the block, and both. */
static inline __attribute__((always_inline)) void tile_outputs(const int32_t *m, int32_t bias, int32_t mult,
                                                               int right, int32_t add, int8_t *out, int px, int row) {
  const int32_t r00 = m[0] + m[16] + m[32], r01 = m[4] + m[20] + m[36];
  const int32_t r02 = m[8] + m[24] + m[40], r03 = m[12] + m[28] + m[44];
  const int32_t r10 = m[16] - m[32] - m[48], r11 = m[20] - m[36] - m[52];
  const int32_t r12 = m[24] - m[40] - m[56], r13 = m[28] - m[44] - m[60];
  out[0] = (int8_t)tm_ssat8(tm_rq_fast(((r00 + r01 + r02) >> 1) + bias, mult, right, add));
  out[px] = (int8_t)tm_ssat8(tm_rq_fast(((r01 - r02 - r03) >> 1) + bias, mult, right, add));
  out[row] = (int8_t)tm_ssat8(tm_rq_fast(((r10 + r11 + r12) >> 1) + bias, mult, right, add));
  out[row + px] = (int8_t)tm_ssat8(tm_rq_fast(((r11 - r12 - r13) >> 1) + bias, mult, right, add));
}

/* The int8 outputs of the tile pair for every channel: block[row][4 pixels][out_c]. */
static void tile_pair(const tm_conv_t *p, const int16_t *v, int32_t *m, int8_t *block) {
  const int out_c = p->out_c, row = 4 * out_c, tile1 = 2 * out_c;
  const int16_t *u = (const int16_t *)p->weights;
  const int32_t *q = p->pack;
  for (int c = 0; c < out_c; c += 2, q += TM_CONV_PACK, u += 2 * WINO_E * p->in_c) {
    products(p, v, u, m);
    const int r0 = q[6] & 0xff, r1 = (q[6] >> 8) & 0xff;
    int8_t *o = block + c;
    tile_outputs(m, q[0], q[2], r0, q[3], o, out_c, row);              /* channel c, tile 0 */
    tile_outputs(m + 1, q[0], q[2], r0, q[3], o + tile1, out_c, row);  /* channel c, tile 1 */
    tile_outputs(m + 2, q[1], q[4], r1, q[5], o + 1, out_c, row);      /* channel c + 1, tile 0 */
    tile_outputs(m + 3, q[1], q[4], r1, q[5], o + 1 + tile1, out_c, row);
  }
}

void tm_conv_winograd(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch, const tm_add_t *add,
                      int conv_is_in1, const int8_t *residual) {
  int16_t *v = (int16_t *)(void *)scratch;
  int32_t *m = (int32_t *)(void *)(scratch + v_bytes(p));
  int8_t *block = scratch + v_bytes(p) + WINO_M_BYTES;
  int8_t *zp_row = block + block_bytes(p);
  const int out_c = p->out_c;
  memset(zp_row, p->in_zp, p->in_c);
  for (int oy = 0; oy < p->out_h; oy += 2) {
    for (int ox = 0; ox < p->out_w; ox += 4) {
      /* the second tile lies past the edge when the row has an odd number of tiles: computed, not stored */
      for (int tile = 0; tile < 2; ++tile) {
        const int8_t *src[16];
        patch(p, in, zp_row, oy, ox + 2 * tile, src);
        transform_tile(p, src, tile, v);
      }
      tile_pair(p, v, m, block);
      const int pixels = p->out_w - ox < 4 ? p->out_w - ox : 4;
      for (int dy = 0; dy < 2 && oy + dy < p->out_h; ++dy) {
        const size_t at = ((size_t)(oy + dy) * p->out_w + ox) * out_c;
        const int8_t *row = block + dy * 4 * out_c;
        const uint32_t n = (uint32_t)pixels * out_c;
        if (add == NULL) {
          memcpy(out + at, row, n);
        } else {
          tm_add_n_s8(add, conv_is_in1 ? row : residual + at, conv_is_in1 ? residual + at : row, out + at, n);
        }
      }
    }
  }
}
