/* tinyml firmware: what a board port provides (one implementation per board family in ports/). */
#ifndef TINYML_PORT_H_
#define TINYML_PORT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bring up clocks, the console UART and the timer. */
void tm_port_init(void);
/* Write bytes to the console (blocking). */
void tm_port_write(const char *data, size_t len);
/* Next byte from the console, or -1 when none is waiting: returns at once (an RTOS port may wait
 * up to one scheduler tick, a host port a millisecond), so the main loop can do idle work. */
int tm_port_read(void);
/* Free-running timer; wraps at 2^32. */
uint32_t tm_port_ticks(void);
/* Timer frequency in Hz (ticks per second). */
uint32_t tm_port_ticks_hz(void);
/* Name of what the ticks count, printed by `tinyml info`: "cycles", "instructions" or "us". */
const char *tm_port_tick_unit(void);
/* Leave the firmware (emulators exit; boards reset or idle). */
void tm_port_exit(int code);
/* MLPerf Tiny energy mode (TM_ENERGY_MODE, boards whose file has an `energy` section): a timestamp
 * is a falling edge on the board's timestamp pin, held low for TM_TIMESTAMP_LOW_US and released
 * high (the EnergyRunner's IO manager latches the edge). tm_port_init leaves the pin high. */
void tm_port_timestamp(void);
#define TM_TIMESTAMP_LOW_US 100u

#ifdef __cplusplus
}
#endif

#endif
