/*
 * scen.h - a crash scenario as test_scenarios.c runs it, and the checks
 * of scen_checks.c (the shapes and process states of issues 9 and 10).
 *
 * Context: test program.
 */
#ifndef SCEN_H
#define SCEN_H

#include "mdt.h"

typedef struct scen {
    const char *name;
    int sig;          /* expected terminating signal; 0: exit status 0 */
    int reports;      /* expected number of reports; -1: the check counts */
    int cause;        /* expected mayday.Cause, -1: not checked */
    const char *func; /* a function expected in the crashed thread */
    int min_func;     /* ... at least this many times */
    const char *mode; /* CRASHER_MODE, "stop-X" (CRASHER_STOP=X), "burn"
                         (two CPU burners run meanwhile), "gdb", "pid1",
                         "stall-helper" (staller.c) */
    /* With reports >= 0: r is the one report, path its file. With
     * reports == -1: r is NULL and path is the report directory. */
    void (*check)(const struct scen *, const Mayday__Report *, const char *);
} scen;

extern char *crasher;

/* Why scenario s cannot run here, or NULL (scen_where.c). */
const char *scen_not_here(const scen *s);

const Mayday__Thread *scen_thread_named(const Mayday__Report *r,
                                        const char *name);

void check_stalled(const scen *s, const Mayday__Report *r, const char *path);
void check_writer(const scen *s, const Mayday__Report *r, const char *path);
void check_rt(const scen *s, const Mayday__Report *r, const char *path);
void check_all_stopped(const scen *s, const Mayday__Report *r,
                       const char *path);
void check_live_sleepers(const scen *s, const Mayday__Report *r,
                         const char *path);
void check_one_crash(const scen *s, const Mayday__Report *r, const char *dir);
void check_many_gdb(const scen *s, const Mayday__Report *r, const char *path);
void check_rlimit(const scen *s, const Mayday__Report *r, const char *path);
void check_full_disk(const scen *s, const Mayday__Report *r, const char *dir);
void check_vfork(const scen *s, const Mayday__Report *r, const char *dir);
void check_main_exited(const scen *s, const Mayday__Report *r,
                       const char *path);
void check_uninstall_race(const scen *s, const Mayday__Report *r,
                          const char *dir);
void check_dir_renamed(const scen *s, const Mayday__Report *r, const char *dir);

#endif
