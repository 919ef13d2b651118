/* tinyml firmware: streaming keyword detection. See tinyml_detect.h and tinyml/audio/detect.py. */
#include "tinyml_detect.h"

#include <string.h>

void tm_detect_reset(tm_detect_t *d) { memset(d, 0, sizeof *d); }

int tm_detect_update(tm_detect_t *d, const int8_t *output, uint32_t now_ms, tm_heard_t *heard) {
  memcpy(d->outputs[d->count % TM_DETECT_WINDOW], output, TM_NUM_LABELS);
  ++d->count;
  if (d->count < TM_DETECT_MIN_COUNT) return 0;
  const uint32_t n = d->count < TM_DETECT_WINDOW ? d->count : TM_DETECT_WINDOW;
  int best = 0;
  int32_t best_sum = INT32_MIN;
  for (int label = 0; label < (int)TM_NUM_LABELS; ++label) {
    int32_t sum = 0;
    for (uint32_t i = 0; i < n; ++i) sum += (int32_t)d->outputs[i][label] - TM_OUTPUT_ZERO_POINT;
    if (sum > best_sum) { /* the first label wins ties, as numpy's argmax */
      best_sum = sum;
      best = label;
    }
  }
  if (!tm_detect_is_keyword[best] || best_sum < (int32_t)TM_DETECT_THRESHOLD_Q * (int32_t)n) return 0;
  if (d->heard_any && now_ms - d->last_heard_ms < TM_DETECT_SUPPRESSION_MS) return 0;
  d->heard_any = 1;
  d->last_heard_ms = now_ms;
  heard->label = best;
  heard->score_q = best_sum;
  heard->count = n;
  return 1;
}
