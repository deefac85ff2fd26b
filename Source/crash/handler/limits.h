/*
 * limits.h - "no silent truncation": what the crash path records when it
 * hits one of its bounds, and the report fields that say so (Report
 * fields 33-39 of Protobuf/mayday.proto; Thread fields 13-14 are written
 * with the frames in report.c). Every bound is listed with what happens
 * at it in docs/fault-path.md.
 *
 * Context: async-signal-safe (crash path), except where noted.
 */
#ifndef MDS_LIMITS_H
#define MDS_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "crash/core/pbenc.h"
#include "crash/walk/images.h"

/* Bytes of /proc/self/cmdline kept in Process.argv. */
#define MDS_ARGV_MAX 4096
/* Of a thread's max_frames slots, max_frames / MDS_OUTER_FRAMES_DIV keep
 * the outermost frames of a walk deeper than max_frames. */
#define MDS_OUTER_FRAMES_DIV 4

/* Limits without a field of their own, reported by name in limits_hit. */
enum {
    MDS_LIMIT_CWD = 1 << 0,                /* cwd longer than 4095 bytes */
    MDS_LIMIT_ANNOTATION_VALUE = 1 << 1,   /* a value was cut to 255 */
    MDS_LIMIT_BREADCRUMB_MESSAGE = 1 << 2, /* a message was cut to 127 */
    MDS_LIMIT_ABORT_MESSAGE = 1 << 3,      /* cut to 4095 bytes */
};

/* What one report hit, besides the image table's own counters. */
typedef struct mds_limits {
    int argv_cut;
    uint32_t bits; /* MDS_LIMIT_* */
} mds_limits;

/* Like mds_proc_read (procfs.h), and *cut = 1 if the file had more than
 * cap - 1 bytes. */
long mds_proc_read_cut(const char *rel, char *buf, size_t cap, int *cut);

/* The number of outermost frames to keep of max_frames. */
size_t mds_outer_frames(size_t max_frames);

/* Writes the limit fields that apply (nothing for a limit not hit).
 * Called with the completeness fields, from the encoder's reserve. */
void mds_put_limits(mds_pb *pb, const mds_image_table *t, const mds_limits *l);

#endif
