// tinyml firmware port: Arduino cores (nRF52840 and other Cortex-M boards).
// Console on Serial, timing with the DWT cycle counter on Cortex-M3/4/7, micros() elsewhere.
#include <Arduino.h>

#include "tinyml_board.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#define TM_HAVE_DWT 1
static volatile uint32_t *const kDemcr = (uint32_t *)0xE000EDFCu;
static volatile uint32_t *const kDwtCtrl = (uint32_t *)0xE0001000u;
static volatile uint32_t *const kDwtCyccnt = (uint32_t *)0xE0001004u;
#endif

extern "C" {

void tm_port_init(void) {
  Serial.begin(TM_BOARD_BAUD);
  while (!Serial) delay(10);
#ifdef TM_HAVE_DWT
  *kDemcr |= 1u << 24;
  *kDwtCyccnt = 0;
  *kDwtCtrl |= 1u;
#endif
}

void tm_port_write(const char *data, size_t len) { Serial.write(reinterpret_cast<const uint8_t *>(data), len); }

int tm_port_read(void) { return Serial.available() > 0 ? Serial.read() : -1; }

#ifdef TM_HAVE_DWT
uint32_t tm_port_ticks(void) { return *kDwtCyccnt; }
uint32_t tm_port_ticks_hz(void) { return F_CPU; }
const char *tm_port_tick_unit(void) { return "cycles"; }
#else
uint32_t tm_port_ticks(void) { return micros(); }
uint32_t tm_port_ticks_hz(void) { return 1000000u; }
const char *tm_port_tick_unit(void) { return "us"; }
#endif

void tm_port_exit(int code) {
  (void)code;
  NVIC_SystemReset();
}

}  // extern "C"

void setup() {
  tm_port_init();
  tm_protocol_start();
}

void loop() {
  int c = tm_port_read();
  if (c >= 0) tm_protocol_feed(static_cast<char>(c));
}
