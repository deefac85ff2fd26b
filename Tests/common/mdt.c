/*
 * mdt.c - test helpers (see mdt.h).
 *
 * Context: test code (normal context).
 */
#include "mdt.h"
#include "emu.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *mdt_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *p = 0;
    if (asprintf(&p, "%s/mayday-%s-XXXXXX", base ? base : "/tmp", tag) < 0)
        return 0;
    if (!mkdtemp(p)) {
        free(p);
        return 0;
    }
    return p;
}

void mdt_rmtree(const char *dir)
{
    char *cmd = 0;
    if (!dir || asprintf(&cmd, "rm -rf '%s'", dir) < 0)
        return;
    if (system(cmd) != 0)
        fprintf(stderr, "mdt: %s failed\n", cmd);
    free(cmd);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void (*mdt_unjam)(void);

int mdt_run(char *const argv[], char *const env[], int timeout_ms, int *hung,
            const char *out_path)
{
    *hung = 0;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        /* No core files from the scenarios (a test that wants one sets
         * its own limit in the child). */
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        if (out_path) {
            int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        mdt_execv(argv);
        _exit(127);
    }
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() >= deadline) {
            *hung = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            for (int i = 0; i < 1000; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                    return status;
                usleep(2000);
            }
            if (mdt_unjam)
                mdt_unjam();
            waitpid(pid, &status, 0);
            return status;
        }
        usleep(2000);
    }
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

int mdt_count_reports(const char *dir, char *first, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, ".mayday"))
            continue;
        if (n++ == 0 && first)
            snprintf(first, cap, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int mdt_list_reports(const char *dir, char (*paths)[4096], int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (has_suffix(e->d_name, ".mayday"))
            snprintf(paths[n++], 4096, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(paths, (size_t)n, 4096, cmp_paths);
    return n;
}

/* zlib's CRC-32, bit by bit, written here again on purpose: the test
 * must not trust the library's own. */
static uint32_t crc32_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

Mayday__Report *mdt_load_report(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mdt: cannot open %s\n", path);
        return 0;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)(n > 0 ? n : 1));
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    Mayday__Report *r = 0;
    if (n < 16 || got != (size_t)n || memcmp(buf, "MAYDAY", 6) != 0 ||
        buf[6] != 1) {
        fprintf(stderr, "mdt: %s: bad header\n", path);
        goto out;
    }
    uint32_t len = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 |
                   (uint32_t)buf[10] << 16 | (uint32_t)buf[11] << 24;
    uint32_t crc = (uint32_t)buf[12] | (uint32_t)buf[13] << 8 |
                   (uint32_t)buf[14] << 16 | (uint32_t)buf[15] << 24;
    if ((long)len + 16 != n) {
        fprintf(stderr, "mdt: %s: length %u vs file %ld\n", path, len, n);
        goto out;
    }
    if (crc32_ref(buf + 16, len) != crc) {
        fprintf(stderr, "mdt: %s: CRC mismatch\n", path);
        goto out;
    }
    r = mayday__report__unpack(0, len, buf + 16);
    if (!r)
        fprintf(stderr, "mdt: %s: protobuf-c cannot unpack\n", path);
out:
    free(buf);
    return r;
}

int mdt_symbol(const char *binary, const char *sym, uint64_t *off,
               uint64_t *size)
{
    char *cmd = 0;
    if (asprintf(&cmd, "nm -S --defined-only '%s'", binary) < 0)
        return -1;
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (!p)
        return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, p)) {
        unsigned long long a, s;
        char type, name[256];
        if (sscanf(line, "%llx %llx %c %255s", &a, &s, &type, name) == 4 &&
            strcmp(name, sym) == 0) {
            *off = a;
            *size = s;
            found = 0;
        }
    }
    pclose(p);
    return found;
}

const Mayday__Image *mdt_main_image(const Mayday__Report *r)
{
    for (size_t i = 0; i < r->n_images; i++) {
        if (r->images[i]->has_main_program && r->images[i]->main_program)
            return r->images[i];
    }
    return 0;
}

int mdt_frames_in(const Mayday__Thread *t, uint64_t lo, uint64_t hi)
{
    int n = 0;
    for (size_t i = 0; i < t->n_frames; i++) {
        uint64_t pc = t->frames[i]->pc;
        if (pc >= lo && pc < hi)
            n++;
    }
    return n;
}

char *mdt_build_path(const char *rel)
{
    const char *b = getenv("MAYDAY_BINARY_DIR");
    char *p = 0;
    if (asprintf(&p, "%s/%s", b ? b : ".", rel) < 0)
        return 0;
    return p;
}

int mdt_repeat(int def)
{
    const char *s = getenv("MAYDAY_REPEAT");
    int n = s ? atoi(s) : 0;
    return n > 0 ? n : def;
}

uint64_t mdt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
