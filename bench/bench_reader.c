/*
 * bench_reader.c - the next-launch side: how fast real reports (those
 * bench_crash --keep left in DIR) are read back, grouped by the number of
 * threads in the report:
 *
 *   - mayday_report_load + mayday_report_free alone: reports per second,
 *     and of that the CRC-32 check (mds_crc32, the same function the
 *     crash path runs over the written report) on a buffer of the mean
 *     report size, ms;
 *   - mayday_report_load + mayday_report_format(JSON) to /dev/null +
 *     mayday_report_free: reports per second (and MB/s of report files);
 *   - the same with the text format, no symbols;
 *   - in-process symbolication (the CLI's own libdw symbolicator,
 *     Source/cli/symbolize.c, compiled in): mdc_sym_new + mdc_sym_load +
 *     mayday_report_format_ex(TEXT with symbols) + mdc_sym_free per report,
 *     ms per report; and with one mdc_sym reused for all reports;
 *   - `mayday decode FILE` > /dev/null: wall time of the CLI process per
 *     report (exec, libdw, symbolication, text), ms.
 *
 * Throughputs loop for at least --min-ms per measurement and are the
 * median of --runs measurements; per-report times are medians over runs x
 * files of the group.
 *
 *   bench_reader DIR [--cli PATH] [--runs R] [--min-ms T]
 *
 * Context: benchmark program (normal context).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "crash/core/writer.h"
#include "mayday/mayday.h"
#ifdef BENCH_HAVE_SYMBOLIZE
#include "cli/symbolize.h"
#endif

#define MAXG 16
#define MAXF 64
#define MAXS 512

typedef struct group {
    uint32_t threads;
    int n;
    char *files[MAXF];
    double bytes;
} group;

static group groups[MAXG];
static int ngroups;
static int runs = 5, min_ms = 200;
static FILE *devnull;

/* ms for mds_crc32 over `bytes` bytes (median of 21). */
static double crc_ms(size_t bytes)
{
    unsigned char *b = malloc(bytes);
    double t[21];
    if (!b)
        return -1;
    for (size_t i = 0; i < bytes; i++)
        b[i] = (unsigned char)(i * 131u);
    volatile uint32_t sink = 0;
    for (int i = 0; i < 21; i++) {
        uint64_t a = bu_now_ns();
        sink ^= mds_crc32(0, b, bytes);
        t[i] = (double)(bu_now_ns() - a) / 1e6;
    }
    (void)sink;
    free(b);
    return bu_median_dbl(t, 21);
}

/* Reports per second of load + format(fmt) + free over g's files;
 * fmt < 0: load + free only. */
static double rate(const group *g, int fmt)
{
    uint64_t t0 = bu_now_ns(), end = t0 + (uint64_t)min_ms * 1000000ull;
    long count = 0;
    uint64_t now;
    do {
        for (int i = 0; i < g->n; i++) {
            mayday_report *r;
            if (mayday_report_load(g->files[i], &r) < 0)
                return -1;
            if (fmt >= 0)
                mayday_report_format(r, (mayday_format)fmt, devnull);
            mayday_report_free(r);
            count++;
        }
    } while ((now = bu_now_ns()) < end);
    return (double)count * 1e9 / (double)(now - t0);
}

#ifdef BENCH_HAVE_SYMBOLIZE
/* ms for one report symbolicated in process; shared: reuse *sp. */
static double symbolicate(const char *file, mdc_sym **sp)
{
    uint64_t t0 = bu_now_ns();
    mdc_sym *s = sp && *sp ? *sp : mdc_sym_new(0, 0, "/usr/lib/debug");
    mayday_report *r;
    if (!s || mayday_report_load(file, &r) < 0)
        return -1;
    mayday_format_options fo;
    mayday_format_options_init(&fo);
    if (mdc_sym_load(s, r) == 0)
        mdc_sym_options(s, &fo);
    mayday_report_format_ex(r, MAYDAY_FORMAT_TEXT, &fo, devnull);
    mayday_report_free(r);
    if (sp)
        *sp = s;
    else
        mdc_sym_free(s);
    return (double)(bu_now_ns() - t0) / 1e6;
}
#endif

static double cli_ms(const char *cli, const char *file)
{
    char *av[] = {(char *)cli, "decode", (char *)file, 0};
    uint64_t t0 = bu_now_ns();
    int st = bu_run(av, 60000, -1);
    double ms = (double)(bu_now_ns() - t0) / 1e6;
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ms : -1;
}

