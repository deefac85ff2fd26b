/*
 * bench_install.c - what mayday costs a process that never crashes:
 *
 *   1. mayday_install() wall time, and the memory it adds (VmRSS and
 *      VmSize from /proc/self/status just before and just after), with 0,
 *      16 and 128 threads already running (each gets an altstack through
 *      a signal at install);
 *   2. pthread_create + pthread_join of an empty thread, per thread:
 *      a. in separate processes (M pairs each, median): mayday not linked
 *         at all (bench_plain) vs linked but not installed (the
 *         interposed pthread_create forwards to glibc's);
 *      b. interleaved in one process, so that a noisy moment hits every
 *         configuration alike: batches of K pairs, rotating between not
 *         installed, installed (default: the wrapper maps and frees a
 *         guard-paged altstack per thread) and installed with
 *         MAYDAY_FLAG_NO_THREAD_HOOK (mayday_uninstall + mayday_install
 *         between batches, then 20 ms for their threads to settle).
 *         Median of all pairs per configuration, and the median of
 *         per-batch ratios.
 *
 * Every process is fresh (fork + exec); figures are medians over the
 * processes (rounds).
 *
 *   bench_install [--runs R] [--threads M] [--batches B] [--plain PATH]
 *                 [--tmp DIR]
 *   bench_install child-install K PAGEFD DIR
 *   bench_install child-threads M PAGEFD DIR      (linked, not installed)
 *   bench_install child-mix BATCHES PAGEFD DIR
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

/* ns per create+join pair, one per entry of t[0..m). */
static int pairs(uint64_t *t, int m)
{
    for (int i = 0; i < m; i++) {
        pthread_t th;
        uint64_t a = bu_now_ns();
        if (pthread_create(&th, 0, empty, 0) || pthread_join(th, 0))
            return -1;
        t[i] = bu_now_ns() - a;
    }
    return 0;
}

static int child_threads(int m, bu_page *pg)
{
    uint64_t *t = calloc((size_t)m, sizeof *t);
    if (!t || pairs(t, m) < 0)
        return 4;
    pg->val[0] = bu_median_u64(t, (size_t)m);
    pg->ok = 1;
    free(t);
    return 0;
}

#define BATCH 25
#define NCFG 3 /* not installed, default, no thread hook */

static int child_mix(int batches, bu_page *pg, const char *dir)
{
    size_t cap = (size_t)batches * BATCH;
    uint64_t *all[NCFG], bt[BATCH];
    double *ratio[NCFG];
    for (int c = 0; c < NCFG; c++) {
        all[c] = calloc(cap, sizeof(uint64_t));
        ratio[c] = calloc((size_t)batches, sizeof(double));
        if (!all[c] || !ratio[c])
            return 4;
    }
    for (int b = 0; b < batches; b++) {
        double med_b[NCFG];
        for (int k = 0; k < NCFG; k++) {
            int c = (k + b) % NCFG; /* rotate the order */
            mayday_uninstall();     /* ENOTINSTALLED the first time */
            if (c && install(dir, c == 2 ? MAYDAY_FLAG_NO_THREAD_HOOK : 0))
                return 3;
            /* Let install's and uninstall's own threads settle (the
             * exception thread starting and warming its walker, or
             * exiting): measured at once, a batch takes their CPU too
             * and doubles (62 against 12 us here), which is not what
             * the steady state costs. */
            bu_sleep_ms(20);
            if (pairs(bt, BATCH) < 0)
                return 4;
            memcpy(all[c] + (size_t)b * BATCH, bt, sizeof bt);
            med_b[c] = (double)bu_median_u64(bt, BATCH);
        }
        for (int c = 0; c < NCFG; c++)
            ratio[c][b] = med_b[c] / med_b[0];
    }
    for (int c = 0; c < NCFG; c++) {
        pg->val[c] = bu_median_u64(all[c], cap);
        pg->val[NCFG + c] =
            (uint64_t)(bu_median_dbl(ratio[c], (size_t)batches) * 1e4);
        free(all[c]);
        free(ratio[c]);
    }
    pg->ok = 1;
    return 0;
}

/* ------------------------------------------------------------ parent */

