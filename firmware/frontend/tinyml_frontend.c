/* tinyml firmware: the audio front end. See tinyml_frontend.h and tinyml/audio/features.py. */
#include "tinyml_frontend.h"

/* The same float32 operations in the same order as numpy: no fused multiply-adds (the FPU of a
 * Cortex-M4F has them, x86 builds of numpy do not use them), so device and host agree exactly. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <string.h>

#define HALF (TM_FE_FFT_SIZE / 2u)

#if (TM_FE_FFT_SIZE & (TM_FE_FFT_SIZE - 1u)) != 0 || TM_FE_WINDOW > TM_FE_FFT_SIZE || TM_FE_LAST_BIN > HALF + 1u
#error "the front end needs a power-of-two FFT at least as long as the window, and mel bands below Nyquist"
#endif

/* In-place radix-2 FFT of HALF complex values (re, im interleaved), forward. Twiddles of the
 * FFT_SIZE-point transform: exp(-2 pi i k / HALF) = tm_fe_twiddle[2k]. */
static void fft_half(float *z) {
  for (uint32_t i = 1, j = 0; i < HALF; ++i) { /* bit reversal */
    uint32_t bit = HALF >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      float tr = z[2 * i], ti = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = tr;
      z[2 * j + 1] = ti;
    }
  }
  for (uint32_t len = 2; len <= HALF; len <<= 1) {
    const uint32_t step = 2u * HALF / len; /* index into the FFT_SIZE twiddle table */
    for (uint32_t i = 0; i < HALF; i += len) {
      for (uint32_t k = 0; k < len / 2; ++k) {
        const float wr = tm_fe_twiddle_cos[k * step], wi = -tm_fe_twiddle_sin[k * step];
        float *a = &z[2 * (i + k)], *b = &z[2 * (i + k + len / 2)];
        const float br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
        b[0] = a[0] - br;
        b[1] = a[1] - bi;
        a[0] += br;
        a[1] += bi;
      }
    }
  }
}

/* |X[k]| for k < TM_FE_LAST_BIN of the real FFT_SIZE-point transform of x (x is overwritten). */
static void magnitudes(float *x, float *mag) {
  fft_half(x); /* x read as HALF complex values z[n] = x[2n] + i x[2n+1] */
  for (uint32_t k = 0; k < TM_FE_LAST_BIN; ++k) {
    const uint32_t m = (HALF - k) % HALF;
    const float zr = x[2 * (k % HALF)], zi = x[2 * (k % HALF) + 1];
    const float cr = x[2 * m], ci = -x[2 * m + 1]; /* conj(Z[HALF - k]) */
    const float er = 0.5f * (zr + cr), ei = 0.5f * (zi + ci);
    const float dr = 0.5f * (zr - cr), di = 0.5f * (zi - ci);
    /* X[k] = E + exp(-2 pi i k / FFT_SIZE) * D / i */
    const float wr = k < HALF ? tm_fe_twiddle_cos[k] : -1.0f, wi = k < HALF ? -tm_fe_twiddle_sin[k] : 0.0f;
    const float qr = di, qi = -dr; /* D / i */
    const float re = er + wr * qr - wi * qi, im = ei + wr * qi + wi * qr;
    mag[k] = sqrtf(re * re + im * im);
  }
}

void tm_fe_frame(const int16_t *samples, int8_t *out) {
  static float buf[TM_FE_FFT_SIZE];
  static float mag[TM_FE_LAST_BIN];
  for (uint32_t n = 0; n < TM_FE_WINDOW; ++n) buf[n] = (float)samples[n] * (1.0f / 32768.0f) * tm_fe_window[n];
  for (uint32_t n = TM_FE_WINDOW; n < TM_FE_FFT_SIZE; ++n) buf[n] = 0.0f;
  magnitudes(buf, mag);
  float logmel[TM_FE_N_MEL];
  const float *w = tm_fe_mel_weights;
  for (uint32_t j = 0; j < TM_FE_N_MEL; ++j) {
    float acc = 0.0f;
    const float *m = &mag[tm_fe_mel_first_bin[j]];
    for (uint32_t i = 0; i < tm_fe_mel_count[j]; ++i) acc += m[i] * w[i];
    w += tm_fe_mel_count[j];
    logmel[j] = logf(acc + TM_FE_LOG_OFFSET);
  }
  for (uint32_t c = 0; c < TM_FE_N_MFCC; ++c) {
    float acc = 0.0f;
    for (uint32_t j = 0; j < TM_FE_N_MEL; ++j) acc += logmel[j] * tm_fe_dct[j][c];
    float q = rintf(acc / TM_FE_INPUT_SCALE) + (float)TM_FE_INPUT_ZERO_POINT; /* half to even, as numpy */
    out[c] = (int8_t)(q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q);
  }
}

void tm_fe_clip(const int16_t *pcm, int8_t *features) {
  for (uint32_t t = 0; t < TM_FE_N_FRAMES; ++t) tm_fe_frame(pcm + t * TM_FE_STRIDE, features + t * TM_FE_N_MFCC);
}

void tm_fe_stream_reset(tm_fe_stream_t *s) { memset(s, 0, sizeof *s); }

size_t tm_fe_stream_push(tm_fe_stream_t *s, const int16_t *samples, size_t n) {
  size_t frames = 0;
  while (n > 0) {
    /* take samples up to the end of the next stride (or of the first window) */
    const size_t need = s->filled < TM_FE_WINDOW ? TM_FE_WINDOW - s->filled : TM_FE_STRIDE - s->pending;
    const size_t take = n < need ? n : need;
    memmove(s->window, s->window + take, (TM_FE_WINDOW - take) * sizeof s->window[0]);
    memcpy(s->window + TM_FE_WINDOW - take, samples, take * sizeof s->window[0]);
    samples += take;
    n -= take;
    if (s->filled < TM_FE_WINDOW) {
      s->filled += take;
      if (s->filled < TM_FE_WINDOW) continue;
    } else {
      s->pending += take;
      if (s->pending < TM_FE_STRIDE) continue;
    }
    s->pending = 0;
    memmove(s->features, s->features + TM_FE_N_MFCC, (TM_FE_N_FRAMES - 1u) * TM_FE_N_MFCC);
    tm_fe_frame(s->window, s->features + (TM_FE_N_FRAMES - 1u) * TM_FE_N_MFCC);
    ++s->frames;
    ++frames;
  }
  return frames;
}
