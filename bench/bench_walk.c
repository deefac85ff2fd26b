/*
 * bench_walk.c - how long a stack walk takes: mayday's walker (mds_walk,
 * with its lean CFI unwinder, and in MDS_WALK_MODE_LIBUNWIND: libunwind's
 * remote API for every CFI step, as before the lean unwinder) against
 * libunwind's local unwinder (unw_backtrace, and unw_init_local +
 * unw_step) and glibc's backtrace(), on the same stack: a helper thread
 * parked at the bottom of a recursion of 32 and of 256 frames. For
 * mds_walk also the system calls per walk (counted in process with a
 * perf tracepoint counter when the system allows it), line-cache fills,
 * and what the lean unwinder did (steps, cached rows, hand-offs). The local
 * unwinders and backtrace() must run on the walked thread itself, so they run
 * in its signal handler (their counts include the handler's frames); mds_walk
 * runs in the main thread from the registers the handler saved.
 *
 * warm: repeated walks, caches kept. cold: mds_walk after
 * mds_walker_flush (the lean unwinder's rows and libunwind's rule cache
 * dropped; mayday's line cache is per walk anyway); the local unwinder after
 * unw_flush_cache on its address space; backtrace() has no flush: its cold
 * figure is its first call in the process (one sample). Median of RUNS runs,
 * microseconds.
 *
 * Context: benchmark program (normal context). Usage: bench_walk [runs]
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "crash/walk/images.h"
#include "crash/walk/unwind.h"
#include "local_unwind.h"

#define MAXF 1024
#define COUNT_WALKS 20 /* walks whose system calls are counted */

static int runs = 101;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double median_us(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_u64);
    return (double)v[n / 2] / 1000.0;
}

/* ------------------------------------------------ the parked thread */

typedef struct parked {
    pthread_t th;
    int depth;
    int pipefd[2];
    volatile int ready, captured, release;
    mds_regs regs;
    /* measured in the handler, on the parked thread */
    int n_bt, n_local, n_glibc;
    double bt_warm, bt_cold, step_warm, step_cold, glibc_warm;
} parked;

static parked *volatile g_p;
/* glibc's backtrace(), looked up in libc itself: libunwind.so.8 (linked
 * here for its local unwinder) exports a weak `backtrace` that would
 * otherwise interpose it in this program. */
