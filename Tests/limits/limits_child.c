/*
 * limits_child.c - the child program of Tests/limits: installs mayday,
 * pushes one of its limits past its bound, and crashes.
 *
 *   limits_child DIR limits-deep        a recursion of 100,000+ frames
 *                                       until the stack overflows; the
 *                                       on_crash callback prints the depth
 *                                       reached ("depth=N")
 *   limits_child DIR limits-images LIBDIR N K
 *                                       dlopen LIBDIR/lib0.so .. N-1, crash
 *                                       through lib K's tiny_call
 *   limits_child DIR limits-segs LIB    dlopen LIB (many PT_LOAD segments),
 *                                       crash through its segs_call
 *   limits_child DIR limits-argv ARG... crash (the test passes a long
 *                                       command line)
 *   limits_child DIR limits-crumbs      40 breadcrumbs, a 200-byte one, a
 *                                       300-byte annotation; crash
 *   limits_child DIR limits-threads N   N threads crash at once
 *   limits_child DIR limits-cap N BYTES N more mappings (anonymous pages
 *                                       of alternating protection), a
 *                                       report capped at BYTES (0: the
 *                                       default); crash
 *
 * Context: a test program (normal code that crashes on purpose).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mayday/mayday.h"

static volatile int *volatile g_null;
static volatile int g_depth;
static pthread_barrier_t g_barrier;

static void die(const char *what)
{
    fprintf(stderr, "limits_child: %s\n", what);
    _exit(90);
}

/* Runs on the crashed thread after the report: tells the test how deep
 * the recursion went (write(2) only: we are in a signal handler). */
static void print_depth(int signo, const char *path, void *data)
{
    (void)signo, (void)path, (void)data;
    char buf[32], *p = buf + sizeof buf;
    *--p = '\n';
    unsigned v = (unsigned)g_depth;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    if (write(2, "depth=", 6) < 0 ||
        write(2, p, (size_t)(buf + sizeof buf - p)) < 0)
        return;
}

static void install_cap(mayday_crash_cb cb, uint32_t max_bytes)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    if (max_bytes)
        cfg.max_report_bytes = max_bytes;
    /* limits-threads: the other threads must get to crash, not be
     * stopped (ptrace would stop most of them before they fault). */
    if (getenv("LIMITS_NO_STOP"))
        cfg.stop_method = MAYDAY_STOP_NONE;
    cfg.report_dir = getenv("LIMITS_DIR");
    cfg.app_id = "limits_child";
    cfg.app_version = "1.0";
    cfg.on_crash = cb;
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "limits_child: mayday_install: %s\n",
                mayday_strerror(r));
        _exit(91);
    }
}

static void install(mayday_crash_cb cb) { install_cap(cb, 0); }

/* n pages in one reservation, every other one read-only: n mappings the
 * kernel cannot merge. */
static void many_mappings(long n)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(0, (size_t)(n * pg), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        die("mmap");
    for (long i = 1; i < n; i += 2)
        if (mprotect(m + i * pg, (size_t)pg, PROT_READ) != 0)
            die("mprotect");
}

__attribute__((noinline)) void limits_crash(void)
{
    *g_null = 42;
    __asm__ volatile("" ::: "memory");
}

/* Small frames, so that an 8 MiB stack holds well over 100,000. */
__attribute__((noinline)) int limits_recurse(int depth)
{
    volatile char pad[16];
    pad[0] = (char)depth;
    g_depth = depth;
    if (depth < 0) /* never: keeps the compiler from calling it endless */
        return 0;
    int r = limits_recurse(depth + 1) + pad[0];
    __asm__ volatile("" ::: "memory");
    return r;
}

static void *crash_at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_barrier);
    limits_crash();
    return 0;
}

typedef void (*call_fn)(void (*)(void));

static call_fn lib_fn(const char *path, const char *sym)
{
    void *h = dlopen(path, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "limits_child: dlopen %s: %s\n", path, dlerror());
        _exit(92);
    }
    return sym ? (call_fn)(uintptr_t)dlsym(h, sym) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: limits_child DIR SCENARIO ...");
    setenv("LIMITS_DIR", argv[1], 1);
    const char *s = argv[2];
    if (!strcmp(s, "limits-deep")) {
        struct rlimit rl = {8u << 20, 8u << 20};
        if (setrlimit(RLIMIT_STACK, &rl) < 0)
            die("setrlimit");
        install(print_depth);
        limits_recurse(0);
    } else if (!strcmp(s, "limits-images") && argc == 6) {
        int n = atoi(argv[4]), k = atoi(argv[5]);
        call_fn call = 0;
        char path[4096];
        for (int i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/lib%d.so", argv[3], i);
            call_fn f = lib_fn(path, i == k ? "tiny_call" : 0);
            if (i == k)
                call = f;
        }
        if (!call)
            die("tiny_call not found");
        install(0);
        call(limits_crash);
    } else if (!strcmp(s, "limits-segs") && argc == 4) {
        call_fn call = lib_fn(argv[3], "segs_call");
        if (!call)
            die("segs_call not found");
        install(0);
        call(limits_crash);
    } else if (!strcmp(s, "limits-argv")) {
        install(0);
        limits_crash();
    } else if (!strcmp(s, "limits-crumbs")) {
        install(0);
        char msg[64], big[301];
        for (int i = 0; i < 40; i++) {
            snprintf(msg, sizeof msg, "crumb %d", i);
            mayday_breadcrumb(msg);
        }
        memset(big, 'b', 200);
        big[200] = 0;
        mayday_breadcrumb(big);
        memset(big, 'v', 300);
        big[300] = 0;
        if (mayday_annotate("long", big) < 0)
            die("annotate");
        limits_crash();
    } else if (!strcmp(s, "limits-cap") && argc == 5) {
        many_mappings(atol(argv[3]));
        install_cap(0, (uint32_t)strtoul(argv[4], 0, 10));
        limits_crash();
    } else if (!strcmp(s, "limits-threads") && argc == 4) {
        int n = atoi(argv[3]);
        setenv("LIMITS_NO_STOP", "1", 1);
        install(0);
        pthread_barrier_init(&g_barrier, 0, (unsigned)n);
        for (int i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, 0, crash_at_barrier, 0) != 0)
                die("pthread_create");
        }
        for (;;)
            pause();
    }
    fprintf(stderr, "limits_child: unknown scenario or no crash: %s\n", s);
    return 2;
}
