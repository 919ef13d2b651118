/* tinyml firmware: the audio commands — the front end's cost (`tinyml frontend N`), streaming
 * detection over PCM sent by the host (`tinyml stream`) and over a board's microphone
 * (`tinyml listen`). See firmware/PROTOCOL.md. */
#include "tinyml_model_config.h"

#ifdef TM_HAS_FRONTEND /* a project for a model without the audio front end compiles nothing here */
#include <string.h>

#include "tinyml_board.h"
#include "tinyml_detect.h"
#include "tinyml_frontend.h"
#include "tinyml_protocol.h"
#include "tinyml_runner.h"
#include "tinyml_stream.h"
#ifdef TM_HAS_MIC
#include "tinyml_mic.h"
#endif

/* `tinyml frontend N`: the streaming front end's cost over N strides of pseudo-random audio
 * generated here (no transfer needed): one frame per stride, the window and feature ring slid as
 * `listen` does. The first window is filled before the clock starts. */
static void cmd_frontend(char **cursor) {
  static tm_fe_stream_t stream;
  static int16_t chunk[TM_FE_WINDOW];
  char *arg = tm_next_token(cursor);
  long strides = arg ? tm_parse_count(arg) : 49;
  if (strides <= 0 || strides > TM_INFER_MAX) {
    tm_puts("e-[tinyml frontend: strides must be 1.." TM_STR(TM_INFER_MAX) "]\r\n");
    return;
  }
  uint32_t seed = 12345u;
  tm_fe_stream_reset(&stream);
  uint64_t ticks = 0;
  size_t frames = 0;
  for (long i = -1; i < strides; ++i) {
    const size_t n = i < 0 ? TM_FE_WINDOW : TM_FE_STRIDE;
    for (size_t k = 0; k < n; ++k) {
      seed = seed * 1664525u + 1013904223u;
      chunk[k] = (int16_t)((int32_t)(seed >> 16) - 32768) / 8; /* white noise at -18 dBFS peak */
    }
    const uint64_t start = tm_clock_now();
    const size_t made = tm_fe_stream_push(&stream, chunk, n);
    if (i >= 0) {
      ticks += tm_clock_now() - start;
      frames += made;
    }
  }
  tm_puts("m-tinyml-frontend-ticks-");
  tm_put_u64(ticks);
  tm_puts("\r\nm-tinyml-frontend-frames-");
  tm_put_u64(frames);
  tm_puts("\r\n");
}

/* `tinyml stream <hex>`: int16 little-endian PCM appended to an endless stream. Every stride the
 * front end adds a frame; every TM_DETECT_EVERY_STRIDES frames (once a full window exists) the model
 * runs on the last window and the detector may report `m-tinyml-heard-[label,score,ms]`, ms being
 * the audio time at the end of the window. `tinyml stream reset` starts a new stream. */
static tm_fe_stream_t g_stream;
static tm_detect_t g_detect;

static void stream_reset(void) {
  tm_fe_stream_reset(&g_stream);
  tm_detect_reset(&g_detect);
}

static void stream_frame(void) {
  if (g_stream.frames < TM_FE_N_FRAMES || (g_stream.frames - TM_FE_N_FRAMES) % TM_DETECT_EVERY_STRIDES != 0u) return;
  size_t in_len, out_len;
  int8_t *input = tm_runner_input(&in_len);
  memcpy(input, g_stream.features, in_len < sizeof g_stream.features ? in_len : sizeof g_stream.features);
  if (tm_runner_invoke() != 0) {
    tm_puts("e-[tinyml: inference failed]\r\n");
    return;
  }
  /* audio time at the end of the newest frame (independent of how the stream was chunked) */
  const uint64_t end = TM_FE_WINDOW + (uint64_t)(g_stream.frames - 1u) * TM_FE_STRIDE;
  const uint32_t now_ms = (uint32_t)(end * 1000u / TM_FE_SAMPLE_RATE);
  tm_heard_t heard;
  if (tm_detect_update(&g_detect, tm_runner_output(&out_len), now_ms, &heard)) {
    static const char *const labels[] = TM_LABELS;
    tm_puts("m-tinyml-heard-[");
    tm_puts(labels[heard.label]);
    tm_puts(",");
    tm_put_fixed3(tm_runner_output_scale() * (float)heard.score_q / (float)heard.count);
    tm_puts(",");
    tm_put_u64(now_ms);
    tm_puts("]\r\n");
  }
}

