/*
 * bench_decode.c - the decoder's speed (issue 14), on real reports that
 * bench_crash --keep left in DIR:
 *
 *   a. formatting alone: one report loaded once, formatted again and
 *      again to /dev/null, without symbols; MB/s of output and of report
 *      files, per thread count (JSON, text);
 *   b. the `mayday decode` CLI in batch: the smallest report copied
 *      BATCH times (default 200) into a directory and decoded by one
 *      process (text and JSON, with and without /usr/lib/debug), wall
 *      time; the files are passed as operands, which every version of the
 *      CLI accepts;
 *   c. `mayday decode FILE` on the largest report (the 128-thread one),
 *      wall time of the process.
 *
 * Every figure is the median of --runs measurements; throughputs loop for
 * at least --min-ms each.
 *
 *   bench_decode DIR --cli PATH [--runs R] [--min-ms T] [--batch N]
 *
 * Context: benchmark program (normal context).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "mayday/mayday.h"

#define MAXG 16

typedef struct group {
    uint32_t threads;
    char *file;
    double bytes;
} group;

static group groups[MAXG];
static int ngroups, runs = 5, min_ms = 300, batch = 200;
static const char *cli;

static int load_groups(const char *dir)
{
    char **paths;
    size_t n;
    if (mayday_reports_list(dir, &paths, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        mayday_report *r;
        struct stat sb;
        if (stat(paths[i], &sb) != 0 || mayday_report_load(paths[i], &r) < 0)
            continue;
        mayday_report_info info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        mayday_report_get_info(r, &info);
        mayday_report_free(r);
        int g = 0;
        while (g < ngroups && groups[g].threads != info.thread_count)
            g++;
        if (g == ngroups && ngroups < MAXG) {
            groups[ngroups].threads = info.thread_count;
            groups[ngroups].file = strdup(paths[i]);
            groups[ngroups++].bytes = (double)sb.st_size;
        }
    }
    mayday_reports_list_free(paths, n);
    for (int a = 0; a < ngroups; a++)
        for (int b = a + 1; b < ngroups; b++)
            if (groups[b].threads < groups[a].threads) {
                group t = groups[a];
                groups[a] = groups[b];
                groups[b] = t;
            }
    return ngroups ? 0 : -1;
}

/* Bytes of fmt output for r. */
static double out_bytes(const mayday_report *r, mayday_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -1;
    mayday_report_format(r, fmt, m);
    fclose(m);
    free(buf);
    return (double)len;
}

