/*
 * bench_crash.c - how long from a fault to "report written", and how big
 * the report is: mayday (with and without fsync; and without fsync in
 * MAYDAY_HANDLER_SIGNAL mode, the report written in the crashed thread's
 * handler instead of the exception thread) against a plain SIGSEGV
 * handler calling glibc's backtrace() + backtrace_symbols_fd() and one
 * walking with libunwind's local unwinder (both crashed thread only), and
 * against the floor of an all-threads reporter: every other thread stopped
 * by a signal and parked, one process_vm_readv of 4 KiB per stack, one
 * write of ~1 KiB per thread (all run by bench_plain, which does not link
 * mayday).
 *
 * Harness (design brief section 4): N worker threads, each 32 frames deep
 * and blocked in read(); the main thread stores through NULL. Time from
 * just before the faulting store (CLOCK_MONOTONIC, in the child) to the
 * output being written: for mayday the on_crash callback, which runs on
 * the crashed thread after the report was written, fsync'ed (unless
 * MAYDAY_FLAG_NO_FSYNC) and renamed into place, the other threads resumed
 * and the exception thread's reply received; for the baselines the
 * handler after close(). Every run is a fresh process (fork + exec). Runs
 * are interleaved (round r runs every N and mode once) so that a noisy
 * moment hits all columns alike; ratios are medians of per-round ratios.
 *
 *   bench_crash [--runs R] [--plain PATH] [--keep DIR] [--tmp DIR]
 *               [--threads N,N,...]   (default 1,16,128; at most 6)
 *   bench_crash child FLAGS N PAGEFD DIR      (the mayday child)
 *
 * --keep DIR keeps every mayday report (for bench_reader).
 *
 * Context: benchmark program (normal context); the child's on_crash
 * callback runs on the crash path and is async-signal-safe (clock_gettime,
 * plain stores, memcpy).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "mayday.pb-c.h"
#include "mayday/mayday.h"
#include "normal/reader/reader.h"

/* ------------------------------------------------------------ child */

static bu_page *g_page;
/* In the child's FLAGS argument: MAYDAY_HANDLER_SIGNAL. */
#define SIGNAL_MODE 0x80000000u

static void on_crash(int signo, const char *path, void *data)
{
    (void)signo, (void)data;
    g_page->t_written = bu_now_ns();
    if (path) {
        size_t n = strlen(path);
        if (n >= sizeof g_page->path)
            n = sizeof g_page->path - 1;
        memcpy(g_page->path, path, n);
        g_page->path[n] = 0;
        g_page->ok = 1;
    }
}

static int child(uint32_t flags, int n, int pagefd, const char *dir)
{
    g_page = bu_page_attach(pagefd);
    if (!g_page)
        return 3;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.app_id = "bench_crash";
    cfg.app_version = "1";
    cfg.flags = flags & ~SIGNAL_MODE;
    if (flags & SIGNAL_MODE)
        cfg.handler_mode = MAYDAY_HANDLER_SIGNAL;
    cfg.on_crash = on_crash;
    /* --max-report-bytes, passed down by the parent's environment. */
    const char *cap = getenv("BENCH_CRASH_MAX_REPORT_BYTES");
    if (cap)
        cfg.max_report_bytes = (uint32_t)strtoul(cap, 0, 0);
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "bench_crash: install: %s\n", mayday_strerror(r));
        return 3;
    }
    if (bu_start_workers(n, 32) < 0)
        return 4;
    g_page->t_fault = bu_now_ns();
    bu_null_store();
    return 5;
}

/* ------------------------------------------------------------ parent */

enum {
    MAYDAY_FS,
    MAYDAY_NOFS,
    MAYDAY_SIG,
    GLIBC,
    GLIBC_W,
    UNW,
    UNW_W,
    FLOOR,
    NMODES
};
static const char *mode_name[NMODES] = {
    "mayday (fsync)",
    "mayday (no fsync)",
    "mayday signal mode (no fsync)",
    "glibc backtrace cold",
    "glibc backtrace warm",
    "libunwind local cold",
    "libunwind local warm",
    "floor: all threads stopped, 1 read + ~1 KiB written each"};
static const char *plain_arg[NMODES] = {
    0, 0, 0, "glibc", "glibc-warm", "unwind", "unwind-warm", "floor"};

#define MAXN 6
static int NN = 3;
static int ns[MAXN] = {1, 16, 128};
#define MAXRUNS 64

typedef struct cell {
    int ok;             /* successful runs */
    double ms[MAXRUNS]; /* per round; -1 if that run failed */
    double bytes[MAXRUNS];
    double handoff_ms[MAXRUNS], suspend_ms[MAXRUNS];
    double walked_ms[MAXRUNS]; /* baselines: fault -> walk done */
    int threads, min_frames, crashed_frames, complete, exc_thread;
} cell;

