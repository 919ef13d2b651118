/* tinyml firmware port for the host (POSIX): console on stdin/stdout, monotonic clock in
 * microseconds (any hosted C library: without POSIX clocks, clock()). Used to test the protocol engine and runtimes with the host compiler. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<poll.h>)
#include <poll.h>
#define TM_HOST_POLL 1
#endif
#endif

#include "tinyml_board.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"

void tm_port_init(void) { setvbuf(stdout, NULL, _IOFBF, 1 << 16); }

void tm_port_write(const char *data, size_t len) {
  fwrite(data, 1, len, stdout);
  if (len && data[len - 1] == '\n') fflush(stdout);
}

/* With poll(): -1 after 1 ms without input, so the main loop's idle work (a microphone) runs. */
int tm_port_read(void) {
  unsigned char c;
#ifdef TM_HOST_POLL
  struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
  if (poll(&pfd, 1, 1) == 0) return -1;
#endif
  ssize_t n = read(STDIN_FILENO, &c, 1);
  if (n == 1) return c;
  if (n == 0) tm_port_exit(0); /* stdin closed: the host is gone */
  return -1;
}

uint32_t tm_port_ticks(void) {
#ifdef CLOCK_MONOTONIC
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
#else /* a C library without POSIX clocks (newlib on bare metal): the C standard's processor clock */
  return (uint32_t)((uint64_t)clock() * 1000000u / CLOCKS_PER_SEC);
#endif
}

uint32_t tm_port_ticks_hz(void) { return 1000000u; }

const char *tm_port_tick_unit(void) { return "us"; }

void tm_port_exit(int code) {
  fflush(stdout);
  exit(code);
}

#ifdef TM_ENERGY_MODE
/* Stand-in for a board's timestamp pin (an energy build linked on the host): the pulse on stderr,
 * where it cannot mix with the protocol. */
void tm_port_timestamp(void) { fputs("tinyml: timestamp pulse\n", stderr); }
#endif

int main(void) {
  tm_app_run();
  return 0;
}
