// tinyml microphone driver: a PDM microphone through the Arduino core's PDM library (Arduino Nano
// 33 BLE Sense: the MP34DT05/MP34DT06 on the nRF52840's PDM peripheral). The library's callback
// runs in interrupt context and copies each block into a ring that tm_mic_read drains.
#include <Arduino.h>
#include <PDM.h>

#include "tinyml_board.h"
#include "tinyml_mic.h"

#ifndef TM_MIC_GAIN
#define TM_MIC_GAIN 20  // the library's default PDM gain
#endif
#ifndef TM_MIC_RING_SAMPLES
#define TM_MIC_RING_SAMPLES 8192u  // 0.5 s at 16 kHz: the detector's inference must fit in it
#endif
static_assert((TM_MIC_RING_SAMPLES & (TM_MIC_RING_SAMPLES - 1u)) == 0u, "mic_ring_samples: a power of two");

static int16_t g_ring[TM_MIC_RING_SAMPLES];
static volatile uint32_t g_head;  // samples written (the PDM callback)
static volatile uint32_t g_tail;  // samples read (tm_mic_read)
static volatile uint32_t g_dropped;

static void on_pdm_data() {
  int16_t block[256];
  int bytes = PDM.available();
  while (bytes > 0) {
    const int got = PDM.read(block, bytes < (int)sizeof block ? bytes : (int)sizeof block);
    if (got <= 0) break;
    for (int i = 0; i < got / 2; ++i) {
      if (g_head - g_tail < TM_MIC_RING_SAMPLES) {
        g_ring[g_head & (TM_MIC_RING_SAMPLES - 1u)] = block[i];
        g_head = g_head + 1u;
      } else {
        g_dropped = g_dropped + 1u;
      }
    }
    bytes -= got;
  }
}

extern "C" {

int tm_mic_start(uint32_t sample_rate) {
  g_head = g_tail = g_dropped = 0;
  PDM.onReceive(on_pdm_data);
  PDM.setGain(TM_MIC_GAIN);
  return PDM.begin(1, (int)sample_rate) ? 0 : 1;  // mono
}

size_t tm_mic_read(int16_t *pcm, size_t max) {
  size_t n = 0;
  while (n < max && g_tail != g_head) {
    pcm[n++] = g_ring[g_tail & (TM_MIC_RING_SAMPLES - 1u)];
    g_tail = g_tail + 1u;
  }
  return n;
}

uint32_t tm_mic_dropped(void) { return g_dropped; }

void tm_mic_stop(void) { PDM.end(); }

}  // extern "C"
