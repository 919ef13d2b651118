/* tinyml firmware: the code-generated native runtime behind tinyml_runner.h. model.c/model.h are
 * generated per model; this file is the same for every model and board. */
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "tinyml_model_config.h"
#include "tinyml_port.h"
#include "tinyml_runner.h"

static uint32_t g_layer_ticks[TM_NATIVE_LAYER_COUNT];

int tm_runner_init(void) {
  return (TM_NATIVE_INPUT_BYTES == TM_INPUT_BYTES && TM_NATIVE_OUTPUT_BYTES == TM_OUTPUT_BYTES) ? 0 : -5;
}

const char *tm_runner_name(void) { return "native"; }
const char *tm_runner_model_name(void) { return TM_MODEL_NAME; }

int8_t *tm_runner_input(size_t *len) {
  *len = TM_NATIVE_INPUT_BYTES;
  return tm_model_input();
}

const int8_t *tm_runner_output(size_t *len) {
  *len = TM_NATIVE_OUTPUT_BYTES;
  return tm_model_output();
}

float tm_runner_output_scale(void) { return TM_NATIVE_OUTPUT_SCALE; }
int32_t tm_runner_output_zero_point(void) { return TM_NATIVE_OUTPUT_ZERO_POINT; }

int tm_runner_invoke(void) {
  tm_model_invoke(tm_port_ticks, g_layer_ticks);
  return 0;
}

size_t tm_runner_arena_used(void) { return TM_NATIVE_ARENA_BYTES; }
size_t tm_runner_layer_count(void) { return TM_NATIVE_LAYER_COUNT; }
const char *tm_runner_layer_name(size_t i) { return tm_model_layer_name(i); }
uint32_t tm_runner_layer_ticks(size_t i) { return i < TM_NATIVE_LAYER_COUNT ? g_layer_ticks[i] : 0u; }
