/*
 * suspend.c - suspend/resume the other threads, and per-thread altstacks.
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every wait has a deadline.
 */
#include "crash/handler/suspend.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "crash/core/arena.h"
#include "crash/core/regs.h"
#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

size_t mds_altstack_size = 64 * 1024;

/* How long a parked thread waits before resuming on its own: the reporter
 * normally resumes it (or the process dies) long before. */
#define PARK_MAX_NS (30ull * 1000000000ull)

static mds_slot *find_slot(uint32_t tid)
{
    uint32_t n = __atomic_load_n(&mds_g.nused, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        if (mds_g.slots[i].tid == tid)
            return &mds_g.slots[i];
    }
    return 0;
}

int mds_altstack_ensure(void *ucv, void **map_out, size_t *map_len_out)
{
    stack_t cur;
    if (map_out)
        *map_out = 0;
    if (mds_sigaltstack(0, &cur) < 0)
        return -EINVAL;
    if (!(cur.ss_flags & SS_DISABLE) && cur.ss_size >= mds_altstack_size)
        return 0; /* the thread has one already (ours or the app's) */
    if (cur.ss_flags & SS_ONSTACK)
        return -EBUSY; /* running on a small one: cannot replace it */
    size_t pg = mds_page_size();
    size_t len = mds_altstack_size + pg; /* guard page below */
    void *m;
    long r = mds_mmap(0, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &m);
    if (r < 0)
        return (int)r;
    mds_mprotect(m, pg, PROT_NONE);
    stack_t ss = {.ss_sp = (char *)m + pg, .ss_flags = 0,
                  .ss_size = mds_altstack_size};
    r = mds_sigaltstack(&ss, 0);
    if (r < 0) {
        mds_munmap(m, len);
        return (int)r;
    }
    if (ucv) {
        /* sigreturn restores the altstack from the frame: keep ours. */
        ucontext_t *uc = ucv;
        uc->uc_stack = ss;
    }
    if (map_out)
        *map_out = m;
    if (map_len_out)
        *map_len_out = len;
    return 0;
}

