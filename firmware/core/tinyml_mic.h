/* tinyml firmware: what a microphone driver provides (firmware/mics/<driver>/, chosen by the board
 * file's firmware.microphone; the board header then defines TM_HAS_MIC). Mono int16 PCM at the
 * front end's rate; the driver buffers between tm_mic_read calls (DMA or interrupt callbacks). */
#ifndef TINYML_MIC_H_
#define TINYML_MIC_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start capturing at sample_rate Hz; 0 on success, else a driver error code. */
int tm_mic_start(uint32_t sample_rate);
/* Up to max captured samples, oldest first; 0 when none are waiting (never blocks). */
size_t tm_mic_read(int16_t *pcm, size_t max);
/* Samples lost since tm_mic_start because they were not read in time. */
uint32_t tm_mic_dropped(void);
/* Stop capturing (the microphone may power down). */
void tm_mic_stop(void);

#ifdef __cplusplus
}
#endif

#endif
