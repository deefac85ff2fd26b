/*
 * bench_plain.c - the child processes of the benchmarks that run WITHOUT
 * mayday (this program does not link libmayday):
 *
 *   bench_plain crash MODE N PAGEFD OUTFILE
 *       the crash harness (N workers 32 frames deep, blocked; the main
 *       thread stores through NULL) with a plain SIGSEGV handler that
 *       writes the crashed thread's backtrace to OUTFILE and records in
 *       the shared page when it is written. MODE:
 *         glibc        backtrace() + backtrace_symbols_fd(), first call in
 *                      the handler (loads libgcc_s there: cold)
 *         glibc-warm   the same after one backtrace() at setup
 *         unwind       libunwind's local unwinder, unw_init_local +
 *                      unw_step, "pc sp" per frame, first use in the
 *                      handler (cold caches)
 *         unwind-warm  the same after one walk at setup
 *         floor        what any all-threads reporter must do at least, done
 *                      in the plainest way (the same-run floor for
 *                      mayday): list /proc/self/task, stop every other
 *                      thread with a real-time signal whose handler saves
 *                      its registers and parks on a futex, one
 *                      process_vm_readv of 4 KiB of each stack, then one
 *                      write() of ~1 KiB per thread (its registers and
 *                      the top of its stack) to OUTFILE; nothing is
 *                      walked or encoded, the threads are not woken
 *   bench_plain threads M PAGEFD
 *       M x pthread_create + pthread_join of an empty thread, each timed;
 *       val[0] = median ns, val[1] = mean ns (the "mayday not linked"
 *       figure of bench_install).
 *
 * Context: benchmark child (normal context; the handlers are plain
 * handlers of the kind the brief measured, not async-signal-safe ones:
 * backtrace() and libunwind's local unwinder are not).
 */
#define UNW_LOCAL_ONLY
#include <dirent.h>
#include <dlfcn.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <fcntl.h>
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

#define MAXF 256

static bu_page *g_page;
static const char *g_out;
static int g_mode; /* 0 glibc, 1 unwind */
static int (*glibc_backtrace)(void **, int);
static void (*glibc_symbols_fd)(void *const *, int, int);

static void restore_default(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, 0);
}

static char *put_hex(char *p, uint64_t v)
{
    static const char d[] = "0123456789abcdef";
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = d[v & 15];
        v >>= 4;
    } while (v);
    *p++ = '0';
    *p++ = 'x';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* libunwind local: walk the calling thread, format "pc sp" lines into
 * buf; returns the frame count, *len the bytes. */
static char g_buf[MAXF * 40];

static int unwind_here(size_t *len)
{
    unw_context_t uc;
    unw_cursor_t cur;
    char *p = g_buf;
    int n = 0;
    *len = 0;
    if (unw_getcontext(&uc) < 0 || unw_init_local(&cur, &uc) < 0)
        return 0;
    do {
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&cur, UNW_REG_IP, &ip);
        unw_get_reg(&cur, UNW_REG_SP, &sp);
        p = put_hex(p, ip);
        *p++ = ' ';
        p = put_hex(p, sp);
        *p++ = '\n';
        n++;
    } while (n < MAXF && unw_step(&cur) > 0);
    *len = (size_t)(p - g_buf);
    return n;
}

/* Walk first (val[0] = when the walk is done), then the file. */
static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    void *pcs[MAXF];
    size_t len = 0;
    int n = g_mode == 0 ? glibc_backtrace(pcs, MAXF) : unwind_here(&len);
    g_page->val[0] = bu_now_ns();
    int fd = open(g_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && n > 0;
    if (g_mode == 0)
        glibc_symbols_fd(pcs, n, fd);
    else if (write(fd, g_buf, len) != (ssize_t)len)
        ok = 0;
    close(fd);
    g_page->t_written = bu_now_ns();
    g_page->frames = n;
    g_page->ok = ok;
    restore_default(sig); /* returning re-runs the store: default death */
}

/* ------------------------------------------------------------ floor */

#define FLOOR_MAX 4096
#define FLOOR_STACK 4096 /* bytes read from each stack */
#define FLOOR_OUT 1024   /* bytes written per thread */

/* The general registers of a signal frame and its stack pointer. */
#if defined(__x86_64__)
#define F_NGREG NGREG
#define F_GREGS(uc) ((uc)->uc_mcontext.gregs)
#define F_SP REG_RSP
#elif defined(__aarch64__)
#define F_NGREG 34 /* x0..x30, sp, pc, pstate */
#define F_GREGS(uc) ((uc)->uc_mcontext.regs)
#define F_SP 31
#endif

typedef struct fslot {
    volatile int state; /* 0 asked, 1 parked */
    int tid;
    uint64_t gregs[F_NGREG];
} fslot;

static fslot f_slots[FLOOR_MAX];
static unsigned char f_stacks[FLOOR_MAX][FLOOR_STACK];
static unsigned char f_out[FLOOR_MAX * FLOOR_OUT];
static volatile int f_release;
static int f_sig;

static long futex(volatile int *a, int op, int v, const struct timespec *t)
{
    return syscall(SYS_futex, a, op, v, t, 0, 0);
}

/* In each stopped thread: save the registers, say so, park. */
static void floor_park(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    fslot *s = &f_slots[si->si_value.sival_int];
    const ucontext_t *uc = ucv;
    memcpy(s->gregs, F_GREGS(uc), sizeof s->gregs);
    __atomic_store_n(&s->state, 1, __ATOMIC_RELEASE);
    futex(&s->state, FUTEX_WAKE_PRIVATE, 1, 0);
    struct timespec t = {10, 0}; /* the process is about to die */
    while (!f_release && futex(&f_release, FUTEX_WAIT_PRIVATE, 0, &t) == 0)
        ;
}

