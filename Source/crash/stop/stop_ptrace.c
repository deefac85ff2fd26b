/*
 * stop_ptrace.c - stopping threads with ptrace from a helper task.
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every wait has a deadline.
 *
 * A thread cannot ptrace threads of its own thread group, so the reporter
 * starts a helper task with clone(CLONE_VM | CLONE_FILES | CLONE_FS |
 * CLONE_UNTRACED) on a stack mapped at install: it shares our memory (it
 * writes the slots directly) but is a process of its own, the tracer. For
 * each thread it does PTRACE_SEIZE + PTRACE_INTERRUPT, waits for the stop
 * (wait4 with WNOHANG and rt_sigtimedwait on SIGCHLD: a deadline for every
 * wait), reads NT_PRSTATUS and NT_PRFPREG, then holds the threads until
 * told to release them or until the process dies (it reaps its tracees
 * as they exit, then exits; if it dies, the kernel detaches its
 * tracees). No handler ever runs in a stopped thread.
 *
 * On release, a system call that the stop made fail with EINTR (signal(7):
 * epoll_wait, sigtimedwait, semop, sockets with timeouts) gets
 * -ERESTARTNOHAND instead, which the kernel turns into a transparent
 * restart when no handler runs: the application never sees the stop.
 * Calls the kernel restarts by itself (nanosleep, pause, poll, futex,
 * read) need nothing. docs/thread-control.md has the measurements.
 *
 * Once every thread is stopped, the helper reads their names from /proc
 * (about 10 us a thread here) while the reporter walks and encodes on the
 * other core; the reporter reads /proc itself for any it gets to first.
 */
#include "crash/stop/stop.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/stop/ptrace_util.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull

enum {
    H_STARTING = 0,
    H_RUNNING = 1,
    H_STOPPED = 2, /* every thread it could stop is stopped */
    H_FAILED = 3   /* ptrace refused for every thread */
};
enum { HCMD_NONE = 0, HCMD_RELEASE = 1 };

/* Registers of a stopped tracee into its slot. */
static void take_regs(mds_slot *sl)
{
    size_t got;
    if (mds_pt_regset(MDS_PTRACE_GETREGSET, sl->tid, MDS_NT_PRSTATUS, sl->raw,
                      sizeof sl->raw, &got) == 0 &&
        got >= sizeof(mds_raw_regs)) {
        sl->raw_len = (uint32_t)got;
        mds_pt_raw_to_slot(sl, (const mds_raw_regs *)sl->raw);
    }
    if (mds_pt_regset(MDS_PTRACE_GETREGSET, sl->tid, MDS_NT_PRFPREG, sl->fp,
                      sizeof sl->fp, &got) == 0)
        sl->fp_len = (uint32_t)got;
}

/* Waits until tid stops (or exits, or the deadline passes). */
static void wait_stop(mds_stopset *s, mds_slot *sl)
{
    uint64_t chld = 1ull << (SIGCHLD - 1);
    for (;;) {
        int st = 0;
        long r = mds_wait4((int)sl->tid, &st, MDS_WALL | MDS_WNOHANG);
        if (r == (long)sl->tid) {
            if ((st & 0xff) == 0x7f) { /* stopped */
                int sig = (st >> 8) & 0xff;
                int event = (st >> 16) & 0xff;
                /* A signal-delivery stop: a signal arrived before our
                 * interrupt. It is passed on at release. */
                if (event == 0)
                    sl->signo = sig;
                take_regs(sl);
                __atomic_store_n(&sl->state, MDS_SLOT_PARKED, __ATOMIC_RELEASE);
                return;
            }
            sl->state = MDS_SLOT_GONE; /* exited (and reaped) */
            sl->why = MDS_WHY_EXITED;
            return;
        }
        if (r < 0) {
            sl->state = MDS_SLOT_GONE;
            sl->why = MDS_WHY_EXITED;
            return;
        }
        uint64_t now = mds_now_ns();
        if (now >= s->deadline_ns) {
            sl->state = MDS_SLOT_GONE; /* still seized: detached at exit */
            sl->why = MDS_WHY_TIMEOUT;
            return;
        }
        uint64_t left = s->deadline_ns - now;
        mds_sigtimedwait(&chld, left < 10 * NS_PER_MS ? left : 10 * NS_PER_MS);
    }
}

/* Seizes and interrupts slots [from, n), then waits for each. Returns
 * the number seized; counts refusals in *eperm. */
static uint32_t stop_range(mds_stopset *s, uint32_t from, uint32_t *eperm)
{
    uint32_t n = s->n, seized = 0;
    for (uint32_t i = from; i < n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state != MDS_SLOT_REQUESTED)
            continue;
        long r = mds_ptrace(MDS_PTRACE_SEIZE, sl->tid, 0, 0);
        if (r == 0)
            r = mds_ptrace(MDS_PTRACE_INTERRUPT, sl->tid, 0, 0);
        if (r == 0) {
            sl->why = MDS_WHY_NONE;
            seized++;
            continue;
        }
        if (!s->herr)
            s->herr = (int)r;
        sl->state = MDS_SLOT_GONE;
        sl->why = r == -ESRCH ? MDS_WHY_EXITED : MDS_WHY_TRACED;
        if (r == -EPERM)
            (*eperm)++;
    }
    for (uint32_t i = from; i < n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state == MDS_SLOT_REQUESTED)
            wait_stop(s, sl);
    }
    return seized;
}

/* Names of the listed threads, in the order the reporter encodes them.
 * /proc/PID of the process, not ours: this task is a process of its own.
 * Stops early when told to release (the report is done). */
