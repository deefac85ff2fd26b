/*
 * bench_install.c - what mayday costs a process that never crashes:
 *
 *   1. mayday_install() wall time, and the memory it adds (VmRSS and
 *      VmSize from /proc/self/status just before and just after), with 0,
 *      16 and 128 threads already running (each gets an altstack through
 *      a signal at install);
 *   2. pthread_create + pthread_join of an empty thread, per thread:
 *      mayday not linked at all (bench_plain), linked but not installed
 *      (the interposed pthread_create forwards), installed (default: the
 *      wrapper maps and frees a guard-paged altstack per thread), and
 *      installed with MAYDAY_FLAG_NO_THREAD_HOOK.
 *
 * Every measurement runs in a fresh process (fork + exec); rounds are
 * interleaved; figures are medians over rounds (each thread figure is
 * itself the median of M create+join pairs in that process).
 *
 *   bench_install [--runs R] [--threads M] [--plain PATH] [--tmp DIR]
 *   bench_install child-install K PAGEFD DIR
 *   bench_install child-threads M CONFIG PAGEFD DIR   CONFIG: 0 none,
 *                                           1 default, 2 no thread hook
 *
 * Context: benchmark program (normal context).
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "mayday/mayday.h"

#define MAXRUNS 64

static int install(const char *dir, uint32_t flags)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.flags = flags;
    int r = mayday_install(&cfg);
    if (r < 0)
        fprintf(stderr, "bench_install: install: %s\n", mayday_strerror(r));
    return r;
}

static int child_install(int k, bu_page *pg, const char *dir)
{
    if (k && bu_start_workers(k, 1) < 0)
        return 4;
    long rss0 = bu_status_kb("VmRSS"), vm0 = bu_status_kb("VmSize");
    long an0 = bu_status_kb("RssAnon"), fi0 = bu_status_kb("RssFile");
    uint64_t t0 = bu_now_ns();
    if (install(dir, 0) < 0)
        return 3;
    uint64_t t1 = bu_now_ns();
    long rss1 = bu_status_kb("VmRSS"), vm1 = bu_status_kb("VmSize");
    long an1 = bu_status_kb("RssAnon"), fi1 = bu_status_kb("RssFile");
    pg->val[0] = t1 - t0;
    pg->val[1] = (uint64_t)(rss1 - rss0);
    pg->val[2] = (uint64_t)(vm1 - vm0);
    pg->val[3] = (uint64_t)(an1 - an0);
    pg->val[4] = (uint64_t)(fi1 - fi0);
    pg->ok = rss0 > 0 && rss1 > 0 && an0 >= 0 && an1 >= 0;
    _exit(0); /* the workers block forever */
}

static void *empty(void *arg) { return arg; }

static int child_threads(int m, int config, bu_page *pg, const char *dir)
{
    if (config && install(dir, config == 2 ? MAYDAY_FLAG_NO_THREAD_HOOK : 0))
        return 3;
    uint64_t *t = calloc((size_t)m, sizeof *t);
    uint64_t sum = 0;
    for (int i = 0; i < m; i++) {
        pthread_t th;
        uint64_t a = bu_now_ns();
        if (pthread_create(&th, 0, empty, 0) || pthread_join(th, 0))
            return 4;
        t[i] = bu_now_ns() - a;
        sum += t[i];
    }
    pg->val[1] = sum / (uint64_t)m;
    pg->val[0] = bu_median_u64(t, (size_t)m);
    pg->ok = 1;
    free(t);
    return 0;
}

/* ------------------------------------------------------------ parent */

static int runs = 7, nthreads = 2000;
static char self[PATH_MAX];
static const char *plain;

static int run_child(char *const argv[], bu_page *pg)
{
    bu_page_reset(pg);
    int st = bu_run(argv, 30000, -1);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !pg->ok) {
        fprintf(stderr, "bench_install: %s %s failed (status %#x)\n", argv[0],
                argv[1], st);
        return -1;
    }
    return 0;
}

