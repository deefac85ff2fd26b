/*
 * bench_util.h - helpers shared by the bench programs (bench_crash,
 * bench_plain, bench_install, bench_reader): clocks, medians, /proc
 * figures, a result page shared with a child across exec, running a child
 * with a deadline, and the crash harness's worker threads (N threads, each
 * 32 frames deep, blocked in read()).
 *
 * Context: benchmark programs (normal context). bu_now_ns() is also called
 * from signal handlers: clock_gettime is async-signal-safe.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The page a crashing child fills in and its parent reads after the
 * child died. Written in signal handlers: plain stores only. */
typedef struct bu_page {
    volatile uint64_t t_fault;   /* CLOCK_MONOTONIC just before the store */
    volatile uint64_t t_written; /* CLOCK_MONOTONIC once the output is out */
    volatile int32_t ok;         /* 1: report/backtrace written */
    volatile int32_t frames;     /* baselines: frames written */
    volatile uint64_t val[16];   /* free use (bench_install) */
    char path[512];              /* mayday: the report's final path */
} bu_page;

uint64_t bu_now_ns(void);
/* Sorts v in place; the median (upper middle for even n). 0 when n == 0. */
uint64_t bu_median_u64(uint64_t *v, size_t n);
double bu_median_dbl(double *v, size_t n);
/* A field of /proc/self/status in kB ("VmRSS", "VmSize"); -1 if absent. */
long bu_status_kb(const char *key);
void bu_sleep_ms(int ms);

/* A zeroed bu_page in a memfd that is inherited across exec. *fd is the
 * number to pass to the child (bu_page_attach). NULL on failure. */
bu_page *bu_page_create(int *fd);
bu_page *bu_page_attach(int fd);
void bu_page_reset(bu_page *p);

/* Runs argv (argv[0] a path) in a fresh process (fork + exec, no core
 * files, stdout to /dev/null unless out_fd >= 0). Waits up to timeout_ms,
 * then kills it. Returns the wait status, -1 if it could not be run or
 * had to be killed. */
int bu_run(char *const argv[], int timeout_ms, int out_fd);

/* Starts n threads, each recursing `depth` frames and then blocked in
 * read() on a pipe; returns when all are blocked. Threads stay forever
 * (the process is about to crash). 0 or -1. */
int bu_start_workers(int n, int depth);

/* The crash: a store through a NULL pointer the compiler cannot see. */
void bu_null_store(void);

/* Counts the system calls the calling thread makes, in process (a
 * perf_event_open counter on the raw_syscalls:sys_enter tracepoint; needs
 * tracefs and root or a permissive perf_event_paranoid). -1 if not
 * available. bu_syscalls_read: calls counted so far, or -1. */
int bu_syscalls_open(void);
long long bu_syscalls_read(int fd);

/* mkdir -p-less helpers: a fresh directory (caller frees), rm -rf. */
char *bu_mkdtemp(const char *base, const char *tag);
/* This program's path (/proc/self/exe) into self, and the path of a
 * sibling program in the same directory into sibling. 0 or -1. */
int bu_self_and_sibling(char *self, size_t n, const char *name, char *sibling,
                        size_t m);
void bu_rmtree(const char *dir);

#endif
