// tinyml firmware: the TensorFlow Lite Micro runtime behind tinyml_runner.h.
// The model array (model_data.h), its facts (tinyml_model_config.h) and the op list
// (tinyml_ops.h) are generated per model; this file is the same for every model and board.
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tinyml_model_config.h"
#include "tinyml_ops.h"
#include "tinyml_port.h"
#include "tinyml_protocol.h"
#include "tinyml_runner.h"
#ifdef TM_ARENA_ALLOC_HEADER
#include TM_ARENA_ALLOC_HEADER
#endif

namespace {

constexpr int kMaxLayers = 128;

// Per-operator ticks of the last inference, from the port timer.
class LayerProfiler : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char* tag) override {
    if (count_ >= kMaxLayers) return kMaxLayers;
    tags_[count_] = tag;
    start_[count_] = tm_port_ticks();
    return count_++;
  }
  void EndEvent(uint32_t handle) override {
    if (handle < kMaxLayers) ticks_[handle] = tm_port_ticks() - start_[handle];
  }
  void Reset() { count_ = 0; }
  uint32_t count() const { return count_; }
  const char* tag(uint32_t i) const { return tags_[i]; }
  uint32_t ticks(uint32_t i) const { return ticks_[i]; }

 private:
  const char* tags_[kMaxLayers] = {};
  uint32_t start_[kMaxLayers] = {};
  uint32_t ticks_[kMaxLayers] = {};
  uint32_t count_ = 0;
};

#ifdef TM_ARENA_IN_HEAP
uint8_t* g_arena = nullptr;
#else
alignas(16) uint8_t g_arena[TM_ARENA_BYTES];
#endif
tflite::MicroMutableOpResolver<TM_OP_COUNT> g_resolver;
LayerProfiler g_profiler;
tflite::MicroInterpreter* g_interpreter = nullptr;
alignas(tflite::MicroInterpreter) uint8_t g_interpreter_storage[sizeof(tflite::MicroInterpreter)];

}  // namespace

// TFLM's platform hooks, routed to the tinyml port: timing for its profiler, and its error log
// (format strings only: pulling in printf would cost ~14 KB of flash).
namespace tflite {
uint32_t ticks_per_second() { return tm_port_ticks_hz(); }
uint32_t GetCurrentTimeTicks() { return tm_port_ticks(); }
}  // namespace tflite

extern "C" void DebugLog(const char* format, va_list args) {
  (void)args;
  tm_puts("m-tinyml-log-");
  tm_puts(format);
  tm_puts("\r\n");
}

extern "C" int DebugVsnprintf(char* buffer, size_t buf_size, const char* format, va_list vlist) {
  (void)vlist;
  size_t i = 0;
  for (; buf_size > 0 && i + 1 < buf_size && format[i] != '\0'; ++i) buffer[i] = format[i];
  if (buf_size > 0) buffer[i] = '\0';
  return static_cast<int>(i);
}

extern "C" {

int tm_runner_init(void) {
  const tflite::Model* model = tflite::GetModel(g_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) return -1;
  if (tm_register_ops(g_resolver) != kTfLiteOk) return -2;
#ifdef TM_ARENA_IN_HEAP
  g_arena = static_cast<uint8_t*>(TM_ARENA_ALLOC(TM_ARENA_BYTES));
  if (g_arena == nullptr) return -3;
#endif
  g_interpreter = new (g_interpreter_storage)
      tflite::MicroInterpreter(model, g_resolver, g_arena, TM_ARENA_BYTES, nullptr, &g_profiler);
  if (g_interpreter->AllocateTensors() != kTfLiteOk) return -4;
  if (g_interpreter->input(0)->bytes != TM_INPUT_BYTES || g_interpreter->output(0)->bytes != TM_OUTPUT_BYTES) {
    return -5;
  }
  return 0;
}

const char* tm_runner_name(void) { return "tflm"; }
const char* tm_runner_model_name(void) { return TM_MODEL_NAME; }

int8_t* tm_runner_input(size_t* len) {
  *len = g_interpreter->input(0)->bytes;
  return g_interpreter->input(0)->data.int8;
}

const int8_t* tm_runner_output(size_t* len) {
  *len = g_interpreter->output(0)->bytes;
  return g_interpreter->output(0)->data.int8;
}

float tm_runner_output_scale(void) { return TM_OUTPUT_SCALE; }
int32_t tm_runner_output_zero_point(void) { return TM_OUTPUT_ZERO_POINT; }

int tm_runner_invoke(void) {
  g_profiler.Reset();
  return g_interpreter->Invoke() == kTfLiteOk ? 0 : -1;
}

size_t tm_runner_arena_used(void) { return g_interpreter->arena_used_bytes(); }
size_t tm_runner_layer_count(void) { return g_profiler.count(); }
const char* tm_runner_layer_name(size_t i) { return g_profiler.tag(static_cast<uint32_t>(i)); }
uint32_t tm_runner_layer_ticks(size_t i) { return g_profiler.ticks(static_cast<uint32_t>(i)); }

}  // extern "C"
