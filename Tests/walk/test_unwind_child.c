/*
 * test_unwind_child.c - walker tests that run in forked children: a call
 * through NULL, corrupted stacks, random fabricated stacks, a thread that
 * holds the loader lock, a stack overflow on a small thread stack. Each
 * child exits 0 when every check passed; a fault, a hang (alarm) or a
 * failed check shows in its wait status, which the parent asserts.
 *
 * Context: test code (normal context), plus signal handlers that only do
 * what the crash path would do (mds_* calls into preallocated memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "test_unwind.h"

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *alt_stack(size_t size)
{
    stack_t ss;
    ss.ss_sp = mmap(NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0)
        return NULL;
    return ss.ss_sp;
}

/* ------------------------------------------------- call through NULL */

void wt_null_caller(void (*volatile *fp)(void));
void wt_null_outer(void);

__attribute__((noinline)) void wt_null_caller(void (*volatile *fp)(void))
{
    (*fp)();
    __asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) void wt_null_outer(void)
{
    void (*volatile f)(void) = NULL;
    wt_null_caller(&f);
    __asm__ __volatile__("" ::: "memory");
}

static int null_checks(const mds_frame *f, int n)
{
    uintptr_t lo, hi, olo, ohi;
    CHILD_CHECK(wt_fn_range((void *)wt_null_caller, &lo, &hi) == 0);
    CHILD_CHECK(wt_fn_range((void *)wt_null_outer, &olo, &ohi) == 0);
    CHILD_CHECK(n >= 3);
    CHILD_CHECK(f[0].pc == 0 && f[0].trust == MDS_TRUST_CONTEXT);
#if defined(__aarch64__)
    CHILD_CHECK(f[1].trust == MDS_TRUST_LINK_REGISTER); /* lr, not [sp] */
#else
    CHILD_CHECK(f[1].trust == MDS_TRUST_STACK_POINTER);
#endif
    CHILD_CHECK(f[1].pc >= lo && f[1].pc < hi);
    CHILD_CHECK(f[2].trust == MDS_TRUST_CFI);
    CHILD_CHECK(f[2].pc >= olo && f[2].pc < ohi);
    CHILD_CHECK(sp_rises(f, n));
    return 0;
}

static void null_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    mds_regs r;
    int capped;
    mds_regs_from_ucontext(&r, uc);
    if (mds_images_capture(g_t) != 0)
        _exit(90);
    int n = mds_walk(g_w, g_t, &r, g_f, MAXF, &capped);
    int rc = null_checks(g_f, n);
    if (rc)
        wt_print("null call", g_t, g_f, n);
    _exit(rc);
}

static int child_null(void *arg)
{
    (void)arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = null_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    if (!alt_stack(256 * 1024) || sigaction(SIGSEGV, &sa, NULL) != 0)
        return 91;
    wt_null_outer();
    return 92;
}

void test_null_call(void **state)
{
    (void)state;
    assert_child_ok(wt_in_child(child_null, NULL, 30));
}

/* --------------------------------------------------- corrupt stacks */

