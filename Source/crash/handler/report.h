/*
 * report.h - gathering and writing one report.
 *
 * Context: async-signal-safe. Runs on the exception thread, in the crashed
 * thread's signal handler (fallback), or in the caller of
 * mayday_write_live_report().
 */
#ifndef MDS_REPORT_H
#define MDS_REPORT_H

#include "crash/handler/state.h"

enum {
    MDS_RUN_SUSPEND = 1, /* suspend and list the other threads */
    MDS_RUN_MINIMAL = 2  /* recursive crash: crashed thread only, no walk
                            of others, flagged recursive_crash */
};

/* Suspends the other threads (unless minimal), captures images, writes
 * the report to a temp file, fsyncs, renames it into place, resumes the
 * threads. Fills req->path and req->result. self_tid is the calling
 * thread (never signalled). */
int mds_report_run(mds_work *w, mds_request *req, uint32_t self_tid,
                   int flags);

#endif
