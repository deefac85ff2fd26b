/*
 * test_lean.c - the lean CFI unwinder (Source/crash/walk/cfi.c) against
 * libunwind's remote unwinder: the same walker walks the same registers
 * twice, in MDS_WALK_MODE_LEAN and in MDS_WALK_MODE_LIBUNWIND (every CFI
 * step by libunwind's unw_step, the walker as it was before cfi.c), and
 * every frame must be the same: count, pc, sp, how it was found, image.
 * libunwind is the reference here; Tests/walk/test_unwind.c and
 * Tests/crash/test_oracle.c compare the default (lean) walker with
 * libunwind's local unwinder and with gdb.
 *
 * Stacks:
 *   - threads parked at the bottom of a 40-deep recursion in libraries
 *     built -O0/-O2, with/without frame pointers, without unwind tables,
 *     and in C++ with exception tables (rec_cxx.cpp), walked from all
 *     their registers and from pc and sp only;
 *   - every instruction (x86_64: the trap flag, a SIGTRAP per
 *     instruction, the walk from the handler's context) of short
 *     recursions in those libraries calling into libc (qsort with a
 *     callback, getpid), and of the same inside a signal handler, on the
 * thread's stack and on an alternate stack (frames through glibc's
 * __restore_rt, whose CFI is DWARF expressions: the lean unwinder hands those
 * to libunwind);
 *   - 300 fabricated stacks of random words and code addresses.
 * It also asserts that the lean unwinder did the work: no hand-off for
 * the recursions' frames, rows found in its cache when warm.
 *
 * Context: test code (normal context); the SIGTRAP handler walks (the
 * walker is async-signal-safe) and records mismatches in static memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "crash/walk/walk_internal.h"
#include "walk_util.h"

#define DEPTH 40
#define MAXF 512

int rec_o0_fp(int, void (*)(void *), void *);
int rec_o0_nofp(int, void (*)(void *), void *);
int rec_o2_fp(int, void (*)(void *), void *);
int rec_o2_nofp(int, void (*)(void *), void *);
int rec_nocfi_fp(int, void (*)(void *), void *);
int rec_nocfi_nofp(int, void (*)(void *), void *);
#ifdef WALK_HAVE_CXX
int rec_cxx(int, void (*)(void *), void *);
#endif
void *rec_nocfi_fp_site1(void);
void *rec_nocfi_fp_site2(void);

static mds_walker *g_w;
static mds_image_table *g_t;

struct variant {
    const char *name;
    wt_rec_fn fn;
    int cfi; /* has unwind tables: every frame must be the lean one's */
};

