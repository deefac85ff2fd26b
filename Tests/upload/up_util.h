/*
 * up_util.h - helpers for the upload tests: a temporary report directory
 * with fixture reports (random UUIDs, known annotations), the loopback
 * test server (http_server.py: start, set its answer, read what it
 * recorded), and a default upload config pointing at it.
 *
 * Context: tests only.
 */
#ifndef MD_TEST_UP_UTIL_H
#define MD_TEST_UP_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "json_mini.h"
#include "mayday/upload.h"

typedef struct up_server {
    pid_t pid;
    int in_fd; /* its stdin: closing it ends the server */
    int port;
    char dir[256];
} up_server;

static inline char *up_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
        fwrite(tmp, 1, k, m);
    fclose(f);
    fclose(m);
    if (len)
        *len = n;
    return buf;
}

static inline void up_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

/* A fresh temporary directory. */
static inline void up_tmpdir(char *out, size_t n, const char *tag)
{
    snprintf(out, n, "/tmp/mayday-up-%s-XXXXXX", tag);
    if (!mkdtemp(out))
        abort();
}

static inline void up_rmrf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Writes a fixture report with a random UUID into dir; its path and UUID
 * (36 chars) in path/uuid. time_ms orders the reports. */
static inline void up_make_report(const char *dir, int64_t time_ms, char *path,
                                  size_t n, char uuid[37])
{
    fx_opts o;
    memset(&o, 0, sizeof(o));
    o.time_ns = time_ms * 1000000;
    Mayday__Report *r = fx_build(&o);
    uint8_t *u = r->header->uuid.data;
    if (getrandom(u, 16, 0) != 16)
        abort();
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    snprintf(uuid, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", u[i]);
    snprintf(path, n, "%s/%lld-%s.mayday", dir, (long long)time_ms, hex);
    if (fx_write_report(r, path) != 0)
        abort();
    fx_free(r);
}

/* Starts the server; with cert/key (PEM paths) it speaks HTTPS. */
static inline void up_server_start_tls(up_server *s, const char *dir,
                                       const char *cert, const char *key)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        abort();
    s->pid = fork();
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        if (cert)
            execl(PYTHON3, PYTHON3, HTTP_SERVER, dir, "120", cert, key,
                  (char *)NULL);
        else
            execl(PYTHON3, PYTHON3, HTTP_SERVER, dir, "120", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->in_fd = in[1];
    char line[64] = {0};
    size_t k = 0;
    while (k + 1 < sizeof(line) && read(out[0], line + k, 1) == 1 &&
           line[k] != '\n')
        k++;
    close(out[0]);
    if (sscanf(line, "PORT %d", &s->port) != 1) {
        fprintf(stderr, "test server did not start: '%s'\n", line);
        abort();
    }
}

static inline void up_server_start(up_server *s, const char *dir)
{
    up_server_start_tls(s, dir, NULL, NULL);
}

static inline void up_server_stop(up_server *s)
{
    close(s->in_fd);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

/* What the server answers from now on ("ok", "error", "429:5", ...). */
static inline void up_server_mode(const up_server *s, const char *mode)
{
    char p[300];
    snprintf(p, sizeof(p), "%s/mode", s->dir);
    up_write(p, mode);
}

/* Number of requests the server recorded. */
static inline int up_server_count(const up_server *s)
{
    int n = 0;
    for (;;) {
        char p[300];
        snprintf(p, sizeof(p), "%s/req-%d.json", s->dir, n + 1);
        if (access(p, F_OK) != 0)
            return n;
        n++;
    }
}

/* The parsed record of request n (jm_free it). */
static inline jm_node *up_server_req(const up_server *s, int n)
{
    char p[300];
    snprintf(p, sizeof(p), "%s/req-%d.json", s->dir, n);
    size_t len;
    char *t = up_slurp(p, &len);
    if (!t)
        return NULL;
    jm_node *j = jm_parse(t, len, NULL);
    free(t);
    return j;
}

/* A file the server saved (name from its record), malloc'ed. */
static inline char *up_server_file(const up_server *s, const char *name,
                                   size_t *len)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", s->dir, name);
    return up_slurp(p, len);
}

/* A minidump-form config for the server, short timeouts, tiny backoff. */
static inline void up_config(mayday_upload_config *c, const up_server *s,
                             uint32_t kind, char *url, size_t n)
{
    mayday_upload_config_init(c);
    if (kind == MAYDAY_UPLOAD_SENTRY)
        snprintf(url, n, "http://pubkey@127.0.0.1:%d/42", s->port);
    else
        snprintf(url, n, "http://127.0.0.1:%d/submit", s->port);
    c->kind = kind;
    c->url = url;
    c->timeout_ms = 3000;
    c->connect_timeout_ms = 2000;
    c->backoff_base_ms = 100;
    c->backoff_max_ms = 200;
    c->max_per_hour = 0;
    c->keep_uploaded_days = 0;
}

static inline int64_t up_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void up_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static inline mayday_upload_status up_status(const char *path)
{
    mayday_upload_status st;
    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (mayday_upload_get_status(path, &st) < 0)
        st.state = -1;
    return st;
}

#endif
