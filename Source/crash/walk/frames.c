/*
 * frames.c - the frame sink of a stack walk (see frames.h): innermost
 * frames in order, outermost ones in a ring, the gap counted.
 *
 * Context: async-signal-safe, crash path: no malloc, no stdio, no locks,
 * no dynamic linker, no errno; caller memory only.
 */
#include "crash/walk/frames.h"

#include "crash/core/poison.h"

void mds_sink_init(mds_frame_sink *s, mds_frame *frames, size_t cap,
                   size_t outer)
{
    if (outer > cap)
        outer = cap;
    s->frames = frames;
    s->cap = cap;
    s->outer = outer;
    s->inner = cap - outer;
    s->total = 0;
    s->full = 0;
}

int mds_sink_push(mds_frame_sink *s, const mds_frame *f)
{
    size_t at;
    if (s->total < s->inner) {
        at = (size_t)s->total;
    } else if (s->outer) {
        at = s->inner + (size_t)((s->total - s->inner) % s->outer);
    } else {
        s->full = 1;
        return 0;
    }
    s->frames[at] = *f;
    s->total++;
    return 1;
}

static void reverse(mds_frame *a, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        mds_frame t = a[i];
        a[i] = a[j - 1];
        a[j - 1] = t;
    }
}

size_t mds_sink_finish(mds_frame_sink *s, uint64_t *omitted, size_t *gap_at)
{
    size_t count = s->total < s->cap ? (size_t)s->total : s->cap;
    uint64_t lost = s->total > s->cap ? s->total - s->cap : 0;
    if (lost) {
        /* The ring's oldest entry (the innermost kept outer frame) sits
         * at the next write position: rotate it to the ring's start. */
        size_t r = (size_t)((s->total - s->inner) % s->outer);
        mds_frame *ring = s->frames + s->inner;
        reverse(ring, r);
        reverse(ring + r, s->outer - r);
        reverse(ring, s->outer);
    }
    if (omitted)
        *omitted = lost;
    if (gap_at)
        *gap_at = lost ? s->inner : count;
    return count;
}