static const struct variant variants[] = {
    {"-O0 frame pointer", rec_o0_fp, 1},
    {"-O0 no frame pointer", rec_o0_nofp, 1},
    {"-O2 frame pointer", rec_o2_fp, 1},
    {"-O2 no frame pointer", rec_o2_nofp, 1},
#ifdef WALK_HAVE_CXX
    {"C++ with exception tables", rec_cxx, 1},
#endif
    {"no unwind tables, frame pointer", rec_nocfi_fp, 0},
    {"no unwind tables, no frame pointer", rec_nocfi_nofp, 0},
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

/* ------------------------------------------------ comparing two walks */

typedef struct mismatch {
    uintptr_t pc0;
    int n_lean, n_lu, at;
    mds_frame lean, lu;
} mismatch;

static struct {
    uint64_t points, frames, cfi_frames;
    int nmis;
    mismatch mis[8];
} g_cmp;

static mds_frame fa[MAXF], fb[MAXF];
static int g_debug;

static int same_frame(const mds_frame *a, const mds_frame *b)
{
    return a->pc == b->pc && a->sp == b->sp && a->trust == b->trust &&
           a->image == b->image;
}

/* Walks r in both modes; records the first differences. Returns 1 if the
 * walks agree. Async-signal-safe (it runs in the SIGTRAP handler). */
static int compare_walks(const mds_regs *r)
{
    int ca = 0, cb = 0;
    mds_walker_set_mode(g_w, MDS_WALK_MODE_LEAN);
    int na = mds_walk(g_w, g_t, r, fa, MAXF, &ca);
    mds_walker_set_mode(g_w, MDS_WALK_MODE_LIBUNWIND);
    int nb = mds_walk(g_w, g_t, r, fb, MAXF, &cb);
    mds_walker_set_mode(g_w, MDS_WALK_MODE_LEAN);
    g_cmp.points++;
    g_cmp.frames += na > 0 ? (uint64_t)na : 0;
    int at = -1;
    for (int i = 0; i < na && i < nb && at < 0; i++) {
        if (!same_frame(&fa[i], &fb[i]))
            at = i;
        else if (fa[i].trust == MDS_TRUST_CFI)
            g_cmp.cfi_frames++;
    }
    if (at < 0 && (na != nb || ca != cb))
        at = na < nb ? na : nb;
    if (at < 0)
        return 1;
    if (g_debug && g_cmp.nmis == 0) { /* LEAN_DEBUG=1: both walks */
        wt_print("lean", g_t, fa, na);
        wt_print("libunwind", g_t, fb, nb);
    }
    if (g_cmp.nmis < 8) {
        mismatch *m = &g_cmp.mis[g_cmp.nmis];
        m->pc0 = r->v[MDS_REG_PC];
        m->n_lean = na;
        m->n_lu = nb;
        m->at = at;
        memset(&m->lean, 0, sizeof(m->lean));
        memset(&m->lu, 0, sizeof(m->lu));
        if (at < na)
            m->lean = fa[at];
        if (at < nb)
            m->lu = fb[at];
    }
    g_cmp.nmis++;
    return 0;
}

static void cmp_reset(void) { memset(&g_cmp, 0, sizeof(g_cmp)); }

static void cmp_report(const char *what)
{
    fprintf(stderr,
            "[ %s: %llu walks compared, %llu frames, %llu by CFI; %d "
            "differ ]\n",
            what, (unsigned long long)g_cmp.points,
            (unsigned long long)g_cmp.frames,
            (unsigned long long)g_cmp.cfi_frames, g_cmp.nmis);
    for (int i = 0; i < g_cmp.nmis && i < 8; i++) {
        const mismatch *m = &g_cmp.mis[i];
        fprintf(stderr,
                "  from pc %#lx: lean %d frames, libunwind %d; first "
                "difference at #%d: lean pc %#lx sp %#lx trust %d img %d, "
                "libunwind pc %#lx sp %#lx trust %d img %d\n",
                (unsigned long)m->pc0, m->n_lean, m->n_lu, m->at,
                (unsigned long)m->lean.pc, (unsigned long)m->lean.sp,
                m->lean.trust, m->lean.image, (unsigned long)m->lu.pc,
                (unsigned long)m->lu.sp, m->lu.trust, m->lu.image);
    }
}

static int setup(void **state)
{
    (void)state;
    g_w = md_walker_create();
    g_t = wt_table_new(512, 1 << 16);
    g_debug = getenv("LEAN_DEBUG") != NULL;
    return g_w && mds_images_capture(g_t) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    md_walker_destroy(g_w);
    wt_table_free(g_t);
    return 0;
}

/* ------------------------------------------------ parked threads */

static void test_parked(void **state)
{
    (void)state;
    if (!MDS_CFI_LEAN)
        skip(); /* no lean unwinder on this architecture */
    for (size_t v = 0; v < NVARIANTS; v++) {
        wt_parked *p = calloc(1, sizeof(*p));
        assert_int_equal(wt_park(p, variants[v].fn, DEPTH, 0), 0);
        assert_int_equal(mds_images_capture(g_t), 0);
        mds_walk_stats s0, s1;
        mds_regs pcsp;
        mds_regs_from_pc_sp(&pcsp, p->regs.v[MDS_REG_PC],
                            p->regs.v[MDS_REG_SP]);
        cmp_reset();
        mds_walker_get_stats(g_w, &s0);
        compare_walks(&p->regs);
        uint64_t cfi_full = g_cmp.cfi_frames;
        compare_walks(&pcsp);
        mds_walker_get_stats(g_w, &s1);
        cmp_report(variants[v].name);
        assert_int_equal(g_cmp.nmis, 0);
        assert_true(g_cmp.frames > 2 * DEPTH);
        if (variants[v].cfi) {
            /* From all registers the recursion, its thread's start and
             * libc are CFI frames, all done by the lean unwinder. (From
             * pc and sp only, a frame whose CFA is rbp-based ends the CFI
             * part, e.g. the test's own bottom() under ASan.) */
            assert_true(cfi_full > DEPTH);
            assert_true(s1.lean_steps - s0.lean_steps >= DEPTH);
            assert_int_equal(s1.handoffs - s0.handoffs, 0);
            /* Warm: the second walk of the same stack hits the cache. */
            mds_walker_get_stats(g_w, &s0);
            compare_walks(&p->regs);
            mds_walker_get_stats(g_w, &s1);
            assert_int_equal(s1.lean_hits - s0.lean_hits,
                             s1.lean_steps - s0.lean_steps);
        }
        wt_unpark(p);
        free(p);
    }
}

/* ------------------------------------------------ every instruction */

#if defined(__x86_64__)

/* Images whose every instruction is compared; elsewhere (libc, ld.so,
 * libgcc, libstdc++) every SAMPLE-th. */
#define SAMPLE 8
static uint8_t g_dense[512];
static volatile int g_tracing;
static uint64_t g_traps;

/* The traced code may block every signal (e.g. libunwind's local
 * unwinder brackets its locks that way); a blocked
 * SIGTRAP raised by the trap flag kills the process. So when the next
 * instruction is a syscall blocking signals, SIGTRAP is taken out of the
 * set it is given (a test-only liberty with the traced code's memory). */
static void keep_sigtrap(ucontext_t *uc)
{
    greg_t *g = uc->uc_mcontext.gregs;
    const uint8_t *pc = (const uint8_t *)g[REG_RIP];
    if ((uintptr_t)pc >= 4096 && pc[0] == 0x0f && pc[1] == 0x05 &&
        g[REG_RAX] == SYS_rt_sigprocmask &&
        (g[REG_RDI] == SIG_BLOCK || g[REG_RDI] == SIG_SETMASK) && g[REG_RSI])
        *(volatile unsigned long *)g[REG_RSI] &= ~(1ul << (SIGTRAP - 1));
}

static void trap_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    if (!g_tracing) {
        uc->uc_mcontext.gregs[REG_EFL] &= ~0x100ll;
        return;
    }
    mds_regs r;
    mds_regs_from_ucontext(&r, uc);
    keep_sigtrap(uc);
    int img = mds_images_find(g_t, r.v[MDS_REG_PC]);
    if ((img >= 0 && img < 512 && g_dense[img]) || g_traps % SAMPLE == 0)
        compare_walks(&r);
    g_traps++;
}

