/*
 * crasher.c - the child program of the crash scenario tests: installs
 * mayday, sets the stage (threads, locks, handlers) and crashes in the way
 * named on its command line.
 *
 *   crasher DIR SCENARIO [mode]     mode: auto (default) | thread | signal
 *
 * Context: a test program (normal code that crashes on purpose).
 */
#undef NDEBUG
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>

#include "mayday/mayday.h"

#include "crasher.h"

const char *g_dir;
const char *g_scenario;
pthread_barrier_t g_barrier;

/* ------------------------------------------------------------ helpers */

void die(const char *what)
{
    fprintf(stderr, "crasher: %s: %s\n", what, strerror(errno));
    _exit(90);
}

void install(uint32_t flags, mayday_crash_cb cb, uint32_t max_bytes)
{
    /* The same program without mayday: what the process "would have had"
     * (test_oracle's death comparison). */
    if (getenv("CRASHER_NO_MAYDAY"))
        return;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = g_dir;
    cfg.app_id = "crasher";
    cfg.app_version = "1.0";
    cfg.flags = flags;
    cfg.on_crash = cb;
    if (max_bytes)
        cfg.max_report_bytes = max_bytes;
    if (getenv("CRASHER_REPLY_MS"))
        cfg.reply_timeout_ms = (uint32_t)atoi(getenv("CRASHER_REPLY_MS"));
    if (getenv("CRASHER_SUSPEND_MS"))
        cfg.suspend_timeout_ms = (uint32_t)atoi(getenv("CRASHER_SUSPEND_MS"));
    const char *stop = getenv("CRASHER_STOP");
    if (stop && !strcmp(stop, "ptrace"))
        cfg.stop_method = MAYDAY_STOP_PTRACE;
    else if (stop && !strcmp(stop, "signal"))
        cfg.stop_method = MAYDAY_STOP_SIGNAL;
    else if (stop && !strcmp(stop, "none"))
        cfg.stop_method = MAYDAY_STOP_NONE;
    const char *mode = getenv("CRASHER_MODE");
    if (mode && strcmp(mode, "thread") == 0)
        cfg.handler_mode = MAYDAY_HANDLER_THREAD;
    else if (mode && strcmp(mode, "signal") == 0)
        cfg.handler_mode = MAYDAY_HANDLER_SIGNAL;
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "crasher: mayday_install: %s\n", mayday_strerror(r));
        _exit(91);
    }
    mayday_annotate("scenario", g_scenario);
    mayday_breadcrumb("installed");
}

/* Functions the tests look for in the walked frames (by symbol range). */
/* The compiler may drop a path that stores through a literal NULL (it
 * is undefined behaviour): go through a volatile pointer. */
static volatile int *volatile g_null;

__attribute__((noinline)) void crasher_null_write(void)
{
    *g_null = 42;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) int crasher_recurse(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    pad[511] = (char)depth;
    int r = crasher_recurse(depth + 1) + pad[0] + pad[511];
    __asm__ volatile("" ::: "memory");
    return r;
}

__attribute__((noinline)) void crasher_depth(int n)
{
    if (n == 0)
        crasher_null_write();
    else
        crasher_depth(n - 1);
    __asm__ volatile("" ::: "memory");
}

static void *deep_worker(void *arg)
{
    (void)arg;
    crasher_depth(30);
    return 0;
}

static int sleep_depth;

/* Parks depth frames deep (not tail calls). */
static int __attribute__((noinline)) park_at(int depth)
{
    if (depth > 0)
        return park_at(depth - 1) + 1;
    pthread_barrier_wait(&g_barrier);
    for (;;)
        pause();
    return 0;
}

static void *sleeper(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "worker-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    return (void *)(intptr_t)park_at(sleep_depth);
}

void start_sleepers_deep(int n, int depth)
{
    sleep_depth = depth;
    pthread_barrier_init(&g_barrier, 0, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, 0, sleeper, (void *)(intptr_t)i) != 0)
            die("pthread_create");
    }
    pthread_barrier_wait(&g_barrier);
}

void start_sleepers(int n) { start_sleepers_deep(n, 0); }

static void *overflow_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "overflower");
    crasher_recurse(0);
    return 0;
}

static pthread_mutex_t go_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *overflow_when_told(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "overflower");
    pthread_mutex_lock(&go_mu);
    while (!go)
        pthread_cond_wait(&go_cv, &go_mu);
    pthread_mutex_unlock(&go_mu);
    crasher_recurse(0);
    return 0;
}