static cell cells[NMODES][MAXN];
static int runs = 9;
static char self[PATH_MAX];
static const char *plain = 0;
static const char *keep = 0;

/* Reads what the report says about itself. */
static void inspect(cell *c, int round, const char *path)
{
    mayday_report *rep = 0;
    if (mayday_report_load(path, &rep) < 0) {
        fprintf(stderr, "bench_crash: cannot load %s\n", path);
        return;
    }
    const Mayday__Report *m = md_report_pb(rep);
    if (m->header) {
        c->handoff_ms[round] = (double)m->header->handoff_ns / 1e6;
        c->suspend_ms[round] = (double)m->header->suspend_ns / 1e6;
        c->exc_thread =
            m->header->handler == MAYDAY__HANDLER__HANDLER_EXCEPTION_THREAD;
    }
    mayday_report_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    mayday_report_get_info(rep, &info);
    c->threads = (int)m->n_threads;
    c->complete = info.complete;
    int minf = INT_MAX;
    for (size_t i = 0; i < m->n_threads; i++) {
        const Mayday__Thread *t = m->threads[i];
        if (t->crashed)
            c->crashed_frames = (int)t->n_frames;
        else if (t->state == MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED &&
                 (int)t->n_frames < minf)
            minf = (int)t->n_frames;
    }
    c->min_frames = minf == INT_MAX ? 0 : minf;
    mayday_report_free(rep);
}

static void run_one(int mode, int ni, int round, const char *tmp, bu_page *page,
                    int pagefd)
{
    cell *c = &cells[mode][ni];
    char a_n[16], a_fd[16], a_fl[16], out[PATH_MAX + 32];
    snprintf(a_n, sizeof a_n, "%d", ns[ni]);
    snprintf(a_fd, sizeof a_fd, "%d", pagefd);
    snprintf(a_fl, sizeof a_fl, "%u",
             mode == MAYDAY_NOFS  ? (unsigned)MAYDAY_FLAG_NO_FSYNC
             : mode == MAYDAY_SIG ? MAYDAY_FLAG_NO_FSYNC | SIGNAL_MODE
                                  : 0u);
    snprintf(out, sizeof out, "%s/plain.out", tmp);
    bu_page_reset(page);
    c->ms[round] = c->bytes[round] = c->walked_ms[round] = -1;
    int st;
    if (plain_arg[mode]) {
        char *argv[] = {
            (char *)plain, "crash", (char *)plain_arg[mode], a_n, a_fd, out, 0};
        st = bu_run(argv, 20000, -1);
    } else {
        char *argv[] = {self, "child", a_fl, a_n, a_fd, (char *)tmp, 0};
        st = bu_run(argv, 20000, -1);
    }
    if (st == -1 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV || !page->ok ||
        !page->t_written) {
        fprintf(stderr, "bench_crash: %s N=%d round %d failed (status %#x)\n",
                mode_name[mode], ns[ni], round, st);
        return;
    }
    const char *file = plain_arg[mode] ? out : page->path;
    struct stat sb;
    if (stat(file, &sb) < 0)
        return;
    c->ms[round] = (double)(page->t_written - page->t_fault) / 1e6;
    c->bytes[round] = (double)sb.st_size;
    c->ok++;
    if (mode == FLOOR) {
        c->threads = page->frames + 1; /* the ones stopped, and itself */
        c->complete = 1;
        unlink(out);
        return;
    }
    if (plain_arg[mode]) {
        c->min_frames = c->crashed_frames = page->frames;
        c->walked_ms[round] = (double)(page->val[0] - page->t_fault) / 1e6;
        c->threads = 1;
        c->complete = 1;
        unlink(out);
        return;
    }
    inspect(c, round, file);
    char dst[PATH_MAX + 64];
    if (keep) {
        snprintf(dst, sizeof dst, "%s/n%03d-%s-r%02d.mayday", keep, ns[ni],
                 mode == MAYDAY_FS    ? "fsync"
                 : mode == MAYDAY_SIG ? "signal"
                                      : "nofsync",
                 round);
        if (rename(file, dst) == 0)
            return;
    }
    unlink(file);
}

/* Median of the successful values of v[0..runs); min and max too. */
static double med(const double *v, double *lo, double *hi)
{
    double t[MAXRUNS];
    size_t n = 0;
    for (int i = 0; i < runs; i++) {
        if (v[i] >= 0)
            t[n++] = v[i];
    }
    double m = bu_median_dbl(t, n);
    if (lo)
        *lo = n ? t[0] : 0;
    if (hi)
        *hi = n ? t[n - 1] : 0;
    return m;
}

