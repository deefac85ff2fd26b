/*
 * bench_capture.c - what the report contents of issue 11 cost: report size
 * and fault -> report written, at 1, 16 and 128 worker threads, with
 *
 *   none       none of it (no stack memory, FP registers, memory map,
 *              windows, /proc states): the report as before issue 11;
 *   stack off  everything but stack memory;
 *   default    mayday_config_init()'s defaults;
 *   large      stack_bytes 64 KiB, crashed_stack_bytes 256 KiB, budget
 *              256 MiB (every stack up to its top, as far as it goes);
 *
 * all without fsync (MAYDAY_FLAG_NO_FSYNC: the fsync's 0.5-1.5 ms of disk
 * noise would hide the differences), plus "default, fsync" as shipped.
 * Harness as bench_crash (design brief section 4): N workers, each 32
 * frames deep and blocked in read(); the main thread stores through NULL;
 * fault -> on_crash callback; a fresh process per run; rounds interleave
 * every mode and N. Sizes are split by what the report holds (stack bytes,
 * FP bytes, memory map, windows), measured with protobuf-c on the report.
 *
 * A second table times the copying pieces alone (--micro M, in this
 * process, M calls each): reading and parsing /proc/self/maps with 1, 16
 * and 128 worker threads, and copying 1, 8 and 64 KiB of a thread's stack
 * with the page-by-page process_vm_readv the crash path uses.
 *
 *   bench_capture [--runs R] [--micro M] [--tmp DIR]
 *   bench_capture child MODE N PAGEFD DIR
 *
 * Context: benchmark program (normal context); the child's on_crash
 * callback runs on the crash path (clock_gettime, plain stores, memcpy).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "crash/capture/capture.h"
#include "crash/handler/state.h"
#include "mayday.pb-c.h"
#include "normal/reader/reader.h"
#include "mayday/mayday.h"

enum { M_NONE, M_NOSTACK, M_DEFAULT, M_LARGE, M_FSYNC, NMODES };
static const char *mode_name[NMODES] = {"none", "stack off", "default",
                                        "large cap", "default, fsync"};

static bu_page *g_page;
static char self[PATH_MAX]; /* this program, for its children */

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

static void configure(mayday_config *cfg, int mode);

/* ------------------------------------------------------------ micro */

static int micro_runs = 200;

static double time_us(void (*fn)(void *), void *arg, int n)
{
    static double t[4096];
    if (n > 4096)
        n = 4096;
    for (int i = 0; i < n; i++) {
        uint64_t t0 = bu_now_ns();
        fn(arg);
        t[i] = (double)(bu_now_ns() - t0) / 1e3;
    }
    return bu_median_dbl(t, (size_t)n);
}

static void maps_once(void *c) { mds_maps_capture(c); }

static unsigned char copy_buf[64 * 1024];
static size_t copy_len;

static void copy_once(void *src)
{
    mds_read_prefix(copy_buf, (uintptr_t)src, copy_len);
}

static void micro_bench(const char *tmp)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = tmp;
    if (mayday_install(&cfg) < 0)
        return;
    mds_capture *c = mds_g.work_exc.capture;
    printf("\n### The pieces alone, in this process (median of %d calls, "
           "us)\n\n",
           micro_runs);
    printf("| N workers | mappings | /proc/self/maps read + parsed | per "
           "mapping |\n|---|---|---|---|\n");
    static const int nn[3] = {1, 16, 128};
    int have = 0;
    for (int ni = 0; ni < 3; ni++) {
        if (bu_start_workers(nn[ni] - have, 32) < 0)
            break;
        have = nn[ni];
        double us = time_us(maps_once, c, micro_runs);
        printf("| %d | %u | %.1f | %.2f |\n", nn[ni], c->nmaps, us,
               c->nmaps ? us / c->nmaps : 0);
    }
    static unsigned char stack_like[64 * 1024];
    memset(stack_like, 1, sizeof stack_like);
    printf("\n| stack bytes copied (process_vm_readv, one iovec per page) "
           "| us |\n|---|---|\n");
    static const size_t lens[3] = {1024, 8192, 65536};
    for (int i = 0; i < 3; i++) {
        copy_len = lens[i];
        printf("| %zu | %.2f |\n", lens[i],
               time_us(copy_once, stack_like, micro_runs));
    }
    mayday_uninstall();
}

