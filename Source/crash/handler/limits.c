/*
 * limits.c - limits hit during a report (see limits.h): the report's
 * limit fields, and the bounded /proc read that tells a cut file.
 *
 * Context: async-signal-safe, crash path: no malloc, no stdio, no locks,
 * no dynamic linker, no errno; raw syscalls into caller buffers.
 */
#include "crash/handler/limits.h"

#include <errno.h>
#include <fcntl.h>

#include "crash/core/sys.h"
#include "crash/handler/annot.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

long mds_proc_read_cut(const char *rel, char *buf, size_t cap, int *cut)
{
    *cut = 0;
    if (cap == 0)
        return -EINVAL;
    buf[0] = 0;
    long fd = mds_proc_open(rel, O_RDONLY);
    if (fd < 0)
        return fd;
    size_t n = 0;
    for (int tries = 0; n + 1 < cap && tries < 1024; tries++) {
        long r = mds_read((int)fd, buf + n, cap - 1 - n);
        if (r == -EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    if (n + 1 == cap) {
        char more;
        long r;
        do
            r = mds_read((int)fd, &more, 1);
        while (r == -EINTR);
        *cut = r > 0;
    }
    mds_close((int)fd);
    return (long)n;
}

size_t mds_outer_frames(size_t max_frames)
{
    return max_frames / MDS_OUTER_FRAMES_DIV;
}

/* Annotation values and breadcrumb messages cut by their writers. */
static uint32_t cut_slots(void)
{
    uint32_t bits = 0;
    for (int i = 0; i < MDS_ANNOT_MAX; i++) {
        if (__atomic_load_n(&mds_annots[i].cut, __ATOMIC_RELAXED) &&
            mds_annots[i].key[0])
            bits |= MDS_LIMIT_ANNOTATION_VALUE;
    }
    for (int i = 0; i < MDS_CRUMB_MAX; i++) {
        if (__atomic_load_n(&mds_crumbs[i].cut, __ATOMIC_RELAXED))
            bits |= MDS_LIMIT_BREADCRUMB_MESSAGE;
    }
    return bits;
}

void mds_put_limits(mds_pb *pb, const mds_image_table *t, const mds_limits *l)
{
    if (t->capped)
        mds_pb_bool(pb, F_REPORT_IMAGES_CAPPED, 1);
    if (t->segs_capped)
        mds_pb_uint64(pb, F_REPORT_SEGMENTS_CAPPED, t->segs_capped);
    if (t->paths_capped)
        mds_pb_uint64(pb, F_REPORT_IMAGE_PATHS_CAPPED, t->paths_capped);
    if (l->argv_cut)
        mds_pb_bool(pb, F_REPORT_ARGV_TRUNCATED, 1);
    uint32_t dropped =
        __atomic_load_n(&mds_g.waiting_dropped, __ATOMIC_ACQUIRE);
    if (dropped)
        mds_pb_uint64(pb, F_REPORT_CRASHED_THREADS_DROPPED, dropped);
    uint32_t head = __atomic_load_n(&mds_crumb_head, __ATOMIC_ACQUIRE);
    if (head > MDS_CRUMB_MAX)
        mds_pb_uint64(pb, F_REPORT_BREADCRUMBS_DROPPED, head - MDS_CRUMB_MAX);
    uint32_t bits = l->bits | cut_slots();
    if (t->phdrs_capped)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "program_headers");
    if (t->build_ids_capped)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "build_id");
    if (t->namespaces_capped)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "namespaces");
    if (bits & MDS_LIMIT_CWD)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "cwd");
    if (bits & MDS_LIMIT_ANNOTATION_VALUE)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "annotation_value");
    if (bits & MDS_LIMIT_BREADCRUMB_MESSAGE)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "breadcrumb_message");
    if (bits & MDS_LIMIT_ABORT_MESSAGE)
        mds_pb_string(pb, F_REPORT_LIMITS_HIT, "abort_message");
}
