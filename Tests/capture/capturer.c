/*
 * capturer.c - the child program of test_capture (issue 11, report
 * contents): installs mayday with the caps given in the environment, sets
 * up known memory (stack patterns, locals, FP registers, buffers behind
 * registers, attachments), writes where it put them to OUT, and crashes.
 *
 *   capturer DIR SCENARIO OUT
 *
 * Environment: CAP_STACK, CAP_CRASHED_STACK, CAP_BUDGET, CAP_WINDOW,
 * CAP_FLAGS (capture_flags), CAP_MAX_BYTES, CAP_MODE (thread | signal),
 * CAP_STOP (stop_method, a number), CAP_MAPS_COPY (maps: a file to copy
 * /proc/self/maps to before the stop),
 * CAP_ATTACH_CONFIG, CAP_ATTACH_API (paths).
 *
 * Context: a test program (normal code that crashes on purpose).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mayday/mayday.h"

static FILE *out;
static pthread_barrier_t barrier;
static int pipe_fd[2];
static volatile int *volatile g_null;

static void die(const char *what)
{
    fprintf(stderr, "capturer: %s: %s\n", what, strerror(errno));
    _exit(90);
}

static uint32_t env_u32(const char *name, uint32_t def)
{
    const char *v = getenv(name);
    return v ? (uint32_t)strtoul(v, 0, 0) : def;
}

static void install(const char *dir)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = dir;
    cfg.app_id = "capturer";
    cfg.stack_bytes = env_u32("CAP_STACK", cfg.stack_bytes);
    cfg.crashed_stack_bytes =
        env_u32("CAP_CRASHED_STACK", cfg.crashed_stack_bytes);
    cfg.stack_budget_bytes = env_u32("CAP_BUDGET", cfg.stack_budget_bytes);
    cfg.pointer_window_bytes = env_u32("CAP_WINDOW", cfg.pointer_window_bytes);
    cfg.capture_flags = env_u32("CAP_FLAGS", 0);
    cfg.max_report_bytes = env_u32("CAP_MAX_BYTES", cfg.max_report_bytes);
    cfg.stop_method = env_u32("CAP_STOP", cfg.stop_method);
    const char *mode = getenv("CAP_MODE");
    if (mode && !strcmp(mode, "signal"))
        cfg.handler_mode = MAYDAY_HANDLER_SIGNAL;
    else if (mode && !strcmp(mode, "thread"))
        cfg.handler_mode = MAYDAY_HANDLER_THREAD;
    const char *files[2] = {getenv("CAP_ATTACH_CONFIG"), 0};
    if (files[0]) {
        cfg.attach_files = files;
        cfg.attach_max_bytes = 4096;
    }
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "capturer: install: %s\n", mayday_strerror(r));
        _exit(91);
    }
}

__attribute__((noinline)) static void null_write(void)
{
    *g_null = 42;
    __asm__ volatile("" ::: "memory");
}

static void block_in_read(void)
{
    char c;
    for (;;)
        if (read(pipe_fd[0], &c, 1) <= 0 && errno != EINTR)
            pause();
}

/* ------------------------------------------------- parked-pattern */

static void *patterned(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "patterned");
    volatile uint8_t buf[768];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 13 + 7);
    fprintf(out, "pattern %p %zu\n", (void *)buf, sizeof buf);
    fflush(out);
    pthread_barrier_wait(&barrier);
    block_in_read();
    return (void *)(uintptr_t)buf[0];
}

__attribute__((noinline)) static int deep(int depth)
{
    volatile uint8_t pad[64];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = (uint8_t)depth;
    if (depth == 0 || depth == 100 || depth == 199) {
        fprintf(out, "deep %d %p\n", depth, (void *)pad);
        fflush(out);
    }
    if (depth < 199)
        return deep(depth + 1) + pad[1];
    pthread_barrier_wait(&barrier);
    block_in_read();
    return pad[0];
}

static void *deep_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "deep");
    return (void *)(intptr_t)deep(0);
}

static void *blocker(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, 0);
    pthread_setname_np(pthread_self(), "blocker");
    pthread_barrier_wait(&barrier);
    block_in_read();
    return 0;
}

static void start(int n, void *(*fn)(void *))
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, 0, fn, 0) != 0)
            die("pthread_create");
    }
}

