/*
 * stop_signal.c - stopping threads with the reserved real-time signal:
 * the fallback when ptrace cannot be used (seccomp, no permission, no
 * clone), for crash reports only.
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every wait has a deadline.
 *
 * Each thread that does not block the signal (SigBlk in its /proc status)
 * is sent it; its handler saves its registers into its slot and parks on a
 * futex until the set is released, or for at most MDS_HOLD_MAX_NS: after a
 * fatal crash the process dies first. If the application replaced our
 * handler on that signal after install, ours is put back for the time of
 * the report (and the application's restored on release).
 */
#include "crash/stop/stop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "crash/capture/capture.h"
#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull

/* Copies the interrupted thread's FP/SIMD registers from its signal
 * frame, in the layout ptrace's NT_PRFPREG gives. */
static void fp_from_ucontext(mds_slot *sl, const void *ucv)
{
    sl->fp_len = 0;
#if defined(__x86_64__)
    const ucontext_t *uc = ucv;
    if (uc->uc_mcontext.fpregs) {
        memcpy(sl->fp, uc->uc_mcontext.fpregs, 512);
        sl->fp_len = 512;
    }
#elif defined(__aarch64__)
    /* The fpsimd_context record of the frame (regs_aarch64.c). */
    sl->fp_len = (uint32_t)mds_fpregs_from_ucontext(sl->fp, sizeof sl->fp, ucv);
#else
    (void)ucv;
#endif
}

void mds_suspend_handler(int sig, siginfo_t *info, void *ucv)
{
    (void)sig;
    (void)info;
    mds_stopset *s = __atomic_load_n(&mds_g.sig_set, __ATOMIC_ACQUIRE);
    if (!s)
        return; /* no report in progress: a stray signal */
    mds_slot *sl = mds_stop_find(s, (uint32_t)mds_gettid());
    if (!sl)
        return;
    /* Read the resume generation first: once we are WRITING the reporter
     * may finish and release everyone, and we must not wait for the next
     * one. */
    uint32_t gen = __atomic_load_n(&s->resume_gen, __ATOMIC_ACQUIRE);
    uint32_t want = MDS_SLOT_REQUESTED;
    /* The reporter may have given up on us (GONE): then just go on. */
    if (!__atomic_compare_exchange_n(&sl->state, &want, MDS_SLOT_WRITING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    mds_regs_from_ucontext(&sl->regs, ucv);
    fp_from_ucontext(sl, ucv);
    /* issue 11: the system call it was interrupted in */
    mds_syscall_from_regs(&sl->regs, &sl->syscall_nr, sl->syscall_args);
    if (mds_self_name(sl->name, sizeof sl->name) >= 0)
        sl->name_ok = 1; /* published by the state's release below */
    __atomic_store_n(&sl->state, MDS_SLOT_PARKED, __ATOMIC_RELEASE);
    __atomic_fetch_add(&s->parked, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&s->parked, 1);
    uint64_t deadline = mds_now_ns() + MDS_HOLD_MAX_NS;
    while (__atomic_load_n(&s->resume_gen, __ATOMIC_ACQUIRE) == gen) {
        uint64_t now = mds_now_ns();
        if (now >= deadline)
            break;
        mds_futex_wait(&s->resume_gen, gen, 1000 * NS_PER_MS);
    }
    /* Leaving: release waits for this, so that the set is quiet again
     * when it returns. */
    __atomic_fetch_sub(&s->parked, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&s->parked, 1);
}

/* Makes sure our handler is the disposition of the reserved signal. */
static int take_signal(mds_stopset *s, int sig)
{
    struct mds_ksigaction cur;
    if (mds_rt_sigaction(sig, 0, &cur) < 0)
        return -EINVAL;
    s->took_signal = 0;
    if (cur.handler == mds_g.suspend_kact.handler)
        return 0;
    s->saved_action = cur;
    if (mds_rt_sigaction(sig, &mds_g.suspend_kact, 0) < 0)
        return -EINVAL;
    s->took_signal = 1;
    return 0;
}

int mds_stop_signal(mds_stopset *s, const mds_stop_req *r)
{
    (void)r;
    int sig = mds_g.suspend_signo;
    if (sig <= 0)
        return -ENOSYS;
    mds_stopset *none = 0;
    if (!__atomic_compare_exchange_n(&mds_g.sig_set, &none, s, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return -EBUSY; /* another report uses the signal right now */
    if (take_signal(s, sig) < 0) {
        __atomic_store_n(&mds_g.sig_set, 0, __ATOMIC_RELEASE);
        return -EINVAL;
    }
    __atomic_store_n(&s->parked, 0, __ATOMIC_RELEASE);
    uint32_t signalled = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state != MDS_SLOT_REQUESTED)
            continue;
        /* A thread that blocks the signal would only get it later, as
         * if the application had been sent it: list it without stopping
         * it. One in sigtimedwait/sigwaitinfo shows an empty SigBlk (the
         * kernel unblocks the awaited set meanwhile) but would take our
         * signal for its own: the same. */
        mds_task_status st;
        uint64_t pc, sp;
        int64_t nr = -2;
        if ((mds_task_status_read(s->pid, sl->tid, &st) == 0 &&
             st.has_sig_blk && (st.sig_blk & (1ull << (sig - 1)))) ||
            (mds_thread_syscall(sl->tid, &pc, &sp, &nr) == 0 &&
             nr == SYS_rt_sigtimedwait)) {
            sl->state = MDS_SLOT_GONE;
            sl->why = MDS_WHY_BLOCKED;
            continue;
        }
        if (mds_tgkill((int)s->pid, (int)sl->tid, sig) < 0) {
            sl->state = MDS_SLOT_GONE;
            sl->why = MDS_WHY_EXITED;
            continue;
        }
        signalled++;
    }
    for (;;) {
        uint32_t p = __atomic_load_n(&s->parked, __ATOMIC_ACQUIRE);
        if (p >= signalled)
            break;
        uint64_t now = mds_now_ns();
        if (now >= s->deadline_ns)
            break;
        uint64_t left = s->deadline_ns - now;
        mds_futex_wait(&s->parked, p,
                       left < 10 * NS_PER_MS ? left : 10 * NS_PER_MS);
    }
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        uint32_t want = MDS_SLOT_REQUESTED;
        if (__atomic_compare_exchange_n(&sl->state, &want, MDS_SLOT_GONE, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            sl->why = MDS_WHY_TIMEOUT;
            continue;
        }
        /* Answered late and saving its registers now: give it 10 ms. */
        uint64_t until = mds_now_ns() + 10 * NS_PER_MS;
        while (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) ==
                   MDS_SLOT_WRITING &&
               mds_now_ns() < until)
            mds_sched_yield();
    }
    return 0;
}

void mds_release_signal(mds_stopset *s)
{
    __atomic_fetch_add(&s->resume_gen, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&s->resume_gen, 0x7fffffff);
    /* Until every parked thread has left the handler (bounded). */
    uint64_t until = mds_now_ns() + 100 * NS_PER_MS;
    for (;;) {
        uint32_t p = __atomic_load_n(&s->parked, __ATOMIC_ACQUIRE);
        if (p == 0 || mds_now_ns() >= until)
            break;
        mds_futex_wait(&s->parked, p, 5 * NS_PER_MS);
    }
    if (s->took_signal) {
        mds_rt_sigaction(mds_g.suspend_signo, &s->saved_action, 0);
        s->took_signal = 0;
    }
    __atomic_store_n(&mds_g.sig_set, 0, __ATOMIC_RELEASE);
}
