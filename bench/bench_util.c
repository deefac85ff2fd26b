/*
 * bench_util.c - helpers shared by the bench programs (see bench_util.h).
 *
 * Context: benchmark programs (normal context); bu_now_ns() and
 * bu_null_store() also run in / right before signal handlers.
 */
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t bu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

uint64_t bu_median_u64(uint64_t *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof v[0], cmp_u64);
    return v[n / 2];
}

double bu_median_dbl(double *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof v[0], cmp_dbl);
    return v[n / 2];
}

long bu_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    char line[256];
    size_t k = strlen(key);
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, k) && line[k] == ':') {
            v = strtol(line + k + 1, 0, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

void bu_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

bu_page *bu_page_create(int *fd)
{
    int f = (int)syscall(SYS_memfd_create, "bench-page", 0);
    if (f < 0 || ftruncate(f, sizeof(bu_page)) < 0)
        return 0;
    bu_page *p = bu_page_attach(f);
    if (p)
        *fd = f;
    return p;
}

bu_page *bu_page_attach(int fd)
{
    void *m =
        mmap(0, sizeof(bu_page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return m == MAP_FAILED ? 0 : m;
}

void bu_page_reset(bu_page *p) { memset((void *)p, 0, sizeof *p); }

int bu_run(char *const argv[], int timeout_ms, int out_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        int fd = out_fd >= 0 ? out_fd : open("/dev/null", O_WRONLY);
        if (fd >= 0 && fd != 1) {
            dup2(fd, 1);
            close(fd);
        }
        /* A cross build measured under an emulator (MAYDAY_EMULATOR,
         * e.g. qemu-aarch64): its programs run through it. */
        const char *emu = getenv("MAYDAY_EMULATOR");
        if (emu && *emu) {
            char *a[64] = {(char *)emu};
            for (int i = 0; argv[i] && i < 62; i++)
                a[i + 1] = argv[i];
            execvp(emu, a);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int status = 0;
    if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        int r;
        while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
            ;
        close(pfd);
        if (r == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "bench: %s timed out, killed\n", argv[0]);
            return -1;
        }
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

/* ------------------------------------------------------------ workers */

static int g_pipe[2] = {-1, -1};
static volatile int g_ready;

__attribute__((noinline)) static int worker_rec(int n)
{
    volatile int pad = n;
    int r;
    if (n <= 1) {
        char c;
        __atomic_fetch_add(&g_ready, 1, __ATOMIC_ACQ_REL);
        while (read(g_pipe[0], &c, 1) < 0 && errno == EINTR)
            ;
        r = 1;
    } else {
        r = worker_rec(n - 1);
    }
    __asm__ __volatile__("" ::: "memory");
    return r + pad % 2;
}

static void *worker_main(void *arg)
{
    worker_rec((int)(intptr_t)arg);
    return 0;
}

int bu_start_workers(int n, int depth)
{
    if (g_pipe[0] < 0 && pipe(g_pipe) < 0)
        return -1;
    int want = __atomic_load_n(&g_ready, __ATOMIC_ACQUIRE) + n;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, 0, worker_main, (void *)(intptr_t)depth))
            return -1;
        pthread_detach(t);
    }
    while (__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE) < want)
        bu_sleep_ms(1);
    bu_sleep_ms(10); /* the last ones from the counter into read() */
    return 0;
}

static volatile int *volatile g_null;

__attribute__((noinline)) void bu_null_store(void)
{
    *g_null = 42;
    __asm__ volatile("" ::: "memory");
}

/* ------------------------------------------------------------ dirs */

char *bu_mkdtemp(const char *base, const char *tag)
{
    char *p = 0;
    if (asprintf(&p, "%s/bench-%s-XXXXXX", base, tag) < 0)
        return 0;
    if (!mkdtemp(p)) {
        free(p);
        return 0;
    }
    return p;
}

void bu_rmtree(const char *dir)
{
    char *cmd = 0;
    if (!dir || asprintf(&cmd, "rm -rf '%s'", dir) < 0)
        return;
    if (system(cmd) != 0)
        fprintf(stderr, "bench: %s failed\n", cmd);
    free(cmd);
}

int bu_self_and_sibling(char *self, size_t n, const char *name, char *sibling,
                        size_t m)
{
    ssize_t sl = readlink("/proc/self/exe", self, n - 1);
    if (sl <= 0)
        return -1;
    self[sl] = 0;
    snprintf(sibling, m, "%s", self);
    char *s = strrchr(sibling, '/');
    if (!s)
        return -1;
    snprintf(s + 1, m - (size_t)(s + 1 - sibling), "%s", name);
    return 0;
}

int bu_syscalls_open(void)
{
    static const char *ids[] = {
        "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
        "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id"};
    long id = -1;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0] && id < 0; i++) {
        FILE *f = fopen(ids[i], "re");
        if (f) {
            if (fscanf(f, "%ld", &id) != 1)
                id = -1;
            fclose(f);
        }
    }
    if (id < 0)
        return -1;
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = (unsigned long long)id;
    a.disabled = 0;
    a.exclude_kernel = 0;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1,
                        PERF_FLAG_FD_CLOEXEC);
}

long long bu_syscalls_read(int fd)
{
    long long v;
    if (fd < 0 || read(fd, &v, sizeof v) != (ssize_t)sizeof v)
        return -1;
    return v;
}