/* Median over rounds of a[r] / b[r] (both runs of round r succeeded). */
static double ratio(const double *a, const double *b)
{
    double t[MAXRUNS];
    size_t n = 0;
    for (int i = 0; i < runs; i++) {
        if (a[i] > 0 && b[i] > 0)
            t[n++] = a[i] / b[i];
    }
    return bu_median_dbl(t, n);
}

static void print_tables(void)
{
    printf("### Fault -> report/backtrace written, ms: median of %d fresh "
           "processes [min - max]\n\n",
           runs);
    printf("| N workers |");
    for (int m = 0; m < NMODES; m++)
        printf(" %s |", mode_name[m]);
    printf("\n|---|");
    for (int m = 0; m < NMODES; m++)
        printf("---|");
    printf("\n");
    for (int i = 0; i < NN; i++) {
        printf("| %d |", ns[i]);
        for (int m = 0; m < NMODES; m++) {
            double lo, hi, v = med(cells[m][i].ms, &lo, &hi);
            if (cells[m][i].ok < runs)
                printf(" %.3f [%.3f - %.3f] (%d/%d ok) |", v, lo, hi,
                       cells[m][i].ok, runs);
            else
                printf(" %.3f [%.3f - %.3f] |", v, lo, hi);
        }
        printf("\n");
    }

    printf("\n### Output size and content (median bytes)\n\n");
    printf("| N workers | mayday report (fsync) | mayday report (no fsync) "
           "| threads in report | frames: crashed / min of workers "
           "| complete | glibc backtrace_symbols_fd file | frames "
           "| libunwind pc+sp file | frames | floor file | floor: threads "
           "stopped + itself |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NN; i++) {
        cell *a = &cells[MAYDAY_FS][i], *b = &cells[MAYDAY_NOFS][i];
        printf("| %d | %.0f | %.0f | %d | %d / %d | %s | %.0f | %d | %.0f | "
               "%d | %.0f | %d |\n",
               ns[i], med(a->bytes, 0, 0), med(b->bytes, 0, 0), a->threads,
               a->crashed_frames, a->min_frames,
               a->complete && b->complete ? "yes" : "NO",
               med(cells[GLIBC_W][i].bytes, 0, 0),
               cells[GLIBC_W][i].crashed_frames,
               med(cells[UNW_W][i].bytes, 0, 0), cells[UNW_W][i].crashed_frames,
               med(cells[FLOOR][i].bytes, 0, 0), cells[FLOOR][i].threads);
    }

    printf("\n### mayday's time split (median ms; handoff_ns and suspend_ns "
           "from the report header)\n\n");
    printf("| N workers | mayday | total | handler entry -> header begun "
           "(handoff_ns: debugger check, hand-off, helper started, image "
           "list, temp file create) | stopping the others (suspend_ns; "
           "alongside the report with ptrace, before it with the signal) "
           "| after the header (total - handoff_ns: walks and encoding as "
           "the threads settle, write, fsync, rename, resume, reply) |\n");
    printf("|---|---|---|---|---|---|\n");
    for (int i = 0; i < NN; i++) {
        for (int m = MAYDAY_FS; m <= MAYDAY_SIG; m++) {
            cell *c = &cells[m][i];
            double rest[MAXRUNS];
            for (int r = 0; r < runs; r++)
                rest[r] = c->ms[r] < 0 ? -1 : c->ms[r] - c->handoff_ms[r];
            printf("| %d | %s | %.3f | %.3f | %.3f | %.3f |\n", ns[i],
                   mode_name[m] + 7, med(c->ms, 0, 0), med(c->handoff_ms, 0, 0),
                   med(c->suspend_ms, 0, 0), med(rest, 0, 0));
        }
    }
    int exc = 1;
    for (int i = 0; i < NN; i++)
        exc &=
            cells[MAYDAY_FS][i].exc_thread && cells[MAYDAY_NOFS][i].exc_thread;
    int sig = 1;
    for (int i = 0; i < NN; i++)
        sig &= cells[MAYDAY_SIG][i].ok == 0 || !cells[MAYDAY_SIG][i].exc_thread;
    printf("\n(fsync and no fsync reports written by the exception thread: "
           "%s; signal mode ones in the handler: %s)\n",
           exc ? "all" : "NOT all", sig ? "all" : "NOT all");

    printf("\n### Baselines' time split (median ms)\n\n");
    printf("| N workers | baseline | total | fault -> walk done | file: open, "
           "write (backtrace_symbols_fd: dladdr per frame), close |\n");
    printf("|---|---|---|---|---|\n");
    for (int i = 0; i < NN; i++) {
        for (int m = GLIBC; m < FLOOR; m++) {
            cell *c = &cells[m][i];
            double rest[MAXRUNS];
            for (int r = 0; r < runs; r++)
                rest[r] = c->ms[r] < 0 ? -1 : c->ms[r] - c->walked_ms[r];
            printf("| %d | %s | %.3f | %.3f | %.3f |\n", ns[i], mode_name[m],
                   med(c->ms, 0, 0), med(c->walked_ms, 0, 0), med(rest, 0, 0));
        }
    }

    printf("\n### Ratios (median of per-round ratios, same run)\n\n");
    printf("| N workers | mayday fsync / no fsync | mayday no fsync / glibc "
           "warm | mayday no fsync / libunwind warm | glibc cold / warm | "
           "libunwind cold / warm | mayday no fsync: N / N=1 | mayday signal "
           "mode / exception thread (no fsync) | mayday no fsync / floor "
           "|\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NN; i++) {
        printf("| %d | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | "
               "%.2f |\n",
               ns[i], ratio(cells[MAYDAY_FS][i].ms, cells[MAYDAY_NOFS][i].ms),
               ratio(cells[MAYDAY_NOFS][i].ms, cells[GLIBC_W][i].ms),
               ratio(cells[MAYDAY_NOFS][i].ms, cells[UNW_W][i].ms),
               ratio(cells[GLIBC][i].ms, cells[GLIBC_W][i].ms),
               ratio(cells[UNW][i].ms, cells[UNW_W][i].ms),
               ratio(cells[MAYDAY_NOFS][i].ms, cells[MAYDAY_NOFS][0].ms),
               ratio(cells[MAYDAY_SIG][i].ms, cells[MAYDAY_NOFS][i].ms),
               ratio(cells[MAYDAY_NOFS][i].ms, cells[FLOOR][i].ms));
    }

    /* What one more thread costs: (median at N - median at the smallest
     * N) / (N - smallest N), for mayday and the floor. */
    printf("\n### Cost per extra thread, us (from the medians: (N - N=%d) "
           "/ (N - %d))\n\n",
           ns[0], ns[0]);
    printf("| N workers | mayday (fsync) | mayday (no fsync) | mayday signal "
           "mode (no fsync) | floor | mayday no fsync / floor | bytes per "
           "extra thread, mayday |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int i = 1; i < NN; i++) {
        double d = ns[i] - ns[0], per[4];
        const int m4[4] = {MAYDAY_FS, MAYDAY_NOFS, MAYDAY_SIG, FLOOR};
        for (int k = 0; k < 4; k++)
            per[k] = (med(cells[m4[k]][i].ms, 0, 0) -
                      med(cells[m4[k]][0].ms, 0, 0)) *
                     1000.0 / d;
        printf("| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", ns[i],
               per[0], per[1], per[2], per[3],
               per[3] > 0 ? per[1] / per[3] : 0.0,
               (med(cells[MAYDAY_NOFS][i].bytes, 0, 0) -
                med(cells[MAYDAY_NOFS][0].bytes, 0, 0)) /
                   d);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_crash [--runs R] [--plain PATH] "
                    "[--keep DIR] [--tmp DIR] [--threads N,N,...] "
                    "[--max-report-bytes B]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "child"))
        return child((uint32_t)strtoul(argv[2], 0, 0), atoi(argv[3]),
                     atoi(argv[4]), argv[5]);
    const char *tmpbase = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--plain"))
            plain = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = argv[++i];
        else if (!strcmp(argv[i], "--tmp"))
            tmpbase = argv[++i];
        else if (!strcmp(argv[i], "--max-report-bytes"))
            setenv("BENCH_CRASH_MAX_REPORT_BYTES", argv[++i], 1);
        else if (!strcmp(argv[i], "--threads")) {
            char *p = argv[++i];
            NN = 0;
            while (*p) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p || v < 1 || v > 4000 || NN == MAXN)
                    usage();
                ns[NN++] = (int)v;
                if (*end == ',')
                    end++;
                else if (*end)
                    usage();
                p = end;
            }
            if (NN < 1)
                usage();
        } else
            usage();
    }
    if (runs < 1 || runs > MAXRUNS)
        usage();
    static char plain_buf[PATH_MAX];
    if (bu_self_and_sibling(self, sizeof self, "bench_plain", plain_buf,
                            sizeof plain_buf) < 0)
        return 1;
    if (!plain)
        plain = plain_buf;
    char *tmp = bu_mkdtemp(tmpbase, "crash");
    int pagefd;
    bu_page *page = bu_page_create(&pagefd);
    if (!tmp || !page) {
        perror("bench_crash: setup");
        return 1;
    }
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < NN; i++) {
            for (int k = 0; k < NMODES; k++) /* rotate the order */
                run_one((k + r) % NMODES, i, r, tmp, page, pagefd);
        }
    }
    print_tables();
    bu_rmtree(tmp);
    free(tmp);
    return 0;
}
