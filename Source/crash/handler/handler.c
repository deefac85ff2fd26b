/*
 * handler.c - what happens between a fault and the process's end.
 *
 * Context: async-signal-safe. mds_crash_handler runs in the crashed thread
 * (on its altstack, all non-crash signals blocked); mds_exc_main runs on
 * the exception thread. You may not malloc, use stdio, take a lock or
 * enter the dynamic linker. Every wait has a deadline.
 *
 * Flow (docs/fault-path.md):
 *   1. optional chain-first: the previous handler may fix the fault;
 *   2. claim the crash slot (CAS on mds_g.crash_owner); a second crashing
 *      thread parks its registers in mds_g.waiting and waits (bounded);
 *   3. hand the request to the exception thread and wait for its reply,
 *      or write the report right here (debugger attached, signal mode,
 *      forked child, exception thread dead or late);
 *   4. run the on_crash callback;
 *   5. restore the previous dispositions and end the process exactly as
 *      it would have ended without mayday. The other threads stay stopped
 *      until it is dead, unless a previous handler takes over (the
 *      process may live on): then they are released first.
 *
 * Dispositions are read and restored with the raw rt_sigaction syscall:
 * an interposed sigaction() may take a lock.
 */
#include "crash/handler/handler.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "crash/capture/capture.h"
#include "crash/core/regs.h"
#include "crash/core/sys.h"
#include "crash/handler/cause.h"
#include "crash/handler/chain.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/handler/report.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull
/* A late exception thread that is publishing its report (a rename) gets
 * this much longer before the crashed thread gives up on it. */
#define PUBLISH_GRACE_NS (2000 * NS_PER_MS)
/* After the I/O deadline sent the crash signal, SIGKILL follows this much
 * later for a writer stuck in a wait that only SIGKILL interrupts. */
#define KILL_GRACE_NS (1000 * NS_PER_MS)

/* Phases of the owner's handling, for recursive faults. */
enum { PH_IDLE = 0, PH_REPORTING = 1, PH_CALLBACK = 2, PH_REDELIVER = 3 };
static volatile uint32_t phase;

/* The fallback writer's I/O deadline (POSIX timers to the crashed
 * thread): the first sends the crash signal itself, which lands in our
 * handler as a recursive fault and ends the process with the original
 * signal; the second sends SIGKILL. */
static int io_timer[2] = {-1, -1};
static volatile uint32_t io_timer_fired;

/* Sends sig to this thread with info, unblocked, so the default action
 * acts now; never returns. */
static void die_now(int sig, siginfo_t *info)
{
    uint64_t set = mds_sigbit(sig);
    mds_set_default(sig);
    if (mds_rt_tgsigqueueinfo((int)mds_getpid(), (int)mds_gettid(), sig, info) <
        0)
        mds_tgkill((int)mds_getpid(), (int)mds_gettid(), sig);
    mds_rt_sigprocmask(SIG_UNBLOCK, &set, 0);
    /* Still alive: the signal is ignored for us (PID 1 of a namespace).
     * Never spin or hang: exit as a shell would report it. */
    mds_exit_group(128 + sig);
}

static void release_slot(void)
{
    __atomic_store_n(&mds_g.crash_owner, 0, __ATOMIC_RELEASE);
    mds_futex_wake(&mds_g.crash_owner, 0x7fffffff);
}

/* Lets every thread stopped for this crash run again. */
static void release_threads(void)
{
    mds_stop_release(&mds_g.work_exc.stop);
    mds_stop_release(&mds_g.work_sig.stop);
}

/* A child made by fork or vfork (its pid differs from the one install
 * saw): it has no exception thread, and a vfork child shares our memory
 * with its parent, so it must leave nothing claimed behind. */
static int in_child(void)
{
    return (uint32_t)mds_getpid() !=
           __atomic_load_n(&mds_g.pid, __ATOMIC_ACQUIRE);
}

static void leave_child_state(void)
{
    __atomic_store_n(&phase, PH_IDLE, __ATOMIC_RELEASE);
    __atomic_store_n(&mds_g.crash_depth, 0, __ATOMIC_RELEASE);
    release_slot();
}

/* Ends the process the way it would have ended without us, after the
 * first fault. Returns when returning from the handler is the way. */
