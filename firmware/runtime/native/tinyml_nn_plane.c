/* tinyml native runtime: DEPTHWISE_CONV_2D on the planar path (tm_dwconv_s8 calls it for the layers
 * the generator marks planar).
 *
 * Axes: u runs along a plane row (x, or y when plane_t), v across the rows; stride s (1 or 2) along
 * both. One channel at a time, plane row r of a band starting at output row v0 holds input row
 * s * v0 - pad_v + r widened to int16, column j holding input u = j - pad_u; padding holds the
 * input zero point (folded into the bias). Output (v, u) = sum over kv, ku of
 * plane[s * (v - v0) + kv][s * u + ku] * w(kv, ku). On Cortex-M a pair of outputs shares its
 * loads: at stride 1 SMLAD of the columns (u, u+1) and SMLADX of (u+1, u+2), packed by PKHBT, per
 * kernel row; at stride 2 SMLAD of (2u, 2u+1) and (2u+2, 2u+3). Bands of `band` rows bound the
 * plane; the next band carries the 3 - s rows they share, so a channel never re-reads an input row
 * its in-place output (stride 1) has replaced. A channel's weights and constants are read once. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

typedef struct {
  int su, sv, osu, osv; /* input and output byte strides along u and v */
  int in_u, in_v, pad_u, pad_v, nu, nv;
  int stride; /* 1 or 2, along both */
} tm_axes_t;

typedef struct {
  int32_t bias, mult, add;
  int right;
  int16_t w[9]; /* [kv][ku] */
} tm_dw_chan_t;

static tm_axes_t plane_axes(const tm_dwconv_t *p) {
  const int sx = p->in_c, sy = p->in_w * p->in_c, osx = p->out_c, osy = p->out_w * p->out_c;
  if (p->plane_t) {
    return (tm_axes_t){sy, sx, osy, osx, p->in_h, p->in_w, p->pad_top, p->pad_left, p->out_h, p->out_w, p->stride_h};
  }
  return (tm_axes_t){sx, sy, osx, osy, p->in_w, p->in_h, p->pad_left, p->pad_top, p->out_w, p->out_h, p->stride_h};
}

static tm_dw_chan_t plane_channel(const tm_dwconv_t *p, int c) {
  const int32_t *q = p->pack + (size_t)(c >> 2) * TM_DWCONV_PACK;
  const int j = c & 3;
  tm_dw_chan_t k = {q[j], q[4 + 2 * j], q[5 + 2 * j], (int)(((uint32_t)q[12] >> (8 * j)) & 0xffu), {0}};
  const int16_t *g = p->weights + (size_t)(c >> 2) * 36 + tm_ilv(j);
  for (int ky = 0; ky < 3; ++ky) {
    for (int kx = 0; kx < 3; ++kx) k.w[p->plane_t ? kx * 3 + ky : ky * 3 + kx] = g[4 * (ky * 3 + kx)];
  }
  return k;
}

/* Plane row `row` <- input row v of the channel `in` points at (the zero point outside the input;
 * with one band those rows keep the zero point the whole plane got, nothing else writes them). */
static void plane_row(int16_t *row, const tm_dwconv_t *p, const tm_axes_t *a, const int8_t *in, int v) {
  if (v < 0 || v >= a->in_v) {
    if (p->band < a->nv) {
      for (int j = 0; j < p->plane_w; ++j) row[j] = p->in_zp;
    }
    return;
  }
  const int8_t *src = in + (size_t)v * a->sv;
  int16_t *dst = row + a->pad_u;
  const int su = a->su, n = a->in_u;
  int j = 0;
  for (; j + 4 <= n; j += 4, src += 4 * su) {
    dst[j] = src[0];
    dst[j + 1] = src[su];
    dst[j + 2] = src[2 * su];
    dst[j + 3] = src[3 * su];
  }
  for (; j < n; ++j, src += su) dst[j] = *src;
}

/* The channel's requantization from values held in registers (an int8 store may alias *k). */
static inline int8_t plane_rq(int32_t acc, int32_t mult, int32_t right, int32_t add) {
  return (int8_t)tm_ssat8(tm_rq_fast(acc, mult, right, add));
}

#if TM_USE_DSP
static inline uint32_t pack16(int16_t lo, int16_t hi) { return (uint16_t)lo | (uint32_t)(uint16_t)hi << 16; }

typedef struct {
  const uint32_t *p0;  /* +0  the row's first word in kernel row 0 */
  uint32_t pw_bytes;   /* +4  bytes from one plane row to the next */
  int32_t *acc;        /* +8  */
  int32_t *acc_end;    /* +12 acc + 2 * pairs */
  uint32_t w[5];       /* +16 (w00, w01) (w10, w11) (w20, w21) (w02, w12) (w22, -) */
} tm_plane_job_t;

