/* tinyml host batch runner: any runtime behind tinyml_runner.h compiled for the host, reading raw
 * int8 inputs from stdin back to back and writing the raw int8 outputs to stdout. Used to compare
 * generated C with the TFLM host interpreter on many inputs (emlearn-style), without the protocol. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tinyml_runner.h"

uint32_t tm_port_ticks(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

uint32_t tm_port_ticks_hz(void) { return 1000000u; }

int main(void) {
  if (tm_runner_init() != 0) {
    fprintf(stderr, "tm_runner_init failed\n");
    return 2;
  }
  size_t in_len = 0, out_len = 0;
  int8_t *input = tm_runner_input(&in_len);
  for (;;) {
    size_t got = fread(input, 1, in_len, stdin);
    if (got == 0) return 0;
    if (got != in_len) {
      fprintf(stderr, "partial input: %zu of %zu bytes\n", got, in_len);
      return 3;
    }
    if (tm_runner_invoke() != 0) return 4;
    const int8_t *output = tm_runner_output(&out_len);
    fwrite(output, 1, out_len, stdout);
  }
}
