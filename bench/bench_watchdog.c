/*
 * bench_watchdog.c - what the hang watchdog (issue 12) costs:
 *
 *   1. mayday_heartbeat() per call, in the caller, next to an empty loop
 *      and to clock_gettime(CLOCK_MONOTONIC / _COARSE) (median of R
 *      rounds of N calls; 1 thread, and 4 threads beating at once, each
 *      on its own watch);
 *   2. wake-ups per second of the "mayday-watch" thread while W threads
 *      beat every millisecond with a deadline D, over S seconds: counted
 *      by mayday (md_watchdog_wakeups) and by the kernel (the thread's
 *      voluntary + involuntary context switches, /proc/self/task/TID/
 *      status), for a few (W, D);
 *   3. how late a hang is noticed: a watch with deadline D stops beating;
 *      the hang event's silence minus D (median of K hangs), and the time
 *      from the deadline to the hang event (report written).
 *
 *   bench_watchdog [--rounds R] [--calls N] [--seconds S] [--hangs K]
 *                  [--tmp DIR]
 *
 * Context: benchmark program (normal context). Prints figures, asserts
 * nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "mayday/mayday.h"
#include "normal/failure/failure.h"

#define MAXR 64
#define MAXW 64

static int g_rounds = 9, g_seconds = 5, g_hangs = 9;
static long g_calls = 10000000;

/* CPU time of the calling thread: other processes on the machine (and
 * the other beating threads) do not count against a loop. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double per_call(uint64_t t0, uint64_t t1, long n)
{
    return (double)(t1 - t0) / (double)n;
}

static double loop_empty(long n)
{
    volatile long sink = 0;
    uint64_t t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        sink = sink + 1;
    return per_call(t0, cpu_ns(), n);
}

static double loop_clock(long n, clockid_t c)
{
    struct timespec ts;
    uint64_t t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        clock_gettime(c, &ts);
    return per_call(t0, cpu_ns(), n);
}

static double loop_beat(long n, int w)
{
    uint64_t t0 = cpu_ns();
    for (long i = 0; i < n; i++)
        mayday_heartbeat(w);
    return per_call(t0, cpu_ns(), n);
}

typedef struct beat_arg {
    pthread_barrier_t *bar;
    double ns;
} beat_arg;

static void *beat_thread(void *p)
{
    beat_arg *a = p;
    int w = mayday_heartbeat_start("bench", 60000);
    pthread_barrier_wait(a->bar);
    a->ns = w >= 0 ? loop_beat(g_calls, w) : -1;
    mayday_heartbeat_stop(w);
    return 0;
}

static double beat_parallel(int n)
{
    pthread_t t[8];
    beat_arg a[8];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, 0, (unsigned)n);
    for (int i = 0; i < n; i++) {
        a[i].bar = &bar;
        pthread_create(&t[i], 0, beat_thread, &a[i]);
    }
    double v[8];
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], 0);
        v[i] = a[i].ns;
    }
    pthread_barrier_destroy(&bar);
    return bu_median_dbl(v, (size_t)n);
}

static void cost_table(void)
{
    double e[MAXR], m[MAXR], c[MAXR], b[MAXR], p[MAXR];
    int w = mayday_heartbeat_start("bench-main", 60000);
    for (int r = 0; r < g_rounds; r++) {
        e[r] = loop_empty(g_calls);
        m[r] = loop_clock(g_calls, CLOCK_MONOTONIC);
        c[r] = loop_clock(g_calls, CLOCK_MONOTONIC_COARSE);
        b[r] = loop_beat(g_calls, w);
        p[r] = beat_parallel(4);
    }
    mayday_heartbeat_stop(w);
    printf("#### Cost to the caller, ns of thread CPU time per call: median "
           "of %d rounds of %ld calls\n\n",
           g_rounds, g_calls);
    printf("| loop body | ns/call |\n|---|---|\n");
    printf("| empty (volatile increment) | %.2f |\n",
           bu_median_dbl(e, (size_t)g_rounds));
    printf("| clock_gettime(CLOCK_MONOTONIC) | %.2f |\n",
           bu_median_dbl(m, (size_t)g_rounds));
    printf("| clock_gettime(CLOCK_MONOTONIC_COARSE) | %.2f |\n",
           bu_median_dbl(c, (size_t)g_rounds));
    printf("| mayday_heartbeat(w), 1 thread | %.2f |\n",
           bu_median_dbl(b, (size_t)g_rounds));
    printf("| mayday_heartbeat(w), 4 threads at once (median thread) | "
           "%.2f |\n\n",
           bu_median_dbl(p, (size_t)g_rounds));
}

/* /proc/self/task/TID/status: voluntary + nonvoluntary switches. */
static long ctx_switches(uint32_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%u/status", tid);
    FILE *f = fopen(path, "r");
    long sum = 0, v;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
            sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
            sum += v;
    }
    fclose(f);
    return sum;
}