enum {
    C_RA_GARBAGE,
    C_RA_OTHER_CODE,
    C_RBP_GARBAGE,
    C_RBP_LOOP,
    C_SP_GARBAGE,
    C_ALL_CALLSITE_NOCFI,
    C_ALL_RA_WITH_CFI,
    C_ALL_SELF,
    C_PC_ZERO,
    C_PC_MID_FUNCTION,
    C_ALL_REGS_RANDOM,
    C_COUNT
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static int walk_ok(const mds_regs *r, int max, int *nout)
{
    int capped = 0;
    int n = walk(r, g_f, max, &capped);
    if (nout)
        *nout = n;
    CHILD_CHECK(n >= 1 && n <= max);
    CHILD_CHECK(!capped || n == max);
    CHILD_CHECK(sp_rises(g_f, n));
    return 0;
}

/* Not instrumented by ASan: it overwrites another thread's stack on
 * purpose, redzones included. */
__attribute__((no_sanitize_address)) static int corrupt_case(int c)
{
    static mds_frame ok[MAXF];
    wt_parked *p = calloc(1, sizeof(*p));
    CHILD_CHECK(wt_park(p, rec_o2_fp, DEPTH, 0) == 0);
    int capped;
    int n0 = walk(&p->regs, ok, MAXF, &capped);
    CHILD_CHECK(n0 > DEPTH);
    mds_regs r = p->regs;
    uintptr_t ra_a = (uintptr_t)rec_nocfi_fp_site1();
    /* Corrupt only the thread's frames: above the outermost one lie its
     * TCB and TLS, which its (parked) signal handler still uses. */
    uintptr_t lo = p->regs.v[MDS_REG_SP];
    uintptr_t hi = ok[n0 - 1].sp;
    int n = 0, rc = 0;
    for (int i = 1; i < n0; i++)
        CHILD_CHECK(ok[i].sp - 16 >= lo && ok[i].sp <= p->stack_hi);
    switch (c) {
    case C_RA_GARBAGE:
        for (int i = 1; i < n0; i++)
            *(uintptr_t *)(ok[i].sp - 8) = 0xdead000000000000ull | (unsigned)i;
        break;
    case C_RA_OTHER_CODE:
        for (int i = 1; i < n0; i++)
            *(uintptr_t *)(ok[i].sp - 8) = ok[n0 - 1 - i].pc;
        break;
    case C_RBP_GARBAGE:
        r.v[MDS_REG_FP] = 0x4141414141414141ull;
        for (int i = 1; i < n0; i++)
            *(uintptr_t *)(ok[i].sp - 16) = rnd();
        break;
    case C_RBP_LOOP:
        r.v[MDS_REG_FP] = ok[1].sp - 16;
        for (int i = 1; i < n0; i++)
            *(uintptr_t *)(ok[i].sp - 16) = ok[1].sp - 16;
        break;
    case C_SP_GARBAGE: {
        void *gone =
            mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(gone, 65536);
        const uintptr_t sps[] = {0,
                                 8,
                                 0x7fffffffffffffffull,
                                 0xffff800000000000ull,
                                 (uintptr_t)-8,
                                 (uintptr_t)rec_o2_fp,
                                 (uintptr_t)gone,
                                 lo + 3,
                                 rnd()};
        for (size_t k = 0; k < sizeof(sps) / sizeof(sps[0]); k++) {
            r.v[MDS_REG_SP] = sps[k];
            if ((rc = walk_ok(&r, MAXF, &n)) != 0)
                return rc;
        }
        return 0;
    }
    case C_ALL_CALLSITE_NOCFI:
        for (uintptr_t a = lo; a + 8 <= hi; a += 8)
            *(uintptr_t *)a = ra_a;
        break;
    case C_ALL_RA_WITH_CFI:
        for (uintptr_t a = lo; a + 8 <= hi; a += 8)
            *(uintptr_t *)a = ok[DEPTH / 2].pc;
        break;
    case C_ALL_SELF:
        for (uintptr_t a = lo; a + 8 <= hi; a += 8)
            *(uintptr_t *)a = a;
        r.v[MDS_REG_FP] = lo + 64;
        break;
    case C_PC_ZERO:
        r.v[MDS_REG_PC] = 0;
        break;
    case C_PC_MID_FUNCTION:
        r.v[MDS_REG_PC] = (uintptr_t)rec_o2_fp + 3;
        for (int i = 1; i < n0; i += 2)
            *(uintptr_t *)(ok[i].sp - 8) = rnd();
        break;
    case C_ALL_REGS_RANDOM:
        for (int i = 0; i < MDS_NREGS; i++)
            r.v[i] = rnd();
        r.v[MDS_REG_SP] = lo + (rnd() % 4096) * 8;
        break;
    }
    if ((rc = walk_ok(&r, MAXF, &n)) != 0)
        return rc;
    fprintf(stderr, "[ corruption case %d: %d frames ]\n", c, n);
    /* A small cap still bounds it. */
    if ((rc = walk_ok(&r, 7, NULL)) != 0)
        return rc;
    if (c == C_ALL_CALLSITE_NOCFI || c == C_ALL_RA_WITH_CFI)
        CHILD_CHECK(n > DEPTH); /* plenty of "frames", still bounded */
    /* The thread stays parked for good: its stack is garbage now. */
    return 0;
}

/* A fault in the child: say where before dying (diagnostics only). */
static void fault_report(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "child fault: sig %d addr %p pc %#llx\n",
                     sig, si->si_addr,
#if defined(__aarch64__)
                     (unsigned long long)uc->uc_mcontext.pc);
#else
                     (unsigned long long)uc->uc_mcontext.gregs[REG_RIP]);
#endif
    if (write(2, buf, (size_t)n) < 0)
        _exit(98);
    void *pcs[32];
    int k = backtrace(pcs, 32);
    backtrace_symbols_fd(pcs, k, 2);
    signal(sig, SIG_DFL);
}

