/*
 * stop.c - listing the threads and choosing how to stop them (see stop.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every wait has a deadline.
 */
#include "crash/stop/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull

mds_slot *mds_stop_find(mds_stopset *s, uint32_t tid)
{
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        if (s->slots[i].tid == tid)
            return &s->slots[i];
    }
    return 0;
}

static mds_slot *waiting_slot(uint32_t tid)
{
    for (uint32_t i = 0; i < MDS_WAITING_MAX; i++) {
        /* State first (acquire), then the fields it publishes. */
        if (__atomic_load_n(&mds_g.waiting[i].state, __ATOMIC_ACQUIRE) ==
                MDS_SLOT_CRASHED &&
            mds_g.waiting[i].tid == tid)
            return &mds_g.waiting[i];
    }
    return 0;
}

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Adds tid unless it is known, ours to skip, or there is no room. */
static int add_tid(mds_stopset *s, uint32_t tid)
{
    if (tid == s->self_tid || tid == s->skip_tid || mds_stop_find(s, tid))
        return 0;
    if (s->n >= s->cap) {
        s->capped = 1;
        return 0;
    }
    mds_slot *sl = &s->slots[s->n];
    sl->tid = tid;
    sl->signo = 0;
    sl->why = MDS_WHY_NONE;
    sl->regs.valid = 0;
    sl->syscall_nr = -2;
    sl->fp_len = 0;
    sl->raw_len = 0;
    sl->name_ok = 0;
    mds_slot *w = waiting_slot(tid);
    if (w) {
        /* Crashed too and is waiting in our handler (which blocks every
         * other signal): it left its registers for us, and it runs no
         * application code while it waits. */
        sl->regs = w->regs;
        sl->signo = w->signo;
        sl->state = MDS_SLOT_CRASHED;
    } else if (tid == __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE)) {
        sl->state = MDS_SLOT_REPORTER; /* mayday's own: never stopped */
    } else {
        sl->state = MDS_SLOT_REQUESTED;
    }
    __atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELEASE);
    return 1;
}

uint32_t mds_stop_list(mds_stopset *s)
{
    long fd = -1;
    int own = 0;
    if (s->task_fd >= 0 && s->task_fd_pid == s->pid) {
        fd = s->task_fd;
        mds_lseek((int)fd, 0, 0 /* SEEK_SET */);
    } else {
        /* A forked child: the reserved descriptor lists the parent. */
        fd = mds_proc_open("task", O_RDONLY | O_DIRECTORY);
        own = 1;
    }
    if (fd < 0)
        return 0;
    uint32_t added = 0;
    for (;;) {
        long n = mds_getdents64((int)fd, s->buf, MDS_STOP_BUF);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent64_raw *d = (struct dirent64_raw *)(s->buf + off);
            uint64_t tid;
            const char *end;
            if (d->d_name[0] != '.' &&
                mds_parse_u64(d->d_name, 10, &tid, &end) == 0 && !*end)
                added += (uint32_t)add_tid(s, (uint32_t)tid);
            off += d->d_reclen;
        }
    }
    if (own)
        mds_close((int)fd);
    return added;
}

void mds_stop_proc_regs(mds_stopset *s, mds_slot *sl)
{
    (void)s;
    uint64_t pc, sp;
    int64_t nr;
    if (mds_thread_syscall(sl->tid, &pc, &sp, &nr) == 0) {
        mds_regs_from_pc_sp(&sl->regs, pc, sp);
        sl->syscall_nr = nr;
    }
}

void mds_stop_note(mds_stopset *s, const char *what, long err)
{
    /* Appended to what is there (mds_sbuf_init would empty it first:
     * every note used to replace the one before). */
    size_t keep = 0;
    while (keep + 1 < sizeof s->note && s->note[keep])
        keep++;
    mds_sbuf sb = {.buf = s->note, .cap = sizeof s->note, .len = keep};
    if (sb.len)
        mds_sbuf_str(&sb, "; ");
    mds_sbuf_str(&sb, what);
    if (err) {
        mds_sbuf_str(&sb, " (errno ");
        mds_sbuf_u64(&sb, (uint64_t)-err);
        mds_sbuf_char(&sb, ')');
    }
}

/* pc/sp from /proc for a listed thread nothing stopped (and for
 * mayday's own exception thread), once. */
static void settle_proc(mds_stopset *s, mds_slot *sl)
{
    if (sl->regs.valid)
        return;
    if ((sl->state == MDS_SLOT_GONE && sl->why != MDS_WHY_EXITED) ||
        sl->state == MDS_SLOT_REPORTER)
        mds_stop_proc_regs(s, sl);
}

