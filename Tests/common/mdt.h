/*
 * mdt.h - helpers shared by the test programs: temp dirs, running a child
 * with a deadline, finding and decoding reports independently of the
 * library's reader (framing checked here, protobuf-c for the message),
 * symbol ranges from `nm -S`.
 *
 * Context: test code (normal context).
 */
#ifndef MDT_H
#define MDT_H

#include <stddef.h>
#include <stdint.h>

#include "mayday.pb-c.h"

/* A fresh directory under $TMPDIR or /tmp; caller frees the string. */
char *mdt_mkdtemp(const char *tag);
/* rm -rf. */
void mdt_rmtree(const char *dir);

/* Called by mdt_run when a child it killed (SIGKILL at the deadline) is
 * still not gone 2 s later: it sits in a wait even SIGKILL does not end
 * (a FUSE request its server holds); the hook must end that wait. */
extern void (*mdt_unjam)(void);

/* Runs argv (argv[0] a path) with extra "NAME=value" env entries (NULL
 * terminated, may be NULL). Waits up to timeout_ms, then SIGKILLs it and
 * sets *hung. Returns the wait status, -1 on fork failure. stdout/stderr
 * go to out_path if not NULL. */
int mdt_run(char *const argv[], char *const env[], int timeout_ms, int *hung,
            const char *out_path);

/* Number of "*.mayday" files in dir; the first path is copied to first
 * (if not NULL, size cap). */
int mdt_count_reports(const char *dir, char *first, size_t cap);

/* Paths of every "*.mayday" in dir (up to max, sorted by name) into
 * paths[i] (4096 bytes each); returns how many. */
int mdt_list_reports(const char *dir, char (*paths)[4096], int max);

/* Reads path, checks the 16-byte framing (magic, version, length, CRC)
 * and unpacks it. NULL on any problem (reason printed). */
Mayday__Report *mdt_load_report(const char *path);

/* Offset (st_value) and size of a function symbol in binary, via nm -S.
 * Returns 0 on success. */
int mdt_symbol(const char *binary, const char *sym, uint64_t *off,
               uint64_t *size);

/* The main program's image in the report, or NULL. */
const Mayday__Image *mdt_main_image(const Mayday__Report *r);

/* Count of frames of thread t whose pc is within [lo, hi). */
int mdt_frames_in(const Mayday__Thread *t, uint64_t lo, uint64_t hi);

/* Path of a built program, from $MAYDAY_BINARY_DIR and a relative path. */
char *mdt_build_path(const char *rel);

/* CLOCK_MONOTONIC in ms. */
uint64_t mdt_now_ms(void);

/* Repeat count for scenario loops: $MAYDAY_REPEAT or def. */
int mdt_repeat(int def);

#endif
