/*
 * frames.h - where a stack walk puts its frames: the innermost ones in
 * order and, once those slots are full, the outermost ones in a ring, so
 * that a walk deeper than the storage keeps both ends (where the thread
 * was and where it came from, e.g. where a runaway recursion started) and
 * counts what falls between them.
 *
 * Context: async-signal-safe; works on caller storage only. It does not
 * care which unwinder found a frame.
 */
#ifndef MDS_FRAMES_H
#define MDS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "crash/walk/unwind.h"

typedef struct mds_frame_sink {
    mds_frame *frames; /* caller storage, cap entries */
    size_t cap;
    size_t inner;   /* slots for the innermost frames */
    size_t outer;   /* ring slots for the outermost ones (cap - inner) */
    uint64_t total; /* frames pushed so far */
    int full;       /* a push was refused (outer == 0 and no room) */
} mds_frame_sink;

/* outer: how many of the cap slots keep the outermost frames (0: keep
 * only the innermost cap frames and refuse the rest). */
void mds_sink_init(mds_frame_sink *s, mds_frame *frames, size_t cap,
                   size_t outer);

/* Adds the next frame (innermost first). Returns 1 if the walk should go
 * on, 0 if the frame was refused (full, no ring): the walk can stop. */
int mds_sink_push(mds_frame_sink *s, const mds_frame *f);

/* Puts the ring in order, innermost first. Returns the number of frames
 * in frames[]; *omitted (may be NULL) gets the number of frames walked but
 * not kept, *gap_at the index in frames[] of the first frame after them
 * (== the count when nothing was omitted). */
size_t mds_sink_finish(mds_frame_sink *s, uint64_t *omitted, size_t *gap_at);

#endif
