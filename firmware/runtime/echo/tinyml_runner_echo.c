/* tinyml firmware: the "echo" runtime, a stand-in model for checking a board's serial link,
 * timer and protocol without any inference code. Output i is the saturated sum of the input
 * bytes at positions i, i + N, i + 2N, ... (N = output length). */
#include <stddef.h>
#include <stdint.h>

#include "tinyml_model_config.h"
#include "tinyml_runner.h"

static int8_t g_input[TM_INPUT_BYTES];
static int8_t g_output[TM_OUTPUT_BYTES];

int tm_runner_init(void) { return 0; }
const char *tm_runner_name(void) { return "echo"; }
const char *tm_runner_model_name(void) { return TM_MODEL_NAME; }

int8_t *tm_runner_input(size_t *len) {
  *len = sizeof g_input;
  return g_input;
}

const int8_t *tm_runner_output(size_t *len) {
  *len = sizeof g_output;
  return g_output;
}

float tm_runner_output_scale(void) { return TM_OUTPUT_SCALE; }
int32_t tm_runner_output_zero_point(void) { return TM_OUTPUT_ZERO_POINT; }

int tm_runner_invoke(void) {
  for (size_t o = 0; o < sizeof g_output; ++o) {
    int32_t acc = 0;
    for (size_t i = o; i < sizeof g_input; i += sizeof g_output) acc += g_input[i];
    g_output[o] = (int8_t)(acc > 127 ? 127 : acc < -128 ? -128 : acc);
  }
  return 0;
}

size_t tm_runner_arena_used(void) { return 0; }
size_t tm_runner_layer_count(void) { return 0; }
const char *tm_runner_layer_name(size_t i) { (void)i; return ""; }
uint32_t tm_runner_layer_ticks(size_t i) { (void)i; return 0; }
