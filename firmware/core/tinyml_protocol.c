/* tinyml firmware: the serial protocol engine. See firmware/PROTOCOL.md. */
#include "tinyml_protocol.h"

#include <string.h>

#include "tinyml_board.h"
#include "tinyml_model_config.h"
#include "tinyml_port.h"
#include "tinyml_runner.h"
#ifdef TM_HAS_FRONTEND
#include "tinyml_frontend.h"
/* The loaded bytes are either the model's int8 input or a raw clip (int16 PCM) for the front end. */
#define TM_DB_BYTES (TM_FE_AUDIO_BYTES > TM_INPUT_BYTES ? TM_FE_AUDIO_BYTES : TM_INPUT_BYTES)
#include "tinyml_stream.h"
#define TM_FRONTEND_WORD "|frontend|stream|listen"
#else
#define TM_DB_BYTES TM_INPUT_BYTES
#define TM_FRONTEND_WORD ""
#endif

static char g_cmd[TM_CMD_MAX + 1];
static size_t g_cmd_len;
static int g_cmd_overflow;
#if defined(TM_RUNNER_INPUT_PERSISTS) && !defined(TM_HAS_FRONTEND)
/* The runtime keeps its input in a buffer of its own that inferences never overwrite: `db load`
 * writes straight into it, and nothing is copied before an inference. */
static int8_t *db_bytes(void) {
  size_t n;
  return tm_runner_input(&n);
}
#define g_db (db_bytes())
#define TM_DB_CAPACITY ((size_t)TM_INPUT_BYTES)
#else
static union {
  int8_t bytes[TM_DB_BYTES];
  int16_t pcm[(TM_DB_BYTES + 1u) / 2u]; /* aligned for the front end */
} g_db_store;
#define g_db g_db_store.bytes
#define TM_DB_CAPACITY sizeof g_db_store.bytes
#endif
static size_t g_db_size;
static size_t g_db_pos;
static int g_runner_status = -1;

/* A 64-bit clock from the 32-bit port timer: correct as long as it is read at least once per
 * timer wrap, which the protocol does around every inference. */
static uint64_t g_clock;
static uint32_t g_clock_last;

uint64_t tm_clock_now(void) {
  uint32_t t = tm_port_ticks();
  g_clock += (uint32_t)(t - g_clock_last);
  g_clock_last = t;
  return g_clock;
}

void tm_puts(const char *s) { tm_port_write(s, strlen(s)); }

void tm_put_u64(uint64_t v) {
  char buf[21];
  size_t i = sizeof buf;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0u);
  tm_port_write(buf + i, sizeof buf - i);
}

void tm_put_i32(int32_t v) {
  if (v < 0) {
    tm_puts("-");
    tm_put_u64((uint64_t)(-(int64_t)v));
  } else {
    tm_put_u64((uint64_t)v);
  }
}

/* A float with three decimals (probabilities), truncated like the MLPerf reference's th_results. */
void tm_put_fixed3(float f) {
  if (f < 0.0f) {
    tm_puts("-");
    f = -f;
  }
  uint64_t milli = (uint64_t)(f * 1000.0f);
  tm_put_u64(milli / 1000u);
  tm_puts(".");
  char frac[3] = {(char)('0' + milli / 100u % 10u), (char)('0' + milli / 10u % 10u), (char)('0' + milli % 10u)};
  tm_port_write(frac, 3);
}

static void put_hex8(uint8_t v) {
  static const char digits[] = "0123456789abcdef";
  char s[2] = {digits[v >> 4], digits[v & 15u]};
  tm_port_write(s, 2);
}

static uint64_t ticks_to_us(uint64_t ticks) { return ticks * 1000000u / tm_port_ticks_hz(); }

/* A timestamp, as the MLPerf reference's th_timestamp: on the UART (performance mode) or as a
 * GPIO edge the EnergyRunner sees (energy mode, where the UART belongs to its IO manager). */
static void lap(void) {
#ifdef TM_ENERGY_MODE
  tm_port_timestamp();
#else
  tm_puts("m-lap-us-");
  tm_put_u64(ticks_to_us(tm_clock_now()));
  tm_puts("\r\n");
#endif
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A hex string the MLPerf way: an even number of hex digits, else an error line and 0. */
int tm_hex_ok(const char *hex) {
  size_t len = strlen(hex);
  if (len % 2u != 0u) {
    tm_puts("e-[Insufficent number of hex digits]\r\n");
    return 0;
  }
  for (size_t i = 0; i < len; ++i) {
    if (hex_value(hex[i]) < 0) {
      tm_puts("e-[Invalid hex digit]\r\n");
      return 0;
    }
  }
  return 1;
}

/* Decode up to cap bytes of a checked hex string; returns the bytes written. */
size_t tm_hex_decode(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; hex[i] != '\0' && n < cap; i += 2) {
    out[n++] = (uint8_t)((hex_value(hex[i]) << 4) | hex_value(hex[i + 1]));
  }
  return n;
}