/* Both pair kernels: save registers, acc_end into the frame, the five weight words into r4-r8, row
 * bytes into r1, the row's first word pointer into r0 (acc is loaded by each kernel). */
#define TM_PLANE_PROLOGUE              \
  "push {r4-r11, lr}\n\t"            \
  "sub sp, sp, #8\n\t"               \
  "ldr r3, [r0, #12]\n\t"            \
  "str r3, [sp, #0]\n\t"             \
  "add r3, r0, #16\n\t"              \
  "ldmia r3, {r4, r5, r6, r7, r8}\n\t" \
  "ldr r1, [r0, #4]\n\t"
#define TM_PLANE_EPILOGUE  \
  "add sp, sp, #8\n\t"  \
  "pop {r4-r11, pc}\n\t"

/* The accumulators (bias excluded) of one output row, two outputs (u, u + 1) at a time, hand-
 * scheduled (AAPCS, all 14 usable registers): per kernel row one LDR of the new word (columns u + 2,
 * u + 3), SMUAD/SMLAD of the old word (u, u + 1), PKHBT of (u + 1, u + 2) into the old word's
 * register and SMLADX of it, the third tap by SMLAxy from the new word's halves, which then becomes
 * the old word. r0 plane column, r1 row bytes, r2 acc, r3 new word, r4-r8 weights, r9-r11 old
 * words, r12/lr the pair's accumulators; the frame holds acc_end. 22 instructions per 18 MACs. */
__attribute__((naked, noinline)) static void plane_pairs_asm(const tm_plane_job_t *job) {
  __asm__ volatile(
      TM_PLANE_PROLOGUE
      "ldr r2, [r0, #8]\n\t"
      "ldr r0, [r0, #0]\n\t"
      "ldr r10, [r0, r1]\n\t"
      "ldr r11, [r0, r1, lsl #1]\n\t"
      "ldr r9, [r0], #4\n\t"
      "1:\n\t"
      "ldr r3, [r0]\n\t"
      "smuad r12, r9, r4\n\t"
      "pkhbt r9, r3, r9\n\t"
      "smuadx lr, r9, r4\n\t"
      "smlabb r12, r3, r7, r12\n\t"
      "smlatb lr, r3, r7, lr\n\t"
      "mov r9, r3\n\t"
      "ldr r3, [r0, r1]\n\t"
      "smlad r12, r10, r5, r12\n\t"
      "pkhbt r10, r3, r10\n\t"
      "smladx lr, r10, r5, lr\n\t"
      "smlabt r12, r3, r7, r12\n\t"
      "smlatt lr, r3, r7, lr\n\t"
      "mov r10, r3\n\t"
      "ldr r3, [r0, r1, lsl #1]\n\t"
      "smlad r12, r11, r6, r12\n\t"
      "pkhbt r11, r3, r11\n\t"
      "smladx lr, r11, r6, lr\n\t"
      "smlabb r12, r3, r8, r12\n\t"
      "smlatb lr, r3, r8, lr\n\t"
      "mov r11, r3\n\t"
      "adds r0, r0, #4\n\t"
      "strd r12, lr, [r2], #8\n\t"
      "ldr r3, [sp, #0]\n\t"
      "cmp r2, r3\n\t"
      "bne 1b\n\t"
      TM_PLANE_EPILOGUE);
}

/* Stride 2: outputs u, u + 1 read the plane columns 2u .. 2u + 4, the words A = (2u, 2u + 1),
 * B = (2u + 2, 2u + 3), C = (2u + 4, 2u + 5): SMLAD of A and of B, the third taps from the low halves
 * of B and C. Each kernel row keeps one register: A, then B, then C (the next pair's A). r0-r2 the
 * three rows' columns, r3 acc, r4-r8 weights, r9-r11 the rows' words, r12/lr the pair's sums; the
 * frame holds acc_end. 22 instructions per 18 MACs. */
