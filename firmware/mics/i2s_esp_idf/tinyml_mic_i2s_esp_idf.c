/* tinyml microphone driver: an I2S MEMS microphone through ESP-IDF's standard-mode I2S driver
 * (ESP-IDF >= 5.0), e.g. the ESP32-S3-EYE's MSM261S4030H0. 32-bit slots, one channel; the DMA
 * ring (mic_dma_buffers x mic_dma_frames samples) holds audio while the model runs. Pins, slot and
 * the shift from the 32-bit slot to int16 are board facts (boards/<board>.yaml). */
#include "driver/i2s_std.h"
#include "esp_attr.h"

#include "tinyml_board.h"
#include "tinyml_mic.h"

#ifndef TM_MIC_DMA_BUFFERS
#define TM_MIC_DMA_BUFFERS 8
#endif
#ifndef TM_MIC_DMA_FRAMES
#define TM_MIC_DMA_FRAMES 512 /* 8 x 512 samples = 256 ms at 16 kHz */
#endif
#ifndef TM_MIC_SLOT
#define TM_MIC_SLOT I2S_STD_SLOT_LEFT
#endif

static i2s_chan_handle_t g_rx;
static volatile uint32_t g_dropped;

/* The driver's receive queue was full: a DMA buffer of audio was lost. */
static bool IRAM_ATTR on_overflow(i2s_chan_handle_t handle, i2s_event_data_t *event, void *ctx) {
  (void)handle;
  (void)event;
  (void)ctx;
  g_dropped = g_dropped + TM_MIC_DMA_FRAMES;
  return false;
}

int tm_mic_start(uint32_t sample_rate) {
  i2s_chan_config_t chan = I2S_CHANNEL_DEFAULT_CONFIG(I2S_NUM_0, I2S_ROLE_MASTER);
  chan.dma_desc_num = TM_MIC_DMA_BUFFERS;
  chan.dma_frame_num = TM_MIC_DMA_FRAMES;
  esp_err_t err = i2s_new_channel(&chan, NULL, &g_rx);
  if (err != ESP_OK) return (int)err;
  i2s_std_config_t std = {
      .clk_cfg = I2S_STD_CLK_DEFAULT_CONFIG(sample_rate),
      .slot_cfg = I2S_STD_PHILIPS_SLOT_DEFAULT_CONFIG(I2S_DATA_BIT_WIDTH_32BIT, I2S_SLOT_MODE_MONO),
      .gpio_cfg = {.mclk = I2S_GPIO_UNUSED, .bclk = TM_MIC_BCLK_GPIO, .ws = TM_MIC_WS_GPIO,
                   .dout = I2S_GPIO_UNUSED, .din = TM_MIC_DIN_GPIO},
  };
  std.slot_cfg.slot_mask = TM_MIC_SLOT;
  const i2s_event_callbacks_t callbacks = {.on_recv_q_ovf = on_overflow};
  g_dropped = 0;
  if ((err = i2s_channel_init_std_mode(g_rx, &std)) != ESP_OK ||
      (err = i2s_channel_register_event_callback(g_rx, &callbacks, NULL)) != ESP_OK ||
      (err = i2s_channel_enable(g_rx)) != ESP_OK) {
    i2s_del_channel(g_rx);
    g_rx = NULL;
    return (int)err;
  }
  return 0;
}

size_t tm_mic_read(int16_t *pcm, size_t max) {
  int32_t raw[64];
  size_t n = 0;
  while (g_rx != NULL && n < max) {
    const size_t want = max - n < 64u ? max - n : 64u;
    size_t got = 0;
    (void)i2s_channel_read(g_rx, raw, want * sizeof raw[0], &got, 0); /* what is there, never waits */
    got /= sizeof raw[0];
    for (size_t i = 0; i < got; ++i) {
      const int32_t v = raw[i] >> TM_MIC_SHIFT;
      pcm[n++] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    if (got < want) break;
  }
  return n;
}

uint32_t tm_mic_dropped(void) { return g_dropped; }

void tm_mic_stop(void) {
  if (g_rx == NULL) return;
  i2s_channel_disable(g_rx);
  i2s_del_channel(g_rx);
  g_rx = NULL;
}
