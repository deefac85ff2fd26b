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
 * The reporter does not wait for the whole stop (issue 15): it writes
 * the parts of the report that need no stopped thread while the helper
 * works, then takes the slots one by one as they settle (each settled
 * slot bumps the hprog futex word), so that walking and encoding on one
 * core overlap stopping on the other. Once every thread is stopped, the
 * helper reads the names of those the reporter has not reached from
 * /proc (about 10 us a thread here); the reporter reads the name of the
 * slot it waits for itself meanwhile.
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
/* Between two looks at the clock the helper sleeps at most 10 ms; a
 * longer gap means it was off the CPU (a busy machine, or a virtual CPU
 * the host did not run). */
#define STALL_NS (30 * NS_PER_MS)
#define STALL_MAX_NS (1000 * NS_PER_MS)

enum {
    H_STARTING = 0,
    H_RUNNING = 1,
    H_SEIZED = 2,  /* committed: the first threads are seized, none refused
                      them all; the slots settle from here on, in order */
    H_STOPPED = 3, /* every thread it could stop is stopped */
    H_FAILED = 4   /* ptrace refused for every thread */
};

/* Helper side: a slot settled, or the state moved on. The reporter may
 * sleep on hprog (it said so in hwait): both sides use sequentially
 * consistent atomics, so that either it sees the new count or we see it
 * waiting. */
static void progress(mds_stopset *s)
{
    __atomic_add_fetch(&s->hprog, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->hwait, __ATOMIC_SEQ_CST) &&
        __atomic_exchange_n(&s->hwait, 0, __ATOMIC_SEQ_CST))
        mds_futex_wake(&s->hprog, 1);
}

static void set_state(mds_stopset *s, uint32_t h)
{
    __atomic_store_n(&s->hstate, h, __ATOMIC_SEQ_CST);
    progress(s); /* the reporter sleeps on hprog, not on hstate */
}

/* Reads sl's thread name into its slot, unless the other side (helper
 * or reporter) has it or is reading it: the slot is claimed 0 -> 2 and
 * published as 1 (mds_stop_name). pid: the process, as the helper sees
 * it from outside; 0 for the reporter (its own /proc/self). */
static void claim_name(mds_slot *sl, uint32_t pid)
{
    uint32_t none = 0;
    if (!__atomic_compare_exchange_n(&sl->name_ok, &none, 2, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    long n = pid ? mds_thread_name_of(pid, sl->tid, sl->name, sizeof sl->name)
                 : mds_thread_name(sl->tid, sl->name, sizeof sl->name);
    __atomic_store_n(&sl->name_ok, n >= 0 ? 1 : 0, __ATOMIC_RELEASE);
}

/* A slot that will not be stopped: why first, then the state (release,
 * the reporter may be reading it). */
static void gone(mds_slot *sl, uint32_t why)
{
    sl->why = why;
    __atomic_store_n(&sl->state, MDS_SLOT_GONE, __ATOMIC_RELEASE);
}
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

/* Helper side: the time, with the deadline moved by any gap since the
 * last look in which this task did not run (at most STALL_MAX_NS in all):
 * the budget is time the helper could use, and the threads it waits for
 * were most likely held off the CPU with it. Seen in CI: a helper that
 * got the CPU 238 ms late found every thread past the deadline. */
static uint64_t helper_now(mds_stopset *s)
{
    uint64_t now = mds_now_ns();
    uint64_t gap = now - s->hlast_ns;
    s->hlast_ns = now;
    if (gap > STALL_NS && s->hstall_ns < STALL_MAX_NS) {
        if (gap > STALL_MAX_NS - s->hstall_ns)
            gap = STALL_MAX_NS - s->hstall_ns;
        s->hstall_ns += gap;
        __atomic_store_n(&s->hdeadline_ns, s->hdeadline_ns + gap,
                         __ATOMIC_RELEASE);
    }
    return now;
}

static int told_release(mds_stopset *s)
{
    return __atomic_load_n(&s->hcmd, __ATOMIC_ACQUIRE) == HCMD_RELEASE;
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
            gone(sl, MDS_WHY_EXITED); /* exited (and reaped) */
            return;
        }
        if (r < 0) {
            gone(sl, MDS_WHY_EXITED);
            return;
        }
        uint64_t now = helper_now(s);
        if (told_release(s)) {
            gone(sl, MDS_WHY_TIMEOUT); /* wait_range stops next */
            return;
        }
        if (now >= s->hdeadline_ns) {
            gone(sl, MDS_WHY_TIMEOUT); /* still seized: detached at exit */
            return;
        }
        uint64_t left = s->hdeadline_ns - now;
        mds_sigtimedwait(&chld, left < 10 * NS_PER_MS ? left : 10 * NS_PER_MS);
    }
}

/* Seizes and interrupts slots [from, to). Returns the number seized;
 * counts refusals in *eperm. */
