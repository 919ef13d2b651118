/* tinyml firmware: streaming keyword detection — per-stride model outputs in, "heard" events out
 * (micro_speech's RecognizeCommands in integers). Settings: tinyml/audio/detect.py, generated into
 * tinyml_frontend_config.h. */
#ifndef TINYML_DETECT_H_
#define TINYML_DETECT_H_

#include <stddef.h>
#include <stdint.h>

#include "tinyml_frontend_config.h"
#include "tinyml_model_config.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const uint8_t tm_detect_is_keyword[TM_NUM_LABELS];

typedef struct {
  int8_t outputs[TM_DETECT_WINDOW][TM_NUM_LABELS]; /* ring of the last raw outputs */
  uint32_t count;                                   /* outputs received since reset */
  uint32_t last_heard_ms;
  int heard_any;
} tm_detect_t;

typedef struct {
  int label;       /* index into the labels */
  int32_t score_q; /* summed (q - zero point) over the window */
  uint32_t count;  /* outputs in the window */
} tm_heard_t;

void tm_detect_reset(tm_detect_t *d);
/* One output at audio time now_ms; returns 1 and fills *heard when a keyword is detected. */
int tm_detect_update(tm_detect_t *d, const int8_t *output, uint32_t now_ms, tm_heard_t *heard);

#ifdef __cplusplus
}
#endif

#endif