static double cpu_ms(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* CPU ms (user + system) of the last cli_ms() run; of one format in the
 * last format_rate(). */
static double g_last_cpu_ms, g_cpu_per_format_ms;

/* Formats per second of r as fmt to /dev/null. */
static double format_rate(const mayday_report *r, mayday_format fmt,
                          FILE *devnull)
{
    uint64_t t0 = bu_now_ns(), end = t0 + (uint64_t)min_ms * 1000000ull, now;
    long count = 0;
    double c0 = cpu_ms(RUSAGE_SELF);
    do {
        for (int i = 0; i < 4; i++)
            mayday_report_format(r, fmt, devnull);
        count += 4;
    } while ((now = bu_now_ns()) < end);
    g_cpu_per_format_ms = (cpu_ms(RUSAGE_SELF) - c0) / (double)count;
    return (double)count * 1e9 / (double)(now - t0);
}

/* Wall ms of `cli decode [extra...] files...`, -1 on failure. */
static double cli_ms(char **files, int nfiles, const char *a1, const char *a2,
                     const char *a3)
{
    char **av = calloc((size_t)nfiles + 6, sizeof(*av));
    int k = 0;
    av[k++] = (char *)cli;
    av[k++] = "decode";
    if (a1)
        av[k++] = (char *)a1;
    if (a2)
        av[k++] = (char *)a2;
    if (a3)
        av[k++] = (char *)a3;
    for (int i = 0; i < nfiles; i++)
        av[k++] = files[i];
    double c0 = cpu_ms(RUSAGE_CHILDREN);
    uint64_t t0 = bu_now_ns();
    int st = bu_run(av, 600000, -1);
    double ms = (double)(bu_now_ns() - t0) / 1e6;
    g_last_cpu_ms = cpu_ms(RUSAGE_CHILDREN) - c0;
    free(av);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ms : -1;
}

static void part_format(void)
{
    FILE *devnull = fopen("/dev/null", "we");
    printf("#### a. Formatting alone (no symbols), median of %d\n\n", runs);
    printf("| threads in report | report bytes | JSON bytes | JSON, "
           "reports/s | JSON, MB/s of output | JSON, MB/s of report | "
           "JSON, CPU ms per report | text bytes | text, reports/s | text, "
           "MB/s of output |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int g = 0; g < ngroups; g++) {
        mayday_report *r;
        if (mayday_report_load(groups[g].file, &r) < 0)
            continue;
        double jb = out_bytes(r, MAYDAY_FORMAT_JSON);
        double tb = out_bytes(r, MAYDAY_FORMAT_TEXT);
        double js[64], tx[64], jc[64];
        for (int i = 0; i < runs; i++) {
            js[i] = format_rate(r, MAYDAY_FORMAT_JSON, devnull);
            jc[i] = g_cpu_per_format_ms;
            tx[i] = format_rate(r, MAYDAY_FORMAT_TEXT, devnull);
        }
        double j = bu_median_dbl(js, (size_t)runs);
        double t = bu_median_dbl(tx, (size_t)runs);
        printf("| %u | %.0f | %.0f | %.0f | %.1f | %.1f | %.3f | %.0f | %.0f "
               "| %.1f |\n",
               groups[g].threads, groups[g].bytes, jb, j, j * jb / 1e6,
               j * groups[g].bytes / 1e6, bu_median_dbl(jc, (size_t)runs), tb,
               t, t * tb / 1e6);
        mayday_report_free(r);
    }
    fclose(devnull);
    printf("\n");
}

static void part_batch(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = bu_mkdtemp(tmp && tmp[0] ? tmp : "/tmp", "batch");
    char **files = calloc((size_t)batch, sizeof(*files));
    char *src = groups[0].file;
    for (int i = 0; i < batch && dir; i++) {
        char p[4096], cmd[8400];
        snprintf(p, sizeof p, "%s/r%04d.mayday", dir, i);
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, p);
        if (system(cmd) != 0)
            return;
        files[i] = strdup(p);
    }
    struct {
        const char *label, *a1, *a2, *a3;
    } cases[] = {
        {"text, system debug info (libc6-dbg)", NULL, NULL, NULL},
        {"JSON, system debug info", "--format", "json", NULL},
        {"text, --no-system-debug", "--no-system-debug", NULL, NULL},
        {"JSON, --no-system-debug", "--format", "json", "--no-system-debug"},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    printf("#### b. `mayday decode` of %d copies of a %u-thread report "
           "(%.0f bytes) in one process, wall time, median of %d\n\n",
           batch, groups[0].threads, groups[0].bytes, runs);
    printf("| case | total wall, s | ms per report | CPU (user+sys), s |\n"
           "|---|---|---|---|\n");
    for (size_t c = 0; c < nc; c++) {
        double v[64], cpu[64];
        int n = 0;
        for (int i = 0; i < runs; i++) {
            double ms =
                cli_ms(files, batch, cases[c].a1, cases[c].a2, cases[c].a3);
            if (ms >= 0) {
                cpu[n] = g_last_cpu_ms;
                v[n++] = ms;
            }
        }
        if (n == 0) {
            printf("| %s | failed | | |\n", cases[c].label);
            continue;
        }
        double m = bu_median_dbl(v, (size_t)n);
        printf("| %s | %.2f | %.2f | %.2f |\n", cases[c].label, m / 1e3,
               m / batch, bu_median_dbl(cpu, (size_t)n) / 1e3);
    }
    printf("\n");
    for (int i = 0; i < batch; i++)
        free(files[i]);
    free(files);
    if (dir)
        bu_rmtree(dir);
    free(dir);
}

static void part_large(void)
{
    group *g = &groups[ngroups - 1];
    printf("#### c. `mayday decode FILE` of one %u-thread report (%.0f "
           "bytes), wall time of the process, median of %d\n\n",
           g->threads, g->bytes, runs);
    printf("| case | wall, ms | CPU (user+sys), ms |\n|---|---|---|\n");
    const char *fmt[][2] = {{NULL, NULL}, {"--format", "json"}};
    for (int f = 0; f < 2; f++) {
        double v[64], cpu[64];
        int n = 0;
        for (int i = 0; i < runs; i++) {
            double ms = cli_ms(&g->file, 1, fmt[f][0], fmt[f][1], NULL);
            if (ms >= 0) {
                cpu[n] = g_last_cpu_ms;
                v[n++] = ms;
            }
        }
        printf("| %s | %.1f | %.1f |\n", f ? "JSON" : "text",
               n ? bu_median_dbl(v, (size_t)n) : -1.0,
               n ? bu_median_dbl(cpu, (size_t)n) : -1.0);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cli") && i + 1 < argc)
            cli = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc)
            min_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    if (!dir || !cli || runs < 1 || runs > 64 || batch < 1) {
        fprintf(stderr, "usage: bench_decode DIR --cli PATH [--runs R] "
                        "[--min-ms T] [--batch N]\n");
        return 2;
    }
    if (load_groups(dir) < 0) {
        fprintf(stderr, "bench_decode: no reports in %s\n", dir);
        return 1;
    }
    printf("### Decoder (issue 14): formatting, batch decode\n\n");
    part_format();
    part_batch();
    part_large();
    return 0;
}
