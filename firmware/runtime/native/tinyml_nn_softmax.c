/* tinyml native runtime: int8 SOFTMAX, TFLM's reference computation in gemmlowp fixed point
 * (input differences in Q5.26, exp on negative values, sum in Q12.19, reciprocal by Newton-Raphson). */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

#define TM_ONE_Q0 INT32_MAX

static inline int32_t add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t sub_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0. */
static int32_t sat_shl(int32_t x, int exponent) {
  const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a in [-1/4, 0), Q0.31. */
static int32_t exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668, one_third = 715827883;
  const int32_t x = add_wrap(a, 1 << 28);
  const int32_t x2 = tm_srdhm(x, x);
  const int32_t x3 = tm_srdhm(x2, x);
  const int32_t x4 = tm_srdhm(x2, x2);
  const int32_t x4_over_4 = tm_rdbp(x4, 2);
  const int32_t poly = tm_rdbp(add_wrap(tm_srdhm(add_wrap(x4_over_4, x3), one_third), x2), 1);
  return add_wrap(constant_term, tm_srdhm(constant_term, add_wrap(x, poly)));
}

/* gemmlowp exp_on_negative_values for a Q5.26 input, result Q0.31. */
static int32_t exp_negative(int32_t a) {
  static const int32_t kMult[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int kFrac = 26;
  const int32_t quarter = 1 << (kFrac - 2);
  const int32_t mod = sub_wrap(a & (quarter - 1), quarter);
  int32_t result = exp_quarter(sat_shl(mod, 5)); /* Rescale<0> from 5 integer bits */
  const int32_t remainder = sub_wrap(mod, a);
  for (int e = -2; e <= 4; ++e) {
    if (remainder & (1 << (kFrac + e))) result = tm_srdhm(result, kMult[e + 2]);
  }
  return a == 0 ? TM_ONE_Q0 : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out. */
static int32_t reciprocal_one_plus(int32_t a) {
  const int64_t s = (int64_t)a + TM_ONE_Q0;
  const int32_t half_den = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
  const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540, one_q2 = 1 << 29;
  int32_t x = add_wrap(c48_17, tm_srdhm(half_den, cneg32_17));
  for (int i = 0; i < 3; ++i) {
    const int32_t hdx = tm_srdhm(half_den, x);
    const int32_t one_minus = sub_wrap(one_q2, hdx);
    x = add_wrap(x, sat_shl(tm_srdhm(x, one_minus), 2));
  }
  return sat_shl(x, 1);
}

static int count_leading_zeros(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
}

void tm_softmax_s8(const tm_softmax_t *p, const int8_t *in, int8_t *out) {
  for (int r = 0; r < p->rows; ++r) {
    const int8_t *x = in + (size_t)r * p->depth;
    int8_t *y = out + (size_t)r * p->depth;
    int32_t max = -128;
    for (int c = 0; c < p->depth; ++c) max = x[c] > max ? x[c] : max;
    int32_t sum = 0; /* Q12.19 */
    for (int c = 0; c < p->depth; ++c) {
      const int32_t diff = x[c] - max;
      if (diff >= p->diff_min) {
        const int32_t scaled = tm_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult);
        sum = add_wrap(sum, tm_rdbp(exp_negative(scaled), 12));
      }
    }
    const int headroom = count_leading_zeros((uint32_t)sum);
    const int bits_over_unit = 12 - headroom;
    const int32_t shifted_minus_one = (int32_t)(((uint32_t)sum << headroom) - (1u << 31));
    const int32_t scale = reciprocal_one_plus(shifted_minus_one);
    const int exponent = bits_over_unit + 31 - 8;
    for (int c = 0; c < p->depth; ++c) {
      const int32_t diff = x[c] - max;
      if (diff >= p->diff_min) {
        const int32_t scaled = tm_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult);
        const int32_t e = exp_negative(scaled);
        const int32_t v = tm_rdbp(tm_srdhm(scale, e), exponent) - 128;
        y[c] = tm_clamp8(v, -128, 127);
      } else {
        y[c] = -128;
      }
    }
  }
}
