/*
 * marker.h - the "last crash" marker: a small file in the report
 * directory, created at install and overwritten in place at crash time,
 * so that the next launch can tell that a run crashed, with what signal,
 * and why its report is missing if it is (docs/fault-path.md).
 *
 * File "<report_dir>/last-crash.marker", MDS_MARKER_SIZE bytes, little
 * endian (the layout is part of the on-disk format):
 *   0   8    magic "MAYDAYLC"
 *   8   4    version (1)
 *   12  4    state: 0 none, 1 crash being reported, 2 report written,
 *            3 no report (result says why)
 *   16  4    pid
 *   20  4    signal number
 *   24  4    si_code
 *   28  4    result: 0 or a negative MAYDAY_E* code
 *   32  8    fault address
 *   40  8    time of the crash, ns since the Unix epoch
 *   48  208  report file name, NUL-terminated ("" if none)
 *   256 256  reason, NUL-terminated English text
 *
 * Context: mds_marker_* async-signal-safe (openat, one pwrite into blocks
 * the file already has: works on a full disk, close); the reader is
 * normal context.
 */
#ifndef MDS_MARKER_H
#define MDS_MARKER_H

#include <stdint.h>

#define MDS_MARKER_NAME "last-crash.marker"
#define MDS_MARKER_SIZE 512
#define MDS_MARKER_MAGIC "MAYDAYLC"
/* mds_fds.marker: the file exists, but is opened only while written. */
#define MDS_MARKER_REOPEN (-2)

enum {
    MDS_MARK_NONE = 0,
    MDS_MARK_IN_PROGRESS = 1,
    MDS_MARK_WRITTEN = 2,
    MDS_MARK_FAILED = 3
};

struct mds_request;

/* The crash is being reported (called before any report I/O). */
void mds_marker_begin(const struct mds_request *req);
/* How it ended: result 0 and the report's file name, or an error. */
void mds_marker_end(const struct mds_request *req, int result, const char *name,
                    const char *reason);

#endif
