/* tinyml native runtime: int8 kernels called by the generated model.c.
 *
 * Arithmetic is TFLite Micro's reference arithmetic, bit for bit (per-channel requantization with
 * TFLM's double rounding, its average-pool rounding, its gemmlowp softmax). What differs is the
 * layout, chosen by the generator for speed:
 *   - the input zero point is folded into the bias at generation time (bias' = bias - zp_in * sum(w)),
 *     and padded taps read the input zero point, so the inner loops multiply raw int8 values;
 *   - convolution weights come in channel pairs (an odd last channel is paired with itself), rows
 *     of K = kh*kw*cin padded to a multiple of 4; either int16 (fastest), per group of four K the
 *     words (c0: k0,k2) (c1: k0,k2) (c0: k1,k3) (c1: k1,k3) to match SXTB16 + SMLAD on Cortex-M,
 *     or int8 (half the flash), per group of four K the bytes c0: k0..k3 then c1: k0..k3;
 *   - fully-connected weights are int8 rows padded to k_padded, each group of four rows as
 *     [k_padded / 4][4 rows][4 bytes] (one pointer walks the four rows), the last out_c % 4 rows
 *     after the groups in natural order;
 *   - depthwise weights are int16 [channel group of 4][tap][4], channels padded to a multiple of 4
 *     and interleaved (c0, c2, c1, c3) within each group, so a group walks its taps 8 bytes at a time.
 * Portable C everywhere; DSP (SMLAD) inner loops when __ARM_FEATURE_DSP is defined.
 */
#ifndef TINYML_NN_H_
#define TINYML_NN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Weight and constant arrays are word-aligned: the Cortex-M kernels read them with LDM, which
 * faults on an unaligned address (GCC happens to align arrays anyway; this makes it a guarantee). */
#define TM_ALIGN4 __attribute__((aligned(4)))

/* Requantization for output channel c: TFLM's MultiplyByQuantizedMultiplier(acc, mult, shift).
 * fast: every shift is <= -1 and |acc| < 2^30 for every possible input (checked by the generator),
 * so the doubling high multiply is one SMMULR of 2*acc and the rounding shift is branch-free. */
typedef struct {
  const int32_t *mult;
  const int8_t *shift; /* TFLM's shift (> 0 left, < 0 right); when fast, the right shift -shift >= 1 */
  const int32_t *add;  /* when fast: 2^(r-1) + (output zero point << r), see tm_rq_fast */
  uint8_t fast;
} tm_requant_t;

typedef struct {
  uint16_t in_h, in_w, in_c;
  uint16_t out_h, out_w, out_c;
  uint8_t k_h, k_w, stride_h, stride_w, dil_h, dil_w;
  uint8_t pad_top, pad_left;
  uint16_t k_padded;  /* k_h * k_w * in_c rounded up to a multiple of 4 */
  int8_t in_zp, out_zp, act_min, act_max;
  uint8_t wide;           /* 1: int16 weights, 0: int8 weights (layouts above) */
  uint8_t acc_x2;         /* weights and bias are stored doubled (int16 + fast requantization) */
  /* Winograd F(2x2, 3x3) (3x3, stride 1, dilation 1, the packed fast path, int16 weights, in_c a
   * multiple of 4; chosen by the generator): weights are the transformed filters U = (2G) g (2G)^T,
   * not doubled — per output channel the 16 elements' rows of in_c values, [ceil(out_c / 2)]
   * [2 * 16 * in_c] pair-interleaved like int16 weights with K = element * in_c + input channel. */
  uint8_t winograd;
  /* Grouped (pointwise, the packed path; chosen by the generator where the weights are
   * block-diagonal, as in ensembles merged into one model): output channels g * out_c / groups ..
   * read only input channels g * in_c / groups .., and only those blocks are stored —
   * [groups][out_c / groups / 2][2 * in_c / groups], each block laid out as above. 1: dense. */
  uint8_t groups;
  const void *weights;    /* [ceil(out_c / 2)][2 * k_padded] (Winograd, grouped: above) */
  const int32_t *bias;    /* [out_c], zero point folded in (NULL when packed) */
  tm_requant_t rq;        /* (empty when packed) */
  /* The fast path (fast requantization, even out_c, no clamp beyond int8; int16 weights doubled with
   * their bias, or int8 weights with the plain bias): per channel pair TM_CONV_PACK words bias0,
   * bias1, mult0, add0, mult1, add1, r0 | r1 << 8. */
  const int32_t *pack;
} tm_conv_t;

