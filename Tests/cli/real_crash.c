/*
 * real_crash.c - a program that installs mayday and crashes for real (the
 * crash handler writes the report), for the CLI tests on real reports.
 * The faulting store is on the CRASH_MARKER line, called from the
 * CALLER_MARKER line; the test finds both by scanning this file.
 *
 *   real_crash REPORT_DIR [segv|abort]
 *
 * Built with -g -O0. Context: test helper program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mayday/mayday.h>

volatile int *g_null_ptr;

static __attribute__((noinline)) void crash_here(void)
{
    *g_null_ptr = 42; /* CRASH_MARKER */
}

static __attribute__((noinline)) void caller(int do_abort)
{
    if (do_abort)
        abort();
    crash_here(); /* CALLER_MARKER */
    g_null_ptr = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    cfg.app_id = "real_crash";
    cfg.app_version = "1.0";
    int rc = mayday_install(&cfg);
    if (rc < 0) {
        fprintf(stderr, "mayday_install: %s\n", mayday_strerror(rc));
        return 3;
    }
    mayday_annotate("phase", "crashing");
    mayday_breadcrumb("about to crash");
    caller(argc > 2 && strcmp(argv[2], "abort") == 0);
    return 0;
}