static double med(double *v, int n, double *lo, double *hi)
{
    double m = bu_median_dbl(v, (size_t)n);
    *lo = n ? v[0] : 0;
    *hi = n ? v[n - 1] : 0;
    return m;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "child-install")) {
        bu_page *pg = bu_page_attach(atoi(argv[3]));
        return pg ? child_install(atoi(argv[2]), pg, argv[4]) : 3;
    }
    if (argc >= 6 && !strcmp(argv[1], "child-threads")) {
        bu_page *pg = bu_page_attach(atoi(argv[4]));
        return pg ? child_threads(atoi(argv[2]), atoi(argv[3]), pg, argv[5])
                  : 3;
    }
    const char *tmpbase = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            nthreads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--plain"))
            plain = argv[i + 1];
        else if (!strcmp(argv[i], "--tmp"))
            tmpbase = argv[i + 1];
    }
    if (runs < 1 || runs > MAXRUNS || nthreads < 1) {
        fprintf(stderr, "usage: bench_install [--runs R] [--threads M] "
                        "[--plain PATH] [--tmp DIR]\n");
        return 2;
    }
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0)
        return 1;
    self[sl] = 0;
    static char plain_buf[PATH_MAX];
    if (!plain) {
        snprintf(plain_buf, sizeof plain_buf, "%s", self);
        char *s = strrchr(plain_buf, '/');
        snprintf(s + 1, sizeof plain_buf - (size_t)(s + 1 - plain_buf),
                 "bench_plain");
        plain = plain_buf;
    }
    char *dir = bu_mkdtemp(tmpbase, "install");
    int fd;
    bu_page *pg = bu_page_create(&fd);
    if (!dir || !pg)
        return 1;
    char a_fd[16], a_m[16];
    snprintf(a_fd, sizeof a_fd, "%d", fd);
    snprintf(a_m, sizeof a_m, "%d", nthreads);

    enum { NK = 3, NC = 4 };
    static const int ks[NK] = {0, 16, 128};
    static const char *cname[NC] = {"mayday not linked (bench_plain)",
                                    "mayday linked, not installed",
                                    "installed, default (altstack per thread)",
                                    "installed, MAYDAY_FLAG_NO_THREAD_HOOK"};
    double ins[NK][5][MAXRUNS];
    int nins[NK] = {0};
    double thr[NC][2][MAXRUNS], rat[NC][MAXRUNS];
    int nthr[NC] = {0}, nrat[NC] = {0};

    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < NK; i++) {
            char a_k[16];
            snprintf(a_k, sizeof a_k, "%d", ks[i]);
            char *av[] = {self, "child-install", a_k, a_fd, dir, 0};
            if (run_child(av, pg) == 0) {
                ins[i][0][nins[i]] = (double)pg->val[0] / 1e3;
                ins[i][1][nins[i]] = (double)(int64_t)pg->val[1];
                ins[i][2][nins[i]] = (double)(int64_t)pg->val[2];
                ins[i][3][nins[i]] = (double)(int64_t)pg->val[3];
                ins[i][4][nins[i]] = (double)(int64_t)pg->val[4];
                nins[i]++;
            }
        }
        double base = -1, got[NC];
        for (int k = 0; k < NC; k++) {
            int c = (k + r) % NC; /* rotate the order */
            char a_c[16];
            snprintf(a_c, sizeof a_c, "%d", c - 1);
            char *avp[] = {(char *)plain, "threads", a_m, a_fd, 0};
            char *avm[] = {self, "child-threads", a_m, a_c, a_fd, dir, 0};
            got[c] = -1;
            if (run_child(c == 0 ? avp : avm, pg) == 0) {
                got[c] = (double)pg->val[0] / 1e3;
                thr[c][0][nthr[c]] = got[c];
                thr[c][1][nthr[c]] = (double)pg->val[1] / 1e3;
                nthr[c]++;
            }
        }
        base = got[0];
        for (int c = 0; c < NC; c++) {
            if (base > 0 && got[c] > 0)
                rat[c][nrat[c]++] = got[c] / base;
        }
    }

    double lo, hi;
    printf("### mayday_install(): time and memory added, median of %d "
           "fresh processes [min - max]\n\n",
           runs);
    printf("| threads running at install | install time, ms | VmRSS added, "
           "KiB | of which RssAnon | of which RssFile (code paged in) | "
           "VmSize added, KiB |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < NK; i++) {
        double t = med(ins[i][0], nins[i], &lo, &hi);
        printf("| %d | %.3f [%.3f - %.3f] |", ks[i], t / 1e3, lo / 1e3,
               hi / 1e3);
        static const int col[4] = {1, 3, 4, 2};
        for (int c = 0; c < 4; c++) {
            double v = med(ins[i][col[c]], nins[i], &lo, &hi);
            printf(" %.0f [%.0f - %.0f] |", v, lo, hi);
        }
        printf("\n");
    }
    printf("\n### pthread_create + pthread_join of an empty thread, us per "
           "thread: median over %d processes of each process's median of %d "
           "[min - max]\n\n",
           runs, nthreads);
    printf("| configuration | median | mean | ratio to not linked (median "
           "of per-round ratios) |\n|---|---|---|---|\n");
    for (int c = 0; c < NC; c++) {
        double m = med(thr[c][0], nthr[c], &lo, &hi);
        double dl, dh, mean = med(thr[c][1], nthr[c], &dl, &dh);
        printf("| %s | %.1f [%.1f - %.1f] | %.1f | %.2f |\n", cname[c], m, lo,
               hi, mean, bu_median_dbl(rat[c], (size_t)nrat[c]));
    }
    bu_rmtree(dir);
    free(dir);
    return 0;
}
