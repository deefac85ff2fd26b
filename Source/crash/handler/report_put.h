/*
 * report_put.h - encoding the parts of a report (report_put.c) into the
 * streaming protobuf encoder; the file around it is report_file.c and
 * the order of the parts is report.c's.
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_REPORT_PUT_H
#define MDS_REPORT_PUT_H

#include "crash/core/pbenc.h"
#include "crash/handler/limits.h"
#include "crash/handler/state.h"

typedef struct mds_rctx {
    mds_work *w;
    mds_request *req;
    mds_pb pb;
    int frames_capped;
    long tracer;          /* TracerPid at crash time, -1 unknown */
    uint64_t fsize_limit; /* RLIMIT_FSIZE when it capped the report, or 0 */
    mds_limits lim;       /* limits hit (issue 10), see limits.h */
    uint32_t first_tid;   /* issue 12: put first, skipped among the others */
    uint64_t handoff_ns;  /* fault -> the header begun, 0 unknown */
} mds_rctx;

/* The header is written in two parts (protobuf merges the two Header
 * messages): what is known at once first, and what the stop tells at the
 * end (mds_put_flags), since the threads are stopped while the report is
 * being written (issue 15). */
void mds_put_header(mds_rctx *c, const uint8_t uuid[16], uint64_t now_rt);
void mds_put_system(mds_rctx *c);
void mds_put_process(mds_rctx *c);
void mds_put_app(mds_rctx *c);
void mds_put_signal(mds_rctx *c, int has_abort_msg);
void mds_put_register_names(mds_rctx *c);
/* Returns 1 if the thread's message was (at least partly) written. */
/* slot: the thread's stop slot, NULL for the crashed / live-calling one
 * (issue 11's contents read FP state and system call from it). */
int mds_put_thread(mds_rctx *c, uint32_t tid, int crashed, int state,
                   const mds_regs *regs, const char *note, uint32_t why,
                   const mds_slot *slot);
/* Every thread of the stop set, after the crashed one (but first_tid),
 * each as soon as the stopper settled it; then waits for the end of the
 * stop. */
void mds_put_other_threads(mds_rctx *c);
/* Thread tid of the stop set, with its state; 0 if it is not in it.
 * Waits for the end of the stop first. */
int mds_put_stopped_thread(mds_rctx *c, uint32_t tid);
void mds_put_images(mds_rctx *c);
void mds_put_annotations(mds_rctx *c);
/* The stop's part of the header and the completeness fields, last
 * (flags: MDS_RUN_*), from the encoder's reserve; after
 * mds_put_other_threads (the stop is over). */
void mds_put_flags(mds_rctx *c, int flags);

/* glibc's assert/abort message into out; its length, or -1 if none. */
long mds_read_abort_msg(char *out, size_t cap);

#endif
