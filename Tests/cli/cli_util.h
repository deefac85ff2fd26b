/*
 * cli_util.h - helpers for tests that run programs: run a command with its
 * output captured, find MARKER lines in a source file, read a build-id
 * with readelf (independent of the code under test).
 *
 * Context: tests only.
 */
#ifndef MD_TEST_CLI_UTIL_H
#define MD_TEST_CLI_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu.h"

/* Reads a whole file into a malloc'ed string ("" if unreadable). */
static inline char *cu_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (f) {
        char tmp[8192];
        size_t k;
        while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
            fwrite(tmp, 1, k, m);
        fclose(f);
    }
    fclose(m);
    return buf;
}

/* Runs argv (argv[0] a path) with stdin from in_path (or /dev/null),
 * capturing stdout and stderr. Returns the exit status, or 1000 + signal
 * number if it died by a signal. host: argv[0] is a build-machine tool
 * that only reads the target programs it is given (sentry-cli): run as
 * it is, where mdt_execv would put the emulator before such an argument. */
static inline int cu_run_ex(char *const argv[], const char *in_path,
                            char **out, char **err, int host)
{
    char o[] = "/tmp/mayday-cu-out-XXXXXX", e[] = "/tmp/mayday-cu-err-XXXXXX";
    int fo = mkstemp(o), fe = mkstemp(e);
    if (fo < 0 || fe < 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        /* Programs that crash on purpose leave no core file behind. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        int fi = open(in_path ? in_path : "/dev/null", O_RDONLY);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        if (host)
            execv(argv[0], argv);
        else
            mdt_execv(argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    close(fo);
    close(fe);
    char *so = cu_slurp(o), *se = cu_slurp(e);
    unlink(o);
    unlink(e);
    if (out)
        *out = so;
    else
        free(so);
    if (err)
        *err = se;
    else
        free(se);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static inline int cu_run(char *const argv[], const char *in_path, char **out,
                         char **err)
{
    return cu_run_ex(argv, in_path, out, err, 0);
}

/* Runs a shell command; its exit status. */
static inline int cu_sh(const char *fmt, const char *a, const char *b)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Line number of the line containing "/\* tag *\/" in a source file. */
static inline int cu_marker_line(const char *src, const char *tag)
{
    char want[128], line[1024];
    snprintf(want, sizeof(want), "/* %s */", tag);
    FILE *f = fopen(src, "r");
    int n = 0, found = 0;
    while (f && fgets(line, sizeof(line), f)) {
        n++;
        /* skip the header comment's mentions (" * ..." lines) */
        if (strstr(line, want) && !strstr(line, " *   ")) {
            found = n;
            break;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* The build-id of an ELF file as hex, from `readelf -n`. */
static inline int cu_build_id(const char *path, char *hex, size_t n)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    char line[512];
    int ok = -1;
    while (p && fgets(line, sizeof(line), p)) {
        char *s = strstr(line, "Build ID: ");
        if (s && ok < 0) {
            s += 10;
            s[strcspn(s, " \r\n")] = '\0';
            snprintf(hex, n, "%s", s);
            ok = 0;
        }
    }
    if (p)
        pclose(p);
    return ok;
}

/* The line of text starting with prefix (copied into buf), or NULL. */
static inline char *cu_line_starting(const char *text, const char *prefix,
                                     char *buf, size_t n)
{
    size_t pl = strlen(prefix);
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len >= pl && strncmp(l, prefix, pl) == 0) {
            snprintf(buf, n, "%.*s", (int)len, l);
            return buf;
        }
        l = e ? e + 1 : NULL;
    }
    return NULL;
}

#endif