static uint32_t seize_range(mds_stopset *s, uint32_t from, uint32_t to,
                            uint32_t *eperm)
{
    uint32_t seized = 0;
    for (uint32_t i = from; i < to; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state != MDS_SLOT_REQUESTED)
            continue;
        helper_now(s); /* a long list is work, not a stall */
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
        if (r == -EPERM)
            (*eperm)++;
        /* Settled in wait_range, once committed: before that a refusal
         * of every thread sends everyone to the next mechanism. A seized
         * slot has why NONE. */
        sl->why = r == -ESRCH ? MDS_WHY_EXITED : MDS_WHY_TRACED;
    }
    return seized;
}

/* Waits for each seized slot of [from, to) in order, settling each.
 * Stops early when told to release (the reporter died and another thread
 * released the set): 0 then, else 1. */
static int wait_range(mds_stopset *s, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        if (told_release(s))
            return 0;
        mds_slot *sl = &s->slots[i];
        helper_now(s); /* many stopped threads are work, not a stall */
        if (sl->state == MDS_SLOT_REQUESTED) {
            if (sl->why != MDS_WHY_NONE)
                gone(sl, sl->why); /* refused */
            else
                wait_stop(s, sl);
        }
        progress(s);
    }
    return 1;
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
        claim_name(sl, s->pid);
    }
}

/* Lets one stopped tracee go: an interrupted wait restarts (EINTR
 * rewritten, see the top), a held-back signal is passed on. */
static void release_one(mds_slot *sl, int signo)
{
    if (sl->raw_len >= sizeof(mds_raw_regs) &&
        mds_pt_fix_restart((mds_raw_regs *)sl->raw))
        mds_pt_regset(MDS_PTRACE_SETREGSET, sl->tid, MDS_NT_PRSTATUS, sl->raw,
                      sl->raw_len, 0);
    mds_ptrace(MDS_PTRACE_DETACH, sl->tid, 0,
               (void *)(uintptr_t)(signo > 0 ? signo : 0));
}

/* A thread seized and interrupted that did not stop before the deadline
 * (this task got the CPU late: seen under two burners and a parallel
 * test, every thread of a live report): it is still our tracee, and
 * would see its wait end with EINTR when we exit. Wait a little more
 * for its stop (bounded by until), then release it like the others. */
static void release_late(mds_slot *sl, uint64_t until)
{
    uint64_t chld = 1ull << (SIGCHLD - 1);
    for (;;) {
        int st = 0;
        long r = mds_wait4((int)sl->tid, &st, MDS_WALL | MDS_WNOHANG);
        if (r == (long)sl->tid && (st & 0xff) == 0x7f) {
            int event = (st >> 16) & 0xff;
            int sig = event == 0 ? (st >> 8) & 0xff : 0;
            size_t got;
            sl->raw_len = 0;
            if (mds_pt_regset(MDS_PTRACE_GETREGSET, sl->tid, MDS_NT_PRSTATUS,
                              sl->raw, sizeof sl->raw, &got) == 0 &&
                got >= sizeof(mds_raw_regs))
                sl->raw_len = (uint32_t)got;
            release_one(sl, sig);
            return;
        }
        uint64_t now = mds_now_ns();
        if (r != 0 || now >= until)
            return; /* gone, or still running: detached when we exit */
        uint64_t left = until - now;
        mds_sigtimedwait(&chld, left < 10 * NS_PER_MS ? left : 10 * NS_PER_MS);
    }
}

static void release_all(mds_stopset *s)
{
    uint64_t until = mds_now_ns() + 200 * NS_PER_MS;
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state == MDS_SLOT_PARKED)
            release_one(sl, sl->signo);
        else if (sl->state == MDS_SLOT_GONE && sl->why == MDS_WHY_TIMEOUT)
            release_late(sl, until);
    }
}

