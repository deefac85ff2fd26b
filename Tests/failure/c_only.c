/*
 * c_only.c - a plain C program using mayday the way a C user does: built
 * and linked as C against libmayday only (static or shared), no C++
 * anywhere. Installs, declares a fatal error, and dies of SIGABRT; with
 * "segv" it writes through NULL instead.
 *
 *   c_only DIR [segv]
 *
 * Context: a test program (normal code that fails on purpose).
 */
#include <stdio.h>
#include <string.h>

#include "mayday/mayday.h"

static volatile int *volatile g_null;

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    cfg.app_id = "c_only";
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "c_only: %s\n", mayday_strerror(r));
        return 91;
    }
    int w = mayday_heartbeat_start("c-main", 60000);
    if (w < 0 || mayday_heartbeat(w) != 0)
        return 92;
    if (argc > 2 && !strcmp(argv[2], "segv"))
        *g_null = 1;
    mayday_fatalf("c_only: %s", "plain C");
}
