/*
 * crasher.h - what the crash-scenario child's files share (crasher.c:
 * the classic crashes; crasher_shapes.c: the shapes real programs have,
 * issue 9; crasher_states.c: process states, issue 10).
 *
 * Context: test program.
 */
#ifndef CRASHER_H
#define CRASHER_H

#include <pthread.h>
#include <stdint.h>

#include "mayday/mayday.h"

extern const char *g_dir;
extern const char *g_scenario;
extern pthread_barrier_t g_barrier;

/* Prints what failed and exits 90. */
void die(const char *what) __attribute__((noreturn));
/* mayday_install with the scenario's config (CRASHER_MODE, CRASHER_STOP,
 * CRASHER_REPLY_MS, CRASHER_SUSPEND_MS from the environment). */
void install(uint32_t flags, mayday_crash_cb cb, uint32_t max_bytes);
/* n threads named worker-i, parked in pause(); _deep: depth frames
 * below their start routine. */
void start_sleepers(int n);
void start_sleepers_deep(int n, int depth);
void crasher_null_write(void);

/* Runs scenario s if it is one of these files'; returns the exit status,
 * or -1 if s is not theirs. (Most of them never return: they crash.) */
int crasher_shapes(const char *s);
int crasher_states(const char *s);

/* "<report dir>/../<leaf>": where a scenario leaves files for the test. */
void side_path(char *out, size_t cap, const char *leaf);

#endif
