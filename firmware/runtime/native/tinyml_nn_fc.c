/* tinyml native runtime: FULLY_CONNECTED (see tinyml_nn.h for the layout): four output rows per
 * pass on Cortex-M with DSP, one at a time in portable C; requantized as TFLM does. */
#include "tinyml_nn.h"
#include "tinyml_nn_math.h"

static inline int8_t fc_out(const tm_fc_t *p, int32_t acc, int c) {
  if (p->rq.fast) {
    return tm_clamp8(tm_rq_fast((int32_t)((uint32_t)acc << 1), p->rq.mult[c], p->rq.shift[c], p->rq.add[c]),
                     p->act_min, p->act_max);
  }
  return tm_clamp8(tm_mbqm(acc, p->rq.mult[c], p->rq.shift[c]) + p->out_zp, p->act_min, p->act_max);
}

/* Groups of four output channels (one pointer walks their interleaved rows, 16 bytes per four
 * inputs), then the last out_c % 4 rows in natural order, two at a time. Each word of four inputs is
 * widened once (SXTB16 even and odd bytes) for all the rows, whose weight words are widened the same
 * way, so two SMLADs give four MACs per row (the permutation is the same on both sides of the
 * product). The bias holds the input zero point's term, so the products are raw int8 x int8;
 * integer sums are exact in any order. */
#if TM_USE_DSP
typedef struct {
  const int8_t *in; /* +0 */
  const int8_t *w;  /* +4  four rows interleaved, 16 bytes per group of four inputs */
  uint32_t groups;  /* +8  (in_c & ~3) / 4 */
  int32_t acc[4];   /* +12 in: the four rows' bias; out: their sums */
} tm_fc_job_t;

/* One group of four inputs for four rows: the input word (r0) widened once into r8 (even bytes) and
 * r9 (odd), one LDM of the rows' four weight words (r10, r11, r12, lr), each widened into r0 in turn
 * and multiplied into its row's accumulator (r4-r7): 23 instructions per 16 MACs. */
#define TM_FC_GROUP                     \
  "ldr r0, [r1], #4\n\t"                \
  "ldmia r2!, {r10, r11, r12, lr}\n\t"  \
  "sxtb16 r8, r0\n\t"                   \
  "sxtb16 r9, r0, ror #8\n\t"           \
  "sxtb16 r0, r10\n\t"                  \
  "smlad r4, r8, r0, r4\n\t"            \
  "sxtb16 r0, r10, ror #8\n\t"          \
  "smlad r4, r9, r0, r4\n\t"            \
  "sxtb16 r0, r11\n\t"                  \
  "smlad r5, r8, r0, r5\n\t"            \
  "sxtb16 r0, r11, ror #8\n\t"          \
  "smlad r5, r9, r0, r5\n\t"            \
  "sxtb16 r0, r12\n\t"                  \
  "smlad r6, r8, r0, r6\n\t"            \
  "sxtb16 r0, r12, ror #8\n\t"          \
  "smlad r6, r9, r0, r6\n\t"            \
  "sxtb16 r0, lr\n\t"                   \
  "smlad r7, r8, r0, r7\n\t"            \
  "sxtb16 r0, lr, ror #8\n\t"           \
  "smlad r7, r9, r0, r7\n\t"

/* Four rows' dot products (AAPCS; the job pointer waits on the stack so r0 can be a temporary):
 * groups four at a time, then one at a time. */
__attribute__((naked, noinline)) static void fc4_asm(tm_fc_job_t *job) {
  __asm__ volatile(
      "push {r4-r11, lr}\n\t"
      "push {r0, r1}\n\t" /* r1: padding, keeps sp 8-byte aligned */
      "ldrd r1, r2, [r0]\n\t"
      "ldr r3, [r0, #8]\n\t"
      "add r12, r0, #12\n\t"
      "ldmia r12, {r4, r5, r6, r7}\n\t"
      "subs r3, r3, #4\n\t"
      "blt 3f\n"
      "1:\n\t" TM_FC_GROUP TM_FC_GROUP TM_FC_GROUP TM_FC_GROUP
      "subs r3, r3, #4\n\t"
      "bge 1b\n"
      "3:\n\t"
      "adds r3, r3, #4\n\t"
      "beq 5f\n"
      "4:\n\t" TM_FC_GROUP
      "subs r3, r3, #1\n\t"
      "bne 4b\n"
      "5:\n\t"
      "pop {r0, r1}\n\t"
      "add r0, r0, #12\n\t"
      "stmia r0, {r4, r5, r6, r7}\n\t"
      "pop {r4-r11, pc}\n\t");
}
#endif

void tm_fc_s8(const tm_fc_t *p, const int8_t *in, int8_t *out) {
#if TM_USE_DSP
  const int k4 = p->in_c & ~3;
#endif
  const size_t kp = p->k_padded;
  int c = 0;
  for (; c + 3 < p->out_c; c += 4) {
    const int8_t *w = p->weights + (size_t)c * kp;
    int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
    int j = 0;
#if TM_USE_DSP
    if (k4 > 0) {
      tm_fc_job_t job = {in, w, (uint32_t)k4 / 4u, {a0, a1, a2, a3}};
      fc4_asm(&job);
      a0 = job.acc[0];
      a1 = job.acc[1];
      a2 = job.acc[2];
      a3 = job.acc[3];
      j = k4;
      w += (size_t)4 * k4;
    }
#endif
    for (; j < p->in_c; j += 4, w += 16) { /* portable C; with DSP, the last 1-3 inputs */
      for (int t = 0; t < 4 && j + t < p->in_c; ++t) {
        a0 += in[j + t] * w[t];
        a1 += in[j + t] * w[4 + t];
        a2 += in[j + t] * w[8 + t];
        a3 += in[j + t] * w[12 + t];
      }
    }
    out[c] = fc_out(p, a0, c);
    out[c + 1] = fc_out(p, a1, c + 1);
    out[c + 2] = fc_out(p, a2, c + 2);
    out[c + 3] = fc_out(p, a3, c + 3);
  }
#if TM_USE_DSP
  for (; c + 1 < p->out_c; c += 2) {
    const int8_t *w0 = p->weights + (size_t)c * kp;
    const int8_t *w1 = w0 + kp;
    int32_t a0 = p->bias[c], a1 = p->bias[c + 1];
    int j = 0;
    for (; j < k4; j += 4) {
      const uint32_t x = tm_load32(in + j), xe = tm_sxtb16(x), xo = tm_sxtb16_ror8(x);
      const uint32_t v0 = tm_load32(w0 + j), v1 = tm_load32(w1 + j);
      a0 = tm_smlad(xe, tm_sxtb16(v0), a0);
      a0 = tm_smlad(xo, tm_sxtb16_ror8(v0), a0);
      a1 = tm_smlad(xe, tm_sxtb16(v1), a1);
      a1 = tm_smlad(xo, tm_sxtb16_ror8(v1), a1);
    }
    for (; j < p->in_c; ++j) {
      a0 += in[j] * w0[j];
      a1 += in[j] * w1[j];
    }
    out[c] = fc_out(p, a0, c);
    out[c + 1] = fc_out(p, a1, c + 1);
  }
#endif
  for (; c < p->out_c; ++c) {
    const int8_t *w = p->weights + (size_t)c * kp;
    int32_t acc = p->bias[c];
    for (int j = 0; j < p->in_c; ++j) acc += in[j] * w[j];
    out[c] = fc_out(p, acc, c);
  }
}
