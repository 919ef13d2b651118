/* libFuzzer target: the firmware's command parser (firmware/core/tinyml_protocol.c) with the echo
 * runtime, compiled for the host with clang -fsanitize=fuzzer,address,undefined. Every input is a
 * byte stream as a serial line would deliver it; a '%' ends the last command so inputs stay
 * independent. The port below stands in for a board: writes are read (so a bad length is caught)
 * and dropped, the clock advances, exit does nothing. */
#include <stddef.h>
#include <stdint.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int started;
  if (!started) {
    tm_protocol_start();
    started = 1;
  }
  for (size_t i = 0; i < size; ++i) tm_protocol_feed((char)data[i]);
  tm_protocol_feed(TM_CMD_TERMINATOR);
  return 0;
}