/* Parse a non-negative decimal; -1 when absent or malformed. */
long tm_parse_count(const char *s) {
  if (s == NULL || *s == '\0') return -1;
  long v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9' || v > 100000000L) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

char *tm_next_token(char **cursor) {
  char *s = *cursor;
  while (*s == ' ') ++s;
  if (*s == '\0') return NULL;
  char *start = s;
  while (*s && *s != ' ') ++s;
  if (*s) *s++ = '\0';
  *cursor = s;
  return start;
}

static void print_outputs(void) {
  size_t n;
  const int8_t *out = tm_runner_output(&n);
  const float scale = tm_runner_output_scale();
  const int32_t zero = tm_runner_output_zero_point();
  tm_puts("m-results-[");
  for (size_t i = 0; i < n; ++i) {
    if (i) tm_puts(",");
    tm_put_fixed3(scale * (float)((int32_t)out[i] - zero));
  }
  tm_puts("]\r\n");
}

/* `<prefix>[v0,v1,...]` for a raw int8 tensor. */
static void print_int8s(const char *prefix, const int8_t *v, size_t n) {
  tm_puts(prefix);
  for (size_t i = 0; i < n; ++i) {
    if (i) tm_puts(",");
    tm_put_i32(v[i]);
  }
  tm_puts("]\r\n");
}

static void print_input(void) {
  size_t n;
  const int8_t *in = tm_runner_input(&n);
  print_int8s("m-tinyml-in-[", in, n);
}

static void print_raw_outputs(void) {
  size_t n;
  const int8_t *out = tm_runner_output(&n);
  print_int8s("m-tinyml-out-[", out, n);
}

int tm_runner_ready(void) {
  if (g_runner_status == 0) return 1;
  tm_puts("e-[tinyml: the runtime failed to initialise (");
  tm_put_i32(g_runner_status);
  tm_puts(")]\r\n");
  return 0;
}

static int invoke_timed(uint64_t *ticks) {
  uint64_t start = tm_clock_now();
  int status = tm_runner_invoke();
  *ticks += tm_clock_now() - start;
  return status;
}

/* A raw clip is loaded (the front end computes the model's input from it). */
static int audio_loaded(void) {
#ifdef TM_HAS_FRONTEND
  return g_db_size == TM_FE_AUDIO_BYTES && g_db_pos == g_db_size;
#else
  return 0;
#endif
}

/* Fill the model's input from the loaded bytes: a copy, or the front end over a raw clip. */
static void load_input(int8_t *input, size_t in_len, uint64_t *frontend_ticks) {
#ifdef TM_HAS_FRONTEND
  if (audio_loaded()) {
    uint64_t start = tm_clock_now();
    tm_fe_clip(g_db_store.pcm, input);
    *frontend_ticks += tm_clock_now() - start;
    return;
  }
#endif
  (void)frontend_ticks;
  if (input != g_db) memcpy(input, g_db, in_len < g_db_pos ? in_len : g_db_pos);
}

static void cmd_infer(char **cursor) {
  long n = 1, warmup = TM_DEFAULT_WARMUP;
  char *arg = tm_next_token(cursor);
  if (arg) {
    n = tm_parse_count(arg);
    if (n <= 0) {
      tm_puts("e-[Inference iterations must be >0]\r\n");
      return;
    }
    arg = tm_next_token(cursor);
    if (arg && (warmup = tm_parse_count(arg)) < 0) {
      tm_puts("e-[Inference warmup must be >=0]\r\n");
      return;
    }
    if (n > TM_INFER_MAX || warmup > TM_INFER_MAX) {
      tm_puts("e-[Inference iterations and warmup must be <=" TM_STR(TM_INFER_MAX) "]\r\n");
      return;
    }
  }
  if (!tm_runner_ready()) return;
  size_t in_len;
  int8_t *input = tm_runner_input(&in_len);
  uint64_t ticks = 0, frontend_ticks = 0;
  tm_puts("m-warmup-start-");
  tm_put_u64((uint64_t)warmup);
  tm_puts("\r\n");
  for (long i = 0; i < warmup; ++i) {
    load_input(input, in_len, &frontend_ticks);
    if (invoke_timed(&ticks) != 0) goto failed;
  }
  tm_puts("m-warmup-done\r\nm-infer-start-");
  tm_put_u64((uint64_t)n);
  tm_puts("\r\n");
  ticks = frontend_ticks = 0;
  lap();
  for (long i = 0; i < n; ++i) {
    load_input(input, in_len, &frontend_ticks);
    if (invoke_timed(&ticks) != 0) goto failed;
  }
  lap();
  tm_puts("m-infer-done\r\nm-tinyml-infer-ticks-");
  tm_put_u64(ticks);
  tm_puts("\r\n");
  if (audio_loaded()) {
    tm_puts("m-tinyml-frontend-ticks-");
    tm_put_u64(frontend_ticks);
    tm_puts("\r\n");
  }
  print_outputs();
  print_raw_outputs();
  return;
failed:
  tm_puts("e-[tinyml: inference failed]\r\n");
}

static void cmd_db(char **cursor) {
  char *sub = tm_next_token(cursor);
  if (sub == NULL) {
    tm_puts("e-[Command 'db' requires a subcommand]\r\n");
  } else if (strcmp(sub, "load") == 0) {
    long n = tm_parse_count(tm_next_token(cursor));
    if (n <= 0) {
      tm_puts("e-[Command 'db load' must be >0 bytes]\r\n");
    } else if ((size_t)n > TM_DB_CAPACITY) {
      tm_puts("e-[db load: ");
      tm_put_u64((uint64_t)n);
      tm_puts(" bytes exceed the input tensor (");
      tm_put_u64(TM_DB_CAPACITY);
      tm_puts(")]\r\n");
    } else {
      g_db_size = (size_t)n;
      g_db_pos = 0;
      tm_puts("m-[Expecting ");
      tm_put_u64((uint64_t)n);
      tm_puts(" bytes]\r\n");
    }
  } else if (strcmp(sub, "print") == 0) {
    for (size_t i = 0; i < g_db_pos; ++i) {
      if (i % 8u == 0u) tm_puts("m-buffer-");
      put_hex8((uint8_t)g_db[i]);
      tm_puts((i + 1u) % 8u == 0u || i + 1u == g_db_pos ? "\r\n" : "-");
    }
  } else {
    if (!tm_hex_ok(sub)) return;
    g_db_pos += tm_hex_decode(sub, (uint8_t *)g_db + g_db_pos, g_db_size - g_db_pos);
    if (g_db_pos == g_db_size) tm_puts("m-load-done\r\n");
  }
}

static void cmd_tinyml(char **cursor) {
  char *sub = tm_next_token(cursor);
  if (sub && strcmp(sub, "info") == 0) {
    size_t in_len = 0, out_len = 0;
    if (g_runner_status == 0) {
      (void)tm_runner_input(&in_len);
      (void)tm_runner_output(&out_len);
    }
    tm_puts("m-tinyml-info-runtime-");
    tm_puts(tm_runner_name());
    tm_puts("\r\nm-tinyml-info-model-");
    tm_puts(tm_runner_model_name());
    tm_puts("\r\nm-tinyml-info-arena-");
    tm_put_u64(g_runner_status == 0 ? tm_runner_arena_used() : 0u);
    tm_puts("\r\nm-tinyml-info-input-");
    tm_put_u64(in_len);
    tm_puts("\r\nm-tinyml-info-output-");
    tm_put_u64(out_len);
    tm_puts("\r\nm-tinyml-info-ticks-hz-");
    tm_put_u64(tm_port_ticks_hz());
    tm_puts("\r\nm-tinyml-info-tick-unit-");
    tm_puts(tm_port_tick_unit());
    tm_puts("\r\nm-tinyml-info-audio-");
#ifdef TM_HAS_FRONTEND
    tm_put_u64(TM_FE_AUDIO_BYTES);
#else
    tm_put_u64(0u);
#endif
    tm_puts("\r\n");
  } else if (sub && strcmp(sub, "out") == 0) {
    if (tm_runner_ready()) print_raw_outputs();
  } else if (sub && strcmp(sub, "in") == 0) {
    if (tm_runner_ready()) {
      size_t in_len;
      uint64_t frontend_ticks = 0;
      load_input(tm_runner_input(&in_len), in_len, &frontend_ticks);
      print_input();
    }
  } else if (sub && strcmp(sub, "layers") == 0) {
    for (size_t i = 0; i < tm_runner_layer_count(); ++i) {
      tm_puts("m-tinyml-layer-");
      tm_put_u64(i);
      tm_puts("-");
      tm_puts(tm_runner_layer_name(i));
      tm_puts("-");
      tm_put_u64(tm_runner_layer_ticks(i));
      tm_puts("\r\n");
    }
#ifdef TM_HAS_FRONTEND
  } else if (sub && tm_stream_command(sub, cursor)) {
    /* frontend, stream, listen: tinyml_stream.c */
#endif
  } else if (sub && strcmp(sub, "exit") == 0) {
    tm_puts("m-tinyml-bye\r\n");
    tm_port_exit(0);
  } else {
    tm_puts("e-[tinyml: expected 'tinyml info|in|out|layers" TM_FRONTEND_WORD "|exit']\r\n");
  }
}

static void run_command(char *line) {
  char *cursor = line;
  char *cmd = tm_next_token(&cursor);
  if (cmd == NULL) {
    /* an empty command just answers m-ready */
  } else if (g_cmd_overflow) {
    tm_puts("e-[Command too long]\r\n");
  } else if (strcmp(cmd, "name") == 0) {
    tm_puts("m-name-dut-[tinyml ");
    tm_puts(tm_runner_model_name());
    tm_puts("]\r\n");
  } else if (strcmp(cmd, "profile") == 0) {
    tm_puts("m-profile-[" TM_FIRMWARE_VERSION "]\r\nm-model-[" TM_MLPERF_MODEL);
    tm_puts("]\r\n");
  } else if (strcmp(cmd, "timestamp") == 0) {
    lap();
  } else if (strcmp(cmd, "db") == 0) {
    cmd_db(&cursor);
  } else if (strcmp(cmd, "infer") == 0) {
    cmd_infer(&cursor);
  } else if (strcmp(cmd, "results") == 0) {
    if (tm_runner_ready()) print_outputs();
  } else if (strcmp(cmd, "tinyml") == 0) {
    cmd_tinyml(&cursor);
  } else if (strcmp(cmd, "help") == 0) {
    tm_puts(TM_FIRMWARE_VERSION "\r\nname, profile, timestamp, db load N, db HEX, db print, infer N [W], results,"
            " tinyml info|in|out|layers" TM_FRONTEND_WORD "|exit\r\n");
  } else {
    tm_puts("e-[Unknown command: ");
    tm_puts(cmd);
    tm_puts("]\r\n");
  }
  tm_puts("m-ready\r\n");
}

void tm_protocol_feed(char c) {
#ifdef TM_HAS_FRONTEND
  tm_listen_stop();
#endif
  if (c == TM_CMD_TERMINATOR) {
    g_cmd[g_cmd_len] = '\0';
    run_command(g_cmd);
    g_cmd_len = 0;
    g_cmd_overflow = 0;
  } else if (c == '\r' || c == '\n') {
    /* line endings between commands are ignored */
  } else if (g_cmd_len < TM_CMD_MAX) {
    g_cmd[g_cmd_len++] = c;
  } else {
    g_cmd_overflow = 1;
  }
}

void tm_protocol_start(void) {
  g_clock_last = tm_port_ticks();
  g_runner_status = tm_runner_init();
  if (g_runner_status != 0) {
    tm_puts("e-[tinyml: the runtime failed to initialise (");
    tm_put_i32(g_runner_status);
    tm_puts(")]\r\n");
  }
  /* as the MLPerf reference's th_timestamp_initialize: the mode, then a first timestamp */
#ifdef TM_ENERGY_MODE
  tm_puts("m-timestamp-mode-energy\r\n");
#else
  tm_puts("m-timestamp-mode-performance\r\n");
#endif
  lap();
  tm_puts("m-init-done\r\nm-ready\r\n");
#ifdef TM_HAS_FRONTEND
  if (g_runner_status == 0) tm_listen_boot();
#endif
}

void tm_protocol_idle(void) {
#ifdef TM_HAS_FRONTEND
  tm_listen_poll();
#endif
}

void tm_app_run(void) {
  tm_port_init();
  tm_protocol_start();
  for (;;) {
    int c = tm_port_read();
    if (c >= 0) {
      tm_protocol_feed((char)c);
    } else {
      tm_protocol_idle();
    }
  }
}
