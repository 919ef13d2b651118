/* libFuzzer target: the firmware's command parser (firmware/core/tinyml_protocol.c) with the echo
 * runtime — and, built for a KWS model on a board with a microphone, the audio commands
 * (tinyml_stream.c: front end, stream, detector, listen) — compiled for the host with clang
 * -fsanitize=fuzzer,address,undefined. Every input is a byte stream as a serial line would deliver
 * it, the main loop's idle hook running between bytes (a microphone feeds the stream there); a '%'
 * ends the last command so inputs stay independent. The port below stands in for a board: writes
 * are read (so a bad length is caught) and dropped, the clock advances, exit does nothing. The
 * microphone gives 3 s of noise per start, loses a sample now and then, and traps if it is read
 * while stopped. */
#include <stddef.h>
#include <stdint.h>

#include "tinyml_mic.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

static volatile uint8_t g_sink;
static uint32_t g_clock;

void tm_port_init(void) {}

void tm_port_write(const char *data, size_t len) {
  uint8_t x = 0;
  for (size_t i = 0; i < len; ++i) x ^= (uint8_t)data[i];
  g_sink = x;
}

int tm_port_read(void) { return -1; }
uint32_t tm_port_ticks(void) { return g_clock += 7u; }
uint32_t tm_port_ticks_hz(void) { return 1000000u; }
const char *tm_port_tick_unit(void) { return "us"; }
void tm_port_exit(int code) { (void)code; }

static int g_mic_on;
static size_t g_mic_left;
static uint32_t g_mic_seed = 1u;
static uint32_t g_mic_dropped;

int tm_mic_start(uint32_t sample_rate) {
  (void)sample_rate;
  g_mic_on = 1;
  g_mic_left = 3u * 16000u;
  return 0;
}

size_t tm_mic_read(int16_t *pcm, size_t max) {
  if (!g_mic_on) __builtin_trap(); /* the firmware must not read a stopped microphone */
  size_t n = max < g_mic_left ? max : g_mic_left;
  for (size_t i = 0; i < n; ++i) {
    g_mic_seed = g_mic_seed * 1664525u + 1013904223u;
    pcm[i] = (int16_t)(g_mic_seed >> 16);
  }
  g_mic_left -= n;
  if ((g_mic_seed & 0xffu) == 0u) ++g_mic_dropped;
  return n;
}

uint32_t tm_mic_dropped(void) { return g_mic_dropped; }

void tm_mic_stop(void) {
  if (!g_mic_on) __builtin_trap(); /* stopped twice */
  g_mic_on = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int started;
  if (!started) {
    tm_protocol_start();
    started = 1;
  }
  for (size_t i = 0; i < size; ++i) {
    tm_protocol_feed((char)data[i]);
    tm_protocol_idle();
  }
  tm_protocol_feed(TM_CMD_TERMINATOR);
  for (int i = 0; i < 4; ++i) tm_protocol_idle();
  return 0;
}
