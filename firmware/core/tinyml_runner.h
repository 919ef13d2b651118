/* tinyml firmware: what an inference runtime provides (TFLite Micro in runtime/tflm/, or the
 * code-generated native runtime). All tensors are int8. */
#ifndef TINYML_RUNNER_H_
#define TINYML_RUNNER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Prepare the model; returns 0 on success, or a negative error code. */
int tm_runner_init(void);
/* Short name of the runtime ("tflm", "native"). */
const char *tm_runner_name(void);
/* Model identifier (from the generated model data). */
const char *tm_runner_model_name(void);
int8_t *tm_runner_input(size_t *len);
const int8_t *tm_runner_output(size_t *len);
float tm_runner_output_scale(void);
int32_t tm_runner_output_zero_point(void);
/* Run one inference; returns 0 on success. */
int tm_runner_invoke(void);
/* Bytes of the tensor arena in use (0 when unknown). */
size_t tm_runner_arena_used(void);
/* Per-layer timing of the last inference: count, name and ticks of layer i (0 when unsupported). */
size_t tm_runner_layer_count(void);
const char *tm_runner_layer_name(size_t i);
uint32_t tm_runner_layer_ticks(size_t i);

#ifdef __cplusplus
}
#endif

#endif
