/* Test driver: the firmware's audio front end compiled for the host. Reads 16 kHz int16 clips
 * (TM_FE_CLIP_SAMPLES each) from stdin and writes each clip's int8 features to stdout, computed
 * either over the whole clip (`clip`) or through the streaming window fed CHUNK samples at a time
 * (`stream CHUNK`), so the two paths can be compared with the Python front end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyml_frontend.h"

static int16_t g_pcm[TM_FE_CLIP_SAMPLES];
static int8_t g_features[TM_FE_N_FRAMES * TM_FE_N_MFCC];
static tm_fe_stream_t g_stream;

int main(int argc, char **argv) {
  const int stream = argc >= 3 && strcmp(argv[1], "stream") == 0;
  const size_t chunk = stream ? (size_t)strtoul(argv[2], NULL, 10) : 0;
  if (stream && chunk == 0) return 2;
  for (;;) {
    size_t got = fread(g_pcm, sizeof g_pcm[0], TM_FE_CLIP_SAMPLES, stdin);
    if (got == 0) return 0;
    if (got != TM_FE_CLIP_SAMPLES) return 3;
    if (stream) {
      tm_fe_stream_reset(&g_stream);
      size_t frames = 0;
      for (size_t i = 0; i < TM_FE_CLIP_SAMPLES; i += chunk) {
        size_t n = TM_FE_CLIP_SAMPLES - i < chunk ? TM_FE_CLIP_SAMPLES - i : chunk;
        frames += tm_fe_stream_push(&g_stream, g_pcm + i, n);
      }
      if (frames != TM_FE_N_FRAMES) return 4;
      fwrite(g_stream.features, 1, sizeof g_stream.features, stdout);
    } else {
      tm_fe_clip(g_pcm, g_features);
      fwrite(g_features, 1, sizeof g_features, stdout);
    }
  }
}