static int runs = 7, nthreads = 2000, batches = 40;
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
    if (argc >= 5 && !strcmp(argv[1], "child-threads")) {
        bu_page *pg = bu_page_attach(atoi(argv[3]));
        return pg ? child_threads(atoi(argv[2]), pg) : 3;
    }
    if (argc >= 5 && !strcmp(argv[1], "child-mix")) {
        bu_page *pg = bu_page_attach(atoi(argv[3]));
        return pg ? child_mix(atoi(argv[2]), pg, argv[4]) : 3;
    }
    const char *tmpbase = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            nthreads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batches"))
            batches = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--plain"))
            plain = argv[i + 1];
        else if (!strcmp(argv[i], "--tmp"))
            tmpbase = argv[i + 1];
    }
    if (runs < 1 || runs > MAXRUNS || nthreads < 1 || batches < 1) {
        fprintf(stderr, "usage: bench_install [--runs R] [--threads M] "
                        "[--batches B] [--plain PATH] [--tmp DIR]\n");
        return 2;
    }
    static char plain_buf[PATH_MAX];
    if (bu_self_and_sibling(self, sizeof self, "bench_plain", plain_buf,
                            sizeof plain_buf) < 0)
        return 1;
    if (!plain)
        plain = plain_buf;
    char *dir = bu_mkdtemp(tmpbase, "install");
    int fd;
    bu_page *pg = bu_page_create(&fd);
    if (!dir || !pg)
        return 1;
    char a_fd[16], a_m[16], a_b[16];
    snprintf(a_fd, sizeof a_fd, "%d", fd);
    snprintf(a_m, sizeof a_m, "%d", nthreads);
    snprintf(a_b, sizeof a_b, "%d", batches);

    enum { NK = 3 };
    static const int ks[NK] = {0, 16, 128};
    static const char *cname[NCFG] = {
        "linked, not installed", "installed, default (altstack per thread)",
        "installed, MAYDAY_FLAG_NO_THREAD_HOOK"};
    double ins[NK][5][MAXRUNS];
    int nins[NK] = {0};
    double sep[2][MAXRUNS], sep_rat[MAXRUNS];
    int nsep[2] = {0}, nsep_rat = 0;
    double mix[NCFG][MAXRUNS], mix_rat[NCFG][MAXRUNS];
    int nmix = 0;

    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < NK; i++) {
            char a_k[16];
            snprintf(a_k, sizeof a_k, "%d", ks[i]);
            char *av[] = {self, "child-install", a_k, a_fd, dir, 0};
            if (run_child(av, pg) == 0) {
                for (int v = 0; v < 5; v++)
                    ins[i][v][nins[i]] = (double)(int64_t)pg->val[v];
                ins[i][0][nins[i]] /= 1e3; /* us */
                nins[i]++;
            }
        }
        double got[2] = {-1, -1};
        for (int k = 0; k < 2; k++) {
            int c = (k + r) % 2; /* rotate the order */
            char *avp[] = {(char *)plain, "threads", a_m, a_fd, 0};
            char *avm[] = {self, "child-threads", a_m, a_fd, dir, 0};
            if (run_child(c == 0 ? avp : avm, pg) == 0) {
                got[c] = (double)pg->val[0] / 1e3;
                sep[c][nsep[c]++] = got[c];
            }
        }
        if (got[0] > 0 && got[1] > 0)
            sep_rat[nsep_rat++] = got[1] / got[0];
        char *avx[] = {self, "child-mix", a_b, a_fd, dir, 0};
        if (run_child(avx, pg) == 0) {
            for (int c = 0; c < NCFG; c++) {
                mix[c][nmix] = (double)pg->val[c] / 1e3;
                mix_rat[c][nmix] = (double)pg->val[NCFG + c] / 1e4;
            }
            nmix++;
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
           "thread\n\n");
    printf("a. Separate processes: median over %d processes of each "
           "one's median of %d pairs [min - max]\n\n",
           runs, nthreads);
    printf("| configuration | us per thread | ratio to not linked (median of "
           "per-round ratios) |\n|---|---|---|\n");
    double m0 = med(sep[0], nsep[0], &lo, &hi);
    printf("| mayday not linked (bench_plain) | %.1f [%.1f - %.1f] | 1 |\n", m0,
           lo, hi);
    double m1 = med(sep[1], nsep[1], &lo, &hi);
    printf("| mayday linked, not installed | %.1f [%.1f - %.1f] | %.2f |\n", m1,
           lo, hi, bu_median_dbl(sep_rat, (size_t)nsep_rat));
    printf("\nb. Interleaved in one process: %d batches of %d pairs per "
           "configuration, rotating; median over %d processes [min - max]"
           "\n\n",
           batches, BATCH, runs);
    printf("| configuration | us per thread | ratio to not installed "
           "(median of per-batch ratios) | added, us per thread |\n"
           "|---|---|---|---|\n");
    double base = bu_median_dbl(mix[0], (size_t)nmix);
    for (int c = 0; c < NCFG; c++) {
        double m = med(mix[c], nmix, &lo, &hi);
        printf("| %s | %.1f [%.1f - %.1f] | %.2f | %.1f |\n", cname[c], m, lo,
               hi, bu_median_dbl(mix_rat[c], (size_t)nmix), m - base);
    }
    bu_rmtree(dir);
    free(dir);
    return 0;
}