/* ------------------------------------------------- locals */

__attribute__((noinline)) static void crash_with_locals(void)
{
    volatile uint64_t locals[8];
    for (int i = 0; i < 8; i++)
        locals[i] = 0x1122334455667700ull + (uint64_t)i;
    fprintf(out, "locals %p\n", (void *)locals);
    fflush(out);
    null_write();
    locals[0] = 0;
}

/* ------------------------------------------------- FP registers */

static uint8_t pat_y[32];

#if defined(__x86_64__)
static const uint8_t pat_a[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                  0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
                                  0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t pat_b[16] = {0x80, 0x81, 0x82, 0x83, 0x84, 0x85,
                                  0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
                                  0x8c, 0x8d, 0x8e, 0x8f};
static void *xmm_parker(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "xmmparker");
    pthread_barrier_wait(&barrier);
    char c;
    for (;;) {
        long r;
        /* xmm0 = pat_b right up to (and across) the blocking read. */
        __asm__ volatile("movdqu (%2), %%xmm0\n\t"
                         "syscall"
                         : "=a"(r)
                         : "0"((long)SYS_read), "r"(pat_b),
                           "D"((long)pipe_fd[0]), "S"(&c), "d"(1L)
                         : "rcx", "r11", "memory", "xmm0");
        if (r <= 0 && r != -EINTR)
            pause();
    }
    return 0;
}

__attribute__((noinline)) static void crash_with_xmm(int avx)
{
    volatile int *p = g_null;
    if (avx)
        __asm__ volatile("vmovdqu (%1), %%ymm1\n\t"
                         "movdqu (%0), %%xmm0\n\t"
                         "movl $1, (%2)"
                         :
                         : "r"(pat_a), "r"(pat_y), "r"(p)
                         : "xmm0", "xmm1", "memory");
    __asm__ volatile("movdqu (%0), %%xmm0\n\t"
                     "movl $1, (%1)"
                     :
                     : "r"(pat_a), "r"(p)
                     : "xmm0", "memory");
}

/* ------------------------------------------------- windows */

static uint8_t static_buf[512];

__attribute__((noinline)) static void crash_with_pointers(void)
{
    uint8_t *heap = malloc(1024);
    for (int i = 0; i < 1024; i++)
        heap[i] = (uint8_t)(i ^ 0x5a);
    for (int i = 0; i < 512; i++)
        static_buf[i] = (uint8_t)(i * 3);
    fprintf(out, "rbx %p 1024\nr12 %p 512\n", (void *)heap, (void *)static_buf);
    fflush(out);
    volatile int *p = g_null;
    __asm__ volatile("mov %0, %%rbx\n\t"
                     "mov %1, %%r12\n\t"
                     "movl $1, (%2)"
                     :
                     : "r"(heap + 512), "r"(static_buf + 256), "r"(p)
                     : "rbx", "r12", "memory");
}

#else
/* The register scenarios load registers with x86_64 instructions. */
static void *xmm_parker(void *arg) { return arg; }
static void crash_with_xmm(int avx)
{
    (void)avx;
    _exit(77);
}
static void crash_with_pointers(void) { _exit(77); }
#endif

static void crash_on_readonly(void)
{
    uint8_t *page = mmap(0, 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        die("mmap");
    for (int i = 0; i < 4096; i++)
        page[i] = (uint8_t)(i ^ 0x33);
    mprotect(page, 4096, PROT_READ);
    fprintf(out, "page %p\n", (void *)page);
    fflush(out);
    *(volatile uint8_t *)(page + 100) = 1; /* SEGV_ACCERR, readable */
}

/* ------------------------------------------------- overflow */

__attribute__((noinline)) static int recurse(int depth)
{
    volatile uint8_t pad[256];
    memset((void *)pad, 0xa5, sizeof pad);
    int r = recurse(depth + 1) + pad[depth & 255];
    __asm__ volatile("" ::: "memory");
    return r;
}

static void *overflower(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "overflower");
    pthread_attr_t a;
    void *lo;
    size_t size, guard;
    pthread_getattr_np(pthread_self(), &a);
    pthread_attr_getstack(&a, &lo, &size);
    pthread_attr_getguardsize(&a, &guard);
    fprintf(out, "stack %p %zu %zu\n", lo, size, guard);
    fflush(out);
    recurse(0);
    return 0;
}

