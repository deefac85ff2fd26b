/*
 * capture.c - the report hooks of issue 11 (see capture.h): what the
 * reporter calls at the start of a report, inside each Thread message,
 * after the breadcrumbs and among the completeness flags.
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker;
 * the work area's mds_capture (mapped at install) and small stack buffers.
 */
#include <signal.h>
#include <string.h>

#include "crash/capture/capture.h"
#include "crash/handler/fields.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

void mds_capture_begin(mds_capture *c, const mds_request *req)
{
    if (!c)
        return;
    c->budget_left = mds_g.cfg.stack_budget_bytes;
    c->budget_exhausted = 0;
    c->maps_ok = 0;
    c->nmaps = 0;
    c->maps_capped = 0;
    if (!(mds_g.cfg.capture_flags & MAYDAY_CAPTURE_NO_MAPS))
        mds_maps_capture(c);
    (void)req;
}

void mds_capture_refresh_maps(mds_capture *c)
{
    if (!c || !c->maps_ok || (mds_g.cfg.capture_flags & MAYDAY_CAPTURE_NO_MAPS))
        return;
    int capped = c->maps_capped;
    mds_maps_capture(c);
    c->maps_capped |= capped;
}

/* The fault address, for signals that have one. */
static int fault_address(const mds_request *req, uint64_t *addr)
{
    if (!req || req->live)
        return 0;
    int sig = req->signo, code = req->info.si_code;
    if (code <= 0 || code == SI_KERNEL || sig == SIGSYS || sig == SIGABRT)
        return 0;
    *addr = (uintptr_t)req->info.si_addr;
    return 1;
}

/* Threads written after this one: those after its slot (all of them for
 * the crashed thread, which comes first). */
static uint64_t later_threads(const mds_capture *c, const mds_slot *slot)
{
    if (!c || !c->stop)
        return 0;
    const mds_stopset *s = c->stop;
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    if (!slot)
        return n;
    if (slot < s->slots || slot >= s->slots + n)
        return 0;
    return n - (uint64_t)(slot - s->slots) - 1;
}

void mds_capture_put_thread(mds_pb *pb, mds_capture *c, const mds_request *req,
                            uint32_t tid, int crashed, const mds_regs *regs,
                            const mds_slot *slot)
{
    uint32_t flags = mds_g.cfg.capture_flags;
    int own = mds_is_own_thread(tid);
    uint64_t reserve = later_threads(c, slot) * MDS_THREAD_RESERVE;
    if (c)
        c->reserve = reserve;
    if (!(flags & MAYDAY_CAPTURE_NO_FP)) {
        if (slot && slot->fp_len && slot->fp_len <= MDS_FP_MAX)
            mds_put_fp(pb, MDS_FP_FORMAT_SLOT, slot->fp, slot->fp_len, reserve);
        else if (!slot && crashed)
            mds_put_crashed_fp(pb, tid, reserve);
    }
    mds_put_thread_state(pb, tid, slot);
    if (own)
        return; /* mayday's own stack tells nothing about the crash */
    uint64_t lo = 0, hi = 0;
    int first = !slot; /* the crashed (or live-calling) thread */
    mds_put_stack(pb, c, regs,
                  first ? mds_g.cfg.crashed_stack_bytes : mds_g.cfg.stack_bytes,
                  &lo, &hi);
    if (first && crashed) {
        uint64_t fault = 0;
        int has = fault_address(req, &fault);
        mds_put_windows(pb, c, regs, has, fault, lo, hi);
    }
}

void mds_capture_put_report(mds_pb *pb, mds_capture *c)
{
    mds_put_mappings(pb, c);
    mds_put_attachments(pb, later_threads(c, 0) * MDS_THREAD_RESERVE);
}

void mds_capture_put_flags(mds_pb *pb, const mds_capture *c)
{
    if (!c)
        return;
    if (c->maps_capped)
        mds_pb_bool(pb, F_REPORT_MAPPINGS_CAPPED, 1);
    if (c->budget_exhausted)
        mds_pb_bool(pb, F_REPORT_STACK_BUDGET_EXHAUSTED, 1);
}
