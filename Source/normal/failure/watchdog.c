/*
 * watchdog.c - the hang watchdog: mayday_heartbeat_start/_heartbeat/_stop
 * and the "mayday-watch" thread.
 *
 * Context: normal. mayday_heartbeat() is async-signal-safe and lock-free
 * (a vDSO clock read and a relaxed store); start/stop take a mutex. The
 * watchdog thread writes the hang report through the crash path's live
 * report (md_write_live_report_ex), which suspends and walks every thread.
 *
 * No polling: the watchdog sleeps on a futex until the earliest deadline
 * (last beat + deadline, over all watches that are not already reported
 * hung) plus one tick of the coarse clock. A beat only moves a deadline;
 * it never wakes the watchdog, except the first beat after a reported hang
 * (the recovery). start/stop wake it to recompute its deadline.
 *
 * Time base: CLOCK_MONOTONIC_COARSE for beats and checks (a few ns to
 * read; resolution one kernel tick, 4 ms here), futex timeouts on
 * CLOCK_MONOTONIC.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crash/core/sys.h"
#include "crash/handler/failure.h"
#include "crash/handler/fields.h"
#include "crash/handler/state.h"
#include "mayday/mayday.h"
#include "normal/failure/failure.h"
#include "normal/install/install.h"

#define WATCH_MAX 64
#define MIN_DEADLINE_MS 10u
#define MAX_DEADLINE_MS 3600000u
#define IDLE_SLEEP_NS (3600ull * 1000000000ull) /* no watch: an hour */
#define BUSY_RETRY_NS (100ull * 1000000ull)     /* a crash was being written */
#define END_GRACE_NS (500ull * 1000000ull)

enum { W_FREE = 0, W_INIT = 1, W_ACTIVE = 2, W_STOPPING = 3 };

typedef struct md_watch {
    volatile uint32_t state;
    volatile uint32_t hung;    /* reported; waiting for the next beat */
    volatile uint64_t last_ns; /* last beat, CLOCK_MONOTONIC_COARSE */
    uint64_t deadline_ns;
    uint64_t hung_beat; /* last_ns when the hang was reported */
    uint32_t tid;
    char name[MDS_FAIL_NAME_MAX];
} __attribute__((aligned(64))) md_watch;

static md_watch watches[WATCH_MAX];
static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t wd_thread;
static int wd_running;
static volatile uint32_t wd_changed; /* futex word: bumped to wake it */
static volatile uint32_t wd_stop;
static volatile uint32_t wd_tid;
static volatile uint64_t wd_wakeups;
static uint64_t tick_ns = 4000000; /* coarse clock resolution */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static uint64_t coarse_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void poke(void)
{
    __atomic_add_fetch(&wd_changed, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&wd_changed, 1);
}

int mayday_heartbeat(int watch)
{
    if ((unsigned)watch >= WATCH_MAX)
        return MAYDAY_EINVAL;
    md_watch *w = &watches[watch];
    if (__atomic_load_n(&w->state, __ATOMIC_RELAXED) != W_ACTIVE)
        return MAYDAY_EINVAL;
    __atomic_store_n(&w->last_ns, coarse_now(), __ATOMIC_RELAXED);
    if (__builtin_expect(__atomic_load_n(&w->hung, __ATOMIC_RELAXED), 0))
        poke(); /* the watchdog records the recovery */
    return 0;
}

/* ------------------------------------------------------ the watchdog */

static void emit(const md_watch *w, int id, uint32_t kind, uint64_t silent,
                 const char *path)
{
    mayday_hang_cb cb = mds_g.cfg.on_hang;
    if (!cb)
        return;
    mayday_hang_event ev;
    memset(&ev, 0, sizeof ev);
    ev.size = sizeof ev;
    ev.kind = kind;
    ev.watch = id;
    ev.name = w->name;
    ev.tid = w->tid;
    ev.silent_ms = silent / 1000000ull;
    ev.report_path = path && path[0] ? path : NULL;
    cb(&ev, mds_g.cfg.on_hang_data);
}

static int signal_for_end(void)
{
    return mds_g.cfg.hang_signal ? mds_g.cfg.hang_signal : SIGABRT;
}

/* 1 if thread tid blocks sig (SigBlk in /proc/self/task/TID/status). */
static int thread_blocks(uint32_t tid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%u/status", tid);
    FILE *f = fopen(path, "r");
    unsigned long long mask = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "SigBlk: %llx", &mask) == 1)
            break;
    }
    fclose(f);
    return sig <= 64 && (mask >> (sig - 1)) & 1;
}

/* MAYDAY_HANG_END: mayday's own handler for the signal goes first (one
 * report, not two), then the signal goes to the silent thread, unless it
 * blocks it; if the process still lives, to this thread; then SIGKILL. */
