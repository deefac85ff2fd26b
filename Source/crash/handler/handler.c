/*
 * handler.c - what happens between a fault and the process's end.
 *
 * Context: async-signal-safe. mds_crash_handler runs in the crashed thread
 * (on its altstack, all non-crash signals blocked); mds_exc_main runs on
 * the exception thread. You may not malloc, use stdio, take a lock or enter
 * the dynamic linker. Every wait has a deadline.
 *
 * Flow (docs/fault-path.md):
 *   1. optional chain-first: the previous handler may fix the fault;
 *   2. claim the crash slot (CAS on mds_g.crash_owner); a second crashing
 *      thread parks its registers in mds_g.waiting and waits (bounded);
 *   3. hand the request to the exception thread and wait for its reply,
 *      or write the report right here (debugger attached, signal mode,
 *      exception thread dead or late);
 *   4. run the on_crash callback;
 *   5. restore the previous dispositions and re-deliver the signal so the
 *      process ends exactly as it would have without mayday.
 */
#include "crash/handler/handler.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "crash/core/regs.h"
#include "crash/core/sys.h"
#include "crash/handler/cause.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/handler/report.h"
#include "crash/handler/state.h"
#include "crash/handler/suspend.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull

/* Phases of the owner's handling, for recursive faults. */
enum { PH_IDLE = 0, PH_REPORTING = 1, PH_CALLBACK = 2, PH_REDELIVER = 3 };
static volatile uint32_t phase;

int mds_signal_index(int sig)
{
    for (int i = 0; i < MDS_NSIGNALS; i++) {
        if (mds_g.signals[i] == sig)
            return i;
    }
    return -1;
}

static int is_handler(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction != 0;
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

static void call_prev(const struct sigaction *sa, int sig, siginfo_t *info,
                      void *uc)
{
    if (sa->sa_flags & SA_SIGINFO)
        sa->sa_sigaction(sig, info, uc);
    else
        sa->sa_handler(sig);
}

static void restore_all(void)
{
    for (int i = 0; i < MDS_NSIGNALS; i++)
        sigaction(mds_g.signals[i], &mds_g.prev[i], 0);
}

/* Ends the process the way it would have ended without us. Returns only
 * when returning from the handler is the way to do it. */
static void redeliver(int sig, siginfo_t *info, void *ucv)
{
    __atomic_store_n(&phase, PH_REDELIVER, __ATOMIC_RELEASE);
    int i = mds_signal_index(sig);
    restore_all();
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    int prev_is_handler = i >= 0 && is_handler(&mds_g.prev[i]);
    int skip_prev = (mds_g.cfg.flags & MAYDAY_FLAG_CHAIN_FIRST) != 0;
    if (prev_is_handler && skip_prev)
        sigaction(sig, &dfl, 0); /* it already had its turn */
    else if (i >= 0 && !prev_is_handler)
        sigaction(sig, &dfl, 0); /* SIG_IGN cannot stop a crash */

    /* A previous handler may let the process live: then release the slot
     * so other crashing threads do not wait for nothing. Otherwise keep
     * it: the process is about to die and a second report would be a
     * duplicate. */
    if (prev_is_handler && !skip_prev) {
        __atomic_store_n(&mds_g.crash_owner, 0, __ATOMIC_RELEASE);
        mds_futex_wake(&mds_g.crash_owner, 0x7fffffff);
    }

    if (mds_signal_is_fault(sig, info->si_code)) {
        /* Returning re-executes the faulting instruction: the kernel
         * raises the same signal with a fresh, identical siginfo, the
         * core dump shows the real faulting frame. */
        return;
    }
    /* Sent signals (kill, raise, abort), SIGTRAP and SIGSYS are not
     * re-raised by returning: send it again with the original siginfo,
     * unblocked so that a default action acts right now. */
    if (prev_is_handler && !skip_prev) {
        mds_rt_tgsigqueueinfo((int)mds_getpid(), (int)mds_gettid(), sig, info);
        return; /* the previous handler runs once we return */
    }
    uint64_t set = 1ull << (sig - 1);
    mds_rt_tgsigqueueinfo((int)mds_getpid(), (int)mds_gettid(), sig, info);
    mds_rt_sigprocmask(SIG_UNBLOCK, &set, 0);
    mds_tgkill((int)mds_getpid(), (int)mds_gettid(), sig);
    /* Still alive: the signal is ignored for us (PID 1 of a namespace, or
     * a policy). Never spin or hang: exit as a shell would report it. */
    (void)ucv;
    mds_exit_group(128 + sig);
}

static int debugger_attached(void) { return mds_tracer_pid() > 0; }

static int run_fallback(mds_request *req, int flags)
{
    req->handler = MDS_HANDLER_SIGNAL;
    return mds_report_run(&mds_g.work_sig, req, req->tid, flags);
}

/* Hands req to the exception thread; 0 when it replied in time. */
static int hand_off(void)
{
    uint32_t seen = __atomic_load_n(&mds_g.reply_seq, __ATOMIC_ACQUIRE);
    mds_g.req.handler = MDS_HANDLER_EXCEPTION_THREAD;
    __atomic_fetch_add(&mds_g.req_seq, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&mds_g.req_seq, 1);
    uint64_t deadline =
        mds_now_ns() + (uint64_t)mds_g.cfg.reply_timeout_ms * NS_PER_MS;
    for (;;) {
        if (__atomic_load_n(&mds_g.reply_seq, __ATOMIC_ACQUIRE) != seen)
            return 0;
        if (__atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE))
            return -1;
        uint64_t now = mds_now_ns();
        if (now >= deadline)
            return -1;
        uint64_t left = deadline - now;
        mds_futex_wait(&mds_g.reply_seq, seen,
                       left < 50 * NS_PER_MS ? left : 50 * NS_PER_MS);
    }
}