struct fdirent {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void floor_handler(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    int pid = getpid(), self = (int)syscall(SYS_gettid), n = 0;
    int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    static char dents[65536];
    long k;
    while (dfd >= 0 &&
           (k = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0) {
        for (long o = 0; o < k;) {
            struct fdirent *d = (struct fdirent *)(dents + o);
            int tid = atoi(d->name);
            if (tid > 0 && tid != self && n < FLOOR_MAX) {
                f_slots[n].tid = tid;
                f_slots[n].state = 0;
                n++;
            }
            o += d->reclen;
        }
    }
    if (dfd >= 0)
        close(dfd);
    for (int i = 0; i < n; i++) { /* stop: one signal each */
        siginfo_t q;
        memset(&q, 0, sizeof q);
        q.si_signo = f_sig;
        q.si_code = SI_QUEUE;
        q.si_pid = pid;
        q.si_uid = getuid();
        q.si_value.sival_int = i;
        syscall(SYS_rt_tgsigqueueinfo, pid, f_slots[i].tid, f_sig, &q);
    }
    int parked = 0;
    for (int i = 0; i < n; i++) { /* wait for each to park */
        struct timespec t = {0, 200000000};
        while (!__atomic_load_n(&f_slots[i].state, __ATOMIC_ACQUIRE) &&
               futex(&f_slots[i].state, FUTEX_WAIT_PRIVATE, 0, &t) == 0)
            ;
        parked += f_slots[i].state == 1;
    }
    size_t out = 0;
    for (int i = 0; i < n; i++) { /* one read of each stack, ~1 KiB out */
        if (!f_slots[i].state)
            continue;
        struct iovec l = {f_stacks[i], FLOOR_STACK};
        struct iovec r = {(void *)(uintptr_t)f_slots[i].gregs[F_SP],
                          FLOOR_STACK};
        syscall(SYS_process_vm_readv, pid, &l, 1, &r, 1, 0);
        memcpy(f_out + out, f_slots[i].gregs, sizeof f_slots[i].gregs);
        memcpy(f_out + out + sizeof f_slots[i].gregs, f_stacks[i],
               FLOOR_OUT - sizeof f_slots[i].gregs);
        out += FLOOR_OUT;
    }
    int fd = open(g_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && parked == n && write(fd, f_out, out) == (ssize_t)out;
    if (fd >= 0)
        close(fd);
    g_page->t_written = bu_now_ns();
    g_page->val[0] = g_page->t_written;
    g_page->frames = parked;
    g_page->ok = ok;
    restore_default(sig);
}

static int floor_mode(int n)
{
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    sigaltstack(&ss, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = floor_park;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    f_sig = SIGRTMIN + 3;
    sigaction(f_sig, &sa, 0);
    sa.sa_sigaction = floor_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, 0);
    if (bu_start_workers(n, 32) < 0)
        return 4;
    g_page->t_fault = bu_now_ns();
    bu_null_store();
    return 5;
}

static int crash_mode(const char *mode, int n)
{
    if (!strcmp(mode, "floor"))
        return floor_mode(n);
    int warm = strstr(mode, "-warm") != 0;
    g_mode = !strncmp(mode, "unwind", 6);
    if (g_mode == 0 && strncmp(mode, "glibc", 5))
        return 2;
    /* glibc's own: libunwind.so (linked for its local unwinder) exports
     * a `backtrace` that would interpose it here. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    glibc_backtrace =
        libc ? (int (*)(void **, int))dlsym(libc, "backtrace") : 0;
    glibc_symbols_fd = libc ? (void (*)(void *const *, int, int))dlsym(
                                  libc, "backtrace_symbols_fd")
                            : 0;
    if (!glibc_backtrace || !glibc_symbols_fd)
        return 3;

    /* Like sentry/Breakpad: an altstack for the thread that installs. */
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    sigaltstack(&ss, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, 0);
    if (warm) {
        void *pcs[MAXF];
        size_t len;
        if (g_mode == 0)
            glibc_backtrace(pcs, MAXF);
        else
            unwind_here(&len);
    }
    if (bu_start_workers(n, 32) < 0)
        return 4;
    g_page->t_fault = bu_now_ns();
    bu_null_store();
    return 5;
}

static void *empty(void *arg) { return arg; }

static int threads_mode(int m)
{
    uint64_t *t = calloc((size_t)m, sizeof *t);
    uint64_t sum = 0;
    for (int i = 0; i < m; i++) {
        pthread_t th;
        uint64_t a = bu_now_ns();
        if (pthread_create(&th, 0, empty, 0) || pthread_join(th, 0))
            return 4;
        t[i] = bu_now_ns() - a;
        sum += t[i];
    }
    g_page->val[1] = sum / (uint64_t)m;
    g_page->val[0] = bu_median_u64(t, (size_t)m);
    g_page->ok = 1;
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "crash")) {
        g_page = bu_page_attach(atoi(argv[4]));
        g_out = argv[5];
        return g_page ? crash_mode(argv[2], atoi(argv[3])) : 3;
    }
    if (argc >= 4 && !strcmp(argv[1], "threads")) {
        g_page = bu_page_attach(atoi(argv[3]));
        return g_page ? threads_mode(atoi(argv[2])) : 3;
    }
    fprintf(stderr, "usage: bench_plain crash MODE N PAGEFD OUTFILE\n"
                    "       bench_plain threads M PAGEFD\n");
    return 2;
}