static void end_process(uint32_t tid, int sig)
{
    int idx = -1;
    for (int i = 0; i < MDS_NSIGNALS; i++)
        if (mds_g.signals[i] == sig)
            idx = i;
    if (idx >= 0)
        sigaction(sig, &mds_g.prev[idx], 0);
    int pid = (int)mds_getpid();
    if (!thread_blocks(tid, sig)) {
        mds_tgkill(pid, (int)tid, sig);
        mds_sleep_ns(END_GRACE_NS);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, 0);
    mds_tgkill(pid, (int)mds_gettid(), sig);
    mds_sleep_ns(END_GRACE_NS);
    mds_tgkill(pid, (int)mds_gettid(), SIGKILL);
}

/* Returns 0 when the hang was dealt with, MAYDAY_EBUSY to retry later. */
static int report_hang(md_watch *w, int id, uint64_t last, uint64_t now)
{
    /* A thread that exited without mayday_heartbeat_stop(): forget it. */
    if (mds_tgkill((int)mds_getpid(), (int)w->tid, 0) == -ESRCH) {
        __atomic_store_n(&w->state, W_FREE, __ATOMIC_RELEASE);
        return 0;
    }
    int end = mds_g.cfg.hang_action == MAYDAY_HANG_END;
    int end_sig = signal_for_end();
    uint32_t tid = w->tid; /* the callback may even uninstall mayday */
    uint64_t silent = now - last;
    mds_fail_hang *h = &mds_hang_info;
    h->reporter_tid = (uint32_t)mds_gettid();
    h->tid = w->tid;
    h->watch = (uint32_t)id;
    h->action = end ? MDS_HANG_END : MDS_HANG_CONTINUE;
    h->signo = (uint32_t)end_sig;
    h->silent_ns = silent;
    h->deadline_ns = w->deadline_ns;
    memcpy(h->name, w->name, sizeof h->name);
    __atomic_store_n(&h->active, 1, __ATOMIC_RELEASE);
    char reason[128], path[MDS_PATH_MAX];
    snprintf(reason, sizeof reason,
             "hang: thread %u \"%s\" silent for %llu ms (deadline %llu ms)",
             w->tid, w->name, (unsigned long long)(silent / 1000000ull),
             (unsigned long long)(w->deadline_ns / 1000000ull));
    int r = md_write_live_report_ex(reason, path, sizeof path);
    __atomic_store_n(&h->active, 0, __ATOMIC_RELEASE);
    if (r == MAYDAY_EBUSY)
        return r;
    w->hung_beat = last;
    __atomic_store_n(&w->hung, 1, __ATOMIC_RELEASE);
    mayday_breadcrumb(reason);
    emit(w, id, MAYDAY_HANG_EVENT_HANG, silent, r == 0 ? path : NULL);
    if (end)
        end_process(tid, end_sig);
    return 0;
}

static void recovered(md_watch *w, int id, uint64_t last)
{
    uint64_t silent = last - w->hung_beat;
    __atomic_store_n(&w->hung, 0, __ATOMIC_RELEASE);
    char msg[128];
    snprintf(msg, sizeof msg,
             "hang over: thread %u \"%s\" beat again after %llu ms", w->tid,
             w->name, (unsigned long long)(silent / 1000000ull));
    mayday_breadcrumb(msg);
    emit(w, id, MAYDAY_HANG_EVENT_RECOVERED, silent, NULL);
}