/* ------------------------------------------------- maps */

__attribute__((noinline)) static void touch_stack(void)
{
    volatile char big[128 * 1024];
    memset((void *)big, 1, sizeof big);
    __asm__ volatile("" ::: "memory");
}

/* ------------------------------------------------- attachments */

static uint8_t mem_attach[512];

static void attach(void)
{
    const char *api = getenv("CAP_ATTACH_API");
    if (api) {
        int id = mayday_attach_file(api, 1u << 20);
        fprintf(out, "attach_file %d\n", id);
    }
    for (int i = 0; i < 512; i++)
        mem_attach[i] = (uint8_t)(255 - i);
    fprintf(out, "attach_memory %d\n",
            mayday_attach_memory("appstate", mem_attach, sizeof mem_attach));
    static char gone[64] = "detached";
    int id = mayday_attach_memory("gone", gone, sizeof gone);
    fprintf(out, "detach %d\n", mayday_detach(id));
    /* The file grows after it was registered: its tail at crash time. */
    const char *cfgfile = getenv("CAP_ATTACH_CONFIG");
    int fd = open(cfgfile, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, "appended-after-install\n", 23) != 23)
        die("append");
    close(fd);
    fflush(out);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: capturer DIR SCENARIO OUT\n");
        return 2;
    }
    const char *s = argv[2];
    out = fopen(argv[3], "w");
    if (!out || pipe(pipe_fd) < 0)
        die("setup");
    for (int i = 0; i < 32; i++)
        pat_y[i] = (uint8_t)(0x40 + i);
    install(argv[1]);
    fprintf(out, "pipe %d\n", pipe_fd[0]);

    if (!strcmp(s, "parked")) {
        pthread_barrier_init(&barrier, 0, 4);
        start(1, patterned);
        start(1, deep_thread);
        start(1, blocker);
        pthread_barrier_wait(&barrier);
        usleep(20000); /* into read() */
        null_write();
    }
    if (!strcmp(s, "locals"))
        crash_with_locals();
    if (!strcmp(s, "xmm")) {
#if defined(__x86_64__)
        int avx = __builtin_cpu_supports("avx");
#else
        int avx = 0;
#endif
        fprintf(out, "avx %d\n", avx);
        pthread_barrier_init(&barrier, 0, 2);
        start(1, xmm_parker);
        pthread_barrier_wait(&barrier);
        usleep(20000);
        fflush(out);
        crash_with_xmm(avx);
    }
    if (!strcmp(s, "pointers"))
        crash_with_pointers();
    if (!strcmp(s, "readonly"))
        crash_on_readonly();
    if (!strcmp(s, "overflow-thread")) {
        pthread_t t;
        pthread_create(&t, 0, overflower, 0);
        pthread_join(t, 0);
    }
    if (!strcmp(s, "overflow-main"))
        recurse(0);
    if (!strcmp(s, "maps")) {
        touch_stack();
        fflush(out);
        /* Under an emulator the parent's /proc/PID/maps is the
         * emulator's host map: the map as this program sees it, copied
         * now (no allocation: the heap stays as it is). */
        const char *copy = getenv("CAP_MAPS_COPY");
        if (copy) {
            static char buf[1 << 16];
            int in = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
            int to = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                          0600);
            if (in < 0 || to < 0)
                die("maps copy");
            ssize_t n;
            while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(to, buf, (size_t)n) != n)
                    die("maps copy");
            close(in);
            close(to);
        }
        raise(SIGSTOP); /* the parent reads /proc/PID/maps now */
        null_write();
    }
    if (!strcmp(s, "threads")) {
        pthread_barrier_init(&barrier, 0, 7);
        start(6, patterned);
        pthread_barrier_wait(&barrier);
        usleep(20000);
        null_write();
    }
    if (!strcmp(s, "attach")) {
        attach();
        null_write();
    }
    if (!strcmp(s, "live")) {
        fprintf(out, "live %d\n", mayday_write_live_report("contents"));
        fflush(out);
        /* Release what install allocated (LeakSanitizer cannot see the
         * walker's libunwind address space from mmap'ed memory). */
        return mayday_uninstall() == 0 ? 0 : 6;
    }
    fprintf(stderr, "capturer: unknown scenario or no crash: %s\n", s);
    return 2;
}
