/*
 * report.c - gathers one report and writes it to disk: stop the other
 * threads, capture the images, encode the parts in order into the report
 * file (report_put.c, report_file.c), and record the outcome in the
 * last-crash marker. The stopped threads are NOT released here: the
 * caller decides (released when the process lives on, held when it is
 * about to die).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here; all memory is the caller's mds_work
 * (mapped at install) or small stack buffers.
 *
 * Order inside the report, so that the size cap cuts the least useful
 * part: header, system, process, app, signal, cause, abort message,
 * register names, the crashed thread, images, annotations, breadcrumbs,
 * the memory map and attachments (issue 11), the other threads; completeness
 * flags last (from the encoder's reserve).
 */
#include "crash/handler/report.h"

#include <signal.h>
#include <string.h>

#include "crash/capture/capture.h"
#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/handler/failure.h"
#include "crash/handler/fields.h"
#include "crash/handler/marker.h"
#include "crash/handler/procfs.h"
#include "crash/handler/report_file.h"
#include "crash/handler/report_put.h"
#include "crash/core/poison.h"

/* Bytes kept for the stop's header part (up to about 200), the
 * completeness and limit fields. */
#define RESERVE 512

static void phase(mds_work *w, uint32_t ph)
{
    __atomic_store_n(&w->phase, ph, __ATOMIC_RELEASE);
}

static int write_report(mds_work *w, mds_request *req, int flags, uint32_t seq)
{
    uint8_t uuid[16];
    mds_random(uuid, sizeof uuid);
    uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* v4 */
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
    uint64_t now_rt = mds_realtime_ns();

    mds_rfile f;
    int r = mds_rfile_create(w, &f, uuid, now_rt);
    if (r < 0) {
        if (f.fd >= 0)
            return mds_rfile_finish(w, &f, req, r, seq);
        w->path[0] = 0;
        return r;
    }
    mds_rctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.req = req;
    c.tracer = req->tracer;
    c.fsize_limit = f.fsize_limit;
    mds_pb_init(&c.pb, &f.wr, RESERVE);
    mds_pb *pb = &c.pb;

    char *msg = w->scratch;
    int has_abort =
        req->signo == SIGABRT && mds_read_abort_msg(msg, MDS_PATH_MAX) > 0;
    mds_put_header(&c, uuid, now_rt);
    mds_put_system(&c);
    mds_put_process(&c);
    mds_put_app(&c);
    if (!req->live)
        mds_put_signal(&c, has_abort);
    if (has_abort && mds_read_abort_msg(msg, MDS_PATH_MAX) > 0) {
        mds_pb_string(pb, F_REPORT_ABORT_MESSAGE, msg);
        if (mds_strlen(msg) + 1 >= MDS_PATH_MAX)
            c.lim.bits |= MDS_LIMIT_ABORT_MESSAGE;
    }
    mds_put_failure(pb, req, has_abort ? msg : 0); /* issue 12 */
    mds_put_register_names(&c);
    /* issue 12: a hang report lists the silent thread first. */
    c.first_tid = mds_failure_first_tid(req);
    if (c.first_tid && !mds_put_stopped_thread(&c, c.first_tid))
        c.first_tid = 0;
    /* Index 0 only if the thread made it into the report (size cap). */
    if (mds_put_thread(&c, req->tid, !req->live,
                       req->live ? MDS_TS_CURRENT : MDS_TS_CRASHED, &req->regs,
                       0, 0, 0) &&
        !req->live)
        mds_pb_uint64(pb, F_REPORT_CRASHED_THREAD, 0);
    mds_put_images(&c);
    mds_put_annotations(&c);
    mds_capture_put_report(pb, w->capture); /* issue 11: maps, attachments */
    mds_put_other_threads(&c);
    mds_put_flags(&c, flags);
    mds_capture_put_flags(pb, w->capture); /* issue 11 */
    r = mds_pb_finish(pb);
    return mds_rfile_finish(w, &f, req, r, seq);
}

static const char *result_reason(int r)
{
    switch (r) {
    case 0:
        return "";
    case MAYDAY_ENOSPC:
        return "no space left on the report's file system";
    case MAYDAY_EACCES:
        return "the report directory is not writable";
    case MAYDAY_ENOENT:
        return "the report directory no longer exists";
    case MAYDAY_ETOOBIG:
        return "RLIMIT_FSIZE leaves no room for a report";
    case MAYDAY_ETIMEDOUT:
        return "the exception thread was too late; the crashed thread "
               "wrote the report";
    default:
        return "the report could not be written (I/O error)";
    }
}

int mds_report_run(mds_work *w, mds_request *req, uint32_t self_tid, int flags,
                   uint32_t seq)
{
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&w->busy, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    w->path[0] = 0;
    phase(w, MDS_PH_STOPPING);
    if (flags & MDS_RUN_SUSPEND) {
        mds_stop_req sr = {self_tid,     req->tid,
                           !req->live,   req->tracer > 0,
                           req->seccomp, mds_g.cfg.suspend_timeout_ms};
        /* With ptrace the helper stops them while we list the images,
         * create the file and write what needs no stopped thread; the
         * threads are taken as they settle (mds_put_other_threads). */
        mds_stop_begin(&w->stop, &sr);
    } else {
        mds_stop_release(&w->stop);
        __atomic_store_n(&w->stop.n, 0, __ATOMIC_RELEASE);
        w->stop.method = MDS_STOP_NONE;
        w->stop.phase = MDS_SP_DONE;
    }
    phase(w, MDS_PH_WALKING);
    mds_images_capture(&w->images);
    mds_capture_begin(w->capture, req); /* issue 11: memory map, budget */
    __atomic_store_n(&w->io, 1, __ATOMIC_RELEASE);
    mds_marker_begin(req);
    __atomic_store_n(&w->io, 0, __ATOMIC_RELEASE);
    int r = write_report(w, req, flags, seq);
    /* The stop ends here if the report did not get to the threads (no
     * file): the set must know what it holds before anyone releases it. */
    mds_stop_finish(&w->stop);
    __atomic_store_n(&w->io, 1, __ATOMIC_RELEASE);
    if (r != MAYDAY_ETIMEDOUT) {
        const char *slash = 0;
        for (const char *p = w->path; *p; p++)
            slash = *p == '/' ? p : slash;
        mds_marker_end(req, r, r == 0 && slash ? slash + 1 : 0,
                       result_reason(r));
    }
    __atomic_store_n(&w->io, 0, __ATOMIC_RELEASE);
    phase(w, MDS_PH_IDLE);
    w->result = r;
    __atomic_store_n(&w->busy, 0, __ATOMIC_RELEASE);
    return r;
}
