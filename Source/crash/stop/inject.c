/*
 * inject.c - an alternate signal stack for each thread that already runs
 * when mayday is installed, given without interrupting it.
 *
 * Context: async-signal-safe (the helper task has no libc of its own; see
 * stop_ptrace.c). Called at install (normal context) through
 * md_prepare_existing_threads() (Source/normal/install/prepare.c).
 *
 * A signal handler is the usual way to run code in another thread, but a
 * handler makes pause, nanosleep, epoll_wait and many more return EINTR.
 * Instead, a helper task seizes each thread (PTRACE_SEIZE + INTERRUPT),
 * saves its registers and FP state, points it at mds_inject_entry (on its
 * own stack, below the red zone), lets it run that (sigaltstack + mmap,
 * then it stops itself with SIGSTOP), and puts every register back at
 * that stop. The SIGSTOP is suppressed; the restored context resumes
 * exactly where it was, and an interrupted system call restarts as it
 * would after any stop (stop_ptrace.c). A signal that arrives meanwhile
 * is held back and delivered at the end, with its siginfo, so that the
 * interrupted call sees it as it would have.
 */
#include "crash/stop/stop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "crash/core/sys.h"
#include "crash/handler/altstack.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/stop/ptrace_util.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull
#define MDS_PTRACE_GETSIGINFO 0x4202
#define MDS_PTRACE_SETSIGINFO 0x4203
#define MDS_NT_X86_XSTATE 0x202
#define INJECT_STEP_NS (200 * NS_PER_MS)

/* Runs in the target thread. alive is the helper's CLONE_CHILD_CLEARTID
 * word: if the helper is gone there is nobody to catch the SIGSTOP (which
 * would stop the whole process), so the thread then parks here. */
void mds_inject_entry(volatile uint32_t *alive)
    __attribute__((noreturn, noinline));
void mds_inject_entry(volatile uint32_t *alive)
{
    mds_altstack_ensure(0, 0, 0);
    if (__atomic_load_n(alive, __ATOMIC_ACQUIRE))
        mds_tgkill((int)mds_getpid(), (int)mds_gettid(), SIGSTOP);
    for (;;)
        mds_syscall4(SYS_ppoll, 0, 0, 0, 0);
}

#if defined(__x86_64__)

typedef struct inject_ctx {
    mds_stopset *s;
    mds_inject_io *io;
} inject_ctx;

/* Waits for the next stop of tid: its wait status, 0 on timeout, -1 when
 * it exited. */
static int next_stop(uint32_t tid, uint64_t until)
{
    uint64_t chld = 1ull << (SIGCHLD - 1);
    for (;;) {
        int st = 0;
        long r = mds_wait4((int)tid, &st, MDS_WALL | MDS_WNOHANG);
        if (r == (long)tid)
            return (st & 0xff) == 0x7f ? st : -1;
        if (r < 0)
            return -1;
        uint64_t now = mds_now_ns();
        if (now >= until)
            return 0;
        uint64_t left = until - now;
        mds_sigtimedwait(&chld, left < 5 * NS_PER_MS ? left : 5 * NS_PER_MS);
    }
}

static int stop_sig(int st) { return (st >> 8) & 0xff; }
static int stop_event(int st) { return (st >> 16) & 0xff; }

/* A signal-delivery stop of a real signal: hold the first one back (with
 * its siginfo), let any later one through at once. */
static void hold_signal(inject_ctx *c, uint32_t tid, int sig)
{
    mds_inject_io *io = c->io;
    if (!io->held_sig &&
        mds_ptrace(MDS_PTRACE_GETSIGINFO, tid, 0, io->held_info) == 0) {
        io->held_sig = sig;
        mds_ptrace(MDS_PTRACE_CONT, tid, 0, 0);
    } else {
        mds_ptrace(MDS_PTRACE_CONT, tid, 0, (void *)(uintptr_t)sig);
    }
}

/* Puts the thread's own context back and lets it go. At the SIGSTOP
 * stop, DETACH with 0 drops our SIGSTOP; with a held signal it delivers
 * that one instead, with its own siginfo. */
static void restore(inject_ctx *c, mds_slot *sl, int at_sigstop)
{
    mds_inject_io *io = c->io;
    mds_raw_regs *saved = (mds_raw_regs *)sl->raw;
    mds_pt_fix_restart(saved);
    mds_pt_regset(MDS_PTRACE_SETREGSET, sl->tid, MDS_NT_PRSTATUS, sl->raw,
                  sl->raw_len, 0);
    if (io->xlen)
        mds_pt_regset(MDS_PTRACE_SETREGSET, sl->tid, MDS_NT_X86_XSTATE,
                      io->xbuf, io->xlen, 0);
    else if (sl->fp_len)
        mds_pt_regset(MDS_PTRACE_SETREGSET, sl->tid, MDS_NT_PRFPREG, sl->fp,
                      sl->fp_len, 0);
    long sig = 0;
    if (io->held_sig && at_sigstop &&
        mds_ptrace(MDS_PTRACE_SETSIGINFO, sl->tid, 0, io->held_info) == 0)
        sig = io->held_sig;
    mds_ptrace(MDS_PTRACE_DETACH, sl->tid, 0, (void *)(uintptr_t)sig);
    if (io->held_sig && !sig)
        mds_tgkill((int)c->s->pid, (int)sl->tid, io->held_sig);
}