static int helper_main(void *arg)
{
    mds_stopset *s = arg;
    if (mds_pt_helper_setup(s) < 0)
        return 1;
    /* The budget runs from here, not from the reporter's clone: a helper
     * that got the CPU late still gives each thread suspend_timeout_ms. */
    s->hlast_ns = s->hstart_ns = mds_now_ns();
    s->hstall_ns = 0;
    __atomic_store_n(&s->hdeadline_ns,
                     s->hlast_ns + (uint64_t)s->req.timeout_ms * NS_PER_MS,
                     __ATOMIC_RELEASE);
    __atomic_store_n(&s->hstate, H_RUNNING, __ATOMIC_RELEASE);

    /* The first pass decides: if ptrace refused every thread, the
     * reporter goes to the next mechanism with a clean list; otherwise
     * the slots settle from here on, in order. */
    uint32_t eperm = 0, from = 0, to = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    uint32_t seized = seize_range(s, 0, to, &eperm);
    if (seized == 0 && eperm > 0) {
        set_state(s, H_FAILED);
        return 2;
    }
    set_state(s, H_SEIZED);
    int go = wait_range(s, 0, to);
    for (int pass = 1; go && pass < 4; pass++) {
        /* Threads created meanwhile by threads that still ran. */
        from = to;
        if (!mds_stop_list(s))
            break;
        helper_now(s); /* the listing was work, not a stall */
        to = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
        seize_range(s, from, to, &eperm);
        go = wait_range(s, from, to);
    }
    if (!go) {
        release_all(s); /* those it stopped; the seized rest: at exit */
        return 0;
    }
    s->hdone_ns = mds_now_ns();
    set_state(s, H_STOPPED);
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
            if (sl && (st & 0xff) != 0x7f)
                gone(sl, MDS_WHY_EXITED);
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

int mds_stop_ptrace_start(mds_stopset *s)
{
    if (!s->hstack)
        return -ENOMEM;
    s->hstate = H_STARTING;
    s->hcmd = HCMD_NONE;
    s->hprog = 0;
    s->hwait = 0;
    s->hstall_ns = s->hstart_ns = 0;
    s->hdeadline_ns = s->deadline_ns;
    s->hclone_ns = mds_now_ns();
    long pid = mds_pt_helper_start(s, helper_main, s);
    return pid < 0 ? (int)pid : 0;
}

/* Refused before committing, dead or stuck: kill and reap the helper
 * (whatever it stopped is released when it dies). Before the commit the
 * slots go back to REQUESTED for the next mechanism (-errno); after it
 * the report may have taken some already, so they stay as they are and
 * the unsettled ones are listed from /proc (0). */
static int give_up(mds_stopset *s, uint32_t h)
{
    int err = s->herr ? s->herr : -ETIMEDOUT;
    uint32_t pid = s->hlive;
    if (pid)
        mds_kill((int)pid, SIGKILL);
    mds_pt_helper_reap(s, 1000 * NS_PER_MS);
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        uint32_t st = sl->state;
        if (h == H_SEIZED) {
            if (st == MDS_SLOT_REQUESTED && sl->why != MDS_WHY_NONE)
                gone(sl, sl->why); /* refused; the rest: /proc */
        } else if (st == MDS_SLOT_PARKED || st == MDS_SLOT_GONE ||
                   st == MDS_SLOT_REQUESTED) {
            sl->state = MDS_SLOT_REQUESTED;
            sl->why = MDS_WHY_NONE;
            sl->signo = 0;
            sl->fp_len = sl->raw_len = 0;
            sl->regs.valid = 0;
        }
    }
    if (h == H_SEIZED) {
        s->hdone_ns = 0;
        if (__atomic_load_n(&s->released, __ATOMIC_ACQUIRE))
            mds_stop_note(s, "released while being stopped", 0);
        else
            mds_stop_note(s,
                          "the ptrace helper was lost: threads it had "
                          "not stopped are listed from /proc",
                          0);
        return 0;
    }
    return err;
}

int mds_stop_ptrace_wait(mds_stopset *s, uint32_t want)
{
    int named = 0;
    uint32_t chance = ~0u; /* hprog when we last found the time up */
    for (;;) {
        uint32_t prog = __atomic_load_n(&s->hprog, __ATOMIC_SEQ_CST);
        uint32_t h = __atomic_load_n(&s->hstate, __ATOMIC_SEQ_CST);
        /* The helper's deadline once it runs (it may move it, within
         * STALL_MAX_NS), ours before; and 200 ms for it to settle. */
        uint64_t until = (h == H_STARTING ? s->deadline_ns
                                          : __atomic_load_n(&s->hdeadline_ns,
                                                            __ATOMIC_ACQUIRE)) +
                         200 * NS_PER_MS;
        uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
        if (h == H_SEIZED || h == H_STOPPED) {
            if (want < n &&
                __atomic_load_n(&s->slots[want].state, __ATOMIC_ACQUIRE) !=
                    MDS_SLOT_REQUESTED)
                return 1;
            if (h == H_STOPPED)
                return want < n ? 1 : 0;
        }
        if (h == H_FAILED)
            return give_up(s, h);
        if (!__atomic_load_n(&s->hpid, __ATOMIC_ACQUIRE)) {
            /* Gone: maybe after it stopped them all (no tracee left to
             * hold, so it exited) and after we read its state. */
            if (__atomic_load_n(&s->hstate, __ATOMIC_SEQ_CST) == H_STOPPED)
                continue;
            return give_up(s, h);
        }
        if (!named && h == H_SEIZED && want < n) {
            /* Waiting anyway: its name (a /proc read, ~10 us) needs no
             * stopped thread. */
            named = 1;
            claim_name(&s->slots[want], 0);
            continue;
        }
        uint64_t now = mds_now_ns();
        uint64_t left = until > now ? until - now : 0;
        if (left == 0) {
            /* We may have been off the CPU, not the helper: one more
             * short wait for a sign of life (a slot settling, its
             * deadline moving) before giving up on it. */
            if (chance == prog)
                return give_up(s, h);
            chance = prog;
            left = 20 * NS_PER_MS;
        } else {
            chance = ~0u; /* the deadline moved: a new grace next time */
            if (left > 10 * NS_PER_MS)
                left = 10 * NS_PER_MS;
        }
        __atomic_store_n(&s->hwait, 1, __ATOMIC_SEQ_CST);
        /* Returns at once if hprog moved since we read it. */
        mds_futex_wait(&s->hprog, prog, left);
    }
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