void mds_suspend_handler(int sig, siginfo_t *info, void *ucv)
{
    (void)sig;
    (void)info;
    uint32_t mode = __atomic_load_n(&mds_g.suspend_mode, __ATOMIC_ACQUIRE);
    if (mode == MDS_SUSPEND_ALTSTACK) {
        mds_altstack_ensure(ucv, 0, 0);
        __atomic_fetch_add(&mds_g.altstack_acks, 1, __ATOMIC_ACQ_REL);
        mds_futex_wake(&mds_g.altstack_acks, 1);
        return;
    }
    if (mode != MDS_SUSPEND_PARK)
        return;
    uint32_t tid = (uint32_t)mds_gettid();
    mds_slot *s = find_slot(tid);
    if (!s)
        return;
    /* Read the resume generation first: once we are WRITING the reporter
     * may finish and resume everyone, and we must not wait for the next
     * one. */
    uint32_t gen = __atomic_load_n(&mds_g.resume_gen, __ATOMIC_ACQUIRE);
    uint32_t want = MDS_SLOT_REQUESTED;
    /* The reporter may have given up on us (GONE): then just go on. */
    if (!__atomic_compare_exchange_n(&s->state, &want, MDS_SLOT_WRITING,
                                     0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    mds_regs_from_ucontext(&s->regs, ucv);
    __atomic_store_n(&s->state, MDS_SLOT_PARKED, __ATOMIC_RELEASE);
    __atomic_fetch_add(&mds_g.parked, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&mds_g.parked, 1);
    uint64_t deadline = mds_now_ns() + PARK_MAX_NS;
    while (__atomic_load_n(&mds_g.resume_gen, __ATOMIC_ACQUIRE) == gen) {
        uint64_t now = mds_now_ns();
        if (now >= deadline)
            break;
        mds_futex_wait(&mds_g.resume_gen, gen, 100 * 1000000ull);
    }
}

struct list_ctx {
    uint32_t self, skip, pid;
    uint32_t signalled;
    mds_suspend_result *out;
};

static mds_slot *waiting_slot(uint32_t tid)
{
    for (uint32_t i = 0; i < 16; i++) {
        /* State first (acquire), then the fields it publishes. */
        if (__atomic_load_n(&mds_g.waiting[i].state, __ATOMIC_ACQUIRE) ==
                MDS_SLOT_CRASHED &&
            mds_g.waiting[i].tid == tid)
            return &mds_g.waiting[i];
    }
    return 0;
}

static int list_one(uint32_t tid, void *vctx)
{
    struct list_ctx *c = vctx;
    if (tid == c->self || tid == c->skip)
        return 0;
    if (mds_g.nused >= mds_g.nslots) {
        c->out->capped = 1;
        return 1;
    }
    mds_slot *s = &mds_g.slots[mds_g.nused];
    s->tid = tid;
    s->signo = 0;
    s->regs.valid = 0;
    s->syscall_nr = -2;
    s->fp_len = 0;
    mds_slot *w = waiting_slot(tid);
    if (w) {
        /* Crashed too and is waiting in our handler: it blocks the
         * suspend signal, but it left its registers for us. */
        s->regs = w->regs;
        s->signo = w->signo;
        s->state = MDS_SLOT_CRASHED;
    } else if (tid == mds_g.exc_tid) {
        s->state = MDS_SLOT_GONE; /* the exception thread: not signalled */
    } else {
        s->state = MDS_SLOT_REQUESTED;
    }
    /* Read the state before signalling: the thread changes it as soon as
     * it runs its handler. */
    int signal_it = s->state == MDS_SLOT_REQUESTED;
    __atomic_store_n(&mds_g.nused, mds_g.nused + 1, __ATOMIC_RELEASE);
    if (signal_it &&
        mds_tgkill((int)c->pid, (int)tid, mds_g.suspend_signo) < 0) {
        /* Exited meanwhile: forget it. */
        __atomic_store_n(&mds_g.nused, mds_g.nused - 1, __ATOMIC_RELEASE);
        return 0;
    }
    c->signalled += (uint32_t)signal_it;
    c->out->count++;
    return 0;
}

void mds_suspend_others(uint32_t self_tid, uint32_t skip_tid, char *scratch,
                        size_t cap, mds_suspend_result *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t t0 = mds_now_ns();
    __atomic_store_n(&mds_g.nused, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&mds_g.parked, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&mds_g.suspend_mode, MDS_SUSPEND_PARK, __ATOMIC_RELEASE);
    struct list_ctx c = {self_tid, skip_tid, (uint32_t)mds_getpid(), 0, out};
    mds_for_each_thread(scratch, cap, list_one, &c);
    /* Threads may answer while the list is still being made: wait for as
     * many answers as signals were sent. */
    uint32_t requested = c.signalled;
    uint64_t deadline =
        mds_now_ns() + (uint64_t)mds_g.cfg.suspend_timeout_ms * 1000000ull;
    for (;;) {
        uint32_t p = __atomic_load_n(&mds_g.parked, __ATOMIC_ACQUIRE);
        if (p >= requested)
            break;
        uint64_t now = mds_now_ns();
        if (now >= deadline)
            break;
        uint64_t left = deadline - now;
        mds_futex_wait(&mds_g.parked, p, left < 10000000ull ? left : 10000000ull);
    }
    for (uint32_t i = 0; i < mds_g.nused; i++) {
        mds_slot *s = &mds_g.slots[i];
        uint32_t want = MDS_SLOT_REQUESTED;
        if (s->state == MDS_SLOT_GONE ||
            __atomic_compare_exchange_n(&s->state, &want, MDS_SLOT_GONE, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            uint64_t pc, sp;
            if (mds_thread_pc_sp(s->tid, &pc, &sp) == 0)
                mds_regs_from_pc_sp(&s->regs, pc, sp);
            if (s->tid != mds_g.exc_tid)
                out->not_answered++;
            continue;
        }
        /* A thread that answered late and is saving its registers now:
         * give it up to 10 ms to finish. */
        uint64_t until = mds_now_ns() + 10000000ull;
        while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) ==
                   MDS_SLOT_WRITING &&
               mds_now_ns() < until)
            mds_sched_yield();
    }
    out->elapsed_ns = mds_now_ns() - t0;
}

void mds_resume_others(void)
{
    __atomic_store_n(&mds_g.suspend_mode, MDS_SUSPEND_NONE, __ATOMIC_RELEASE);
    __atomic_fetch_add(&mds_g.resume_gen, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&mds_g.resume_gen, 0x7fffffff);
}
