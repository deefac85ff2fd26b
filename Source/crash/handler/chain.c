/*
 * chain.c - previous handlers and chain-first (see chain.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Dispositions are read and written
 * with the raw rt_sigaction syscall: an interposed sigaction() (a JVM's
 * libjsig, for one) may take a lock.
 */
#include "crash/handler/chain.h"

#include <string.h>

#include "crash/core/regs.h"
#include "crash/core/sys.h"
#include "crash/handler/cause.h"
#include "crash/handler/handler.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull

int mds_signal_index(int sig)
{
    for (int i = 0; i < MDS_NSIGNALS; i++) {
        if (mds_g.signals[i] == sig)
            return i;
    }
    return -1;
}

int mds_is_handler(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction != 0;
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

int mds_is_ignored(const struct sigaction *sa)
{
    return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_IGN;
}

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

void mds_set_default(int sig)
{
    struct mds_ksigaction k;
    memset(&k, 0, sizeof k); /* SIG_DFL */
    mds_rt_sigaction(sig, &k, 0);
}

void mds_restore_all(void)
{
    for (int i = 0; i < MDS_NSIGNALS; i++)
        set_disposition(mds_g.signals[i], &mds_g.prev[i]);
}

/* Runs a previous handler as the kernel would have: with its mask (and
 * the signal itself unless SA_NODEFER) blocked, and SA_RESETHAND applied
 * to what we remember of it (and, when it is the installed disposition
 * again, to the real one: real_reset). */
void mds_call_prev(int i, int sig, siginfo_t *info, void *uc, int real_reset)
{
    struct sigaction sa = mds_g.prev[i];
    uint64_t mask = mask_bits(&sa.sa_mask), old;
    if (!(sa.sa_flags & SA_NODEFER))
        mask |= mds_sigbit(sig);
    if (sa.sa_flags & SA_RESETHAND) {
        memset(&mds_g.prev[i], 0, sizeof mds_g.prev[i]); /* now SIG_DFL */
        if (real_reset)
            mds_set_default(sig);
    }
    mds_rt_sigprocmask(SIG_BLOCK, &mask, &old);
    if (sa.sa_flags & SA_SIGINFO)
        sa.sa_sigaction(sig, info, uc);
    else
        sa.sa_handler(sig);
    mds_rt_sigprocmask(SIG_SETMASK, &old, 0);
}

int mds_chains_first(int i, int sig)
{
    return i >= 0 && mds_is_handler(&mds_g.prev[i]) &&
           ((mds_g.cfg.flags & MAYDAY_FLAG_CHAIN_FIRST) || sig == SIGTRAP ||
            sig == SIGSYS);
}

/* The last fault each thread passed to the previous handler: a small
 * table keyed by tid (a thread claims an entry by compare-and-swap; with
 * more concurrent chaining threads than entries the oldest is reused). */
#define CHAIN_SLOTS 64
static struct chain_rec {
    volatile uint32_t tid;
    int sig;
    uintptr_t pc, addr;
    uint64_t when;
    uint32_t repeats;
} chain_recs[CHAIN_SLOTS];

static struct chain_rec *chain_rec(uint32_t tid)
{
    uint32_t h = (tid * 2654435761u) % CHAIN_SLOTS;
    for (uint32_t k = 0; k < CHAIN_SLOTS; k++) {
        struct chain_rec *r = &chain_recs[(h + k) % CHAIN_SLOTS];
        uint32_t cur = __atomic_load_n(&r->tid, __ATOMIC_ACQUIRE);
        if (cur == tid)
            return r;
        if (cur == 0 &&
            __atomic_compare_exchange_n(&r->tid, &cur, tid, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            r->sig = 0;
            r->pc = r->addr = 0;
            r->repeats = 0;
            return r;
        }
    }
    struct chain_rec *r = &chain_recs[h];
    __atomic_store_n(&r->tid, tid, __ATOMIC_RELEASE);
    r->sig = 0;
    return r;
}

#define REPEAT_WINDOW_NS (20 * NS_PER_MS)

/* The previous handler gave up on the fault the way most "let it crash"
 * handlers do: it set the disposition to SIG_DFL or SIG_IGN and returned
 * (re-executing would kill the process without a report). */
static int gave_up(int sig)
{
    struct mds_ksigaction cur;
    if (mds_rt_sigaction(sig, 0, &cur) < 0)
        return 0;
    return cur.handler == (void *)SIG_DFL || cur.handler == (void *)SIG_IGN;
}

/* A fault is handled if the previous handler changed the context (pc or
 * sp), or if re-executing the instruction does not fault again. So when
 * it returns with the context unchanged we let the instruction run again;
 * the same fault on the same thread right away (or a third time) means
 * it was not handled, and this time we report it. */
int mds_chain_first(int sig, siginfo_t *info, void *uc, uint32_t tid)
{
    int i = mds_signal_index(sig);
    int fault = mds_signal_is_fault(sig, info->si_code);
    mds_regs before, after;
    mds_regs_from_ucontext(&before, uc);
    uintptr_t pc = before.v[MDS_REG_PC], addr = (uintptr_t)info->si_addr;
    uint64_t now = mds_now_ns();
    struct chain_rec *last = chain_rec(tid);
    if (fault && last->sig == sig && last->pc == pc && last->addr == addr &&
        (now - last->when < REPEAT_WINDOW_NS || last->repeats >= 2)) {
        last->sig = 0;
        return 0;
    }
    mds_call_prev(i, sig, info, uc, 0);
    if (gave_up(sig))
        return 0;
    mds_regs_from_ucontext(&after, uc);
    if (!fault)
        return sig != SIGABRT; /* abort() cannot be "handled" by a return */
    if (before.v[MDS_REG_PC] != after.v[MDS_REG_PC] ||
        before.v[MDS_REG_SP] != after.v[MDS_REG_SP])
        return 1;
    if (last->sig == sig && last->pc == pc && last->addr == addr)
        last->repeats++;
    else
        last->repeats = 0;
    last->sig = sig;
    last->pc = pc;
    last->addr = addr;
    last->when = mds_now_ns();
    return 1;
}
