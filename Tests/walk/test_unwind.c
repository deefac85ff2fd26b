/*
 * test_unwind.c - the stack walker (Source/crash/walk/unwind.c).
 *
 * Expected frames come from the tests' own construction (a recursion of
 * known depth in libraries built with known flags, fabricated stacks),
 * function ranges from ld.so's symbol table (dladdr1), and libunwind's own
 * local unwinder run inside the walked thread; never from mds_walk itself.
 * Risky walks (corrupt stacks, a thread holding the loader lock, a stack
 * overflow, a call through NULL) run in forked children whose exit status
 * is asserted: a fault or a hang (alarm) fails the test.
 *
 * Context: test code (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "crash/walk/walk_internal.h"
#include "test_unwind.h"
#include "walk_util.h"

mds_walker *g_w;
mds_image_table *g_t;
mds_frame g_f[MAXF];

static int setup(void **state)
{
    (void)state;
    g_w = md_walker_create();
    g_t = wt_table_new(512, 1 << 16);
    return g_w ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    md_walker_destroy(g_w);
    wt_table_free(g_t);
    return 0;
}

int walk(const mds_regs *r, mds_frame *f, int max, int *capped)
{
    if (mds_images_capture(g_t) != 0)
        return -1000;
    return mds_walk(g_w, g_t, r, f, (size_t)max, capped);
}

/* Strictly, except that on aarch64 frame 1 may have frame 0's sp (a
 * leaf returns through lr without touching the stack). */
int sp_rises(const mds_frame *f, int n)
{
    for (int i = 1; i < n; i++) {
#if defined(__aarch64__)
        if (i == 1 && f[1].sp == f[0].sp)
            continue;
#endif
        if (f[i].sp <= f[i - 1].sp)
            return 0;
    }
    return 1;
}

void assert_child_ok(int st)
{
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "child: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ------------------------------------------- the four CFI variants */

struct variant {
    const char *name;
    wt_rec_fn fn;
};

static const struct variant variants[] = {
    {"-O0 frame pointer", rec_o0_fp},
    {"-O0 no frame pointer", rec_o0_nofp},
    {"-O2 frame pointer", rec_o2_fp},
    {"-O2 no frame pointer", rec_o2_nofp},
};

/* The recursion appears exactly DEPTH times, consecutively, inside its
 * library, followed by wt_thread_main; sp rises; the walk ends in libc
 * (start_thread/clone3) below the cap. Returns the first rec index. */
static int check_rec_frames(wt_rec_fn fn, const mds_frame *f, int n, int capped)
{
    uintptr_t lo, hi, tlo, thi;
    int first, tfirst;
    assert_int_equal(wt_fn_range((void *)fn, &lo, &hi), 0);
    assert_int_equal(wt_fn_range((void *)wt_thread_main, &tlo, &thi), 0);
    int c = wt_count_in(f, n, lo, hi, &first);
    if (c != DEPTH)
        wt_print("rec frames", g_t, f, n);
    assert_int_equal(c, DEPTH);
    for (int i = first; i < first + DEPTH; i++)
        assert_true(f[i].pc >= lo && f[i].pc < hi);
    assert_int_equal(wt_count_in(f, n, tlo, thi, &tfirst), 1);
    assert_int_equal(tfirst, first + DEPTH);
    Dl_info di;
    assert_true(dladdr((void *)fn, &di));
    int lib = wt_find_image_file(g_t, di.dli_fname);
    assert_true(lib >= 0);
    for (int i = first; i < first + DEPTH; i++)
        assert_int_equal(f[i].image, lib);
    assert_true(sp_rises(f, n));
    assert_false(capped);
    assert_true(n < MAXF);
    int libc = wt_libc_image(g_t);
    assert_true(libc >= 0);
    assert_int_equal(f[n - 1].image, libc);
    assert_int_equal(f[0].trust, MDS_TRUST_CONTEXT);
    return first;
}

static void test_variants_cfi_and_local(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        wt_parked *p = calloc(1, sizeof(*p));
        assert_int_equal(wt_park(p, variants[v].fn, DEPTH, 1), 0);
        int capped = -1;
        int n = walk(&p->regs, g_f, MAXF, &capped);
        fprintf(stderr, "[ variant %s: %d frames ]\n", variants[v].name, n);
        check_rec_frames(variants[v].fn, g_f, n, capped);
        for (int i = 1; i < n; i++)
            assert_int_equal(g_f[i].trust, MDS_TRUST_CFI);

        /* libunwind's local unwinder, run in the thread's handler, from
         * the same interrupted context: skip the handler's own frames. */
        int k = -1;
        for (int i = 0; i < p->nlocal && k < 0; i++) {
            if (p->lpcs[i] == g_f[0].pc && p->lsps[i] == g_f[0].sp)
                k = i;
        }
        if (k < 0 || p->nlocal - k != n)
            wt_print("ours", g_t, g_f, n);
        assert_true(k >= 0);
        assert_int_equal(p->nlocal - k, n);
        for (int i = 0; i < n; i++) {
            assert_int_equal(p->lpcs[k + i], g_f[i].pc);
            assert_int_equal(p->lsps[k + i], g_f[i].sp);
        }
        wt_unpark(p);
        free(p);
    }
}