/* One pass over the watches; returns the next time to look (coarse). */
static uint64_t check_all(uint64_t now)
{
    uint64_t next = now + IDLE_SLEEP_NS;
    for (int i = 0; i < WATCH_MAX; i++) {
        md_watch *w = &watches[i];
        uint32_t st = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
        if (st != W_ACTIVE && st != W_STOPPING)
            continue;
        uint64_t last = __atomic_load_n(&w->last_ns, __ATOMIC_RELAXED);
        if (w->hung && last != w->hung_beat)
            recovered(w, i, last);
        if (st == W_STOPPING) {
            __atomic_store_n(&w->state, W_FREE, __ATOMIC_RELEASE);
            continue;
        }
        if (w->hung)
            continue; /* reported once; the next beat wakes us */
        uint64_t due = last + w->deadline_ns;
        if (now > due && report_hang(w, i, last, now) == MAYDAY_EBUSY)
            due = now + BUSY_RETRY_NS;
        if (due > now && due < next)
            next = due;
    }
    return next;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    __atomic_store_n(&wd_tid, (uint32_t)mds_gettid(), __ATOMIC_RELEASE);
    while (!__atomic_load_n(&wd_stop, __ATOMIC_ACQUIRE)) {
        uint32_t seen = __atomic_load_n(&wd_changed, __ATOMIC_ACQUIRE);
        uint64_t now = coarse_now();
        uint64_t next = check_all(now);
        if (__atomic_load_n(&wd_changed, __ATOMIC_ACQUIRE) != seen)
            continue; /* changed meanwhile: look again at once */
        /* One tick more: the coarse clock lags CLOCK_MONOTONIC. */
        mds_futex_wait(&wd_changed, seen, next - now + tick_ns);
        __atomic_add_fetch(&wd_wakeups, 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&wd_tid, 0, __ATOMIC_RELEASE);
    return 0;
}

/* In a forked child the thread is gone and the watches are the parent's. */
static void atfork_child(void)
{
    wd_running = 0;
    wd_tid = 0;
    memset(watches, 0, sizeof watches);
    pthread_mutex_init(&wd_mu, 0);
}

static void at_fork_once(void) { pthread_atfork(0, 0, atfork_child); }

/* With wd_mu held. */
static int start_thread(void)
{
    if (wd_running)
        return 0;
    pthread_once(&atfork_once, at_fork_once);
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0)
        tick_ns = (uint64_t)res.tv_sec * 1000000000ull + (uint64_t)res.tv_nsec;
    wd_stop = 0;
    /* Like the exception thread: no application signal is delivered
     * here; the crash signals stay open so a bug in it is reported. */
    sigset_t all, old;
    sigfillset(&all);
    const int crash[] = {SIGSEGV, SIGBUS,  SIGILL, SIGFPE,
                         SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
        sigdelset(&all, crash[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&wd_thread, 0, watchdog_main, 0);
    pthread_sigmask(SIG_SETMASK, &old, 0);
    if (r != 0)
        return MAYDAY_ESYS;
    pthread_setname_np(wd_thread, "mayday-watch");
    wd_running = 1;
    return 0;
}

int mayday_heartbeat_start(const char *name, uint32_t deadline_ms)
{
    if (!__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE))
        return MAYDAY_ENOTINSTALLED;
    if (deadline_ms < MIN_DEADLINE_MS || deadline_ms > MAX_DEADLINE_MS)
        return MAYDAY_EINVAL;
    pthread_mutex_lock(&wd_mu);
    int r = start_thread();
    int id = MAYDAY_ETOOBIG;
    for (int i = 0; r == 0 && i < WATCH_MAX && id < 0; i++) {
        md_watch *w = &watches[i];
        uint32_t free_ = W_FREE;
        if (!__atomic_compare_exchange_n(&w->state, &free_, W_INIT, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        w->tid = (uint32_t)mds_gettid();
        w->deadline_ns = (uint64_t)deadline_ms * 1000000ull;
        w->hung = 0;
        w->hung_beat = 0;
        snprintf(w->name, sizeof w->name, "%s", name ? name : "");
        __atomic_store_n(&w->last_ns, coarse_now(), __ATOMIC_RELAXED);
        __atomic_store_n(&w->state, W_ACTIVE, __ATOMIC_RELEASE);
        id = i;
    }
    pthread_mutex_unlock(&wd_mu);
    if (r < 0)
        return r;
    if (id >= 0)
        poke();
    return id;
}

int mayday_heartbeat_stop(int watch)
{
    if ((unsigned)watch >= WATCH_MAX)
        return MAYDAY_EINVAL;
    md_watch *w = &watches[watch];
    __atomic_store_n(&w->last_ns, coarse_now(), __ATOMIC_RELAXED);
    uint32_t active = W_ACTIVE;
    if (!__atomic_compare_exchange_n(&w->state, &active, W_STOPPING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return MAYDAY_EINVAL;
    poke(); /* it records a recovery if needed and frees the slot */
    return 0;
}

void md_watchdog_shutdown(void)
{
    pthread_mutex_lock(&wd_mu);
    int running = wd_running;
    pthread_t t = wd_thread;
    wd_running = 0;
    if (running)
        __atomic_store_n(&wd_stop, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&wd_mu);
    if (running) {
        poke();
        /* Not under wd_mu: the on_hang callback may be starting a watch.
         * From the callback itself (the watchdog thread): it ends on its
         * own once the callback returns. */
        if (pthread_equal(t, pthread_self()))
            pthread_detach(t);
        else
            pthread_join(t, 0);
    }
    pthread_mutex_lock(&wd_mu);
    memset(watches, 0, sizeof watches);
    pthread_mutex_unlock(&wd_mu);
}

uint64_t md_watchdog_wakeups(void)
{
    return __atomic_load_n(&wd_wakeups, __ATOMIC_RELAXED);
}

uint32_t md_watchdog_tid(void)
{
    return __atomic_load_n(&wd_tid, __ATOMIC_ACQUIRE);
}