static void install_fault_report(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fault_report;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

static int child_corrupt(void *arg)
{
    (void)arg;
    install_fault_report();
    for (int c = 0; c < C_COUNT; c++) {
        int rc = corrupt_case(c);
        if (rc) {
            fprintf(stderr, "corruption case %d failed\n", c);
            return rc;
        }
    }
    return 0;
}

void test_corrupt_stacks(void **state)
{
    (void)state;
    assert_child_ok(wt_in_child(child_corrupt, NULL, 120));
}

/* ------------------------------------------------- fuzzed stacks */

static int child_fuzz(void *arg)
{
    (void)arg;
    install_fault_report();
    static mds_frame ok[MAXF];
    wt_parked *p = calloc(1, sizeof(*p));
    CHILD_CHECK(wt_park(p, rec_o2_nofp, DEPTH, 0) == 0);
    int capped;
    int n0 = walk(&p->regs, ok, MAXF, &capped);
    CHILD_CHECK(n0 > DEPTH);
    uintptr_t code[MAXF + 4];
    int ncode = 0;
    for (int i = 1; i < n0; i++)
        code[ncode++] = ok[i].pc;
    code[ncode++] = (uintptr_t)rec_nocfi_fp_site1();
    code[ncode++] = (uintptr_t)rec_nocfi_fp_site2();
    code[ncode++] = (uintptr_t)rec_o2_fp;

    size_t pg = 4096, len = 64 * 1024, words = len / 8;
    unsigned char *map =
        mmap(NULL, len + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHILD_CHECK(map != MAP_FAILED);
    CHILD_CHECK(mprotect(map + pg, len, PROT_READ | PROT_WRITE) == 0);
    uintptr_t *s = (uintptr_t *)(map + pg);
#define PICK()                                                                 \
    (rnd() % 4 == 0   ? rnd()                                                  \
     : rnd() % 3 == 0 ? 0                                                      \
     : rnd() % 2 == 0 ? code[rnd() % (uint64_t)ncode]                          \
                      : (uintptr_t)&s[rnd() % words])
    for (int it = 0; it < 400; it++) {
        for (size_t i = 0; i < words; i++)
            s[i] = PICK();
        mds_regs r;
        for (int i = 0; i < MDS_NREGS; i++)
            r.v[i] = PICK();
        r.valid = rnd() % 2 ? (1ull << MDS_NREGS) - 1
                            : (1ull << MDS_REG_PC) | (1ull << MDS_REG_SP);
        r.valid |= (1ull << MDS_REG_PC) | (1ull << MDS_REG_SP);
        r.v[MDS_REG_SP] = (uintptr_t)&s[rnd() % words];
        if (it % 7 == 0)
            r.v[MDS_REG_PC] = code[rnd() % (uint64_t)ncode];
        int n = walk(&r, g_f, MAXF, &capped);
        CHILD_CHECK(n >= 1 && n <= MAXF);
        int drops = 0;
        for (int i = 1; i < n; i++)
            drops += g_f[i].sp <= g_f[i - 1].sp;
        CHILD_CHECK(drops <= 2); /* only at signal frames, at most 2 */
    }
    return 0;
}

void test_fuzz_fabricated(void **state)
{
    (void)state;
    assert_child_ok(wt_in_child(child_fuzz, NULL, 120));
}

/* ------------------------------------------- loader lock held */

int wt_dl_cb(struct dl_phdr_info *info, size_t size, void *arg);
void wt_dl_body(wt_parked *p);

__attribute__((noinline)) int wt_dl_cb(struct dl_phdr_info *info, size_t size,
                                       void *arg)
{
    (void)info, (void)size;
    wt_block(arg);
    __asm__ __volatile__("" ::: "memory");
    return 1;
}

__attribute__((noinline)) void wt_dl_body(wt_parked *p)
{
    dl_iterate_phdr(wt_dl_cb, p);
    __asm__ __volatile__("" ::: "memory");
}

static volatile int probe_done;

static int probe_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info, (void)size, (void)arg;
    return 1;
}

static void *probe(void *arg)
{
    (void)arg;
    dl_iterate_phdr(probe_cb, NULL);
    probe_done = 1;
    return NULL;
}

static int child_loader_lock(void *arg)
{
    (void)arg;
    wt_parked *p = calloc(1, sizeof(*p));
    CHILD_CHECK(wt_park_body(p, wt_dl_body) == 0);
    /* The scenario holds: another dl_iterate_phdr now blocks. */
    pthread_t th;
    CHILD_CHECK(pthread_create(&th, NULL, probe, NULL) == 0);
    nap_ms(200);
    CHILD_CHECK(!probe_done);
    /* What the crash path needs still works (a hang = SIGALRM). */
    CHILD_CHECK(mds_images_capture(g_t) == 0);
    CHILD_CHECK(g_t->count >= 4);
    int capped;
    int n = mds_walk(g_w, g_t, &p->regs, g_f, MAXF, &capped);
    uintptr_t lo, hi, blo, bhi, tlo, thi;
    CHILD_CHECK(wt_fn_range((void *)wt_dl_cb, &lo, &hi) == 0);
    CHILD_CHECK(wt_fn_range((void *)wt_dl_body, &blo, &bhi) == 0);
    CHILD_CHECK(wt_fn_range((void *)wt_thread_main, &tlo, &thi) == 0);
    int icb, ibody, ith;
    int ok = wt_count_in(g_f, n, lo, hi, &icb) == 1 &&
             wt_count_in(g_f, n, blo, bhi, &ibody) == 1 &&
             wt_count_in(g_f, n, tlo, thi, &ith) == 1;
    if (!ok)
        wt_print("loader lock", g_t, g_f, n);
    CHILD_CHECK(ok);
    CHILD_CHECK(icb < ibody && ibody < ith);
    for (int i = 1; i <= ith; i++)
        CHILD_CHECK(g_f[i].trust == MDS_TRUST_CFI);
    int libc = wt_libc_image(g_t);
    CHILD_CHECK(libc >= 0);
    /* dl_iterate_phdr's own frame (libc) lies between callback and body
     * (with ASan, its interceptor's frame too, below libc's) */
    int in_libc = 0;
    for (int i = icb + 1; i < ibody; i++)
        in_libc |= g_f[i].image == libc;
    CHILD_CHECK(in_libc);
    return 0;
}

void test_loader_lock(void **state)
{
    (void)state;
    assert_child_ok(wt_in_child(child_loader_lock, NULL, 30));
}

/* --------------------------------------------------- stack overflow */

int wt_overflow_rec(int d);
void *wt_overflow_thread(void *arg);

static volatile int ov_depth, ov_limit = 1 << 30, ov_faulted;
static mds_regs ov_regs;
static pthread_t ov_thread;

__attribute__((noinline)) int wt_overflow_rec(int d)
{
    volatile char buf[1024];
    ov_depth = d;
    buf[0] = (char)d;
    buf[sizeof(buf) - 1] = (char)d;
    int r = d < ov_limit ? wt_overflow_rec(d + 1) : 0;
    __asm__ __volatile__("" ::: "memory");
    return r + buf[5];
}

static void ov_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    mds_regs_from_ucontext(&ov_regs, uc);
    ov_faulted = 1;
    for (;;)
        pause(); /* parked for good on the altstack */
}