static void *crash_at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_barrier);
    crasher_null_write();
    return 0;
}

/* ---------------------------------------------- malloc held by a thread */

/* The crasher's own malloc: a lock around glibc's. A thread that parks
 * while holding it stands for "another thread holds the malloc lock": if
 * mayday called malloc on the crash path, the report would never come. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static pthread_mutex_t malloc_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int malloc_locking;

void *malloc(size_t n)
{
    if (!malloc_locking)
        return __libc_malloc(n);
    pthread_mutex_lock(&malloc_mu);
    void *p = __libc_malloc(n);
    pthread_mutex_unlock(&malloc_mu);
    return p;
}
void free(void *p)
{
    if (!malloc_locking) {
        __libc_free(p);
        return;
    }
    pthread_mutex_lock(&malloc_mu);
    __libc_free(p);
    pthread_mutex_unlock(&malloc_mu);
}
void *calloc(size_t a, size_t b)
{
    if (!malloc_locking)
        return __libc_calloc(a, b);
    pthread_mutex_lock(&malloc_mu);
    void *p = __libc_calloc(a, b);
    pthread_mutex_unlock(&malloc_mu);
    return p;
}
void *realloc(void *q, size_t n)
{
    if (!malloc_locking)
        return __libc_realloc(q, n);
    pthread_mutex_lock(&malloc_mu);
    void *p = __libc_realloc(q, n);
    pthread_mutex_unlock(&malloc_mu);
    return p;
}

static void *hold_malloc(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&malloc_mu);
    pthread_barrier_wait(&g_barrier);
    for (;;)
        pause();
    return 0;
}

/* ------------------------------------------------------------ others */

static int dl_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)info;
    (void)size;
    (void)data;
    crasher_null_write(); /* with the loader lock held */
    return 0;
}

static void abort_cb(int signo, const char *path, void *data)
{
    (void)signo;
    (void)path;
    (void)data;
    abort(); /* the process must still die of the original SIGSEGV */
}

/* A seccomp-style emulator: getpriority traps into SIGSYS and the handler
 * makes it return 42. It must keep working with mayday installed. */
static void emulate_sys(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
#if defined(__aarch64__)
    uc->uc_mcontext.regs[0] = 42; /* x0: the system call's result */
#else
    uc->uc_mcontext.gregs[REG_RAX] = 42;
#endif
}

/* Dereferences a non-canonical address: a general-protection fault,
 * SIGSEGV with SI_KERNEL and no address. */
__attribute__((noinline)) void crasher_gp_fault(void)
{
    volatile int *p = (volatile int *)(uintptr_t)0xdead000000000000ull;
    *p = 1;
    __asm__ volatile("" ::: "memory");
}

static void lazy_resethand(int sig)
{
    (void)sig; /* returns without fixing anything */
}

static void crash_cb(int signo, const char *path, void *data)
{
    (void)signo;
    (void)path;
    (void)data;
    g_null[2] = 1;
}

static void *blocker(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, 0);
    pthread_setname_np(pthread_self(), "blocker");
    pthread_barrier_wait(&g_barrier);
    for (;;)
        pause();
    return 0;
}

/* The parent of a vfork child sleeps, until the child execs or exits, in
 * a wait that neither signals nor ptrace interrupt. */
static void *vfork_waiter(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_barrier);
    pid_t pid = vfork();
    if (pid == 0) {
        struct timespec ts = {3, 0};
        syscall(SYS_nanosleep, &ts, 0); /* no libc state touched */
        _exit(0);
    }
    for (;;)
        pause();
    return 0;
}

/* A "runtime" that uses SIGSEGV on purpose: faults on its guard page are
 * fixed by making the page accessible. */
static char *g_guard;
static struct sigaction g_runtime_prev;
static int g_runtime_handled;
static int g_runtime_lazy; /* returns on foreign faults without fixing */

static void runtime_handler(int sig, siginfo_t *si, void *uc)
{
    char *a = si->si_addr;
    if (g_guard && a >= g_guard && a < g_guard + 4096) {
        mprotect(g_guard, 4096, PROT_READ | PROT_WRITE);
        g_runtime_handled++;
        return;
    }
    /* Not ours: chain to whatever was installed before us. */
    if (g_runtime_lazy)
        return;
    if (g_runtime_prev.sa_flags & SA_SIGINFO)
        g_runtime_prev.sa_sigaction(sig, si, uc);
    else if (g_runtime_prev.sa_handler != SIG_DFL &&
             g_runtime_prev.sa_handler != SIG_IGN)
        g_runtime_prev.sa_handler(sig);
    else {
        signal(sig, SIG_DFL);
    }
}

