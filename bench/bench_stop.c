/*
 * bench_stop.c - what stopping the other threads costs, per mechanism
 * (issue 9; docs/thread-control.md): the ptrace helper task (clone +
 * PTRACE_SEIZE/INTERRUPT + GETREGSET per thread) against the real-time
 * signal fallback (tgkill + handler + park per thread), at 1, 16, 128 and
 * 1000 threads blocked in read(), each measured as stop (all threads
 * stopped, registers taken) and release (all running again).
 *
 * One process; mechanisms alternate round by round so that a noisy
 * moment hits both alike. Medians of R rounds.
 *
 *   bench_stop [--runs R] [--max-threads N]
 *
 * Context: benchmark program (normal context); it calls the crash-path
 * stopper (mds_stop_others) from normal context, as a live report does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "crash/core/sys.h"
#include "crash/handler/state.h"
#include "crash/stop/stop.h"
#include "mayday/mayday.h"

#define MAXR 64

static void one(uint32_t method, uint64_t *stop_ns, uint64_t *rel_ns,
                uint32_t *stopped)
{
    mds_stopset *s = &mds_g.work_sig.stop;
    mds_g.cfg.stop_method = method;
    mds_stop_req r = {(uint32_t)mds_gettid(), 0, 1, 0, 0, 2000};
    uint64_t t0 = bu_now_ns();
    mds_stop_others(s, &r);
    uint64_t t1 = bu_now_ns();
    *stopped = s->stopped;
    mds_stop_release(s);
    uint64_t t2 = bu_now_ns();
    *stop_ns = t1 - t0;
    *rel_ns = t2 - t1;
}

int main(int argc, char **argv)
{
    int runs = 15, max_threads = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-threads"))
            max_threads = atoi(argv[i + 1]);
    }
    if (runs < 1 || runs > MAXR)
        runs = 15;
    char *dir =
        bu_mkdtemp(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "stop");
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.max_threads = 2048;
    if (!dir || mayday_install(&cfg) < 0) {
        fprintf(stderr, "bench_stop: install failed\n");
        return 1;
    }
    static const int ns[] = {1, 16, 128, 1000};
    static const uint32_t methods[] = {MAYDAY_STOP_PTRACE, MAYDAY_STOP_SIGNAL};
    static const char *names[] = {"ptrace", "signal"};
    printf("| threads | mechanism | stop (median) | per thread | release "
           "(median) | per thread | stopped |\n");
    printf("|---|---|---|---|---|---|---|\n");
    int have = 0;
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        int n = ns[k];
        if (n > max_threads)
            break;
        if (bu_start_workers(n - have, 1) < 0) {
            fprintf(stderr, "bench_stop: threads\n");
            return 1;
        }
        have = n;
        bu_sleep_ms(50);
        uint64_t st[2][MAXR], rl[2][MAXR];
        uint32_t cnt[2] = {0, 0};
        for (int r = 0; r < runs; r++) {
            for (int m = 0; m < 2; m++) {
                int mm = (m + r) % 2;
                one(methods[mm], &st[mm][r], &rl[mm][r], &cnt[mm]);
            }
        }
        for (int m = 0; m < 2; m++) {
            double s = (double)bu_median_u64(st[m], (size_t)runs) / 1e3;
            double l = (double)bu_median_u64(rl[m], (size_t)runs) / 1e3;
            printf("| %d | %s | %.0f µs | %.1f µs | %.0f µs | %.1f µs | %u |\n",
                   n, names[m], s, s / n, l, l / n, cnt[m]);
        }
        fflush(stdout);
    }
    mayday_uninstall();
    _exit(0); /* the workers block forever */
}
