/* tinyml native runtime: int8 kernels called by the generated model.c.
 *
 * Arithmetic is TFLite Micro's reference arithmetic, bit for bit (per-channel requantization with
 * TFLM's double rounding, its average-pool rounding, its gemmlowp softmax). What differs is the
 * layout, chosen by the generator for speed:
 *   - the input zero point is folded into the bias at generation time (bias' = bias - zp_in * sum(w)),
 *     and padded taps read the input zero point, so the inner loops multiply raw int8 values;
 *   - convolution weights are rows of K = kh*kw*cin padded to a multiple of 4, either int16
 *     interleaved per group of four as (w0, w2, w1, w3) to match SXTB16 on Cortex-M (fastest), or
 *     int8 in natural order (half the flash; widened by SXTB16 in the inner loop);
 *   - fully-connected weights are int8 rows in natural order;
 *   - depthwise weights are int16 [tap][channel], channels padded to a multiple of 4 and interleaved
 *     the same way per group of four channels.
 * Portable C everywhere; DSP (SMLAD) inner loops when __ARM_FEATURE_DSP is defined.
 */
#ifndef TINYML_NN_H_
#define TINYML_NN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Requantization for output channel c: TFLM's MultiplyByQuantizedMultiplier(acc, mult, shift). */
typedef struct {
  const int32_t *mult;
  const int8_t *shift; /* TFLM's shift: > 0 left, < 0 right */
} tm_requant_t;

typedef struct {
  uint16_t in_h, in_w, in_c;
  uint16_t out_h, out_w, out_c;
  uint8_t k_h, k_w, stride_h, stride_w, dil_h, dil_w;
  uint8_t pad_top, pad_left;
  uint16_t k_padded;  /* k_h * k_w * in_c rounded up to a multiple of 4 */
  int8_t in_zp, out_zp, act_min, act_max;
  uint8_t wide;           /* 1: int16 interleaved weights, 0: int8 natural order */
  const void *weights;    /* [out_c][k_padded] */
  const int32_t *bias;    /* [out_c], zero point folded in */
  tm_requant_t rq;
} tm_conv_t;

typedef struct {
  uint16_t in_h, in_w, in_c;
  uint16_t out_h, out_w, out_c; /* out_c = in_c * depth_multiplier */
  uint8_t k_h, k_w, stride_h, stride_w, dil_h, dil_w;
  uint8_t pad_top, pad_left;
  uint8_t depth_mult;
  uint16_t c_padded; /* out_c rounded up to a multiple of 4 */
  int8_t in_zp, out_zp, act_min, act_max;
  const int16_t *weights; /* [k_h*k_w][c_padded], interleaved per 4 channels */
  const int32_t *bias;    /* [out_c], zero point folded in (for interior pixels) */
  tm_requant_t rq;
} tm_dwconv_t;

typedef struct {
  uint16_t in_c, out_c, k_padded;
  int8_t in_zp, out_zp, act_min, act_max;
  const int8_t *weights; /* [out_c][k_padded], natural order */
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

typedef struct {
  uint32_t size;
  int32_t in1_zp, in2_zp, out_zp;
  int32_t in1_mult, in2_mult, out_mult;
  int8_t in1_shift, in2_shift, out_shift;
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
void tm_fc_s8(const tm_fc_t *p, const int8_t *in, int8_t *out);
void tm_avgpool_s8(const tm_pool_t *p, const int8_t *in, int8_t *out);
void tm_maxpool_s8(const tm_pool_t *p, const int8_t *in, int8_t *out);
void tm_mean_s8(const tm_mean_t *p, const int8_t *in, int8_t *out);
void tm_add_s8(const tm_add_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
void tm_softmax_s8(const tm_softmax_t *p, const int8_t *in, int8_t *out);
void tm_pad_s8(const tm_pad_t *p, const int8_t *in, int8_t *out);
void tm_copy_s8(const int8_t *in, int8_t *out, size_t n);

#ifdef __cplusplus
}
#endif

#endif
