/*
 * unwind.h - walking one thread's stack from its saved registers, using
 * libunwind's remote API on our own address space (never its local path,
 * which takes the loader lock and mutexes), with frame-pointer, [sp] and
 * stack-scan fallbacks.
 *
 * CFI frames are unwound by the lean unwinder of cfi.c; the frames it does
 * not handle go to libunwind (mds_walker_set_mode).
 *
 * Context: md_walker_create() is normal context (install). mds_walk() is
 * async-signal-safe and may be called from any thread, for any thread's
 * saved registers (the walked thread must be stopped: suspended, crashed
 * or the caller itself).
 */
#ifndef MDS_UNWIND_H
#define MDS_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#include "crash/core/regs.h"
#include "crash/walk/images.h"

/* How a frame was found; the values match mayday.Trust in the schema. */
enum {
    MDS_TRUST_UNKNOWN = 0,
    MDS_TRUST_CONTEXT = 1,
    MDS_TRUST_CFI = 2,
    MDS_TRUST_FRAME_POINTER = 3,
    MDS_TRUST_STACK_POINTER = 4,
    MDS_TRUST_SCAN = 5,
    MDS_TRUST_LINK_REGISTER = 6
};

typedef struct mds_frame {
    uintptr_t pc;
    uintptr_t sp;
    int32_t image; /* index into the image table, -1 if none */
    uint8_t trust;
} mds_frame;

/* Opaque walker state: libunwind address space, page cache, etc.,
 * allocated once at install. */
typedef struct mds_walker mds_walker;

/* Normal context: creates and warms a walker. Returns NULL on failure. */
mds_walker *md_walker_create(void);
void md_walker_destroy(mds_walker *w);

/* Async-signal-safe. Walks from regs, writing at most max frames (frame 0
 * is the context pc). *capped is set if the walk stopped at max. Returns
 * the number of frames (>= 1 when regs has a pc), or a negative code.
 * Terminates on any stack contents: the frame count is capped and the
 * stack pointer must strictly rise. One walker serves one walk at a time. */
int mds_walk(mds_walker *w, const mds_image_table *images,
             const mds_regs *regs, mds_frame *frames, size_t max,
             int *capped);

/* Frames one walk visits at most (mds_walk_ends): a deeper stack is cut
 * there, with res->stopped set. Bounded in any case by the stack span
 * (64 MiB above the first frame) and by sp rising at every frame. */
#define MDS_WALK_MAX_STEPS (1u << 20)

typedef struct mds_walk_result {
    size_t count;     /* frames in frames[] */
    uint64_t omitted; /* frames walked but not kept, between the innermost
                       * and the outermost ones */
    size_t gap_at;    /* index in frames[] of the first frame after the
                       * omitted ones (== count when none) */
    int stopped;      /* the walk ended at MDS_WALK_MAX_STEPS (or max with
                       * outer == 0) before the stack's outermost frame */
} mds_walk_result;

/* Async-signal-safe. Like mds_walk, but a walk deeper than max frames
 * goes on to the stack's end: the innermost max - outer frames and the
 * outermost outer frames are kept, in order, and what lies between is
 * counted (res->omitted, res->gap_at). Returns the frame count or a
 * negative code. */
int mds_walk_ends(mds_walker *w, const mds_image_table *images,
                  const mds_regs *regs, mds_frame *frames, size_t max,
                  size_t outer, mds_walk_result *res);

/* Counters since md_walker_create (for tests and bench/). */
typedef struct mds_walk_stats {
    uint64_t walks;
    uint64_t cfi_steps;   /* unw_step calls (libunwind) */
    uint64_t cfi_frames, fp_frames, sp_frames, scan_frames;
    uint64_t mem_lookups; /* line-cache lookups */
    uint64_t mem_fills;   /* line-cache misses = safe-read syscalls */
    uint64_t lean_steps;  /* steps tried by the lean unwinder (cfi.c) */
    uint64_t lean_hits;   /* ... whose rule row was cached */
    uint64_t handoffs;    /* ... handed to libunwind */
} mds_walk_stats;

/* How CFI frames are unwound. LEAN (the default): the lean unwinder of
 * cfi.c, and libunwind for the frames it hands off. LIBUNWIND: every CFI
 * step by libunwind's remote unw_step, as before the lean unwinder
 * existed (tests compare the two; bench/ measures both). */
enum { MDS_WALK_MODE_LEAN = 0, MDS_WALK_MODE_LIBUNWIND = 1 };
/* Async-signal-safe; for tests and bench/. */
void mds_walker_set_mode(mds_walker *w, int mode);

/* Async-signal-safe. Drops libunwind's cached unwind rules (it only bumps
 * a generation counter). mds_walk does it by itself when the image table
 * differs from the previous walk's. */
void mds_walker_flush(mds_walker *w);
/* Async-signal-safe. */
void mds_walker_get_stats(const mds_walker *w, mds_walk_stats *out);

#endif