static void redeliver(int sig, siginfo_t *info, void *uc)
{
    __atomic_store_n(&phase, PH_REDELIVER, __ATOMIC_RELEASE);
    int i = mds_signal_index(sig);
    int prev_handler = i >= 0 && mds_is_handler(&mds_g.prev[i]);
    int fault = mds_signal_is_fault(sig, info->si_code);
    int chained = mds_chains_first(i, sig); /* it already had its turn */
    mds_restore_all();
    if (in_child())
        leave_child_state(); /* a vfork parent must find nothing taken */
    if (prev_handler && !chained) {
        /* The previous handler may let the process live: the world goes
         * back to how it would be without us before it runs (ptrace
         * restarts interrupted waits; parked threads resume), and the
         * slot is released so that other crashing threads do not wait
         * for nothing. */
        release_threads();
        release_slot();
        if (fault)
            return; /* re-executed: it faults into the previous handler */
        /* abort/kill-sent signals do not repeat: run the previous handler
         * here, with the original siginfo and the interrupted context
         * (uc), which it may change. */
        mds_call_prev(i, sig, info, uc, 1);
        return;
    }
    /* The default action: the other threads stay stopped until the
     * kernel kills them with the process. The slot stays taken: a second
     * report would be a duplicate. */
    mds_stop_hold(&mds_g.work_exc.stop);
    mds_stop_hold(&mds_g.work_sig.stop);
    mds_set_default(sig);
    if (fault)
        return; /* re-executed: the kernel kills with the same signal,
                   and a core dump shows the real faulting frame */
    die_now(sig, info);
}

/* Hands the request to the exception thread. 0 when it answered this very
 * request in time (w->result, w->path are its outcome); -1 otherwise. */