/* Another thread owns the crash slot: leave our registers for its report
 * and wait (bounded) until it is done. Returns 1 if the slot was freed
 * (the process survived) so we may report our own crash. */
static int wait_for_owner(int sig, void *uc, uint32_t tid)
{
    uint32_t k = __atomic_fetch_add(&mds_g.nwaiting, 1, __ATOMIC_ACQ_REL);
    if (k < 16) {
        mds_slot *s = &mds_g.waiting[k];
        s->tid = tid;
        s->signo = sig;
        mds_regs_from_ucontext(&s->regs, uc);
        __atomic_store_n(&s->state, MDS_SLOT_CRASHED, __ATOMIC_RELEASE);
    }
    uint64_t limit = (uint64_t)mds_g.cfg.reply_timeout_ms * 2 +
                     mds_g.cfg.suspend_timeout_ms + 2000;
    uint64_t deadline = mds_now_ns() + limit * NS_PER_MS;
    for (;;) {
        uint32_t o = __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE);
        if (o == 0)
            return 1;
        uint64_t now = mds_now_ns();
        if (now >= deadline)
            return 0;
        mds_futex_wait(&mds_g.crash_owner, o, 50 * NS_PER_MS);
    }
}

/* A fault while this thread was already handling one. */
static void recursive_fault(int sig, siginfo_t *info, void *uc)
{
    uint32_t depth = __atomic_add_fetch(&mds_g.crash_depth, 1, __ATOMIC_ACQ_REL);
    mds_request *req = &mds_g.req;
    uint32_t ph = __atomic_load_n(&phase, __ATOMIC_ACQUIRE);
    if (depth == 2 && ph == PH_REPORTING) {
        /* Our own reporting faulted: write a minimal report (crashed
         * thread only) with the other work area, flagged. */
        mds_work *w = mds_g.work_sig.busy ? &mds_g.work_exc : &mds_g.work_sig;
        req->handler = MDS_HANDLER_SIGNAL;
        mds_report_run(w, req, req->tid, MDS_RUN_MINIMAL);
        mds_resume_others();
    }
    /* Re-deliver the original signal: the process ends as the first
     * fault would have made it end. */
    if (depth <= 3)
        redeliver(req->signo, &req->info, uc);
    else
        mds_exit_group(128 + req->signo);
    (void)sig;
    (void)info;
}

/* The last fault passed to the previous handler in chain-first mode. */
static struct {
    uint32_t tid;
    int sig;
    uintptr_t pc, addr;
    uint64_t when;
    uint32_t repeats;
} last_chain;

#define REPEAT_WINDOW_NS (20 * NS_PER_MS)

/* Chain-first: lets the previous handler try first. Returns 1 if it
 * handled the signal (we return and write nothing), 0 if it is a crash.
 *
 * A fault is handled if the previous handler changed the context (pc or
 * sp), or if re-executing the instruction does not fault again. So when
 * it returns with the context unchanged we let the instruction run again;
 * the same fault on the same thread right away (or a third time) means
 * it was not handled, and this time we report it. */
static int chain_first(int sig, siginfo_t *info, void *uc, uint32_t tid)
{
    int i = mds_signal_index(sig);
    int fault = mds_signal_is_fault(sig, info->si_code);
    mds_regs before, after;
    mds_regs_from_ucontext(&before, uc);
    uintptr_t pc = before.v[MDS_REG_PC], addr = (uintptr_t)info->si_addr;
    uint64_t now = mds_now_ns();
    if (fault && last_chain.tid == tid && last_chain.sig == sig &&
        last_chain.pc == pc && last_chain.addr == addr &&
        (now - last_chain.when < REPEAT_WINDOW_NS || last_chain.repeats >= 2)) {
        last_chain.tid = 0;
        return 0;
    }
    call_prev(&mds_g.prev[i], sig, info, uc);
    mds_regs_from_ucontext(&after, uc);
    if (!fault)
        return sig != SIGABRT; /* abort() cannot be "handled" by a return */
    if (before.v[MDS_REG_PC] != after.v[MDS_REG_PC] ||
        before.v[MDS_REG_SP] != after.v[MDS_REG_SP])
        return 1;
    if (last_chain.tid == tid && last_chain.pc == pc && last_chain.addr == addr)
        last_chain.repeats++;
    else
        last_chain.repeats = 0;
    last_chain.tid = tid;
    last_chain.sig = sig;
    last_chain.pc = pc;
    last_chain.addr = addr;
    last_chain.when = mds_now_ns();
    return 1;
}

