/*
 * common.h - small helpers shared by the reader tests: temp dirs, reading
 * files, formatting a report into a string.
 *
 * Context: tests only.
 */
#ifndef MD_TEST_READER_COMMON_H
#define MD_TEST_READER_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mayday/mayday.h"

/* A fresh directory under $TMPDIR or /tmp; aborts on failure. */
static inline char *tc_mkdtemp(const char *tag)
{
    const char *t = getenv("TMPDIR");
    char *p = malloc(4096);
    if (!p)
        abort();
    snprintf(p, 4096, "%s/mayday-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(p))
        abort();
    return p;
}

/* rm -rf of a test directory made by tc_mkdtemp. */
static inline void tc_rmtree(const char *dir)
{
    char cmd[4200];
    if (!dir || strncmp(dir, "/", 1) != 0 || !strstr(dir, "/mayday-"))
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static inline int tc_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The report formatted into a malloc'ed string. */
static inline char *tc_format(const mayday_report *r, mayday_format fmt,
                              const mayday_format_options *o, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    *rc = mayday_report_format_ex(r, fmt, o, f);
    fclose(f);
    return buf;
}

#endif
