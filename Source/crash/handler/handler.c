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
 *
 * Dispositions are read and restored with the raw rt_sigaction syscall:
 * an interposed sigaction() may take a lock.
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

static int is_ignored(const struct sigaction *sa)
{
    return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_IGN;
}

static uint64_t sigbit(int sig) { return 1ull << (sig - 1); }

/* Signals 1..64 of a glibc sigset_t: its first 64-bit word holds them,
 * bit (sig - 1), like the kernel's. No libc call on the crash path. */
static uint64_t mask_bits(const sigset_t *set)
{
    uint64_t m;
    memcpy(&m, set, sizeof m);
    return m;
}

/* libc's struct sigaction (as saved at install) to the kernel's. */
static void set_disposition(int sig, const struct sigaction *sa)
{
    struct mds_ksigaction k;
    memset(&k, 0, sizeof k);
    k.handler = (void *)sa->sa_handler;
    k.flags = (unsigned long)sa->sa_flags;
    k.restorer = (void *)sa->sa_restorer;
    k.mask = mask_bits(&sa->sa_mask);
    mds_rt_sigaction(sig, &k, 0);
}

static void set_default(int sig)
{
    struct mds_ksigaction k;
    memset(&k, 0, sizeof k); /* SIG_DFL */
    mds_rt_sigaction(sig, &k, 0);
}

static void restore_all(void)
{
    for (int i = 0; i < MDS_NSIGNALS; i++)
        set_disposition(mds_g.signals[i], &mds_g.prev[i]);
}

/* Runs a previous handler as the kernel would have: with its mask (and
 * the signal itself unless SA_NODEFER) blocked, and SA_RESETHAND applied
 * to what we remember of it (and, when it is the installed disposition
 * again, to the real one: real_reset). */
static void call_prev(int i, int sig, siginfo_t *info, void *uc,
                      int real_reset)
{
    struct sigaction sa = mds_g.prev[i];
    uint64_t mask = mask_bits(&sa.sa_mask), old;
    if (!(sa.sa_flags & SA_NODEFER))
        mask |= sigbit(sig);
    if (sa.sa_flags & SA_RESETHAND) {
        memset(&mds_g.prev[i], 0, sizeof mds_g.prev[i]); /* now SIG_DFL */
        if (real_reset)
            set_default(sig);
    }
    mds_rt_sigprocmask(SIG_BLOCK, &mask, &old);
    if (sa.sa_flags & SA_SIGINFO)
        sa.sa_sigaction(sig, info, uc);
    else
        sa.sa_handler(sig);
    mds_rt_sigprocmask(SIG_SETMASK, &old, 0);
}

/* Chain-first applies when configured, and always to SIGTRAP and SIGSYS
 * that have a previous handler: debuggers, tracers and seccomp emulation
 * use them on purpose. */
static int chains_first(int i, int sig)
{
    return i >= 0 && is_handler(&mds_g.prev[i]) &&
           ((mds_g.cfg.flags & MAYDAY_FLAG_CHAIN_FIRST) || sig == SIGTRAP ||
            sig == SIGSYS);
}

/* Sends sig to this thread with info, unblocked, so the default action
 * acts now; never returns. */
static void die_now(int sig, siginfo_t *info)
{
    uint64_t set = sigbit(sig);
    set_default(sig);
    if (mds_rt_tgsigqueueinfo((int)mds_getpid(), (int)mds_gettid(), sig,
                              info) < 0)
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

/* Ends the process the way it would have ended without us, after the
 * first fault. Returns when returning from the handler is the way. */
static void redeliver(int sig, siginfo_t *info, void *uc)
{
    __atomic_store_n(&phase, PH_REDELIVER, __ATOMIC_RELEASE);
    int i = mds_signal_index(sig);
    int prev_handler = i >= 0 && is_handler(&mds_g.prev[i]);
    int fault = mds_signal_is_fault(sig, info->si_code);
    int chained = chains_first(i, sig); /* it already had its turn */
    restore_all();
    if (prev_handler && !chained) {
        /* The previous handler may let the process live: release the
         * slot so other crashing threads do not wait for nothing. */
        release_slot();
        if (fault)
            return; /* re-executed: it faults into the previous handler */
        /* abort/kill-sent signals do not repeat: run the previous handler
         * here, with the original siginfo and the interrupted context
         * (uc), which it may change. */
        call_prev(i, sig, info, uc, 1);
        return;
    }
    /* The default action. The slot stays taken: the process is about to
     * die and a second report would be a duplicate. */
    set_default(sig);
    if (fault)
        return; /* re-executed: the kernel kills with the same signal,
                   and a core dump shows the real faulting frame */
    die_now(sig, info);
}

static int debugger_attached(void) { return mds_tracer_pid() > 0; }

/* Hands the request to the exception thread. 0 when it answered this very
 * request in time; -1 otherwise (*seq is the request number). */
static int hand_off(uint32_t *seq)
{
    mds_g.req.handler = MDS_HANDLER_EXCEPTION_THREAD;
    uint32_t my = __atomic_add_fetch(&mds_g.req_seq, 1, __ATOMIC_ACQ_REL);
    *seq = my;
    mds_futex_wake(&mds_g.req_seq, 1);
    uint64_t deadline =
        mds_now_ns() + (uint64_t)mds_g.cfg.reply_timeout_ms * NS_PER_MS;
    for (;;) {
        uint32_t served = __atomic_load_n(&mds_g.served_seq, __ATOMIC_ACQUIRE);
        if (served == my)
            return 0;
        if (__atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE))
            return -1;
        uint64_t now = mds_now_ns();
        if (now >= deadline)
            return -1;
        uint64_t left = deadline - now;
        mds_futex_wait(&mds_g.served_seq, served,
                       left < 50 * NS_PER_MS ? left : 50 * NS_PER_MS);
    }
}

