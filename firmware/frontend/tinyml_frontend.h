/* tinyml firmware: the audio front end — 16 kHz int16 PCM in, the KWS model's int8 MFCC input
 * out, one 20 ms stride at a time. The arithmetic is tinyml.audio.features (Python), step for
 * step, in float32; its constants are generated from it (tinyml_frontend_config.h, tables). */
#ifndef TINYML_FRONTEND_H_
#define TINYML_FRONTEND_H_

#include <stddef.h>
#include <stdint.h>

#include "tinyml_frontend_config.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const float tm_fe_window[TM_FE_WINDOW];
extern const float tm_fe_twiddle_cos[TM_FE_FFT_SIZE / 2];
extern const float tm_fe_twiddle_sin[TM_FE_FFT_SIZE / 2];
extern const uint16_t tm_fe_mel_first_bin[TM_FE_N_MEL];
extern const uint16_t tm_fe_mel_count[TM_FE_N_MEL];
extern const float tm_fe_mel_weights[TM_FE_WEIGHTS];
extern const float tm_fe_dct[TM_FE_N_MEL][TM_FE_N_MFCC];

/* One frame: TM_FE_WINDOW samples -> TM_FE_N_MFCC int8 features (the model's quantization). */
void tm_fe_frame(const int16_t *samples, int8_t *out);

/* A whole clip: TM_FE_CLIP_SAMPLES samples -> TM_FE_N_FRAMES x TM_FE_N_MFCC int8 features. */
void tm_fe_clip(const int16_t *pcm, int8_t *features);

/* Streaming: a sliding window of TM_FE_N_FRAMES frames over an endless stream. */
typedef struct {
  int16_t window[TM_FE_WINDOW];  /* the newest TM_FE_WINDOW samples */
  size_t filled;                 /* samples received, saturating at TM_FE_WINDOW */
  size_t pending;                /* samples received since the last frame */
  int8_t features[TM_FE_N_FRAMES * TM_FE_N_MFCC];  /* oldest frame first */
  uint32_t frames;               /* frames computed since reset */
} tm_fe_stream_t;

void tm_fe_stream_reset(tm_fe_stream_t *s);
/* Add samples; returns how many new frames were computed (the window slid that many strides). */
size_t tm_fe_stream_push(tm_fe_stream_t *s, const int16_t *samples, size_t n);

#ifdef __cplusplus
}
#endif

#endif