static void tf_on(void)
{
    __asm__ __volatile__("pushfq; orq $0x100, (%%rsp); popfq" ::
                             : "memory", "cc");
}

static void tf_off(void)
{
    __asm__ __volatile__("pushfq; andq $-257, (%%rsp); popfq" ::
                             : "memory", "cc");
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* The bottom of a traced recursion: into libc, with our code called back
 * from inside it (qsort's comparison), and a system call. */
static void traced_bottom(void *arg)
{
    (void)arg;
    int v[6] = {5, 3, 9, 1, 7, 2};
    qsort(v, 6, sizeof v[0], cmp_int);
    (void)syscall(SYS_getpid);
}

static void traced_body(void)
{
    for (size_t v = 0; v < NVARIANTS; v++)
        variants[v].fn(3, traced_bottom, NULL);
}

static __attribute__((noinline)) void trace(void (*fn)(void))
{
    g_tracing = 1;
    tf_on();
    fn();
    tf_off();
    g_tracing = 0;
}

static void install_trap(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = trap_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGTRAP, &sa, NULL), 0);
    assert_int_equal(mds_images_capture(g_t), 0);
    memset(g_dense, 0, sizeof(g_dense));
    for (size_t i = 0; i < g_t->count && i < 512; i++)
        g_dense[i] = strstr(g_t->images[i].path, "walk_rec") != NULL ||
                     g_t->images[i].is_main;
    g_traps = 0;
}

static int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload");
}

static void test_every_instruction(void **state)
{
    (void)state;
    if (!MDS_CFI_LEAN)
        skip(); /* no lean unwinder on this architecture */
    if (under_valgrind())
        skip(); /* valgrind does not single-step the client */
    install_trap();
    traced_body(); /* bind the PLT slots first: fewer ld.so instructions */
    cmp_reset();
    trace(traced_body);
    cmp_report("every instruction");
    fprintf(stderr, "[ %llu instructions traced ]\n",
            (unsigned long long)g_traps);
    assert_true(g_traps > 1000);
    assert_true(g_cmp.points > 500);
    assert_int_equal(g_cmp.nmis, 0);
}

/* The same inside a signal handler, on the thread's stack or on an
 * alternate one: walks go through __restore_rt. */
static void usr2_handler(int sig)
{
    (void)sig;
    trace(traced_body);
}

static void signal_case(const char *what, void *alt, size_t alt_size)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = usr2_handler;
    sa.sa_flags = alt ? SA_ONSTACK : 0;
    assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);
    stack_t ss = {.ss_sp = alt, .ss_size = alt_size, .ss_flags = 0}, old;
    if (alt)
        assert_int_equal(sigaltstack(&ss, &old), 0);
    install_trap();
    mds_walk_stats s0, s1;
    mds_walker_get_stats(g_w, &s0);
    cmp_reset();
    raise(SIGUSR2);
    mds_walker_get_stats(g_w, &s1);
    cmp_report(what);
    fprintf(stderr, "[ %llu hand-offs to libunwind ]\n",
            (unsigned long long)(s1.handoffs - s0.handoffs));
    if (alt) {
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, NULL);
    }
    assert_true(g_cmp.points > 500);
    assert_int_equal(g_cmp.nmis, 0);
    /* __restore_rt's CFI is expressions: libunwind did those frames. */
    assert_true(s1.handoffs > s0.handoffs);
}

