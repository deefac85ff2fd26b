/*
 * crash_demo.c - the smallest complete use of mayday: install at startup,
 * annotate, leave breadcrumbs, crash in a way chosen on the command line;
 * at the next launch (--report) print and purge the pending reports.
 *
 *   crash_demo [--dir DIR] --crash null-write|null-read|abort|fpe|ill|
 *                                  overflow|thread-overflow
 *   crash_demo [--dir DIR] --report
 *
 * DIR defaults to $MAYDAY_DEMO_DIR, else ./mayday-reports.
 *
 * Context: an application (normal context).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mayday/mayday.h"

static volatile int *volatile null_ptr;

struct config {
    const char *name;
    int *values;
};

/* A small call chain so the report has something to show. */
__attribute__((noinline)) static int parse_config(struct config *cfg,
                                                  const char *kind)
{
    if (!strcmp(kind, "null-write"))
        *null_ptr = 42; /* the crash: writing through NULL */
    if (!strcmp(kind, "null-read"))
        return *null_ptr;
    if (!strcmp(kind, "abort"))
        abort();
    if (!strcmp(kind, "fpe")) {
        /* Both operands volatile: with a constant dividend gcc -O2 may
         * select the result with a cmov and never divide. */
        volatile int one = 1, zero = 0;
        return one / zero;
    }
    if (!strcmp(kind, "ill"))
#if defined(__aarch64__)
        __asm__ volatile("udf #0"); /* __builtin_trap is brk: SIGTRAP */
#else
        __builtin_trap();
#endif
    return cfg->values[0];
}

__attribute__((noinline)) static int recurse(int n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    if (n == -1) /* never: keeps the compiler from calling it endless */
        return 0;
    return recurse(n + 1) + frame[0];
}

static void *overflow_thread(void *arg)
{
    (void)arg;
    recurse(0);
    return 0;
}

__attribute__((noinline)) static int run_app(const char *kind)
{
    struct config cfg = {"demo", 0};
    mayday_breadcrumb("loading configuration");
    if (!strcmp(kind, "overflow"))
        return recurse(0);
    if (!strcmp(kind, "thread-overflow")) {
        pthread_t t;
        pthread_create(&t, 0, overflow_thread, 0);
        pthread_join(t, 0);
    }
    int r = parse_config(&cfg, kind);
    mayday_breadcrumb("configuration loaded"); /* not a tail call */
    return r;
}

static int report(const char *dir)
{
    char **paths;
    size_t n;
    int r = mayday_reports_list(dir, &paths, &n);
    if (r < 0) {
        fprintf(stderr, "crash_demo: %s: %s\n", dir, mayday_strerror(r));
        return 1;
    }
    printf("%zu pending report(s) in %s\n", n, dir);
    for (size_t i = 0; i < n; i++) {
        mayday_report *rep;
        printf("\n--- %s\n", paths[i]);
        r = mayday_report_load(paths[i], &rep);
        if (r < 0) {
            /* Keep what we cannot read: someone may want to look. */
            fprintf(stderr, "crash_demo: %s: %s (kept)\n", paths[i],
                    mayday_strerror(r));
            continue;
        }
        mayday_report_format(rep, MAYDAY_FORMAT_TEXT, stdout);
        mayday_report_free(rep);
        /* An application would upload it first (see upload.c). */
        if (!getenv("CRASH_DEMO_KEEP"))
            mayday_report_purge(paths[i]);
    }
    mayday_reports_list_free(paths, n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("MAYDAY_DEMO_DIR");
    const char *kind = 0;
    int want_report = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--crash") && i + 1 < argc)
            kind = argv[++i];
        else if (!strcmp(argv[i], "--report"))
            want_report = 1;
        else {
            fprintf(stderr, "usage: crash_demo [--dir DIR] "
                            "(--crash KIND | --report)\n");
            return 2;
        }
    }
    if (!dir)
        dir = "mayday-reports";
    if (want_report)
        return report(dir);
    if (!kind) {
        fprintf(stderr, "crash_demo: say --crash KIND or --report\n");
        return 2;
    }

    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.app_id = "crash_demo";
    cfg.app_version = MAYDAY_VERSION_STRING;
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "crash_demo: mayday_install: %s\n",
                mayday_strerror(r));
        return 1;
    }
    mayday_annotate("crash.kind", kind);
    mayday_annotate("user", "demo-user");
    printf("crash_demo: mayday %s installed, reports go to %s; crashing "
           "(%s)...\n",
           mayday_version(), dir, kind);
    fflush(stdout);
    return run_app(kind);
}