/* Threads nothing stopped: listed with what /proc says. */
static void proc_only(mds_stopset *s, uint32_t why)
{
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state == MDS_SLOT_REQUESTED) {
            sl->why = why;
            __atomic_store_n(&sl->state, MDS_SLOT_GONE, __ATOMIC_RELEASE);
        }
        settle_proc(s, sl);
    }
}

static void count(mds_stopset *s)
{
    s->stopped = s->not_stopped = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t st = s->slots[i].state;
        if (st == MDS_SLOT_PARKED)
            s->stopped++;
        else if (st == MDS_SLOT_GONE)
            s->not_stopped++;
    }
}

/* Whether ptrace may be tried; notes why not. */
static int ptrace_allowed(mds_stopset *s, const mds_stop_req *r)
{
    uint32_t want = mds_g.cfg.stop_method;
    if (want == MAYDAY_STOP_SIGNAL || want == MAYDAY_STOP_NONE) {
        mds_stop_note(s, "ptrace not tried (configured)", 0);
        return 0;
    }
    if (r->seccomp > 0) {
        /* A filter may kill the process for clone or ptrace. */
        mds_stop_note(s, "ptrace not tried: a seccomp filter is active", 0);
        return 0;
    }
    if (mds_g.no_clone_vm) {
        mds_stop_note(
            s, "ptrace not tried: valgrind cannot run a CLONE_VM task", 0);
        return 0;
    }
    return 1;
}

/* After ptrace ran (done) or could not: the signal where allowed, /proc
 * for whatever is left, the counts. Runs once per stop. */
static void finish_rest(mds_stopset *s, int done)
{
    const mds_stop_req *r = &s->req;
    uint32_t want = mds_g.cfg.stop_method;
    int released = __atomic_load_n(&s->released, __ATOMIC_ACQUIRE);
    if (!done && released) {
        mds_stop_note(s, "released while being stopped", 0);
    } else if (!done &&
               (want == MAYDAY_STOP_PTRACE || want == MAYDAY_STOP_NONE)) {
        mds_stop_note(s, "signals not used (configured)", 0);
    } else if (!done && r->traced) {
        mds_stop_note(s, "signals not used: a debugger is attached", 0);
    } else if (!done && !r->fatal) {
        /* A handler in every thread would make pause, nanosleep, epoll
         * and the like return EINTR in a process that lives on. */
        mds_stop_note(s, "signals not used for a live report", 0);
    } else if (!done) {
        if (mds_stop_signal(s, r) == 0) {
            s->method = MDS_STOP_SIGNAL;
            done = 1;
        } else {
            mds_stop_note(s, "signal suspension unavailable", 0);
        }
    }
    if (!done)
        s->method = MDS_STOP_PROC;
    proc_only(s, done ? MDS_WHY_TIMEOUT : MDS_WHY_NO_METHOD);
    count(s);
    /* Held: the mechanism has something to undo (a helper to dismiss,
     * the signal to give back), even when no thread stopped; not when
     * another thread released the set meanwhile (the helper is gone). */
    __atomic_store_n(&s->held,
                     !released && (s->method == MDS_STOP_PTRACE ||
                                   s->method == MDS_STOP_SIGNAL),
                     __ATOMIC_RELEASE);
    /* The helper's own end when it stopped them all: the reporter may
     * have gone on with other work meanwhile. */
    uint64_t end = s->method == MDS_STOP_PTRACE && s->hdone_ns ? s->hdone_ns
                                                               : mds_now_ns();
    s->elapsed_ns = end > s->t0_ns ? end - s->t0_ns : 0;
    __atomic_store_n(&s->phase, MDS_SP_DONE, __ATOMIC_RELEASE);
}

/* A helper held off the CPU (a busy machine, a virtual CPU the host did
 * not run) as it started or while it waited: its budget ran from its
 * start and moved by the gaps (stop_ptrace.c); the report says so. */
static void note_late_helper(mds_stopset *s)
{
    uint64_t late =
        s->hstart_ns > s->hclone_ns ? s->hstart_ns - s->hclone_ns : 0;
    if (late < 30 * NS_PER_MS && !s->hstall_ns)
        return;
    char what[96];
    mds_sbuf sb;
    mds_sbuf_init(&sb, what, sizeof what);
    mds_sbuf_str(&sb, "the helper was off the CPU for ");
    mds_sbuf_u64(&sb, (late + s->hstall_ns) / NS_PER_MS);
    mds_sbuf_str(&sb, " ms; its budget did not count them");
    mds_stop_note(s, what, 0);
}