static void name_all(mds_stopset *s)
{
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        mds_slot *sl = &s->slots[i];
        if (__atomic_load_n(&s->hcmd, __ATOMIC_ACQUIRE) == HCMD_RELEASE)
            return;
        if (sl->state == MDS_SLOT_GONE && sl->why == MDS_WHY_EXITED)
            continue;
        if (mds_thread_name_of(s->pid, sl->tid, sl->name, sizeof sl->name) >= 0)
            __atomic_store_n(&sl->name_ok, 1, __ATOMIC_RELEASE);
    }
}

static void release_all(mds_stopset *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state != MDS_SLOT_PARKED)
            continue;
        if (sl->raw_len >= sizeof(mds_raw_regs) &&
            mds_pt_fix_restart((mds_raw_regs *)sl->raw))
            mds_pt_regset(MDS_PTRACE_SETREGSET, sl->tid, MDS_NT_PRSTATUS,
                          sl->raw, sl->raw_len, 0);
        mds_ptrace(MDS_PTRACE_DETACH, sl->tid, 0,
                   (void *)(uintptr_t)(sl->signo > 0 ? sl->signo : 0));
    }
}

static int helper_main(void *arg)
{
    mds_stopset *s = arg;
    if (mds_pt_helper_setup(s) < 0)
        return 1;
    __atomic_store_n(&s->hstate, H_RUNNING, __ATOMIC_RELEASE);

    uint32_t eperm = 0, seized = 0, from = 0;
    for (int pass = 0; pass < 4; pass++) {
        seized += stop_range(s, from, &eperm);
        /* Threads created meanwhile by threads that still ran. */
        from = s->n;
        if (!mds_stop_list(s))
            break;
    }
    if (seized == 0 && eperm > 0) {
        __atomic_store_n(&s->hstate, H_FAILED, __ATOMIC_RELEASE);
        mds_futex_wake(&s->hstate, 1);
        return 2;
    }
    __atomic_store_n(&s->hstate, H_STOPPED, __ATOMIC_RELEASE);
    mds_futex_wake(&s->hstate, 1);
    name_all(s);

    /* Hold them until released (the reporter sends us SIGCHLD then), or
     * until the process dies: its threads then exit one by one and we
     * reap each (a traced thread stays a zombie until its tracer does, and
     * the process is not dead for its parent before that). When none is
     * left, we are done. This task may then still block in its own exit,
     * closing the descriptor table it shares (a file on a hung file
     * system): by then it holds nothing of the process. */
    uint64_t until = mds_now_ns() + MDS_HOLD_MAX_NS;
    uint64_t chld = 1ull << (SIGCHLD - 1);
    for (;;) {
        if (__atomic_load_n(&s->hcmd, __ATOMIC_ACQUIRE) == HCMD_RELEASE)
            break;
        int st;
        long r = mds_wait4(-1, &st, MDS_WALL | MDS_WNOHANG);
        if (r > 0) {
            mds_slot *sl = mds_stop_find(s, (uint32_t)r);
            if (sl && (st & 0xff) != 0x7f) {
                sl->state = MDS_SLOT_GONE;
                sl->why = MDS_WHY_EXITED;
            }
            continue;
        }
        if (r == -ECHILD)
            return 0; /* every tracee is gone: the process died */
        uint64_t now = mds_now_ns();
        if (now >= until)
            break;
        mds_sigtimedwait(&chld, 1000 * NS_PER_MS);
    }
    release_all(s);
    return 0;
}

/* ------------------------------------------------- the reporter side */

int mds_stop_ptrace(mds_stopset *s, const mds_stop_req *r)
{
    (void)r;
    if (!s->hstack)
        return -ENOMEM;
    s->hstate = H_STARTING;
    s->hcmd = HCMD_NONE;
    s->hgo = 0;
    s->hpid = 0;
    long pid = mds_pt_helper_start(s, helper_main, s);
    if (pid < 0)
        return (int)pid;
    uint64_t until = s->deadline_ns + 200 * NS_PER_MS;
    for (;;) {
        uint32_t h = __atomic_load_n(&s->hstate, __ATOMIC_ACQUIRE);
        if (h == H_STOPPED)
            return 0;
        if (h == H_FAILED || !__atomic_load_n(&s->hpid, __ATOMIC_ACQUIRE) ||
            mds_now_ns() >= until)
            break;
        mds_futex_wait(&s->hstate, h, 10 * NS_PER_MS);
    }
    /* Refused, dead or stuck: whatever it stopped is released when it
     * dies. The next mechanism starts from a clean list. */
    int err = s->herr ? s->herr : -ETIMEDOUT;
    mds_kill((int)pid, SIGKILL);
    mds_pt_helper_reap(s, 1000 * NS_PER_MS);
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state == MDS_SLOT_PARKED || sl->state == MDS_SLOT_GONE) {
            sl->state = MDS_SLOT_REQUESTED;
            sl->why = MDS_WHY_NONE;
            sl->signo = 0;
            sl->fp_len = sl->raw_len = 0;
            sl->regs.valid = 0;
        }
    }
    return err;
}

void mds_release_ptrace(mds_stopset *s)
{
    if (!s->hlive)
        return;
    __atomic_store_n(&s->hcmd, HCMD_RELEASE, __ATOMIC_RELEASE);
    /* It sleeps in rt_sigtimedwait(SIGCHLD). */
    mds_kill((int)s->hlive, SIGCHLD);
    mds_pt_helper_reap(s, 1000 * NS_PER_MS);
}