#if defined(__aarch64__)
/* Return addresses signed with PAC (-mbranch-protection=pac-ret; qemu's
 * "max" CPU has pointer authentication, so they really are signed there):
 * every frame of the recursion is found, consecutively, with its pc
 * stripped (a signed one would lie outside the function). libunwind
 * 1.6.2's CFI steps fail on these frames (measured: frames 2.. of the
 * recursion come from the x29 frame records); see docs/platforms.md. */
static void test_pac_ret(void **state)
{
    (void)state;
    wt_parked *p = calloc(1, sizeof(*p));
    assert_int_equal(wt_park(p, rec_o2_pac, DEPTH, 0), 0);
    int capped = -1;
    int n = walk(&p->regs, g_f, MAXF, &capped);
    fprintf(stderr, "[ variant -O2 pac-ret: %d frames ]\n", n);
    uintptr_t lo, hi;
    int first;
    assert_int_equal(wt_fn_range((void *)rec_o2_pac, &lo, &hi), 0);
    int c = wt_count_in(g_f, n, lo, hi, &first);
    if (c != DEPTH)
        wt_print("pac-ret", g_t, g_f, n);
    assert_int_equal(c, DEPTH);
    for (int i = first; i < first + DEPTH; i++)
        assert_true(g_f[i].pc >= lo && g_f[i].pc < hi);
    assert_true(sp_rises(g_f, n));
    assert_false(capped);
    wt_unpark(p);
    free(p);
}
#endif

/* ------------------------------------------------------ fallbacks */

/* No unwind tables, frame pointers: the rbp chain carries the walk. */
static void test_no_cfi_frame_pointer(void **state)
{
    (void)state;
    wt_parked *p = calloc(1, sizeof(*p));
    assert_int_equal(wt_park(p, rec_nocfi_fp, DEPTH, 0), 0);
    int capped;
    int n = walk(&p->regs, g_f, MAXF, &capped);
    uintptr_t lo, hi;
    int first;
    assert_int_equal(wt_fn_range((void *)rec_nocfi_fp, &lo, &hi), 0);
    int c = wt_count_in(g_f, n, lo, hi, &first);
    if (c != DEPTH)
        wt_print("nocfi fp", g_t, g_f, n);
    assert_int_equal(c, DEPTH);
    int fp = 0;
    for (int i = first; i < first + DEPTH; i++)
        fp += g_f[i].trust == MDS_TRUST_FRAME_POINTER;
    /* The first is found by park's CFI; every other by the rbp chain. */
    assert_true(fp >= DEPTH - 1);
    assert_true(sp_rises(g_f, n));
    wt_unpark(p);
    free(p);
}

/* No unwind tables, no frame pointers: only the scan can find frames.
 * Asserts termination and that the scan finds the recursion. */
