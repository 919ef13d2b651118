/* tinyml microphone for the host port: int16 little-endian mono PCM at the front end's rate from
 * the file named by TINYML_MIC_PCM, delivered as fast as the firmware asks — the host build's
 * stand-in for a board's microphone (and, in `tinyml build --offline-check`, for its driver).
 * Without the variable the microphone does not start. The end of the file is said once. */
#include <stdio.h>
#include <stdlib.h>

#include "tinyml_mic.h"
#include "tinyml_protocol.h"

static FILE *g_pcm;
static int g_ended;

int tm_mic_start(uint32_t sample_rate) {
  (void)sample_rate; /* the file is at the front end's rate */
  const char *path = getenv("TINYML_MIC_PCM");
  if (path == NULL) return 1;
  g_pcm = fopen(path, "rb");
  g_ended = 0;
  return g_pcm != NULL ? 0 : 2;
}

size_t tm_mic_read(int16_t *pcm, size_t max) {
  if (g_pcm == NULL) return 0;
  const size_t n = fread(pcm, sizeof pcm[0], max, g_pcm);
  if (n == 0u && !g_ended) {
    g_ended = 1;
    tm_puts("m-tinyml-mic-end\r\n");
  }
  return n;
}

uint32_t tm_mic_dropped(void) { return 0u; } /* a file waits for its reader */

void tm_mic_stop(void) {
  if (g_pcm != NULL) fclose(g_pcm);
  g_pcm = NULL;
}