static volatile int g_stop;
static volatile uint64_t g_beats;

typedef struct wake_arg {
    uint32_t deadline_ms;
} wake_arg;

static void *beat_1ms(void *p)
{
    wake_arg *a = p;
    int w = mayday_heartbeat_start("bench", a->deadline_ms);
    while (!g_stop) {
        mayday_heartbeat(w);
        __atomic_add_fetch(&g_beats, 1, __ATOMIC_RELAXED);
        bu_sleep_ms(1);
    }
    mayday_heartbeat_stop(w);
    return 0;
}

static void wake_row(int nw, uint32_t deadline_ms)
{
    pthread_t t[MAXW];
    wake_arg a = {deadline_ms};
    g_stop = 0;
    for (int i = 0; i < nw; i++)
        pthread_create(&t[i], 0, beat_1ms, &a);
    bu_sleep_ms(300); /* settle */
    uint32_t tid = md_watchdog_tid();
    uint64_t w0 = md_watchdog_wakeups();
    long k0 = ctx_switches(tid);
    uint64_t b0 = g_beats;
    uint64_t t0 = bu_now_ns();
    bu_sleep_ms(g_seconds * 1000);
    uint64_t w1 = md_watchdog_wakeups();
    long k1 = ctx_switches(tid);
    uint64_t b1 = g_beats;
    double s = (double)(bu_now_ns() - t0) / 1e9;
    g_stop = 1;
    for (int i = 0; i < nw; i++)
        pthread_join(t[i], 0);
    printf("| %d | %u | %.2f | %.2f | %.0f |\n", nw, deadline_ms,
           (double)(w1 - w0) / s, (double)(k1 - k0) / s, (double)(b1 - b0) / s);
}

static void wake_table(void)
{
    printf("#### Watchdog wake-ups per second (threads beating every 1 ms "
           "for %d s)\n\n",
           g_seconds);
    printf("| watched threads | deadline ms | wake-ups/s (mayday's count) "
           "| context switches/s (kernel) | beats/s (all threads) |\n");
    printf("|---|---|---|---|---|\n");
    wake_row(0, 1000);
    wake_row(1, 1000);
    wake_row(1, 100);
    wake_row(16, 1000);
    wake_row(64, 1000);
    printf("\n");
}

static volatile uint64_t g_event_ns, g_event_silent_ms;
static volatile int g_event;

static void on_hang(const mayday_hang_event *ev, void *data)
{
    (void)data;
    if (ev->kind != MAYDAY_HANG_EVENT_HANG)
        return;
    g_event_ns = bu_now_ns();
    g_event_silent_ms = ev->silent_ms;
    __atomic_store_n(&g_event, 1, __ATOMIC_RELEASE);
}

static void latency_table(uint32_t deadline_ms)
{
    double late[MAXR], total[MAXR];
    int k = 0;
    for (int i = 0; i < g_hangs && i < MAXR; i++) {
        g_event = 0;
        int w = mayday_heartbeat_start("bench-hang", deadline_ms);
        mayday_heartbeat(w);
        uint64_t last = bu_now_ns();
        for (int j = 0;
             j < 3000 && !__atomic_load_n(&g_event, __ATOMIC_ACQUIRE); j++)
            bu_sleep_ms(1);
        mayday_heartbeat(w); /* recovers */
        bu_sleep_ms(20);
        mayday_heartbeat_stop(w);
        if (!g_event)
            continue;
        late[k] = (double)g_event_silent_ms - deadline_ms;
        total[k] = (double)(g_event_ns - last) / 1e6 - deadline_ms;
        k++;
    }
    printf("| %u | %d | %.1f | %.1f |\n", deadline_ms, k,
           bu_median_dbl(late, (size_t)k), bu_median_dbl(total, (size_t)k));
}

int main(int argc, char **argv)
{
    const char *tmp = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rounds"))
            g_rounds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--calls"))
            g_calls = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            g_seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--hangs"))
            g_hangs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--tmp"))
            tmp = argv[i + 1];
    }
    if (g_rounds < 1 || g_rounds > MAXR)
        g_rounds = 9;
    char *dir = bu_mkdtemp(tmp, "watchdog");
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.flags = MAYDAY_FLAG_NO_FSYNC;
    cfg.max_reports = 1000;
    cfg.on_hang = on_hang;
    if (!dir || mayday_install(&cfg) < 0) {
        fprintf(stderr, "bench_watchdog: install failed\n");
        return 1;
    }
    cost_table();
    wake_table();
    printf("#### How late a hang is noticed: median of %d hangs, ms\n\n",
           g_hangs);
    printf("| deadline ms | hangs | silence at detection - deadline | "
           "deadline -> hang event (report written) |\n|---|---|---|---|\n");
    latency_table(100);
    latency_table(1000);
    mayday_uninstall();
    bu_rmtree(dir);
    free(dir);
    return 0;
}