static int hand_off(void)
{
    mds_request *req = &mds_g.req;
    req->handler = MDS_HANDLER_EXCEPTION_THREAD;
    __atomic_store_n(&req->rstate, MDS_RQ_PENDING, __ATOMIC_RELEASE);
    uint32_t my = __atomic_add_fetch(&mds_g.req_seq, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&mds_g.req_seq, 1);
    uint64_t deadline =
        mds_now_ns() + (uint64_t)mds_g.cfg.reply_timeout_ms * NS_PER_MS;
    int grace = 0;
    for (;;) {
        if (__atomic_load_n(&mds_g.served_seq, __ATOMIC_ACQUIRE) == my &&
            __atomic_load_n(&req->rstate, __ATOMIC_ACQUIRE) == MDS_RQ_DONE)
            return 0;
        if (__atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE))
            return -1;
        uint64_t now = mds_now_ns();
        if (now >= deadline) {
            /* Give up, unless it is renaming its report into place right
             * now: exactly one of us wins (report_file.c). */
            uint32_t st = __atomic_load_n(&req->rstate, __ATOMIC_ACQUIRE);
            if ((st == MDS_RQ_PENDING || st == MDS_RQ_TAKEN) &&
                __atomic_compare_exchange_n(&req->rstate, &st, MDS_RQ_ABANDONED,
                                            0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                return -1;
            if (st == MDS_RQ_PUBLISHING && !grace) {
                grace = 1;
                deadline = now + PUBLISH_GRACE_NS;
                continue;
            }
            if (st != MDS_RQ_DONE)
                return -1;
            continue;
        }
        uint64_t left = deadline - now;
        uint32_t served = __atomic_load_n(&mds_g.served_seq, __ATOMIC_ACQUIRE);
        mds_futex_wait(&mds_g.served_seq, served,
                       left < 50 * NS_PER_MS ? left : 50 * NS_PER_MS);
    }
}

/* Another thread owns the crash slot: leave our registers for its report
 * and wait (bounded) until it is done. Returns 1 once the slot is ours
 * (it was freed: the process survived, e.g. a live report ended) so that
 * we report our own crash, 0 if we waited long enough, -1 if mayday was
 * uninstalled meanwhile (the slot is not ours then). The slot is claimed
 * while we are still listed as waiting: a live-report loop that sees a
 * waiting crash does not take the slot again (md_write_live_report_ex),
 * so it cannot starve us; a second crashing thread may, and then we wait
 * on. */
static int wait_for_owner(int sig, void *uc, uint32_t tid)
{
    mds_slot *s = 0;
    uint32_t k = __atomic_fetch_add(&mds_g.nwaiting, 1, __ATOMIC_ACQ_REL);
    for (uint32_t j = 0; j < MDS_WAITING_MAX; j++) {
        /* A free slot (after earlier waiters left). */
        mds_slot *c = &mds_g.waiting[(k + j) % MDS_WAITING_MAX];
        uint32_t free_ = MDS_SLOT_FREE;
        if (__atomic_compare_exchange_n(&c->state, &free_, MDS_SLOT_WRITING, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            s = c;
            break;
        }
    }
    if (s) {
        s->tid = tid;
        s->signo = sig;
        mds_regs_from_ucontext(&s->regs, uc);
        __atomic_store_n(&s->state, MDS_SLOT_CRASHED, __ATOMIC_RELEASE);
    } else {
        __atomic_fetch_add(&mds_g.waiting_dropped, 1, __ATOMIC_ACQ_REL);
    }
    uint64_t limit = (uint64_t)mds_g.cfg.reply_timeout_ms * 2 +
                     mds_g.cfg.suspend_timeout_ms + 2000;
    uint64_t deadline = mds_now_ns() + limit * NS_PER_MS;
    int freed = 0;
    for (;;) {
        uint32_t o = __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE);
        if (o == 0 && !__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE)) {
            freed = -1; /* uninstalled: touch nothing more */
            break;
        }
        if (o == 0) {
            if (__atomic_compare_exchange_n(&mds_g.crash_owner, &o, tid, 0,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                freed = 1;
                break;
            }
            continue; /* another crashing thread took it: wait on */
        }
        /* A forked child inherits a slot claimed by a parent's thread
         * that does not exist here: take it over. */
        if (in_child() && o != UINT32_MAX &&
            mds_tgkill((int)mds_getpid(), (int)o, 0) == -ESRCH &&
            __atomic_compare_exchange_n(&mds_g.crash_owner, &o, tid, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            freed = 1;
            break;
        }
        if (mds_now_ns() >= deadline)
            break;
        mds_futex_wait(&mds_g.crash_owner, o, 50 * NS_PER_MS);
    }
    if (s)
        __atomic_store_n(&s->state, MDS_SLOT_FREE, __ATOMIC_RELEASE);
    return freed;
}

static void disarm_io_deadline(void)
{
    for (int i = 0; i < 2; i++) {
        if (io_timer[i] >= 0)
            mds_timer_delete(io_timer[i]);
        io_timer[i] = -1;
    }
}

/* The crashed thread writes the report itself: if that takes longer than
 * reply_timeout_ms (a hung file system), it is interrupted and the
 * process ends with its signal anyway. */
static void arm_io_deadline(int sig, uint32_t tid)
{
    uint64_t t = (uint64_t)mds_g.cfg.reply_timeout_ms * NS_PER_MS;
    if (mds_timer_create_tid(sig, (int)tid, &io_timer[0]) == 0)
        mds_timer_arm(io_timer[0], t);
    if (mds_timer_create_tid(SIGKILL, (int)tid, &io_timer[1]) == 0)
        mds_timer_arm(io_timer[1], t + KILL_GRACE_NS);
}

/* A fault while this thread owns the crash slot. */
static void recursive_fault(int sig, siginfo_t *info, void *uc, uint32_t tid)
{
    mds_request *req = &mds_g.req;
    if (info->si_code == SI_TIMER && io_timer[0] >= 0) {
        /* The I/O deadline: no more I/O, end with the original signal. */
        __atomic_store_n(&io_timer_fired, 1, __ATOMIC_RELEASE);
        mds_restore_all();
        if (in_child())
            leave_child_state();
        die_now(req->signo, &req->info);
    }
    if (req->live) {
        /* This thread crashed while writing a live report (e.g. in a
         * signal handler that ran meanwhile): a crash of its own. Write
         * what we can without the busy work area, then end as the fault
         * would have. */
        req->live = 0;
        req->reason = 0;
        req->signo = sig;
        req->info = *info;
        mds_regs_from_ucontext(&req->regs, uc);
        mds_fp_save_crashed(uc, tid); /* issue 11 */
        req->tid = tid;
        req->name_ok = mds_self_name(req->name, sizeof req->name) >= 0;
        req->handler = MDS_HANDLER_SIGNAL;
        __atomic_store_n(&mds_g.crash_depth, 1, __ATOMIC_RELEASE);
        mds_report_run(&mds_g.work_exc, req, tid, 0, 0);
        redeliver(sig, info, uc);
        return;
    }
    uint32_t depth =
        __atomic_add_fetch(&mds_g.crash_depth, 1, __ATOMIC_ACQ_REL);
    uint32_t ph = __atomic_load_n(&phase, __ATOMIC_ACQUIRE);
    if (depth == 2 && ph == PH_REPORTING) {
        /* Our own reporting faulted: a minimal report (crashed thread
         * only) with the other work area, flagged. The threads stopped
         * so far stay stopped: the process dies of the original signal. */
        mds_work *w = mds_g.work_sig.busy ? &mds_g.work_exc : &mds_g.work_sig;
        req->handler = MDS_HANDLER_SIGNAL;
        mds_report_run(w, req, req->tid, MDS_RUN_RECURSIVE, 0);
    }
    /* End with the ORIGINAL signal. Returning would re-execute whatever
     * faulted just now (in mayday or the callback), not the original
     * instruction, so re-send it instead. */
    mds_restore_all();
    if (in_child())
        leave_child_state();
    if (depth <= 3)
        die_now(req->signo, &req->info);
    mds_exit_group(128 + req->signo);
    (void)sig;
}

/* The exception thread itself faulted (an instruction of its own). */
static int exception_thread_fault(int sig)
{
    __atomic_store_n(&mds_g.exc_dead, 1, __ATOMIC_RELEASE);
    mds_futex_wake(&mds_g.served_seq, 0x7fffffff);
    uint32_t owner = __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE);
    if (owner == 0)
        return 1; /* nobody else is crashing: this is the crash, report it */
    /* It was reporting someone's crash: that thread falls back to writing
     * the report itself. This thread cannot go on (returning re-executes
     * the fault): end it alone. */
    for (;;)
        mds_syscall1(SYS_exit, 128 + sig);
}

/* mayday is being uninstalled, or was while we waited: the dispositions
 * in force are the application's again (uninstall restores them before
 * it releases the slot), and mds_g is about to be zeroed. Touch nothing:
 * a fault re-executes into whatever is installed now, a sent signal is
 * sent again. */
static void pass_through(int sig, siginfo_t *info)
{
    uint64_t until = mds_now_ns() + 2000 * NS_PER_MS;
    for (;;) {
        uint32_t o = __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE);
        if (o != UINT32_MAX || mds_now_ns() >= until)
            break;
        mds_futex_wait(&mds_g.crash_owner, o, 10 * NS_PER_MS);
    }
    if (mds_signal_is_fault(sig, info->si_code))
        return;
    mds_rt_tgsigqueueinfo((int)mds_getpid(), (int)mds_gettid(), sig, info);
}

