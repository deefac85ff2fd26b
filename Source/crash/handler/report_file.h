/*
 * report_file.h - one report file's life: created as
 * "<ms>-<uuid>.mayday.tmp" in the report directory (relative to the
 * descriptor reserved at install), written through a capped writer (never
 * past max_report_bytes nor RLIMIT_FSIZE), completed with its header,
 * synced, and renamed to ".mayday" only if this reporter still owns the
 * crash. A failure at any step removes the temp file.
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_REPORT_FILE_H
#define MDS_REPORT_FILE_H

#include "crash/core/writer.h"
#include "crash/handler/state.h"

typedef struct mds_rfile {
    long fd;
    int dirfd;         /* the reserved directory, or AT_FDCWD */
    char name[96];     /* "<ms>-<uuid hex>.mayday" */
    char tmpname[104]; /* name + ".tmp" */
    mds_writer wr;
    uint64_t fsize_limit; /* RLIMIT_FSIZE, when it capped the report */
} mds_rfile;

/* Creates the temp file and writes a blank header. 0 or MAYDAY_E*. */
int mds_rfile_create(mds_work *w, mds_rfile *f, const uint8_t uuid[16],
                     uint64_t now_rt);
/* Completes (header, CRC, sync) and publishes the file when r is 0 and,
 * for a hand-off (seq != 0), req->rstate goes TAKEN -> PUBLISHING; sets
 * w->path to the final path ("" if none). Returns the final result. */
int mds_rfile_finish(mds_work *w, mds_rfile *f, mds_request *req, int r,
                     uint32_t seq);

#endif
