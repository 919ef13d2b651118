/* tinyml firmware: the serial protocol engine (MLPerf Tiny device commands + tinyml
 * extensions; see firmware/PROTOCOL.md). Independent of board and runtime. */
#ifndef TINYML_PROTOCOL_H_
#define TINYML_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_CMD_TERMINATOR '%'
#define TM_CMD_MAX 256u
/* Most inferences (and warm-ups) one `infer` may run: a mistyped count must not lock the board
 * for hours with no way to interrupt it. */
#ifndef TM_INFER_MAX
#define TM_INFER_MAX 100000
#endif
#define TM_STR_(x) #x
#define TM_STR(x) TM_STR_(x)
#define TM_FIRMWARE_VERSION "tinyml firmware 0.1"
/* `infer N` without W: warm-up runs, as the MLPerf reference API (ee_infer) */
#define TM_DEFAULT_WARMUP 10

/* Initialise the runtime and print the greeting (m-init-done, m-ready). */
void tm_protocol_start(void);
/* Feed one received byte; runs the command when the terminator arrives. A byte also ends
 * listening to a microphone: the host has something to say. */
void tm_protocol_feed(char c);
/* Call when no byte is waiting: a board listening to its microphone runs the front end and the
 * detector on what it captured. */
void tm_protocol_idle(void);
/* The firmware main loop: start, then poll the port forever. */
void tm_app_run(void);

/* Output helpers (also used by ports and runtimes for diagnostics). */
void tm_puts(const char *s);
void tm_put_u64(uint64_t v);
void tm_put_i32(int32_t v);
/* A float with three decimals, truncated like the MLPerf reference's th_results. */
void tm_put_fixed3(float f);

/* For command handlers outside the engine (tinyml_stream.c). */
char *tm_next_token(char **cursor);  /* next space-separated token of a command, or NULL */
long tm_parse_count(const char *s);  /* a non-negative decimal; -1 when absent or malformed */
int tm_hex_ok(const char *hex);      /* an even number of hex digits, else an e-[...] line and 0 */
size_t tm_hex_decode(const char *hex, uint8_t *out, size_t cap);
int tm_runner_ready(void);           /* the runtime initialised, else an e-[...] line and 0 */
uint64_t tm_clock_now(void);         /* the port timer widened to 64 bits */

#ifdef __cplusplus
}
#endif

#endif