static void install_runtime(void)
{
    g_guard = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = runtime_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, &g_runtime_prev);
}

/* From now on getpriority() traps into SIGSYS (seccomp RET_TRAP). */
static void seccomp_trap_getpriority(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        die("seccomp");
}

static void sigbus(void)
{
    char path[] = "/tmp/crasher-bus-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 4096) < 0)
        die("mkstemp");
    volatile char *p = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap");
    unlink(path);
    if (ftruncate(fd, 0) < 0)
        die("ftruncate");
    (void)p[0];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: crasher DIR SCENARIO\n");
        return 2;
    }
    g_dir = argv[1];
    const char *s = g_scenario = argv[2];

    if (!strcmp(s, "overflow-thread-before")) {
        pthread_t t;
        pthread_create(&t, 0, overflow_when_told, 0);
        usleep(20000);
        install(0, 0, 0);
        pthread_mutex_lock(&go_mu);
        go = 1;
        pthread_cond_signal(&go_cv);
        pthread_mutex_unlock(&go_mu);
        pthread_join(t, 0);
        return 3;
    }
    if (!strcmp(s, "chain-first-handled") || !strcmp(s, "chain-last-handled")) {
        install_runtime(); /* the runtime first, mayday on top */
        install(!strcmp(s, "chain-first-handled") ? MAYDAY_FLAG_CHAIN_FIRST : 0,
                0, 0);
        g_guard[0] = 1; /* handled by the runtime */
        printf("handled=%d\n", g_runtime_handled);
        return g_runtime_handled == 1 ? 0 : 4;
    }
    if (!strcmp(s, "chain-first-unhandled")) {
        g_runtime_lazy = 1;
        install_runtime();
        install(MAYDAY_FLAG_CHAIN_FIRST, 0, 0);
        g_guard[0] = 1;           /* handled: no report */
        crasher_null_write();     /* not handled: reported on the repeat */
        return 3;
    }
    if (!strcmp(s, "runtime-after-handled") ||
        !strcmp(s, "runtime-after-unhandled")) {
        install(0, 0, 0);
        install_runtime(); /* the runtime on top, chaining to mayday */
        g_guard[0] = 1;
        if (!strcmp(s, "runtime-after-unhandled"))
            crasher_null_write();
        return g_runtime_handled == 1 ? 0 : 4;
    }
    if (!strcmp(s, "chain-first-gp")) {
        /* A previous handler that returns without fixing the fault, once
         * (SA_RESETHAND): without mayday the process dies of SIGSEGV. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = lazy_resethand;
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGSEGV, &sa, 0);
        install(MAYDAY_FLAG_CHAIN_FIRST, 0, 0);
        crasher_gp_fault();
        return 3;
    }
    if (!strcmp(s, "sys-emulated")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = emulate_sys;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, 0);
        install(0, 0, 0);
        seccomp_trap_getpriority();
        long a = syscall(SYS_getpriority, 0, 0);
        long b = syscall(SYS_getpriority, 0, 0);
        printf("emulated: %ld %ld\n", a, b);
        return a == 42 && b == 42 ? 0 : 4;
    }
    if (!strcmp(s, "ignored-trap")) {
        signal(SIGTRAP, SIG_IGN);
        install(0, 0, 0);
        kill(getpid(), SIGTRAP); /* ignored, as without mayday */
        return 0;
    }
    if (!strcmp(s, "callback-abort")) {
        install(0, abort_cb, 0);
        crasher_null_write();
        return 3;
    }
    if (!strcmp(s, "fork-child")) {
        install(0, 0, 0);
        pid_t pid = fork();
        if (pid == 0) {
            crasher_null_write(); /* no exception thread in the child */
            _exit(3);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        mayday_uninstall();
        if (WIFSIGNALED(st)) {
            signal(WTERMSIG(st), SIG_DFL);
            raise(WTERMSIG(st)); /* die as the child died */
        }
        return 5;
    }
    if (!strcmp(s, "handoff-timeout")) {
        /* The exception thread spends 1 s on a thread that cannot be
         * stopped (the parent of a vfork child waits in a sleep only
         * SIGKILL interrupts); the crashed thread waits only 100 ms. */
        setenv("CRASHER_REPLY_MS", "100", 1);
        setenv("CRASHER_SUSPEND_MS", "1000", 1);
        install(0, 0, 0);
        pthread_barrier_init(&g_barrier, 0, 2);
        pthread_t t;
        pthread_create(&t, 0, vfork_waiter, 0);
        pthread_barrier_wait(&g_barrier);
        usleep(20000);
        crasher_null_write();
        return 3;
    }
    if (!strcmp(s, "malloc-held")) {
        malloc_locking = 1;
        install(0, 0, 0);
        pthread_barrier_init(&g_barrier, 0, 2);
        pthread_t t;
        pthread_create(&t, 0, hold_malloc, 0);
        pthread_barrier_wait(&g_barrier);
        crasher_null_write();
        return 3;
    }

    int shaped = crasher_shapes(s);
    if (shaped >= 0)
        return shaped;

    install(0, !strcmp(s, "callback-crash") ? crash_cb : 0,
            !strcmp(s, "size-cap") ? 4096 : 0);

    if (!strcmp(s, "null-read"))
        return *g_null;
    if (!strcmp(s, "gp-fault"))
        crasher_gp_fault();
    if (!strcmp(s, "null-write") || !strcmp(s, "callback-crash"))
        crasher_null_write();
    if (!strcmp(s, "null-call")) {
        void (*volatile fn)(void) = 0;
        fn();
    }
    if (!strcmp(s, "bus"))
        sigbus();
    if (!strcmp(s, "ill"))
#if defined(__aarch64__)
        __asm__ volatile("udf #0"); /* __builtin_trap is brk: SIGTRAP */
#else
        __builtin_trap();
#endif
    if (!strcmp(s, "fpe")) {
        volatile int z = 0;
        return 10 / z;
    }
    if (!strcmp(s, "abort"))
        abort();
    if (!strcmp(s, "assert"))
        assert(1 + 1 == 3 && "arithmetic still works");
    if (!strcmp(s, "trap"))
#if defined(__aarch64__)
        __asm__ volatile("brk #0");
#else
        __asm__ volatile("int3");
#endif
    if (!strcmp(s, "sys")) {
        seccomp_trap_getpriority();
        syscall(SYS_getpriority, 0, 0);
    }
    if (!strcmp(s, "kill-segv"))
        kill(getpid(), SIGSEGV);
    if (!strcmp(s, "overflow-main"))
        crasher_recurse(0);
    if (!strcmp(s, "overflow-thread-after")) {
        pthread_t t;
        pthread_create(&t, 0, overflow_thread, 0);
        pthread_join(t, 0);
    }
    if (!strcmp(s, "dl-iterate"))
        dl_iterate_phdr(dl_cb, 0);
    if (!strcmp(s, "getname-bad")) {
        char *bad = (char *)16;
        pthread_getname_np((pthread_t)64, bad, 16);
    }
    if (!strncmp(s, "threads-", 8)) {
        int n = atoi(s + 8);
        pthread_barrier_init(&g_barrier, 0, (unsigned)n);
        pthread_t t;
        for (int i = 0; i < n; i++)
            pthread_create(&t, 0, crash_at_barrier, 0);
        for (;;)
            pause();
    }
    if (!strcmp(s, "many-threads")) {
        start_sleepers(200);
        crasher_depth(30);
    }
    if (!strcmp(s, "blocked-suspend")) {
        pthread_barrier_init(&g_barrier, 0, 2);
        pthread_t t;
        pthread_create(&t, 0, blocker, 0);
        pthread_barrier_wait(&g_barrier);
        usleep(20000); /* let it reach pause(): /proc has its pc/sp then */
        crasher_null_write();
    }
    if (!strcmp(s, "dir-deleted")) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0)
            die("rm");
        crasher_null_write();
    }
    if (!strcmp(s, "dir-readonly")) {
        if (chmod(g_dir, 0500) < 0)
            die("chmod");
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            die("setuid"); /* root ignores modes: become nobody */
        crasher_null_write();
    }
    if (!strcmp(s, "size-cap")) {
        start_sleepers(50);
        crasher_depth(30);
    }
    if (!strcmp(s, "live")) {
        start_sleepers(3);
        int r = mayday_write_live_report("checkpoint");
        printf("live=%d\n", r);
        return r == 0 ? 0 : 5;
    }
    if (!strcmp(s, "deep-worker")) {
        pthread_t t;
        pthread_create(&t, 0, deep_worker, 0);
        pthread_join(t, 0);
    }
    fprintf(stderr, "crasher: unknown scenario or it did not crash: %s\n", s);
    return 2;
}