static int load_groups(const char *dir)
{
    char **paths;
    size_t n;
    int rc = mayday_reports_list(dir, &paths, &n);
    if (rc < 0) {
        fprintf(stderr, "bench_reader: %s: %s\n", dir, mayday_strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        mayday_report *r;
        if (mayday_report_load(paths[i], &r) < 0)
            continue;
        mayday_report_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        mayday_report_get_info(r, &info);
        mayday_report_free(r);
        int g = 0;
        while (g < ngroups && groups[g].threads != info.thread_count)
            g++;
        if (g == ngroups) {
            if (ngroups == MAXG)
                continue;
            groups[ngroups++].threads = info.thread_count;
        }
        struct stat sb;
        if (groups[g].n < MAXF && stat(paths[i], &sb) == 0) {
            groups[g].files[groups[g].n++] = strdup(paths[i]);
            groups[g].bytes += (double)sb.st_size;
        }
    }
    mayday_reports_list_free(paths, n);
    for (int a = 0; a < ngroups; a++) { /* by thread count */
        for (int b = a + 1; b < ngroups; b++) {
            if (groups[b].threads < groups[a].threads) {
                group t = groups[a];
                groups[a] = groups[b];
                groups[b] = t;
            }
        }
        groups[a].bytes /= groups[a].n;
    }
    return ngroups ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *dir = 0, *cli = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cli") && i + 1 < argc)
            cli = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc)
            min_ms = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    if (!dir || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: bench_reader DIR [--cli PATH] [--runs R] "
                        "[--min-ms T]\n");
        return 2;
    }
    devnull = fopen("/dev/null", "we");
    if (!devnull || load_groups(dir) < 0) {
        fprintf(stderr, "bench_reader: no reports in %s\n", dir);
        return 1;
    }

    printf("### Reader: reports from bench_crash, median of %d "
           "measurements\n\n",
           runs);
    printf("| threads in report | reports | mean size, bytes | load+free, "
           "reports/s | of which CRC-32, ms/report | load+JSON+free, reports/s "
           "| MB/s | load+text (no symbols)+free, reports/s | "
           "in-process symbolicated text, ms/report (new context each) | "
           "same, one context reused | `mayday decode FILE`, ms/report "
           "(process wall time) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int gi = 0; gi < ngroups; gi++) {
        group *g = &groups[gi];
        double ld[64], js[64], tx[64];
        for (int r = 0; r < runs; r++) { /* interleaved */
            ld[r] = rate(g, -1);
            js[r] = rate(g, MAYDAY_FORMAT_JSON);
            tx[r] = rate(g, MAYDAY_FORMAT_TEXT);
        }
        double lr = bu_median_dbl(ld, (size_t)runs);
        double jr = bu_median_dbl(js, (size_t)runs);
        double tr = bu_median_dbl(tx, (size_t)runs);
        double sy[MAXS], sw[MAXS], cl[MAXS];
        size_t nsy = 0, nsw = 0, ncl = 0;
#ifdef BENCH_HAVE_SYMBOLIZE
        mdc_sym *shared = 0;
#endif
        for (int r = 0; r < runs; r++) {
            for (int i = 0; i < g->n && i < 2; i++) { /* slow: 2 a run */
#ifdef BENCH_HAVE_SYMBOLIZE
                double v = symbolicate(g->files[i], 0);
                if (v >= 0)
                    sy[nsy++] = v;
                v = symbolicate(g->files[i], &shared);
                if (v >= 0)
                    sw[nsw++] = v;
#endif
                if (cli) {
                    double c = cli_ms(cli, g->files[i]);
                    if (c >= 0)
                        cl[ncl++] = c;
                }
            }
        }
#ifdef BENCH_HAVE_SYMBOLIZE
        if (shared)
            mdc_sym_free(shared);
#endif
        printf("| %u | %d | %.0f | %.0f | %.3f | %.0f | %.1f | %.0f |",
               g->threads, g->n, g->bytes, lr, crc_ms((size_t)g->bytes), jr,
               jr * g->bytes / 1e6, tr);
        if (nsy)
            printf(" %.2f | %.2f |", bu_median_dbl(sy, nsy),
                   bu_median_dbl(sw, nsw));
        else
            printf(" n/a (built without libdw) | n/a |");
        if (ncl)
            printf(" %.1f (%zu runs) |\n", bu_median_dbl(cl, ncl), ncl);
        else
            printf(" %s |\n", cli ? "failed" : "n/a (no --cli)");
    }
    return 0;
}
