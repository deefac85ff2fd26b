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

static void note(mds_stopset *s, const char *what, long err)
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, s->note, sizeof s->note);
    mds_sbuf_str(&sb, s->note); /* keep what is there */
    if (sb.len)
        mds_sbuf_str(&sb, "; ");
    mds_sbuf_str(&sb, what);
    if (err) {
        mds_sbuf_str(&sb, " (errno ");
        mds_sbuf_u64(&sb, (uint64_t)-err);
        mds_sbuf_char(&sb, ')');
    }
}

/* Threads nothing stopped: listed with what /proc says. */
static void proc_only(mds_stopset *s, uint32_t why)
{
    for (uint32_t i = 0; i < s->n; i++) {
        mds_slot *sl = &s->slots[i];
        if (sl->state == MDS_SLOT_REQUESTED) {
            sl->state = MDS_SLOT_GONE;
            sl->why = why;
        }
        if ((sl->state == MDS_SLOT_GONE && sl->why != MDS_WHY_EXITED) ||
            (sl->state == MDS_SLOT_REPORTER && !sl->regs.valid))
            mds_stop_proc_regs(s, sl);
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

void mds_stop_others(mds_stopset *s, const mds_stop_req *r)
{
    uint64_t t0 = mds_now_ns();
    __atomic_store_n(&s->n, 0, __ATOMIC_RELEASE);
    s->capped = 0;
    s->method = MDS_STOP_NONE;
    s->note[0] = 0;
    s->herr = 0;
    s->pid = (uint32_t)mds_getpid();
    s->self_tid = r->self_tid;
    s->skip_tid = r->skip_tid;
    s->deadline_ns = t0 + (uint64_t)r->timeout_ms * NS_PER_MS;
    mds_stop_list(s);

    int done = 0;
    uint32_t want = mds_g.cfg.stop_method;
    if (want == MAYDAY_STOP_SIGNAL || want == MAYDAY_STOP_NONE) {
        note(s, "ptrace not tried (configured)", 0);
    } else if (r->seccomp > 0) {
        /* A filter may kill the process for clone or ptrace. */
        note(s, "ptrace not tried: a seccomp filter is active", 0);
    } else if (mds_g.no_clone_vm) {
        note(s, "ptrace not tried: valgrind cannot run a CLONE_VM task", 0);
    } else {
        int e = mds_stop_ptrace(s, r);
        if (e == 0) {
            s->method = MDS_STOP_PTRACE;
            done = 1;
        } else {
            note(s, "ptrace unavailable", e);
        }
    }
    if (!done && (want == MAYDAY_STOP_PTRACE || want == MAYDAY_STOP_NONE)) {
        note(s, "signals not used (configured)", 0);
    } else if (!done && r->traced) {
        note(s, "signals not used: a debugger is attached", 0);
    } else if (!done && !r->fatal) {
        /* A handler in every thread would make pause, nanosleep, epoll
         * and the like return EINTR in a process that lives on. */
        note(s, "signals not used for a live report", 0);
    } else if (!done) {
        if (mds_stop_signal(s, r) == 0) {
            s->method = MDS_STOP_SIGNAL;
            done = 1;
        } else {
            note(s, "signal suspension unavailable", 0);
        }
    }
    if (!done)
        s->method = MDS_STOP_PROC;
    proc_only(s, done ? MDS_WHY_TIMEOUT : MDS_WHY_NO_METHOD);
    count(s);
    /* Held: the mechanism has something to undo (a helper to dismiss,
     * the signal to give back), even when no thread stopped. */
    __atomic_store_n(
        &s->held, s->method == MDS_STOP_PTRACE || s->method == MDS_STOP_SIGNAL,
        __ATOMIC_RELEASE);
    s->elapsed_ns = mds_now_ns() - t0;
}

long mds_stop_name(const mds_slot *sl, char *out, size_t cap)
{
    if (!sl || cap < sizeof sl->name ||
        !__atomic_load_n(&sl->name_ok, __ATOMIC_ACQUIRE))
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
    if (s->method == MDS_STOP_PTRACE)
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
