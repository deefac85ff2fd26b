/*
 * fail_util.h - helpers of the issue-12 tests (Tests/failure/): run a child
 * scenario with a deadline, read back what it printed and the report it
 * left (decoded with protobuf-c, independently of the library's reader),
 * and render the report with the library's own formatters.
 *
 * Context: test code (normal context).
 */
#ifndef FAIL_UTIL_H
#define FAIL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mayday.pb-c.h"
#include "mayday/mayday.h"

typedef struct fu_run {
    int status; /* wait status */
    int hung;   /* killed after the deadline */
    char *out;  /* the child's stdout + stderr (malloc'ed) */
    int nreports;
    char path[4096];   /* first report */
    Mayday__Report *r; /* it, decoded; NULL if none or bad */
    char *dir;         /* the temp dir (removed by fu_free) */
} fu_run;

/* Runs `binary DIR/reports scenario` with CHILD_MODE=mode (NULL: auto). */
void fu_run_child(fu_run *o, const char *binary, const char *scenario,
                  const char *mode, int timeout_ms);
void fu_free(fu_run *o);

/* The number after "KEY=" at the start of a line of the output; -1. */
long fu_out_long(const fu_run *o, const char *key);
/* The text after "KEY=" at the start of a line, in buf; NULL if none. */
const char *fu_out_str(const fu_run *o, const char *key, char *buf, size_t cap);
/* Lines of the output that start with prefix. */
int fu_out_count(const fu_run *o, const char *prefix);

/* 1 if the process ended by signal sig. */
int fu_killed_by(const fu_run *o, int sig);

/* The crashed thread (fails the test if there is none). */
const Mayday__Thread *fu_crashed(const Mayday__Report *r);
/* Frames of t within function sym of the main program binary (nm -S). */
int fu_frames_in(const char *binary, const Mayday__Report *r,
                 const Mayday__Thread *t, const char *sym);
/* 1 if return address pc lies within function sym of the main program binary.
 */
int fu_pc_in(const char *binary, const Mayday__Report *r, uint64_t pc,
             const char *sym);

/* The report at path rendered by libmayday's reader (malloc'ed). */
char *fu_format(const char *path, mayday_format format);
/* The first line a shell command prints (malloc'ed, no newline). */
char *fu_sh_line(const char *cmd);

#endif