/* Another thread owns the crash slot: leave our registers for its report
 * and wait (bounded) until it is done. Returns 1 if the slot was freed
 * (the process survived) so we may report our own crash. */
static int wait_for_owner(int sig, void *uc, uint32_t tid)
{
    mds_slot *s = 0;
    uint32_t k = __atomic_fetch_add(&mds_g.nwaiting, 1, __ATOMIC_ACQ_REL);
    for (uint32_t j = 0; j < 16; j++) {
        /* A free slot (after earlier waiters left). */
        mds_slot *c = &mds_g.waiting[(k + j) % 16];
        uint32_t free_ = MDS_SLOT_FREE;
        if (__atomic_compare_exchange_n(&c->state, &free_, MDS_SLOT_WRITING,
                                        0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            s = c;
            break;
        }
    }
    if (s) {
        s->tid = tid;
        s->signo = sig;
        mds_regs_from_ucontext(&s->regs, uc);
        __atomic_store_n(&s->state, MDS_SLOT_CRASHED, __ATOMIC_RELEASE);
    }
    uint64_t limit = (uint64_t)mds_g.cfg.reply_timeout_ms * 2 +
                     mds_g.cfg.suspend_timeout_ms + 2000;
    uint64_t deadline = mds_now_ns() + limit * NS_PER_MS;
    int freed = 0;
    for (;;) {
        uint32_t o = __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE);
        if (o == 0) {
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

/* A fault while this thread owns the crash slot. */
static void recursive_fault(int sig, siginfo_t *info, void *uc, uint32_t tid)
{
    mds_request *req = &mds_g.req;
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
        req->tid = tid;
        req->handler = MDS_HANDLER_SIGNAL;
        __atomic_store_n(&mds_g.crash_depth, 1, __ATOMIC_RELEASE);
        mds_report_run(&mds_g.work_exc, req, tid, 0, 0);
        mds_resume_others();
        redeliver(sig, info, uc);
        return;
    }
    uint32_t depth = __atomic_add_fetch(&mds_g.crash_depth, 1, __ATOMIC_ACQ_REL);
    uint32_t ph = __atomic_load_n(&phase, __ATOMIC_ACQUIRE);
    if (depth == 2 && ph == PH_REPORTING) {
        /* Our own reporting faulted: a minimal report (crashed thread
         * only) with the other work area, flagged. */
        mds_work *w = mds_g.work_sig.busy ? &mds_g.work_exc : &mds_g.work_sig;
        req->handler = MDS_HANDLER_SIGNAL;
        mds_report_run(w, req, req->tid, MDS_RUN_RECURSIVE, 0);
        mds_resume_others();
    }
    /* End with the ORIGINAL signal. Returning would re-execute whatever
     * faulted just now (in mayday or the callback), not the original
     * instruction, so re-send it instead. */
    restore_all();
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
    call_prev(i, sig, info, uc, 0);
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
    int sent = info->si_code <= 0;

    /* A signal sent to a process that ignores it: the kernel would have
     * dropped it (abort() is the exception: it kills regardless). */
    if (i >= 0 && sent && sig != SIGABRT && is_ignored(&mds_g.prev[i]))
        return;

    uint32_t exc = __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE);
    int on_exc = exc != 0 && tid == exc;
    if (on_exc && !sent && !exception_thread_fault(sig))
        return;

    if (!on_exc && chains_first(i, sig) &&
        __atomic_load_n(&mds_g.crash_owner, __ATOMIC_ACQUIRE) != tid &&
        chain_first(sig, info, uc, tid))
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

    int mode = (int)mds_g.cfg.handler_mode;
    int fallback = mode == MAYDAY_HANDLER_SIGNAL || !exc || on_exc ||
                   __atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE) ||
                   /* a forked child has no exception thread */
                   mds_getpid() != mds_g.self_pid ||
                   (mode == MAYDAY_HANDLER_AUTO && debugger_attached());
    mds_work *w = &mds_g.work_sig;
    if (!fallback) {
        uint32_t seq;
        if (hand_off(&seq) == 0) {
            w = &mds_g.work_exc;
        } else if (__atomic_load_n(&mds_g.exc_dead, __ATOMIC_ACQUIRE)) {
            /* It crashed: whatever it had suspended is released, and we
             * do its work ourselves. */
            mds_resume_others();
            fallback = 1;
        } else {
            /* Late, maybe stuck: it may still hold the other threads, so
             * write only what we own, and tell it to drop its report. */
            __atomic_store_n(&mds_g.abandoned_seq, seq, __ATOMIC_RELEASE);
            req->handler = MDS_HANDLER_SIGNAL;
            mds_report_run(w, req, tid, MDS_RUN_TIMED_OUT, 0);
        }
    }
    if (fallback) {
        req->handler = MDS_HANDLER_SIGNAL;
        mds_report_run(w, req, tid, MDS_RUN_SUSPEND, 0);
    }

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
        mds_report_run(&mds_g.work_exc, &mds_g.req, (uint32_t)mds_gettid(),
                       MDS_RUN_SUSPEND, now);
        __atomic_store_n(&mds_g.served_seq, now, __ATOMIC_RELEASE);
        mds_futex_wake(&mds_g.served_seq, 0x7fffffff);
    }
    __atomic_store_n(&mds_g.exc_tid, 0, __ATOMIC_RELEASE);
    return 0;
}