static int (*glibc_backtrace)(void **, int);
static double glibc_first_us = -1;
static int glibc_first_frames;

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    parked *p = g_p;
    mds_regs_from_ucontext(&p->regs, uc);
    uint64_t *t = calloc((size_t)runs, sizeof(uint64_t));
    void *pcs[MAXF];
    static uintptr_t lp[MAXF], ls[MAXF];

    if (glibc_first_us < 0) { /* the first backtrace() of the process */
        uint64_t t0 = now_ns();
        glibc_first_frames = glibc_backtrace(pcs, MAXF);
        glibc_first_us = (double)(now_ns() - t0) / 1000.0;
    }
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = now_ns();
        p->n_glibc = glibc_backtrace(pcs, MAXF);
        t[i] = now_ns() - t0;
    }
    p->glibc_warm = median_us(t, runs);

    for (int cold = 0; cold < 2; cold++) {
        local_backtrace(pcs, MAXF); /* warm it */
        for (int i = 0; i < runs; i++) {
            if (cold)
                local_flush();
            uint64_t t0 = now_ns();
            p->n_bt = local_backtrace(pcs, MAXF);
            t[i] = now_ns() - t0;
        }
        *(cold ? &p->bt_cold : &p->bt_warm) = median_us(t, runs);
        for (int i = 0; i < runs; i++) {
            if (cold)
                local_flush();
            uint64_t t0 = now_ns();
            p->n_local = local_unwind_here(lp, ls, MAXF);
            t[i] = now_ns() - t0;
        }
        *(cold ? &p->step_cold : &p->step_warm) = median_us(t, runs);
    }
    free(t);
    __atomic_store_n(&p->captured, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&p->release, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

__attribute__((noinline)) static int rec(parked *p, int n)
{
    volatile int pad = n;
    int r;
    if (n <= 1) {
        char c;
        p->ready = 1;
        while (read(p->pipefd[0], &c, 1) < 0 && errno == EINTR)
            ;
        r = 1;
    } else {
        r = rec(p, n - 1);
    }
    __asm__ __volatile__("" ::: "memory");
    return r + pad % 2;
}

static void *thread_main(void *arg)
{
    parked *p = arg;
    rec(p, p->depth);
    return NULL;
}

static void nap_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int park(parked *p, int depth)
{
    memset(p, 0, sizeof(*p));
    p->depth = depth;
    if (pipe(p->pipefd) != 0 ||
        pthread_create(&p->th, NULL, thread_main, p) != 0)
        return -1;
    while (!p->ready)
        nap_ms(1);
    nap_ms(20); /* let it enter read() */
    g_p = p;
    pthread_kill(p->th, SIGUSR1);
    while (!p->captured)
        nap_ms(1);
    return 0;
}

static void unpark(parked *p)
{
    p->release = 1;
    if (write(p->pipefd[1], "x", 1) == 1)
        pthread_join(p->th, NULL);
    close(p->pipefd[0]);
    close(p->pipefd[1]);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc > 1)
        runs = atoi(argv[1]) | 1;
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    glibc_backtrace =
        libc ? (int (*)(void **, int))dlsym(libc, "backtrace") : NULL;
    if (!glibc_backtrace)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);

    uint64_t t0 = now_ns();
    mds_walker *w = md_walker_create();
    double create_us = (double)(now_ns() - t0) / 1000.0;
    if (!w)
        return 1;
    mds_image_table t = {0};
    t.cap = 512;
    t.images = calloc(t.cap, sizeof(mds_image));
    t.pool_cap = 1 << 16;
    t.pool = malloc(t.pool_cap);
    t.segs_cap = t.cap * MDS_SEGS_PER_IMAGE;
    t.segs = calloc(t.segs_cap, sizeof(mds_segment));
    static mds_frame f[MAXF];
    uint64_t *tm = calloc((size_t)runs, sizeof(uint64_t));

    for (int i = 0; i < runs; i++) {
        uint64_t a = now_ns();
        mds_images_capture(&t);
        tm[i] = now_ns() - a;
    }
    double capture_us = median_us(tm, runs);

    printf("bench_walk: median of %d runs, microseconds per walk of one "
           "thread\n\n",
           runs);
    printf("| method | depth | frames | warm | cold | system calls per walk "
           "(warm / cold) | line-cache fills (warm / cold) |\n");
    printf("|---|---|---|---|---|---|---|\n");
    const int depths[] = {32, 256};
    static const char *mode_name[2] = {
        "mds_walk (lean CFI, libunwind behind)",
        "mds_walk, MDS_WALK_MODE_LIBUNWIND (remote API every frame)"};
    for (int d = 0; d < 2; d++) {
        parked *p = calloc(1, sizeof(*p));
        if (park(p, depths[d]) != 0)
            return 1;
        for (int mode = 0; mode < 2; mode++) {
            mds_walker_set_mode(w, mode == 0 ? MDS_WALK_MODE_LEAN
                                             : MDS_WALK_MODE_LIBUNWIND);
            int n = 0;
            double res[2], sc[2] = {-1, -1};
            mds_walk_stats s0, s1;
            uint64_t fills[2], steps = 0, hits = 0, hand = 0;
            for (int cold = 0; cold < 2; cold++) {
                mds_walk(w, &t, &p->regs, f, MAXF, NULL); /* warm it */
                mds_walker_get_stats(w, &s0);
                for (int i = 0; i < runs; i++) {
                    if (cold)
                        mds_walker_flush(w);
                    uint64_t a = now_ns();
                    n = mds_walk(w, &t, &p->regs, f, MAXF, NULL);
                    tm[i] = now_ns() - a;
                }
                mds_walker_get_stats(w, &s1);
                /* Counted apart: the tracepoint slows every syscall. */
                int scfd = bu_syscalls_open();
                long long c0 = bu_syscalls_read(scfd);
                for (int i = 0; i < COUNT_WALKS; i++) {
                    if (cold)
                        mds_walker_flush(w);
                    mds_walk(w, &t, &p->regs, f, MAXF, NULL);
                }
                long long c1 = bu_syscalls_read(scfd);
                if (c0 >= 0 && c1 >= 0)
                    sc[cold] = (double)(c1 - c0) / COUNT_WALKS;
                if (scfd >= 0)
                    close(scfd);
                fills[cold] = (s1.mem_fills - s0.mem_fills) / (uint64_t)runs;
                if (!cold) {
                    steps = (s1.lean_steps - s0.lean_steps) / (uint64_t)runs;
                    hits = (s1.lean_hits - s0.lean_hits) / (uint64_t)runs;
                    hand = (s1.handoffs - s0.handoffs) / (uint64_t)runs;
                }
                res[cold] = median_us(tm, runs);
            }
            char scs[64] = "n/a (no perf counter)";
            if (sc[0] >= 0)
                snprintf(scs, sizeof scs, "%.1f / %.1f", sc[0], sc[1]);
            printf("| %s | %d | %d | %.1f | %.1f | %s | %llu / %llu |\n",
                   mode_name[mode], depths[d], n, res[0], res[1], scs,
                   (unsigned long long)fills[0], (unsigned long long)fills[1]);
            if (mode == 0)
                printf("|   (lean unwinder per warm walk: %llu steps, %llu "
                       "rows from its cache, %llu handed to libunwind) "
                       "| | | | | | |\n",
                       (unsigned long long)steps, (unsigned long long)hits,
                       (unsigned long long)hand);
        }
        mds_walker_set_mode(w, MDS_WALK_MODE_LEAN);
        printf("| libunwind unw_backtrace (local) | %d | %d | %.1f | %.1f "
               "| | |\n",
               depths[d], p->n_bt, p->bt_warm, p->bt_cold);
        printf("| libunwind unw_init_local+unw_step | %d | %d | %.1f | %.1f "
               "| | |\n",
               depths[d], p->n_local, p->step_warm, p->step_cold);
        if (d == 0)
            printf("| glibc backtrace() | %d | %d | %.1f | %.1f (first call)"
                   " | | |\n",
                   depths[d], p->n_glibc, p->glibc_warm, glibc_first_us);
        else
            printf("| glibc backtrace() | %d | %d | %.1f | - | | |\n",
                   depths[d], p->n_glibc, p->glibc_warm);
        unpark(p);
        free(p);
    }
    printf("\nmds_images_capture: %.1f us for %zu images; md_walker_create "
           "(incl. warm-up walk): %.0f us\n",
           capture_us, t.count, create_us);
    printf("(local unwinders and backtrace() count the signal handler's "
           "frames too; mds_walk starts at the interrupted context.)\n");
    md_walker_destroy(w);
    return 0;
}