__attribute__((naked, noinline)) static void plane_pairs2_asm(const tm_plane_job_t *job) {
  __asm__ volatile(
      TM_PLANE_PROLOGUE
      "ldr r3, [r0, #8]\n\t"
      "ldr r0, [r0, #0]\n\t"
      "add r2, r0, r1, lsl #1\n\t"
      "add r1, r0, r1\n\t"
      "ldr r9, [r0]\n\t"
      "ldr r10, [r1]\n\t"
      "ldr r11, [r2]\n\t"
      "1:\n\t"
      "smuad r12, r9, r4\n\t"
      "ldr r9, [r0, #4]\n\t"
      "smlabb r12, r9, r7, r12\n\t"
      "smuad lr, r9, r4\n\t"
      "ldr r9, [r0, #8]!\n\t"
      "smlabb lr, r9, r7, lr\n\t"
      "smlad r12, r10, r5, r12\n\t"
      "ldr r10, [r1, #4]\n\t"
      "smlabt r12, r10, r7, r12\n\t"
      "smlad lr, r10, r5, lr\n\t"
      "ldr r10, [r1, #8]!\n\t"
      "smlabt lr, r10, r7, lr\n\t"
      "smlad r12, r11, r6, r12\n\t"
      "ldr r11, [r2, #4]\n\t"
      "smlabb r12, r11, r8, r12\n\t"
      "smlad lr, r11, r6, lr\n\t"
      "ldr r11, [r2, #8]!\n\t"
      "smlabb lr, r11, r8, lr\n\t"
      "strd r12, lr, [r3], #8\n\t"
      "ldr r12, [sp, #0]\n\t"
      "cmp r3, r12\n\t"
      "bne 1b\n\t"
      TM_PLANE_EPILOGUE);
}
#endif

/* `rows` output rows of one channel from the plane; out points at the band's first output; acc holds
 * one row's accumulators. */
static void plane_band(const int16_t *plane, int pw, int rows, const tm_axes_t *a, const tm_dw_chan_t *k,
                       int32_t *acc, int8_t *out) {
#if TM_USE_DSP
  const int pairs = (a->nu + 1) / 2;
  tm_plane_job_t job = {NULL, (uint32_t)pw * 2u, acc, acc + 2 * pairs,
                        {pack16(k->w[0], k->w[1]), pack16(k->w[3], k->w[4]), pack16(k->w[6], k->w[7]),
                         pack16(k->w[2], k->w[5]), (uint16_t)k->w[8]}};
#endif
  const int stride = a->stride;
  for (int v = 0; v < rows; ++v, out += a->osv) {
    const int16_t *r0 = plane + (size_t)(stride * v) * pw;
#if TM_USE_DSP
    job.p0 = (const uint32_t *)(const void *)r0;
    if (stride == 1) {
      plane_pairs_asm(&job);
    } else {
      plane_pairs2_asm(&job);
    }
#else
    for (int u = 0; u < a->nu; ++u) {
      int32_t s = 0;
      for (int kv = 0; kv < 3; ++kv) {
        for (int ku = 0; ku < 3; ++ku) s += r0[(size_t)kv * pw + stride * u + ku] * k->w[kv * 3 + ku];
      }
      acc[u] = s;
    }
#endif
    const int32_t bias = k->bias, mult = k->mult, add = k->add, right = k->right, osu = a->osu;
    int8_t *o = out;
    int u = 0;
    for (; u + 2 <= a->nu; u += 2, o += 2 * osu) {
      const int32_t s0 = acc[u] + bias, s1 = acc[u + 1] + bias;
      o[0] = plane_rq(s0, mult, right, add);
      o[osu] = plane_rq(s1, mult, right, add);
    }
    if (u < a->nu) *o = plane_rq(acc[u] + bias, mult, right, add);
  }
}

size_t tm_dwconv_plane_scratch(const tm_dwconv_t *p) { /* the plane, then one output row's sums (in pairs) */
  const size_t rows = (size_t)p->stride_h * (p->band - 1u) + 3u, nu = p->plane_t ? p->out_h : p->out_w;
  return rows * p->plane_w * sizeof(int16_t) + (nu + 1u) / 2u * 2u * sizeof(int32_t);
}

void tm_dwconv_planar(const tm_dwconv_t *p, const int8_t *in, int8_t *out, int16_t *plane) {
  const tm_axes_t a = plane_axes(p);
  const int pw = p->plane_w, band = p->band, s = a.stride;
  const int plane_rows = s * (band - 1) + 3, shared = 3 - s; /* rows a band shares with the next */
  int32_t *acc = (int32_t *)(void *)(plane + (size_t)plane_rows * pw);
  for (int i = 0; i < plane_rows * pw; ++i) plane[i] = p->in_zp;
  for (int c = 0; c < p->out_c; ++c) {
    const tm_dw_chan_t k = plane_channel(p, c);
    for (int v0 = 0; v0 < a.nv; v0 += band) {
      const int rows = a.nv - v0 < band ? a.nv - v0 : band;
      int r = 0;
      if (v0 > 0) { /* the previous (full) band's last rows are this band's first */
        memcpy(plane, plane + (size_t)(s * band) * pw, (size_t)shared * pw * sizeof(int16_t));
        r = shared;
      }
      for (; r < s * (rows - 1) + 3; ++r) plane_row(plane + (size_t)r * pw, p, &a, in + c, s * v0 - a.pad_v + r);
      plane_band(plane, pw, rows, &a, &k, acc, out + c + (size_t)v0 * a.osv);
    }
  }
}
