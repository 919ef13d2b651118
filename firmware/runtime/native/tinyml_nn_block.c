/* tinyml native runtime: a residual block in bands of rows (tm_block_s8, see tinyml_nn.h).
 *
 * Each band: B's output rows [r, r + n) need A's output rows [r - B.pad_top, r + n - 1 - B.pad_top +
 * B.k_h) (clipped to A's output); the window keeps the ones already computed, slid to its start, and A
 * computes the new ones below them. The shortcut S (if any) then writes its rows of the band into the
 * output, and B runs those rows with the ADD, its residual the output itself (S) or the block input
 * (identity). A convolution runs a range of its rows as itself with out_h = the range, its input
 * pointer moved to the first row it reads and pad_top / in_h adjusted (rows outside the tensor still
 * read the input zero point), so every kernel path — and its arithmetic — is the whole layer's.
 * The generator (block.py) replays this order to decide whether the output may overwrite the input. */
#include <string.h>

#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

void tm_conv_direct(const tm_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch, const tm_add_t *add,
                    int conv_is_in1, const int8_t *residual) {
  if (add == NULL) {
    tm_conv_s8(p, in, out, scratch);
  } else {
    tm_conv_add_s8(p, add, conv_is_in1, in, residual, out, scratch);
  }
}

/* Output rows [r0, r1) of convolution p to `out` (and their residual from `residual`), its input rows
 * [row0, row0 + avail) being at `in`. */
static void conv_rows(const tm_conv_t *p, tm_conv_fn run, const int8_t *in, int row0, int avail, int r0, int r1,
                      int8_t *out, int8_t *scratch, const tm_add_t *add, int conv_is_in1, const int8_t *residual) {
  tm_conv_t q = *p;
  const int first = r0 * p->stride_h - p->pad_top; /* the first input row the range reads (< 0: padding) */
  const size_t row = (size_t)p->in_w * p->in_c;
  q.out_h = (uint16_t)(r1 - r0);
  if (first >= row0) {
    in += (size_t)(first - row0) * row;
    q.pad_top = 0;
    q.in_h = (uint16_t)(row0 + avail - first);
  } else { /* only at the tensor's top edge: the rows above it are padding */
    q.pad_top = (uint8_t)(row0 - first);
    q.in_h = (uint16_t)avail;
  }
  run(&q, in, out, scratch, add, conv_is_in1, residual);
}

size_t tm_block_window_bytes(const tm_conv_t *a, const tm_conv_t *b) {
  return tm_align4((size_t)(TM_BLOCK_BAND + b->k_h - 1) * a->out_w * a->out_c);
}

void tm_block_s8(const tm_conv_t *a, tm_conv_fn run_a, const tm_conv_t *s, tm_conv_fn run_s, const tm_conv_t *b,
                 tm_conv_fn run_b, const tm_add_t *add, int b_is_in1, const int8_t *in, int8_t *out,
                 int8_t *scratch) {
  int8_t *window = scratch;
  int8_t *work = scratch + tm_block_window_bytes(a, b);
  const size_t a_row = (size_t)a->out_w * a->out_c;
  int lo = 0, hi = 0; /* A's output rows [lo, hi) are in the window */
  for (int r = 0; r < b->out_h; r += TM_BLOCK_BAND) {
    const int n = b->out_h - r < TM_BLOCK_BAND ? b->out_h - r : TM_BLOCK_BAND;
    int need_lo = r - b->pad_top, need_hi = r + n - 1 - b->pad_top + b->k_h;
    need_lo = need_lo < 0 ? 0 : need_lo;
    need_hi = need_hi > b->in_h ? b->in_h : need_hi;
    if (need_lo > lo) {
      const int keep = hi > need_lo ? hi - need_lo : 0;
      memmove(window, window + (size_t)(hi - keep - lo) * a_row, (size_t)keep * a_row);
      lo = need_lo;
      hi = lo + keep;
    }
    if (need_hi > hi) {
      conv_rows(a, run_a, in, 0, a->in_h, hi, need_hi, window + (size_t)(hi - lo) * a_row, work, NULL, 0, NULL);
      hi = need_hi;
    }
    int8_t *dst = out + (size_t)r * b->out_w * b->out_c;
    const int8_t *residual = in + (size_t)r * b->out_w * b->out_c; /* identity: X is laid out like the output */
    if (s != NULL) {
      conv_rows(s, run_s, in, 0, s->in_h, r, r + n, dst, work, NULL, 0, NULL);
      residual = dst;
    }
    conv_rows(b, run_b, window, lo, hi - lo, r, r + n, dst, work, add, b_is_in1, residual);
  }
}