void mds_crash_handler(int sig, siginfo_t *info, void *uc)
{
    uint64_t t0 = mds_now_ns();
    uint32_t tid = (uint32_t)mds_gettid();
    int i = mds_signal_index(sig);

    if (tid == __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE) &&
        info->si_code <= 0 && mds_g.self_pid != (int)tid &&
        mds_rt_tgsigqueueinfo(mds_g.self_pid, mds_g.self_pid, sig, info) == 0)
        return; /* a kill() aimed at the process landed here: pass it on to
                   the main thread, the exception thread must stay free */
    if (tid == __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE)) {
        /* The exception thread itself crashed: tell the waiting thread to
         * fall back, then stay out of the way. The process dies from the
         * crashed thread's re-delivery. */
        __atomic_store_n(&mds_g.exc_dead, 1, __ATOMIC_RELEASE);
        mds_futex_wake(&mds_g.reply_seq, 0x7fffffff);
        if (__atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE) == 0) {
            /* No crash in progress: this is the crash. Report it from
             * here. */
            goto own_crash;
        }
        for (int k = 0; k < 600; k++)
            mds_sleep_ns(100 * NS_PER_MS);
        mds_exit_group(128 + sig);
    }

    if (i >= 0 && (mds_g.cfg.flags & MAYDAY_FLAG_CHAIN_FIRST) &&
        is_handler(&mds_g.prev[i]) &&
        __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE) != tid &&
        chain_first(sig, info, uc, tid))
        return; /* the previous handler dealt with it */

own_crash:;
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&mds_g.crash_owner, &zero, tid, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (zero == tid) {
            recursive_fault(sig, info, uc);
            return;
        }
        if (!wait_for_owner(sig, uc, tid) ||
            !__atomic_compare_exchange_n(&mds_g.crash_owner, &(uint32_t){0},
                                         tid, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            /* Waited long enough: die of our own signal, unreported. */
            redeliver(sig, info, uc);
            return;
        }
    }
    __atomic_store_n(&mds_g.crash_depth, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&phase, PH_REPORTING, __ATOMIC_RELEASE);

    mds_request *req = &mds_g.req;
    req->signo = sig;
    req->info = *info;
    mds_regs_from_ucontext(&req->regs, uc);
    req->tid = tid;
    req->fault_ns = t0;
    req->live = 0;
    req->reason = 0;
    req->path[0] = 0;
    req->result = MAYDAY_EIO;

    int mode = (int)mds_g.cfg.handler_mode;
    int fallback = mode == MAYDAY_HANDLER_SIGNAL ||
                   !__atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE) ||
                   __atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE) ||
                   (mode == MAYDAY_HANDLER_AUTO && debugger_attached());
    if (fallback || hand_off() < 0 ||
        (req->result < 0 && req->result != MAYDAY_EACCES &&
         req->result != MAYDAY_ENOSPC && req->result != MAYDAY_EIO))
        run_fallback(req, MDS_RUN_SUSPEND);

    if (mds_g.cfg.on_crash) {
        __atomic_store_n(&phase, PH_CALLBACK, __ATOMIC_RELEASE);
        mds_g.cfg.on_crash(sig, req->result == 0 ? req->path : 0,
                           mds_g.cfg.on_crash_data);
    }
    redeliver(sig, info, uc);
}

void *mds_exc_main(void *arg)
{
    (void)arg;
    mds_altstack_ensure(0, 0, 0);
    /* Snapshot the request counter before telling install we run: a
     * crash right after install returns must count as a new request. */
    uint32_t seen = __atomic_load_n(&mds_g.req_seq, __ATOMIC_ACQUIRE);
    __atomic_store_n(&mds_g.exc_tid, (uint32_t)mds_gettid(), __ATOMIC_RELEASE);
    mds_futex_wake(&mds_g.exc_tid, 0x7fffffff);
    while (!__atomic_load_n(&mds_g.exc_stop, __ATOMIC_ACQUIRE)) {
        mds_futex_wait(&mds_g.req_seq, seen, 1000 * NS_PER_MS);
        uint32_t now = __atomic_load_n(&mds_g.req_seq, __ATOMIC_ACQUIRE);
        if (now == seen)
            continue;
        seen = now;
        if (__atomic_load_n(&mds_g.exc_stop, __ATOMIC_ACQUIRE))
            break;
        mds_request *req = &mds_g.req;
        mds_report_run(&mds_g.work_exc, req, (uint32_t)mds_gettid(),
                       MDS_RUN_SUSPEND);
        __atomic_fetch_add(&mds_g.reply_seq, 1, __ATOMIC_ACQ_REL);
        mds_futex_wake(&mds_g.reply_seq, 0x7fffffff);
    }
    __atomic_store_n(&mds_g.exc_tid, 0, __ATOMIC_RELEASE);
    return 0;
}
