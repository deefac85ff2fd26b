/*
 * schema_check.c - collects JSON outputs in a temporary file and runs
 * the schema validator over them (see schema_check.h).
 *
 * Context: tests only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "schema_check.h"

static char g_path[64];
static FILE *g_file;
static size_t g_count;

void jm_schema_collect(const char *json, size_t len)
{
    if (!g_file) {
        snprintf(g_path, sizeof(g_path), "/tmp/mayday-schema-XXXXXX");
        int fd = mkstemp(g_path);
        if (fd < 0 || !(g_file = fdopen(fd, "w")))
            abort();
    }
    fwrite(json, 1, len, g_file);
    fputc('\n', g_file);
    g_count++;
}

int jm_schema_validate(void)
{
    if (!g_file)
        return 0;
    fclose(g_file);
    g_file = NULL;
    const char *src = getenv("MAYDAY_SOURCE_DIR");
    char cmd[8192];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 '%s/Tests/common/validate_json.py' "
             "'%s/docs/report.schema.json' '%s'",
             src ? src : ".", src ? src : ".", g_path);
    int st = system(cmd);
    printf("schema: %zu JSON outputs validated\n", g_count);
    g_count = 0;
    unlink(g_path);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}