/* Fills the request from the signal. */
static void make_request(int sig, siginfo_t *info, void *uc, uint32_t tid,
                         uint64_t t0)
{
    mds_request *req = &mds_g.req;
    req->signo = sig;
    req->info = *info;
    mds_regs_from_ucontext(&req->regs, uc);
    mds_fp_save_crashed(uc, tid); /* issue 11 */
    req->tid = tid;
    req->name_ok = mds_self_name(req->name, sizeof req->name) >= 0;
    req->fault_ns = t0;
    req->live = 0;
    req->reason = 0;
    mds_task_status st;
    mds_task_status_read((uint32_t)mds_getpid(), tid, &st);
    req->tracer = st.tracer_pid;
    req->seccomp = (int)st.seccomp;
}

/* Writes the report; returns the work area that holds the outcome. */
static mds_work *report(int sig, uint32_t tid, int on_exc)
{
    mds_request *req = &mds_g.req;
    int mode = (int)mds_g.cfg.handler_mode;
    uint32_t exc = __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE);
    int fallback = mode == MAYDAY_HANDLER_SIGNAL || !exc || on_exc ||
                   __atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE) ||
                   /* a forked child has no exception thread */
                   in_child() ||
                   __atomic_load_n(&mds_g.exc_pid, __ATOMIC_ACQUIRE) !=
                       (uint32_t)mds_getpid() ||
                   (mode == MAYDAY_HANDLER_AUTO && req->tracer > 0);
    if (!fallback) {
        if (hand_off() == 0)
            return &mds_g.work_exc;
        if (__atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE)) {
            /* It crashed: whatever it had stopped is released, and we do
             * its work ourselves. */
            mds_stop_release(&mds_g.work_exc.stop);
            fallback = 1;
        } else if (__atomic_load_n(&mds_g.work_exc.io, __ATOMIC_ACQUIRE)) {
            /* Late and inside a file system call: the file system may
             * hang, and so would we. No report; the marker says why. */
            mds_g.work_sig.result = MAYDAY_ETIMEDOUT;
            mds_g.work_sig.path[0] = 0;
            return &mds_g.work_sig;
        } else {
            /* Late, maybe stuck: it may still hold the other threads, so
             * write only what we own. */
            req->handler = MDS_HANDLER_SIGNAL;
            arm_io_deadline(sig, tid);
            mds_report_run(&mds_g.work_sig, req, tid, MDS_RUN_TIMED_OUT, 0);
            disarm_io_deadline();
            return &mds_g.work_sig;
        }
    }
    req->handler = MDS_HANDLER_SIGNAL;
    arm_io_deadline(sig, tid);
    mds_report_run(&mds_g.work_sig, req, tid, MDS_RUN_SUSPEND, 0);
    disarm_io_deadline();
    return &mds_g.work_sig;
}

