/* tinyml firmware port: ESP32 family with ESP-IDF (PlatformIO framework = espidf).
 * Console on UART0 (the USB-UART bridge), timing with the CPU cycle counter. */
#include "driver/uart.h"
#include "esp_cpu.h"
#include "esp_private/esp_clk.h"
#include "esp_system.h"

#include "tinyml_board.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

#define TM_UART UART_NUM_0

void tm_port_init(void) {
  uart_config_t cfg = {
      .baud_rate = TM_BOARD_BAUD,
      .data_bits = UART_DATA_8_BITS,
      .parity = UART_PARITY_DISABLE,
      .stop_bits = UART_STOP_BITS_1,
      .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
      .source_clk = UART_SCLK_DEFAULT,
  };
  uart_driver_install(TM_UART, 1024, 0, 0, NULL, 0);
  uart_param_config(TM_UART, &cfg);
}

void tm_port_write(const char *data, size_t len) { uart_write_bytes(TM_UART, data, len); }

/* Waits at most one RTOS tick for a byte: the idle task runs (its watchdog is fed) while the
 * console is quiet, and a byte that is there returns at once. */
int tm_port_read(void) {
  uint8_t c;
  return uart_read_bytes(TM_UART, &c, 1, 1) == 1 ? c : -1;
}

uint32_t tm_port_ticks(void) { return (uint32_t)esp_cpu_get_cycle_count(); }
uint32_t tm_port_ticks_hz(void) { return (uint32_t)esp_clk_cpu_freq(); }
const char *tm_port_tick_unit(void) { return "cycles"; }

void tm_port_exit(int code) {
  (void)code;
  esp_restart();
}

void app_main(void) { tm_app_run(); }
