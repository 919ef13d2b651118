/* tinyml native runtime: DEPTHWISE_CONV_2D, optionally in place.
 *
 * For each output pixel the kernel taps are resolved to row pointers once; a tap outside the
 * input points at a row filled with the input zero point, which contributes exactly what TFLM's
 * skipped tap does once the zero point is folded into the bias. In place (stride 1, equal shapes),
 * finished output rows wait in scratch until no later output row reads the input row they replace.
 * Packed 3x3 layers at stride 1 or 2 with enough output pixels take the planar path below instead
 * (the generator's choice, tinyml/native/plane.py). */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

#define TM_MAX_TAPS 64

static size_t zp_row_bytes(const tm_dwconv_t *p) { return tm_align4(p->in_c); }
static size_t out_row_bytes(const tm_dwconv_t *p) { return (size_t)p->out_w * p->out_c; }

size_t tm_dwconv_scratch(const tm_dwconv_t *p, int in_place) {
  if (p->planar) { /* the plane, then one output row's sums (in pairs) */
    const size_t rows = (size_t)p->stride_h * (p->band - 1u) + 3u, nu = p->plane_t ? p->out_h : p->out_w;
    return rows * p->plane_w * sizeof(int16_t) + (nu + 1u) / 2u * 2u * sizeof(int32_t);
  }
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

/* ---- Planar path ------------------------------------------------------------------------------
 * Axes: u runs along a plane row (x, or y when plane_t), v across the rows; stride s (1 or 2) along
 * both. One channel at a time, plane row r of a band starting at output row v0 holds input row
 * s * v0 - pad_v + r widened to int16, column j holding input u = j - pad_u; padding holds the
 * input zero point (folded into the bias). Output (v, u) = sum over kv, ku of
 * plane[s * (v - v0) + kv][s * u + ku] * w(kv, ku). On Cortex-M a pair of outputs shares its
 * loads: at stride 1 SMLAD of the columns (u, u+1) and SMLADX of (u+1, u+2), packed by PKHBT, per
 * kernel row; at stride 2 SMLAD of (2u, 2u+1) and (2u+2, 2u+3). Bands of `band` rows bound the
 * plane; the next band carries the 3 - s rows they share, so a channel never re-reads an input row
 * its in-place output (stride 1) has replaced. A channel's weights and constants are read once. */
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

static void dwconv_planar(const tm_dwconv_t *p, const int8_t *in, int8_t *out, int16_t *plane) {
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
    dwconv_planar(p, in, out, (int16_t *)(void *)scratch);
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