static void configure(mayday_config *cfg, int mode)
{
    if (mode != M_FSYNC)
        cfg->flags |= MAYDAY_FLAG_NO_FSYNC;
    if (mode == M_NONE || mode == M_NOSTACK)
        cfg->stack_bytes = cfg->crashed_stack_bytes = 0;
    if (mode == M_NONE) {
        cfg->pointer_window_bytes = 0;
        cfg->capture_flags = MAYDAY_CAPTURE_NO_FP | MAYDAY_CAPTURE_NO_MAPS |
                             MAYDAY_CAPTURE_NO_PROC_STATE;
    }
    if (mode == M_LARGE) {
        cfg->stack_bytes = 64u << 10;
        cfg->crashed_stack_bytes = 256u << 10;
        cfg->stack_budget_bytes = 256u << 20;
        cfg->max_report_bytes = 256u << 20;
    }
}

static int child(int mode, int n, int pagefd, const char *dir)
{
    g_page = bu_page_attach(pagefd);
    if (!g_page)
        return 3;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.app_id = "bench_capture";
    cfg.app_version = "1";
    cfg.on_crash = on_crash;
    configure(&cfg, mode);
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "bench_capture: install: %s\n", mayday_strerror(r));
        return 3;
    }
    if (bu_start_workers(n, 32) < 0)
        return 4;
    g_page->t_fault = bu_now_ns();
    bu_null_store();
    return 5;
}

#define NN 3
static const int ns[NN] = {1, 16, 128};
#define MAXRUNS 64

typedef struct cell {
    int ok;
    double ms[MAXRUNS], bytes[MAXRUNS];
    double stack[MAXRUNS], fp[MAXRUNS], maps[MAXRUNS], win[MAXRUNS];
    double crashed_stack[MAXRUNS], nmaps[MAXRUNS];
    int threads, complete, budget_hit;
} cell;

static cell cells[NMODES][NN];
static int runs = 9;

static void inspect(cell *c, int round, const char *path)
{
    mayday_report *rep = 0;
    if (mayday_report_load(path, &rep) < 0) {
        fprintf(stderr, "bench_capture: cannot load %s\n", path);
        return;
    }
    const Mayday__Report *m = md_report_pb(rep);
    double st = 0, fp = 0, win = 0, maps = 0, cst = 0;
    for (size_t i = 0; i < m->n_threads; i++) {
        const Mayday__Thread *t = m->threads[i];
        if (t->stack) {
            st += (double)t->stack->data.len;
            if (t->crashed)
                cst = (double)t->stack->data.len;
        }
        if (t->fp)
            fp += (double)t->fp->data.len;
        for (size_t k = 0; k < t->n_memory; k++)
            win += (double)t->memory[k]->data.len;
    }
    for (size_t i = 0; i < m->n_mappings; i++)
        maps += (double)mayday__mapping__get_packed_size(m->mappings[i]) + 3;
    c->stack[round] = st;
    c->crashed_stack[round] = cst;
    c->fp[round] = fp;
    c->win[round] = win;
    c->maps[round] = maps;
    c->nmaps[round] = (double)m->n_mappings;
    c->threads = (int)m->n_threads;
    c->budget_hit |= m->stack_budget_exhausted;
    mayday_report_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    mayday_report_get_info(rep, &info);
    c->complete = info.complete;
    mayday_report_free(rep);
}