/* The ptrace helper's outcome: 0 it ran, else the error. */
static void finish_ptrace(mds_stopset *s, int e)
{
    if (e == 0) {
        s->method = MDS_STOP_PTRACE;
        note_late_helper(s);
    } else {
        mds_stop_note(s, "ptrace unavailable", e);
        s->hdone_ns = 0;
        /* Found out only now, after the parts of the report that need
         * no stopped thread: the next mechanism gets a budget and a
         * clock of its own. */
        s->t0_ns = mds_now_ns();
        s->deadline_ns = s->t0_ns + (uint64_t)s->req.timeout_ms * NS_PER_MS;
    }
    finish_rest(s, e == 0);
}

void mds_stop_begin(mds_stopset *s, const mds_stop_req *r)
{
    s->t0_ns = mds_now_ns();
    __atomic_store_n(&s->n, 0, __ATOMIC_RELEASE);
    s->capped = 0;
    s->method = MDS_STOP_NONE;
    s->note[0] = 0;
    s->herr = 0;
    s->hdone_ns = 0;
    s->req = *r;
    s->released = 0;
    __atomic_store_n(&s->phase, MDS_SP_DONE, __ATOMIC_RELEASE);
    s->pid = (uint32_t)mds_getpid();
    s->self_tid = r->self_tid;
    s->skip_tid = r->skip_tid;
    s->deadline_ns = s->t0_ns + (uint64_t)r->timeout_ms * NS_PER_MS;
    mds_stop_list(s);
    s->n0 = s->n;

    if (ptrace_allowed(s, r)) {
        int e = mds_stop_ptrace_start(s);
        if (e == 0) {
            /* It works while we go on. Held from now: if this reporter
             * dies meanwhile, whoever releases the set dismisses the
             * helper (mds_stop_release). */
            __atomic_store_n(&s->phase, MDS_SP_PTRACE, __ATOMIC_RELEASE);
            __atomic_store_n(&s->held, 1, __ATOMIC_RELEASE);
            return;
        }
        mds_stop_note(s, "ptrace unavailable", e);
    }
    finish_rest(s, 0);
}

mds_slot *mds_stop_slot(mds_stopset *s, uint32_t i)
{
    if (__atomic_load_n(&s->phase, __ATOMIC_ACQUIRE) == MDS_SP_PTRACE) {
        int e = mds_stop_ptrace_wait(s, i);
        if (e == 1) {
            mds_slot *sl = &s->slots[i];
            settle_proc(s, sl);
            return sl;
        }
        finish_ptrace(s, e);
    }
    return i < __atomic_load_n(&s->n, __ATOMIC_ACQUIRE) ? &s->slots[i] : 0;
}

void mds_stop_finish(mds_stopset *s)
{
    if (__atomic_load_n(&s->phase, __ATOMIC_ACQUIRE) == MDS_SP_PTRACE)
        finish_ptrace(s, mds_stop_ptrace_wait(s, UINT32_MAX));
}

void mds_stop_others(mds_stopset *s, const mds_stop_req *r)
{
    mds_stop_begin(s, r);
    mds_stop_finish(s);
}

long mds_stop_name(const mds_slot *sl, char *out, size_t cap)
{
    if (!sl || cap < sizeof sl->name ||
        __atomic_load_n(&sl->name_ok, __ATOMIC_ACQUIRE) != 1)
        return -1;
    size_t n = 0;
    while (n + 1 < sizeof sl->name && sl->name[n]) {
        out[n] = sl->name[n];
        n++;
    }
    out[n] = 0;
    return (long)n;
}

void mds_stop_release(mds_stopset *s)
{
    if (!__atomic_exchange_n(&s->held, 0, __ATOMIC_ACQ_REL))
        return;
    /* While the helper still works (phase PTRACE: its reporter died or is
     * late) the method is not set yet; the helper is dismissed all the
     * same, and the reporter, if it goes on, starts nothing else. */
    __atomic_store_n(&s->released, 1, __ATOMIC_RELEASE);
    if (s->method == MDS_STOP_PTRACE ||
        __atomic_load_n(&s->phase, __ATOMIC_ACQUIRE) == MDS_SP_PTRACE)
        mds_release_ptrace(s);
    else if (s->method == MDS_STOP_SIGNAL)
        mds_release_signal(s);
}

void mds_stop_hold(mds_stopset *s)
{
    /* Nothing to do: the helper and parked threads wait for a release
     * with a deadline of their own (MDS_HOLD_MAX_NS); the process dies
     * long before. Kept as a call so that every path says what it does. */
    (void)s;
}
