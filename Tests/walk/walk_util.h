/*
 * walk_util.h - test helpers for Tests/walk: a helper thread parked at a
 * known depth of a recursive function, whose registers are captured by a
 * signal handler that then waits (so its stack stays exactly as it was),
 * symbol ranges, /proc and readelf parsing, child-process checks.
 *
 * Context: test code (normal context), except the signal handler.
 */
#ifndef WALK_UTIL_H
#define WALK_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crash/core/regs.h"
#include "crash/walk/images.h"
#include "crash/walk/unwind.h"

#define WT_LOCAL_MAX 1024

typedef int (*wt_rec_fn)(int n, void (*bottom)(void *), void *arg);

typedef struct wt_parked {
    pthread_t th;
    pid_t tid;
    wt_rec_fn fn; /* recursive function, or NULL: park at once */
    void (*body)(struct wt_parked *); /* or a custom body (fn == NULL) */
    int depth;
    int pipefd[2];
    uintptr_t stack_lo, stack_hi; /* the thread's stack */
    volatile int ready;           /* about to block */
    volatile int captured;        /* the handler has saved the registers */
    volatile int release;         /* the handler may return */
    int want_local; /* run libunwind's local unwinder in handler */
    mds_regs regs;  /* registers at the signal */
    int nlocal;     /* local unwinder's frames (from the handler) */
    uintptr_t lpcs[WT_LOCAL_MAX], lsps[WT_LOCAL_MAX];
} wt_parked;

/* Starts the thread, waits until it sleeps in read() at the bottom of
 * fn(depth), then signals it and waits until the handler has captured
 * its registers. Returns 0 or -1. */
int wt_park(wt_parked *p, wt_rec_fn fn, int depth, int want_local);
/* Same with a custom body: body must call wt_block(p) at the point to
 * park. */
int wt_park_body(wt_parked *p, void (*body)(wt_parked *));
/* For bodies: marks ready and blocks in read() until released. */
void wt_block(wt_parked *p);
/* Lets the handler return and the thread finish; joins it. */
void wt_unpark(wt_parked *p);

/* Address range of the function containing addr (from ld.so's symbol
 * table via dladdr1; the function must be in .dynsym). 0 or -1. */
int wt_fn_range(const void *addr, uintptr_t *lo, uintptr_t *hi);
/* Number of frames with pc in [lo, hi), and the index of the first. */
int wt_count_in(const mds_frame *f, int n, uintptr_t lo, uintptr_t hi,
                int *first);

/* Build-id (hex) of an ELF file as printed by `readelf -n`. 0 or -1. */
int wt_readelf_build_id(const char *path, char *hex, size_t cap);
/* [start, end) of the /proc/self/maps line named name (e.g. "[vdso]"). */
int wt_maps_named(const char *name, uintptr_t *start, uintptr_t *end);

/* A preallocated image table (cap entries). */
mds_image_table *wt_table_new(size_t cap, size_t pool);
void wt_table_free(mds_image_table *t);
/* Index of the image with the same file (st_dev/st_ino) as path, or -1. */
int wt_find_image_file(const mds_image_table *t, const char *path);
/* Index of libc.so.6 in t, or -1. Found through libc's own handle, not
 * dladdr(&fopen): an interposer (the ASan runtime) would answer that. */
int wt_libc_image(const mds_image_table *t);

/* Runs fn in a forked child with an alarm(timeout_s); returns the wait
 * status. fn returns the child's exit code. */
int wt_in_child(int (*fn)(void *), void *arg, unsigned timeout_s);

/* Prints a walk (for failures). */
void wt_print(const char *what, const mds_image_table *t, const mds_frame *f,
              int n);

#endif