static void run_one(int mode, int ni, int round, const char *tmp, bu_page *page,
                    int pagefd)
{
    cell *c = &cells[mode][ni];
    char a_m[8], a_n[16], a_fd[16];
    snprintf(a_m, sizeof a_m, "%d", mode);
    snprintf(a_n, sizeof a_n, "%d", ns[ni]);
    snprintf(a_fd, sizeof a_fd, "%d", pagefd);
    bu_page_reset(page);
    c->ms[round] = c->bytes[round] = -1;
    c->stack[round] = c->fp[round] = c->maps[round] = c->win[round] = -1;
    c->crashed_stack[round] = c->nmaps[round] = -1;
    char *argv[] = {self, "child", a_m, a_n, a_fd, (char *)tmp, 0};
    int st = bu_run(argv, 20000, -1);
    if (st == -1 || !WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV || !page->ok ||
        !page->t_written) {
        fprintf(stderr, "bench_capture: %s N=%d round %d failed (%#x)\n",
                mode_name[mode], ns[ni], round, st);
        return;
    }
    struct stat sb;
    if (stat(page->path, &sb) < 0)
        return;
    c->ms[round] = (double)(page->t_written - page->t_fault) / 1e6;
    c->bytes[round] = (double)sb.st_size;
    c->ok++;
    inspect(c, round, page->path);
    unlink(page->path);
}

static double med(const double *v)
{
    double t[MAXRUNS];
    size_t n = 0;
    for (int i = 0; i < runs; i++)
        if (v[i] >= 0)
            t[n++] = v[i];
    return bu_median_dbl(t, n);
}

/* Median over rounds of a[r] - b[r]. */
static double diff(const double *a, const double *b)
{
    double t[MAXRUNS];
    size_t n = 0;
    for (int i = 0; i < runs; i++)
        if (a[i] >= 0 && b[i] >= 0)
            t[n++] = a[i] - b[i];
    return bu_median_dbl(t, n);
}

static void print_tables(void)
{
    printf("### Report size and fault -> report written (median of %d fresh "
           "processes; no fsync unless said)\n\n",
           runs);
    printf("| N workers | mode | report bytes | ms | ms added vs none "
           "(median of per-round differences) | threads | complete |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NN; i++)
        for (int m = 0; m < NMODES; m++) {
            cell *c = &cells[m][i];
            printf("| %d | %s | %.0f | %.3f | %+.3f | %d | %s%s |\n", ns[i],
                   mode_name[m], med(c->bytes), med(c->ms),
                   m == M_NONE ? 0.0 : diff(c->ms, cells[M_NONE][i].ms),
                   c->threads, c->complete ? "yes" : "NO",
                   c->ok < runs ? " (failed runs)" : "");
        }
    printf("\n### What the bytes are (median bytes per report)\n\n");
    printf("| N workers | mode | stack memory, all threads | of which the "
           "crashed thread | FP registers | memory map (mappings) | "
           "windows near pointers | budget exhausted |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NN; i++)
        for (int m = 0; m < NMODES; m++) {
            cell *c = &cells[m][i];
            printf("| %d | %s | %.0f | %.0f | %.0f | %.0f (%.0f) | %.0f | %s "
                   "|\n",
                   ns[i], mode_name[m], med(c->stack), med(c->crashed_stack),
                   med(c->fp), med(c->maps), med(c->nmaps), med(c->win),
                   c->budget_hit ? "yes" : "no");
        }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_capture [--runs R] [--micro M] [--tmp DIR]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "child"))
        return child(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5]);
    const char *tmpbase = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tmp"))
            tmpbase = argv[++i];
        else if (!strcmp(argv[i], "--micro"))
            micro_runs = atoi(argv[++i]);
        else
            usage();
    }
    if (runs < 0 || runs > MAXRUNS)
        usage();
    char sib[PATH_MAX];
    if (bu_self_and_sibling(self, sizeof self, "bench_plain", sib, sizeof sib) <
        0)
        return 1;
    char *tmp = bu_mkdtemp(tmpbase, "capture");
    int pagefd;
    bu_page *page = bu_page_create(&pagefd);
    if (!tmp || !page) {
        perror("bench_capture: setup");
        return 1;
    }
    for (int r = 0; r < runs; r++)
        for (int i = 0; i < NN; i++)
            for (int k = 0; k < NMODES; k++)
                run_one((k + r) % NMODES, i, r, tmp, page, pagefd);
    if (runs)
        print_tables();
    if (micro_runs > 0)
        micro_bench(tmp);
    bu_rmtree(tmp);
    free(tmp);
    return 0;
}