#define TM_CONV_PACK 7

typedef struct {
  uint16_t in_h, in_w, in_c;
  uint16_t out_h, out_w, out_c; /* out_c = in_c * depth_multiplier */
  uint8_t k_h, k_w, stride_h, stride_w, dil_h, dil_w;
  uint8_t pad_top, pad_left;
  uint8_t depth_mult;
  uint16_t c_padded; /* out_c rounded up to a multiple of 4 */
  int8_t in_zp, out_zp, act_min, act_max;
  uint8_t acc_x2;    /* weights and bias are stored doubled (fast requantization) */
  /* Planar path (packed 3x3, stride 1 or 2, dilation 1; chosen by the generator): one channel at a time
   * is widened into an int16 plane of stride * (band - 1) + 3 rows of `plane_w` values (with its
   * padding), the rows along x, or along y when plane_t; the scratch holds the plane and one output
   * row's int32 sums. */
  uint8_t planar, plane_t;
  uint16_t plane_w, band;
  const int16_t *weights; /* [c_padded / 4][k_h*k_w][4], interleaved per 4 channels */
  const int32_t *bias;    /* [out_c], zero point folded in (for interior pixels; NULL when packed) */
  tm_requant_t rq;        /* (empty when packed) */
  /* The fast path (depth multiplier 1, channels a multiple of 4, fast requantization, no clamp beyond
   * int8): per group of four channels TM_DWCONV_PACK words bias0..3, mult0, add0, .., mult3, add3,
   * r0 | r1 << 8 | r2 << 16 | r3 << 24. */
  const int32_t *pack;
} tm_dwconv_t;

#define TM_DWCONV_PACK 13

typedef struct {
  uint16_t in_c, out_c, k_padded;
  int8_t in_zp, out_zp, act_min, act_max;
  const int8_t *weights; /* groups of four rows [k_padded / 4][4][4], then out_c % 4 natural rows */
  const int32_t *bias;
  tm_requant_t rq;
} tm_fc_t;

typedef struct {
  uint16_t in_h, in_w, c, out_h, out_w;
  uint8_t k_h, k_w, stride_h, stride_w, pad_top, pad_left;
  int8_t act_min, act_max;
} tm_pool_t;

typedef struct {
  uint16_t outer, reduce, inner; /* input viewed as [outer][reduce][inner], mean over reduce */
  int8_t in_zp, out_zp;
  int32_t mult;
  int8_t shift;
} tm_mean_t;

/* ADD of equal shapes. Each input's term of TFLM's sum depends on its int8 value alone, so the
 * generator tabulates it exactly (MultiplyByQuantizedMultiplierSmallerThanOneExp((v - zp) << 20)),
 * indexed by the value's byte; the sum is requantized by tm_rq_fast when that is provably exact. */
typedef struct {
  uint32_t size;
  const int32_t *in1_table, *in2_table; /* [256] */
  int32_t out_zp, out_mult, out_add; /* out_add: tm_rq_fast's addend (fast only) */
  int8_t out_shift;                  /* TFLM's shift; when fast, the right shift */
  uint8_t fast;
  int8_t act_min, act_max;
} tm_add_t;

typedef struct {
  uint16_t rows, depth;
  int32_t input_mult;
  int8_t input_left_shift;
  int32_t diff_min;
} tm_softmax_t;

typedef struct {
  uint16_t in_h, in_w, c, out_h, out_w;
  uint16_t pad_top, pad_left;
  int8_t value;
} tm_pad_t;

/* Scratch bytes each kernel needs (the generator reserves the maximum in the arena). */
size_t tm_conv_scratch(const tm_conv_t *p);
size_t tm_dwconv_scratch(const tm_dwconv_t *p, int in_place);

void tm_conv_s8(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch);
/* in == out is allowed when the generator proved it legal (1x1, stride 1, out_c <= in_c; or
 * depthwise stride 1 with equal shapes) — scratch then holds the rows not yet written back. */
void tm_dwconv_s8(const tm_dwconv_t *p, const int8_t *in, int8_t *out, int8_t *scratch);
/* Its planar path (tinyml_nn_plane.c), for the layers the generator marks planar. */
size_t tm_dwconv_plane_scratch(const tm_dwconv_t *p);
void tm_dwconv_planar(const tm_dwconv_t *p, const int8_t *in, int8_t *out, int16_t *plane);
/* A pointwise CONV_2D (1x1, stride 1) whose output only the next DEPTHWISE_CONV_2D reads, fused: the
 * depthwise layer runs one output row at a time on the per-pixel path, from a window of the rows of
 * the pointwise output it needs (k_h dilated rows, computed as they come into the window), so the
 * pointwise output tensor never exists. Scratch: the window (rows x in_w x in_c of the depthwise
 * layer), tm_conv_scratch(pw), the per-pixel path's zero-point row — each rounded up to 4. */
