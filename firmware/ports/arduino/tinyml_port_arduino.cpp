// tinyml firmware port: Arduino cores (nRF52840 and other Cortex-M boards).
// Console on Serial, timing with the DWT cycle counter on Cortex-M3/4/7, micros() elsewhere.
// A board on native USB (Nano 33 BLE) runs without a host: the port waits for one only briefly
// (the host wakes a board that greeted before it connected with `name%`).
#include <Arduino.h>

#include "tinyml_board.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

#ifndef TM_SERIAL_WAIT_MS
#define TM_SERIAL_WAIT_MS 3000u
#endif

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#define TM_HAVE_DWT 1
static volatile uint32_t *const kDemcr = (uint32_t *)0xE000EDFCu;
static volatile uint32_t *const kDwtCtrl = (uint32_t *)0xE0001000u;
static volatile uint32_t *const kDwtCyccnt = (uint32_t *)0xE0001004u;
#endif

extern "C" {

void tm_port_init(void) {
  Serial.begin(TM_BOARD_BAUD);
  for (const uint32_t start = millis(); !Serial && millis() - start < TM_SERIAL_WAIT_MS;) delay(10);
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
uint32_t tm_port_ticks_hz(void) { return SystemCoreClock; }
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
  if (c >= 0) {
    tm_protocol_feed(static_cast<char>(c));
  } else {
    tm_protocol_idle();  // a board with a microphone listens meanwhile
  }
}