static void test_no_cfi_no_fp_scan(void **state)
{
    (void)state;
    wt_parked *p = calloc(1, sizeof(*p));
    assert_int_equal(wt_park(p, rec_nocfi_nofp, DEPTH, 0), 0);
    int capped;
    int n = walk(&p->regs, g_f, MAXF, &capped);
    uintptr_t lo, hi;
    int first;
    assert_int_equal(wt_fn_range((void *)rec_nocfi_nofp, &lo, &hi), 0);
    int c = wt_count_in(g_f, n, lo, hi, &first);
    if (c != DEPTH)
        wt_print("nocfi nofp", g_t, g_f, n);
    assert_int_equal(c, DEPTH);
    int scan = 0;
    for (int i = first; i < first + DEPTH; i++)
        scan += g_f[i].trust == MDS_TRUST_SCAN;
    assert_true(scan >= DEPTH - 1);
    assert_true(sp_rises(g_f, n));
    wt_unpark(p);
    free(p);
}

/* A thread that did not answer suspension: only pc and sp are known. */
static void test_pc_sp_only(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        wt_parked *p = calloc(1, sizeof(*p));
        assert_int_equal(wt_park(p, variants[v].fn, DEPTH, 0), 0);
        mds_regs r;
        mds_regs_from_pc_sp(&r, p->regs.v[MDS_REG_PC], p->regs.v[MDS_REG_SP]);
        int capped;
        int n = walk(&r, g_f, MAXF, &capped);
        uintptr_t lo, hi;
        assert_int_equal(wt_fn_range((void *)variants[v].fn, &lo, &hi), 0);
        int c = wt_count_in(g_f, n, lo, hi, NULL);
        int tr[6] = {0};
        for (int i = 0; i < n; i++)
            tr[g_f[i].trust < 6 ? g_f[i].trust : 0]++;
        fprintf(stderr,
                "[ pc+sp only, %s: %d frames, %d in rec; cfi %d fp %d "
                "scan %d ]\n",
                variants[v].name, n, c, tr[MDS_TRUST_CFI],
                tr[MDS_TRUST_FRAME_POINTER], tr[MDS_TRUST_SCAN]);
        if (c != DEPTH)
            wt_print("pc+sp only", g_t, g_f, n);
        assert_int_equal(c, DEPTH);
        assert_true(sp_rises(g_f, n));
        wt_unpark(p);
        free(p);
    }
}

/* A fabricated stack: junk words, two call sites of an object without
 * unwind tables (so no CFI can apply), guard pages around. */
typedef struct fab {
    unsigned char *map;
    uintptr_t *s;
    size_t words;
} fab;