void mds_crash_handler(int sig, siginfo_t *info, void *uc)
{
    uint64_t t0 = mds_now_ns();
    uint32_t tid = (uint32_t)mds_gettid();
    if (!__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE)) {
        pass_through(sig, info);
        return;
    }
    int i = mds_signal_index(sig);
    int sent = info->si_code <= 0;

    /* A signal sent to a process that ignores it: the kernel would have
     * dropped it (abort() is the exception: it kills regardless). */
    if (i >= 0 && sent && sig != SIGABRT && mds_is_ignored(&mds_g.prev[i]))
        return;

    uint32_t exc = __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE);
    int on_exc = exc != 0 && tid == exc && !in_child();
    if (on_exc && !sent && !exception_thread_fault(sig))
        return;

    if (!on_exc && mds_chains_first(i, sig) &&
        __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE) != tid &&
        mds_chain_first(sig, info, uc, tid))
        return; /* the previous handler dealt with it */

    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&mds_g.crash_owner, &zero, tid, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (zero == tid) {
            recursive_fault(sig, info, uc, tid);
            return;
        }
        if (on_exc)
            return; /* a kill() landing here while a crash is handled */
        if (zero == UINT32_MAX ||
            !__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE)) {
            pass_through(sig, info); /* uninstall holds the slot */
            return;
        }
        int got = wait_for_owner(sig, uc, tid);
        if (got < 0 || !__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE)) {
            if (got > 0)
                release_slot();
            pass_through(sig, info); /* uninstalled while we waited */
            return;
        }
        if (!got) {
            /* Waited long enough: die of our own signal, unreported. */
            redeliver(sig, info, uc);
            return;
        }
    }
    __atomic_store_n(&mds_g.crash_depth, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&phase, PH_REPORTING, __ATOMIC_RELEASE);
    make_request(sig, info, uc, tid, t0);
    mds_work *w = report(sig, tid, on_exc);

    if (mds_g.cfg.on_crash) {
        __atomic_store_n(&phase, PH_CALLBACK, __ATOMIC_RELEASE);
        mds_g.cfg.on_crash(sig, w->result == 0 && w->path[0] ? w->path : 0,
                           mds_g.cfg.on_crash_data);
    }
    redeliver(sig, info, uc);
}

void *mds_exc_main(void *arg)
{
    (void)arg;
    /* Snapshot the request counter before telling install we run: a
     * crash right after install returns must count as a new request. */
    uint32_t seen = __atomic_load_n(&mds_g.req_seq, __ATOMIC_ACQUIRE);
    __atomic_store_n(&mds_g.exc_pid, (uint32_t)mds_getpid(), __ATOMIC_RELEASE);
    __atomic_store_n(&mds_g.exc_tid, (uint32_t)mds_gettid(), __ATOMIC_RELEASE);
    mds_futex_wake(&mds_g.exc_tid, 0x7fffffff);
    mds_request *req = &mds_g.req;
    while (!__atomic_load_n(&mds_g.exc_stop, __ATOMIC_ACQUIRE)) {
        mds_futex_wait(&mds_g.req_seq, seen, 1000 * NS_PER_MS);
        uint32_t now = __atomic_load_n(&mds_g.req_seq, __ATOMIC_ACQUIRE);
        if (now == seen)
            continue;
        seen = now;
        if (__atomic_load_n(&mds_g.exc_stop, __ATOMIC_ACQUIRE))
            break;
        uint32_t pending = MDS_RQ_PENDING;
        if (!__atomic_compare_exchange_n(&req->rstate, &pending, MDS_RQ_TAKEN,
                                         0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue; /* abandoned before we even started */
        int r = mds_report_run(&mds_g.work_exc, req, (uint32_t)mds_gettid(),
                               MDS_RUN_SUSPEND, now);
        if (r != MAYDAY_ETIMEDOUT) {
            uint32_t pub = MDS_RQ_PUBLISHING;
            uint32_t taken = MDS_RQ_TAKEN;
            /* Published (or failed to write, while still ours). */
            if (!__atomic_compare_exchange_n(&req->rstate, &pub, MDS_RQ_DONE, 0,
                                             __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE))
                __atomic_compare_exchange_n(&req->rstate, &taken, MDS_RQ_DONE,
                                            0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE);
        }
        __atomic_store_n(&mds_g.served_seq, now, __ATOMIC_RELEASE);
        mds_futex_wake(&mds_g.served_seq, 0x7fffffff);
    }
    __atomic_store_n(&mds_g.exc_tid, 0, __ATOMIC_RELEASE);
    return 0;
}
