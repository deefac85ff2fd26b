/*
 * capture_util.h - shared by the issue 11 crash tests (capture_util.c).
 *
 * Context: test code (normal context).
 */
#ifndef CAPTURE_UTIL_H
#define CAPTURE_UTIL_H

#include <stdint.h>

#include "mdt.h"

#define TIMEOUT_MS 15000

/* Path of Tests/capture/capturer. */
extern char *capturer;

typedef struct run {
    char *dir;
    char out[4200];
    char path[4200];
    Mayday__Report *r;
    int status;
} run;

/* The nth "key v0 v1 v2" line of the child's output into v; 0 or -1. */
int out_get(const run *x, const char *key, int nth, uint64_t v[3]);
/* One value of it; fails the test when the child did not write it. */
uint64_t out_val(const run *x, const char *key, int nth, int i);
/* Runs `capturer DIR scenario OUT` with env (NULL-terminated "K=V"),
 * expects death by sig (0: exit 0) and one report, decoded into x->r. */
void run_child(run *x, const char *scenario, char *const env[], int sig);
void run_free(run *x);
const Mayday__Thread *named(const Mayday__Report *r, const char *name);
const Mayday__Thread *crashed(const Mayday__Report *r);
/* The recorded byte at addr of region m, or -1. */
int byte_at(const Mayday__Memory *m, uint64_t addr);
/* Register `name` of thread t; 0 or -1. */
int reg(const Mayday__Report *r, const Mayday__Thread *t, const char *name,
        uint64_t *v);
/* Run i of a scenario: report written by the exception thread or in the
 * handler (odd runs); others stopped by ptrace or the signal (every
 * other pair of runs). */
const char *mode_env(int i);
int stop_signal(int i);
const char *stop_env(int i);
/* The report's mapping holding addr, or NULL. */
const Mayday__Mapping *mapping_of(const Mayday__Report *r, uint64_t addr);

#endif