/* Gives one thread its altstack. Returns 1 on success. */
static int inject_one(inject_ctx *c, mds_slot *sl)
{
    mds_inject_io *io = c->io;
    io->held_sig = 0;
    io->xlen = 0;
    if (mds_ptrace(MDS_PTRACE_SEIZE, sl->tid, 0, 0) < 0)
        return 0;
    mds_ptrace(MDS_PTRACE_INTERRUPT, sl->tid, 0, 0);
    int st;
    for (;;) {
        st = next_stop(sl->tid, mds_now_ns() + INJECT_STEP_NS);
        if (st <= 0)
            return 0; /* exited, or never stopped (detached at our exit) */
        if (stop_event(st) || !stop_sig(st))
            break;
        hold_signal(c, sl->tid, stop_sig(st));
    }
    size_t got;
    if (mds_pt_regset(MDS_PTRACE_GETREGSET, sl->tid, MDS_NT_PRSTATUS, sl->raw,
                      sizeof sl->raw, &got) < 0 ||
        got < sizeof(mds_raw_regs)) {
        mds_ptrace(MDS_PTRACE_DETACH, sl->tid, 0, 0);
        return 0;
    }
    sl->raw_len = (uint32_t)got;
    if (mds_pt_regset(MDS_PTRACE_GETREGSET, sl->tid, MDS_NT_X86_XSTATE,
                      io->xbuf, io->xcap, &got) == 0)
        io->xlen = got;
    else if (mds_pt_regset(MDS_PTRACE_GETREGSET, sl->tid, MDS_NT_PRFPREG,
                           sl->fp, sizeof sl->fp, &got) == 0)
        sl->fp_len = (uint32_t)got;
    mds_raw_regs run = *(mds_raw_regs *)sl->raw;
    run.rip = (uintptr_t)mds_inject_entry;
    /* Below the red zone and a margin, aligned as after a call. */
    run.rsp = ((run.rsp - 128 - 512) & ~15ull) - 8;
    run.rdi = (uintptr_t)&c->s->hpid;
    run.orig_rax = (unsigned long)-1; /* no system call to restart here */
    run.rax = 0;
    run.eflags &= ~0x400ull; /* DF clear, as the ABI wants at a call */
    if (mds_pt_regset(MDS_PTRACE_SETREGSET, sl->tid, MDS_NT_PRSTATUS, &run,
                      sizeof run, 0) < 0) {
        restore(c, sl, 0);
        return 0;
    }
    mds_ptrace(MDS_PTRACE_CONT, sl->tid, 0, 0);
    uint64_t until = mds_now_ns() + INJECT_STEP_NS;
    for (;;) {
        st = next_stop(sl->tid, until);
        if (st < 0)
            return 0;
        if (st == 0) {
            /* Still running our code (a slow mmap?): stop it there. */
            mds_ptrace(MDS_PTRACE_INTERRUPT, sl->tid, 0, 0);
            st = next_stop(sl->tid, mds_now_ns() + INJECT_STEP_NS);
            if (st <= 0)
                return 0;
            restore(c, sl, 0);
            return 0;
        }
        int sig = stop_sig(st);
        if (!stop_event(st) && sig == SIGSTOP)
            break; /* our marker */
        if (!stop_event(st) && (sig == SIGSEGV || sig == SIGBUS ||
                                sig == SIGILL || sig == SIGSYS)) {
            restore(c, sl, 0); /* our code faulted: undo, no altstack */
            return 0;
        }
        if (stop_event(st))
            mds_ptrace(MDS_PTRACE_CONT, sl->tid, 0, 0);
        else
            hold_signal(c, sl->tid, sig);
    }
    restore(c, sl, 1);
    return 1;
}

static int inject_main(void *arg)
{
    inject_ctx *c = arg;
    mds_stopset *s = c->s;
    if (mds_pt_helper_setup(s) < 0)
        return 1;
    mds_stop_list(s);
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state != MDS_SLOT_REQUESTED)
            continue;
        /* A seccomp filter may kill the process for the system calls of
         * mds_inject_entry: leave such threads alone. */
        mds_task_status ts;
        if (mds_task_status_read(s->pid, sl->tid, &ts) < 0 || ts.seccomp != 0) {
            c->io->skipped++;
            continue;
        }
        if (inject_one(c, sl))
            c->io->done++;
        else
            c->io->failed++;
    }
    return 0;
}

int mds_inject_altstacks(mds_stopset *s, mds_inject_io *io)
{
    static inject_ctx c; /* the helper reads it: not on this stack frame */
    c.s = s;
    c.io = io;
    s->pid = (uint32_t)mds_getpid();
    s->deadline_ns = mds_now_ns() + 1000 * NS_PER_MS; /* for the start */
    __atomic_store_n(&s->n, 0, __ATOMIC_RELEASE);
    long pid = mds_pt_helper_start(s, inject_main, &c);
    if (pid < 0)
        return (int)pid;
    /* Each thread takes at most three steps of INJECT_STEP_NS. */
    uint64_t n = s->cap < 4096 ? s->cap : 4096;
    mds_pt_helper_reap(s, 1000 * NS_PER_MS + n * 3 * INJECT_STEP_NS);
    return 0;
}
#else
int mds_inject_altstacks(mds_stopset *s, mds_inject_io *io)
{
    (void)s;
    (void)io;
    return -ENOSYS;
}
#endif
