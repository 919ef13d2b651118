/* tinyml firmware: the audio commands of the protocol engine (tinyml_stream.c). */
#ifndef TINYML_STREAM_H_
#define TINYML_STREAM_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Run `tinyml <sub> ...` when sub is frontend, stream or listen; returns 0 for any other sub. */
int tm_stream_command(const char *sub, char **cursor);
/* After the greeting, the runtime ready: a board with a microphone starts listening. */
void tm_listen_boot(void);
/* A byte arrived from the host: stop listening (no-op when not listening). */
void tm_listen_stop(void);
/* Idle time: feed what the microphone captured to the front end and the detector. */
void tm_listen_poll(void);

#ifdef __cplusplus
}
#endif

#endif