static void test_signal_frames(void **state)
{
    (void)state;
    if (!MDS_CFI_LEAN)
        skip(); /* no lean unwinder on this architecture */
    if (under_valgrind())
        skip();
    signal_case("in a signal handler", NULL, 0);
    size_t sz = 256 * 1024;
    void *alt = mmap(NULL, sz, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(alt != MAP_FAILED);
    signal_case("in a signal handler on an alternate stack", alt, sz);
    munmap(alt, sz);
}

#else

static void test_every_instruction(void **state)
{
    (void)state;
    if (!MDS_CFI_LEAN)
        skip(); /* no lean unwinder on this architecture */
    skip();     /* the trap flag is x86 */
}

static void test_signal_frames(void **state)
{
    (void)state;
    if (!MDS_CFI_LEAN)
        skip(); /* no lean unwinder on this architecture */
    skip();
}

#endif

/* ------------------------------------------------ fabricated stacks */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int child_fuzz(void *arg)
{
    (void)arg;
    static mds_frame ok[MAXF];
    wt_parked *p = calloc(1, sizeof(*p));
    if (wt_park(p, rec_o2_nofp, DEPTH, 0) != 0)
        return 2;
    mds_images_capture(g_t);
    int capped;
    int n0 = mds_walk(g_w, g_t, &p->regs, ok, MAXF, &capped);
    if (n0 <= DEPTH)
        return 3;
    uintptr_t code[MAXF + 4];
    int ncode = 0;
    for (int i = 1; i < n0; i++)
        code[ncode++] = ok[i].pc;
    code[ncode++] = (uintptr_t)rec_nocfi_fp_site1();
    code[ncode++] = (uintptr_t)rec_nocfi_fp_site2();
    code[ncode++] = (uintptr_t)rec_o2_fp;
#ifdef WALK_HAVE_CXX
    code[ncode++] = (uintptr_t)rec_cxx + 1;
#endif

    size_t pg = 4096, len = 64 * 1024, words = len / 8;
    unsigned char *map =
        mmap(NULL, len + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map + pg, len, PROT_READ | PROT_WRITE))
        return 4;
    uintptr_t *s = (uintptr_t *)(map + pg);
#define PICK()                                                                 \
    (rnd() % 4 == 0   ? rnd()                                                  \
     : rnd() % 3 == 0 ? 0                                                      \
     : rnd() % 2 == 0 ? code[rnd() % (uint64_t)ncode]                          \
                      : (uintptr_t)&s[rnd() % words])
    cmp_reset();
    for (int it = 0; it < 300; it++) {
        for (size_t i = 0; i < words; i++)
            s[i] = PICK();
        mds_regs r;
        for (int i = 0; i < MDS_NREGS; i++)
            r.v[i] = PICK();
        r.valid = rnd() % 2 ? (1ull << MDS_NREGS) - 1 : 0;
        r.valid |= (1ull << MDS_REG_PC) | (1ull << MDS_REG_SP);
        r.v[MDS_REG_SP] = (uintptr_t)&s[rnd() % words];
        if (it % 3 == 0)
            r.v[MDS_REG_PC] = code[rnd() % (uint64_t)ncode];
        /* Cold caches: libunwind keys its cached rows by the frame's pc
         * whether or not it looked them up at pc - 1, so a row cached for
         * a function's first instruction (frame 0 there) is later applied
         * to a "return address" equal to it, which a fresh lookup (and
         * the lean unwinder, keyed by the lookup address) finds in no FDE.
         * That depends on what was walked before; with both caches
         * flushed, the results are the tables' own. */
        mds_walker_flush(g_w);
        compare_walks(&r);
    }
    cmp_report("fabricated stacks");
    return g_cmp.nmis == 0 && g_cmp.cfi_frames > 0 ? 0 : 1;
}

static void test_fabricated(void **state)
{
    (void)state;
    if (!MDS_CFI_LEAN)
        skip(); /* no lean unwinder on this architecture */
    int st = wt_in_child(child_fuzz, NULL, 120);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parked),
        cmocka_unit_test(test_every_instruction),
        cmocka_unit_test(test_signal_frames),
        cmocka_unit_test(test_fabricated),
    };
    if (getenv("WALK_TEST_FILTER"))
        cmocka_set_test_filter(getenv("WALK_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