static void fab_new(fab *b)
{
    size_t pg = 4096, len = 64 * 1024;
    b->map =
        mmap(NULL, len + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(b->map != MAP_FAILED);
    assert_int_equal(mprotect(b->map + pg, len, PROT_READ | PROT_WRITE), 0);
    b->s = (uintptr_t *)(b->map + pg);
    b->words = len / 8;
    for (size_t i = 0; i < b->words; i++)
        b->s[i] = 0x1111111111111111ull;
}

static void fab_free(fab *b) { munmap(b->map, 64 * 1024 + 2 * 4096); }

static void test_fabricated_sp_scan_fp(void **state)
{
    (void)state;
    uintptr_t ra_a = (uintptr_t)rec_nocfi_fp_site1();
    uintptr_t ra_b = (uintptr_t)rec_nocfi_fp_site2();
    assert_true(ra_a != ra_b);
    mds_regs r;
    int capped, n;
    fab b;

#if defined(__aarch64__)
    /* pc = 0 (call through NULL): lr is the return address, the caller's
     * sp is ours (no return address was pushed). */
    fab_new(&b);
    b.s[300] = ra_b;
    mds_regs_from_pc_sp(&r, 0, (uintptr_t)&b.s[0]);
    r.v[MDS_REG_LR] = ra_a;
    r.valid |= 1ull << MDS_REG_LR;
    n = walk(&r, g_f, MAXF, &capped);
    if (n != 3)
        wt_print("[lr]", g_t, g_f, n);
    assert_int_equal(n, 3);
    assert_int_equal(g_f[0].pc, 0);
    assert_int_equal(g_f[0].trust, MDS_TRUST_CONTEXT);
    assert_int_equal(g_f[0].image, -1);
    assert_int_equal(g_f[1].pc, ra_a);
    assert_int_equal(g_f[1].sp, (uintptr_t)&b.s[0]);
    assert_int_equal(g_f[1].trust, MDS_TRUST_LINK_REGISTER);
    assert_int_equal(g_f[2].pc, ra_b);
    assert_int_equal(g_f[2].sp, (uintptr_t)&b.s[301]);
    assert_int_equal(g_f[2].trust, MDS_TRUST_SCAN);
    /* lr not at a call site: not taken, the scan goes on. */
    r.v[MDS_REG_LR] = (uintptr_t)rec_nocfi_fp_site1;
    n = walk(&r, g_f, MAXF, &capped);
    assert_int_equal(n, 2);
    assert_int_equal(g_f[1].pc, ra_b);
    fab_free(&b);
#else
    /* pc = 0 (call through NULL): [sp] is the return address. */
    fab_new(&b);
    b.s[0] = ra_a;
    b.s[300] = ra_b;
    mds_regs_from_pc_sp(&r, 0, (uintptr_t)&b.s[0]);
    n = walk(&r, g_f, MAXF, &capped);
    if (n != 3)
        wt_print("[sp]", g_t, g_f, n);
    assert_int_equal(n, 3);
    assert_int_equal(g_f[0].pc, 0);
    assert_int_equal(g_f[0].trust, MDS_TRUST_CONTEXT);
    assert_int_equal(g_f[0].image, -1);
    assert_int_equal(g_f[1].pc, ra_a);
    assert_int_equal(g_f[1].sp, (uintptr_t)&b.s[1]);
    assert_int_equal(g_f[1].trust, MDS_TRUST_STACK_POINTER);
    assert_int_equal(g_f[2].pc, ra_b);
    assert_int_equal(g_f[2].sp, (uintptr_t)&b.s[301]);
    assert_int_equal(g_f[2].trust, MDS_TRUST_SCAN);
    fab_free(&b);

#endif

    /* pc in no image, [sp] junk: the scan finds both. */
    fab_new(&b);
    b.s[2] = ra_a;
    b.s[300] = ra_b;
    mds_regs_from_pc_sp(&r, 0x1234000, (uintptr_t)&b.s[0]);
    n = walk(&r, g_f, MAXF, &capped);
    if (n != 3)
        wt_print("scan", g_t, g_f, n);
    assert_int_equal(n, 3);
    assert_int_equal(g_f[1].pc, ra_a);
    assert_int_equal(g_f[1].sp, (uintptr_t)&b.s[3]);
    assert_int_equal(g_f[1].trust, MDS_TRUST_SCAN);
    assert_int_equal(g_f[2].pc, ra_b);
    assert_int_equal(g_f[2].trust, MDS_TRUST_SCAN);
    /* Not a call site (a function's first byte): the scan skips it. */
    b.s[2] = (uintptr_t)rec_nocfi_fp_site1;
    n = walk(&r, g_f, MAXF, &capped);
    assert_int_equal(n, 2);
    assert_int_equal(g_f[1].pc, ra_b);
    fab_free(&b);

    /* A frame-pointer chain: rbp -> s[10] -> s[200] -> 0. */
    fab_new(&b);
    b.s[10] = (uintptr_t)&b.s[200];
    b.s[11] = ra_a;
    b.s[200] = 0;
    b.s[201] = ra_b;
    mds_regs_from_pc_sp(&r, 0x1234000, (uintptr_t)&b.s[0]);
    r.v[MDS_REG_FP] = (uintptr_t)&b.s[10];
    r.valid |= 1ull << MDS_REG_FP;
    n = walk(&r, g_f, MAXF, &capped);
    if (n != 3)
        wt_print("fp", g_t, g_f, n);
    assert_int_equal(n, 3);
    assert_int_equal(g_f[1].pc, ra_a);
    assert_int_equal(g_f[1].sp, (uintptr_t)&b.s[12]);
    assert_int_equal(g_f[1].trust, MDS_TRUST_FRAME_POINTER);
    assert_int_equal(g_f[2].pc, ra_b);
    assert_int_equal(g_f[2].sp, (uintptr_t)&b.s[202]);
    assert_int_equal(g_f[2].trust, MDS_TRUST_FRAME_POINTER);
    /* A frame-pointer loop (rbp -> itself) ends: sp must rise. */
    b.s[200] = (uintptr_t)&b.s[10];
    n = walk(&r, g_f, MAXF, &capped);
    assert_true(n <= 4);
    assert_true(sp_rises(g_f, n));
    fab_free(&b);
}

static void test_cap(void **state)
{
    (void)state;
    wt_parked *p = calloc(1, sizeof(*p));
    assert_int_equal(wt_park(p, rec_o2_fp, DEPTH, 0), 0);
    int capped = 0;
    assert_int_equal(walk(&p->regs, g_f, 8, &capped), 8);
    assert_true(capped);
    assert_int_equal(walk(&p->regs, g_f, 1, &capped), 1);
    assert_true(capped);
    assert_int_equal(g_f[0].pc, p->regs.v[MDS_REG_PC]);
    int n = walk(&p->regs, g_f, MAXF, &capped);
    assert_false(capped);
    assert_int_equal(walk(&p->regs, g_f, n, &capped), n);
    assert_false(capped);
    wt_unpark(p);
    free(p);
}

/* A walker re-entered on the same thread (as after a crash inside a
 * walk) walks without libunwind, and never uses it again. */
static void test_reentry(void **state)
{
    (void)state;
    mds_walker *w2 = md_walker_create();
    assert_non_null(w2);
    wt_parked *p = calloc(1, sizeof(*p));
    assert_int_equal(wt_park(p, rec_o2_fp, DEPTH, 0), 0);
    assert_int_equal(mds_images_capture(g_t), 0);
    int tid = (int)syscall(SYS_gettid), capped;
    /* Busy on another thread: no libunwind for this walk, not poisoned. */
    w2->busy_tid = tid + 1;
    int n1 = mds_walk(w2, g_t, &p->regs, g_f, MAXF, &capped);
    assert_true(n1 >= 2);
    assert_false(w2->lu_poisoned);
    assert_int_equal(w2->busy_tid, tid + 1);
    for (int i = 0; i < n1; i++)
        assert_true(g_f[i].trust != MDS_TRUST_CFI);
    /* Busy on this thread: re-entry. */
    w2->busy_tid = tid;
    int n = mds_walk(w2, g_t, &p->regs, g_f, MAXF, &capped);
    assert_true(n >= 2);
    assert_int_equal(w2->busy_tid, tid);
    assert_true(w2->lu_poisoned);
    for (int i = 0; i < n; i++)
        assert_true(g_f[i].trust != MDS_TRUST_CFI);
    assert_true(sp_rises(g_f, n));
    w2->busy_tid = 0;
    n = mds_walk(w2, g_t, &p->regs, g_f, MAXF, &capped);
    for (int i = 0; i < n; i++)
        assert_true(g_f[i].trust != MDS_TRUST_CFI);
    wt_unpark(p);
    free(p);
    md_walker_destroy(w2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants_cfi_and_local),
#if defined(__aarch64__)
        cmocka_unit_test(test_pac_ret),
#endif
        cmocka_unit_test(test_no_cfi_frame_pointer),
        cmocka_unit_test(test_no_cfi_no_fp_scan),
        cmocka_unit_test(test_pc_sp_only),
        cmocka_unit_test(test_fabricated_sp_scan_fp),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_reentry),
        cmocka_unit_test(test_null_call),
        cmocka_unit_test(test_corrupt_stacks),
        cmocka_unit_test(test_fuzz_fabricated),
        cmocka_unit_test(test_loader_lock),
        cmocka_unit_test(test_stack_overflow),
    };
    if (getenv("WALK_TEST_FILTER")) /* e.g. WALK_TEST_FILTER=test_cap */
        cmocka_set_test_filter(getenv("WALK_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup, teardown);
}