static void cmd_stream(char **cursor) {
  static int16_t pcm[TM_CMD_MAX / 4u];
  char *arg = tm_next_token(cursor);
  if (arg == NULL) {
    tm_puts("e-[tinyml stream: expected reset or hex PCM]\r\n");
    return;
  }
  if (strcmp(arg, "reset") == 0) {
    stream_reset();
    return;
  }
  if (!tm_runner_ready() || !tm_hex_ok(arg)) return;
  if (strlen(arg) % 4u != 0u) {
    tm_puts("e-[tinyml stream: PCM is whole int16 samples (4 hex digits each)]\r\n");
    return;
  }
  const size_t n = tm_hex_decode(arg, (uint8_t *)pcm, sizeof pcm) / 2u;
  for (size_t i = 0; i < n; i += TM_FE_STRIDE) { /* a piece of <= one stride adds <= one frame */
    const size_t piece = n - i < TM_FE_STRIDE ? n - i : TM_FE_STRIDE;
    if (tm_fe_stream_push(&g_stream, pcm + i, piece)) stream_frame();
  }
}

/* `tinyml listen`: the same stream, fed by the board's microphone from the main loop's idle time
 * until the next byte arrives from the host. Boards with a microphone start listening at boot. */
#ifdef TM_HAS_MIC
#define TM_LISTEN_STRIDES_PER_POLL 8
static int g_listening;
static uint32_t g_dropped;

static void listen_start(void) {
  if (g_listening) return;
  stream_reset();
  const int err = tm_mic_start(TM_FE_SAMPLE_RATE);
  if (err != 0) {
    tm_puts("e-[tinyml listen: the microphone did not start (");
    tm_put_i32(err);
    tm_puts(")]\r\n");
    return;
  }
  g_listening = 1;
  g_dropped = 0;
  tm_puts("m-tinyml-listening-[");
  tm_put_u64(TM_FE_SAMPLE_RATE);
  tm_puts("]\r\n");
}
#endif

void tm_listen_boot(void) {
#ifdef TM_HAS_MIC
  listen_start();
#endif
}

void tm_listen_stop(void) {
#ifdef TM_HAS_MIC
  if (!g_listening) return;
  tm_mic_stop();
  g_listening = 0;
#endif
}

void tm_listen_poll(void) {
#ifdef TM_HAS_MIC
  static int16_t pcm[TM_FE_STRIDE];
  if (!g_listening) return;
  /* drain what is waiting, a stride at a time, but return to the console now and then */
  for (int strides = 0; strides < TM_LISTEN_STRIDES_PER_POLL; ++strides) {
    const size_t n = tm_mic_read(pcm, TM_FE_STRIDE);
    if (n == 0u) break;
    if (tm_fe_stream_push(&g_stream, pcm, n)) stream_frame();
  }
  const uint32_t dropped = tm_mic_dropped();
  if (dropped != g_dropped) { /* the pipeline fell behind the microphone: say so, once per loss */
    g_dropped = dropped;
    tm_puts("m-tinyml-mic-dropped-");
    tm_put_u64(dropped);
    tm_puts("\r\n");
  }
#endif
}

static void cmd_listen(void) {
#ifdef TM_HAS_MIC
  if (tm_runner_ready()) listen_start();
#else
  tm_puts("e-[tinyml listen: this board has no microphone; stream audio with 'tinyml stream <hex>']\r\n");
#endif
}

int tm_stream_command(const char *sub, char **cursor) {
  if (strcmp(sub, "frontend") == 0) {
    cmd_frontend(cursor);
  } else if (strcmp(sub, "stream") == 0) {
    cmd_stream(cursor);
  } else if (strcmp(sub, "listen") == 0) {
    cmd_listen();
  } else {
    return 0;
  }
  return 1;
}
#else
typedef int tm_stream_empty_unit_t; /* ISO C: a translation unit declares something */
#endif /* TM_HAS_FRONTEND */
