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
    MDS_RUN_SUSPEND = 1,   /* suspend and list the other threads */
    MDS_RUN_RECURSIVE = 2, /* mayday faulted while reporting: flagged */
    MDS_RUN_TIMED_OUT = 4  /* the exception thread did not answer: flagged */
};

/* Stops the other threads (with MDS_RUN_SUSPEND) into w->stop, captures
 * images, writes the report to a temp file, syncs, renames it into place.
 * The threads stay stopped: the caller releases them (mds_stop_release)
 * or holds them until the process dies. Result and final path in
 * w->result and w->path. self_tid is the calling thread (never stopped).
 * seq: the hand-off request being served (0 for none); if its requester
 * gave up meanwhile (req->rstate no longer MDS_RQ_TAKEN), the report is
 * dropped, not renamed. */
int mds_report_run(mds_work *w, mds_request *req, uint32_t self_tid,
                   int flags, uint32_t seq);

#endif