__attribute__((noinline)) void *wt_overflow_thread(void *arg)
{
    (void)arg;
    if (!alt_stack(64 * 1024))
        return NULL;
    wt_overflow_rec(1);
    __asm__ __volatile__("" ::: "memory");
    return NULL;
}

static int child_overflow(void *arg)
{
    (void)arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = ov_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    CHILD_CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    CHILD_CHECK(pthread_create(&ov_thread, &a, wt_overflow_thread, NULL) == 0);
    for (int i = 0; i < 10000 && !ov_faulted; i++)
        nap_ms(1);
    CHILD_CHECK(ov_faulted);
    int capped;
    int n = walk(&ov_regs, g_f, MAXF, &capped);
    uintptr_t lo, hi, tlo, thi;
    CHILD_CHECK(wt_fn_range((void *)wt_overflow_rec, &lo, &hi) == 0);
    CHILD_CHECK(wt_fn_range((void *)wt_overflow_thread, &tlo, &thi) == 0);
    int first, tfirst;
    int c = wt_count_in(g_f, n, lo, hi, &first);
    int d = ov_depth;
    fprintf(stderr, "[ overflow: depth %d, %d frames, %d in recursion ]\n", d,
            n, c);
    if (c < d - 1 || c > d + 1)
        wt_print("overflow", g_t, g_f, n);
    CHILD_CHECK(d > 100);
    CHILD_CHECK(c >= d - 1 && c <= d + 1);
    CHILD_CHECK(first <= 1);
    CHILD_CHECK(wt_count_in(g_f, n, tlo, thi, &tfirst) == 1);
    CHILD_CHECK(tfirst == first + c);
    CHILD_CHECK(!capped);
    return 0;
}

void test_stack_overflow(void **state)
{
    (void)state;
    assert_child_ok(wt_in_child(child_overflow, NULL, 60));
}