void tm_pw_dw_s8(const tm_conv_t *pw, const tm_dwconv_t *dw, const int8_t *in, int8_t *out, int8_t *scratch);
/* CONV_2D (add NULL) or CONV_2D + ADD (as tm_conv_add_s8) for the layers the generator marks winograd
 * (tinyml_nn_winograd.c), called in place of tm_conv_s8 / tm_conv_add_s8 so that firmware without such
 * layers does not link it. Its scratch: two tiles' transformed inputs (32 * in_c int16), one channel
 * pair's 16 x 4 int32 products, two tiles' int8 outputs (8 * out_c) and a row of in_c input zero
 * points, each rounded up to 4. */
size_t tm_conv_winograd_scratch(const tm_conv_t *p);
void tm_conv_winograd(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch, const tm_add_t *add,
                      int conv_is_in1, const int8_t *residual);
/* A convolution (add NULL) or convolution + ADD (as tm_conv_add_s8), run by its direct path
 * (tm_conv_direct) or by Winograd (tm_conv_winograd): how a residual block runs its convolutions. */
typedef void (*tm_conv_fn)(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch, const tm_add_t *add,
                           int conv_is_in1, const int8_t *residual);
void tm_conv_direct(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch, const tm_add_t *add,
                    int conv_is_in1, const int8_t *residual);
/* A residual block in bands of TM_BLOCK_BAND output rows (tinyml_nn_block.c): conv a reads the block
 * input, conv b (stride 1, dilation 1) reads only a's output, the ADD (b_is_in1: b's output is its
 * first input) adds b's output to the block input (s NULL) or to the output of conv s, which reads the
 * block input. a's output exists only as a window of the rows b's band needs; s writes its band into
 * `out`, where the ADD then runs in place. `out` may be `in` when the generator proved it legal.
 * Scratch: tm_block_window_bytes, then the largest of the three convolutions' scratch (b's with its
 * ADD's pair buffer, as tm_conv_add_s8), each rounded up to 4. */
#define TM_BLOCK_BAND 2
size_t tm_block_window_bytes(const tm_conv_t *a, const tm_conv_t *b);
void tm_block_s8(const tm_conv_t *a, tm_conv_fn run_a, const tm_conv_t *s, tm_conv_fn run_s, const tm_conv_t *b,
                 tm_conv_fn run_b, const tm_add_t *add, int b_is_in1, const int8_t *in, int8_t *out,
                 int8_t *scratch);
void tm_fc_s8(const tm_fc_t *p, const int8_t *in, int8_t *out);
void tm_avgpool_s8(const tm_pool_t *p, const int8_t *in, int8_t *out);
void tm_maxpool_s8(const tm_pool_t *p, const int8_t *in, int8_t *out);
void tm_mean_s8(const tm_mean_t *p, const int8_t *in, int8_t *out);
void tm_add_s8(const tm_add_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
/* The ADD on n elements (tm_add_s8 runs it on p->size). */
void tm_add_n_s8(const tm_add_t *p, const int8_t *in1, const int8_t *in2, int8_t *out, uint32_t n);
/* A CONV_2D whose output only an ADD reads, fused (residual adds in place): each pixel pair's outputs
 * go to a pair buffer in scratch (after tm_conv_scratch's bytes, 4-aligned) and are added at once to
 * the other ADD input, the sums written to out — which may be `residual` itself (in place); the
 * convolution's output tensor never exists. conv_is_in1: the convolution's output is the ADD's first
 * input. Scratch: tm_conv_scratch rounded up to 4, plus 2 * out_c. */
void tm_conv_add_s8(const tm_conv_t *p, const tm_add_t *add, int conv_is_in1, const int8_t *in,
                    const int8_t *residual, int8_t *out, int8_t *scratch);
void tm_softmax_s8(const tm_softmax_t *p, const int8_t *in, int8_t *out);
void tm_pad_s8(const tm_pad_t *p, const int8_t *in, int8_t *out);
void tm_copy_s8(const int8_t *in, int8_t *out, size_t n);

#ifdef __cplusplus
}
#endif

#endif
