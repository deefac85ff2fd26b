/*
 * test_arena.c - tests of the guard-paged crash-time arena
 * (Source/crash/core/arena.h).
 *
 * Context: normal-context test program (cmocka). The guard-page tests fault
 * on purpose in a forked child; the child's SIGSEGV handler sends si_addr
 * to the parent through a pipe and the child then dies of the fault.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash/core/arena.h"
#include "crash/core/saferead.h"

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static void test_page_size(void **state)
{
    (void)state;
    assert_int_equal(mds_page_size(), page());
    assert_int_equal(mds_page_size(), getauxval(AT_PAGESZ));
}

static void test_map_geometry(void **state)
{
    (void)state;
    size_t pg = page();
    struct {
        size_t ask, pages;
    } cases[] = {{0, 1}, {1, 1}, {pg, 1}, {pg + 1, 2}, {3 * pg + 1, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mds_arena a;
        assert_int_equal(mds_arena_map(&a, cases[i].ask), 0);
        assert_int_equal(a.size, cases[i].pages * pg);
        assert_ptr_equal(a.base, a.map + pg);
        assert_int_equal(a.map_len, a.size + 2 * pg);
        assert_int_equal(a.used, 0);
        assert_int_equal((uintptr_t)a.base % pg, 0);
        /* Usable region: readable; guards: not (checked without faulting
         * through the safe read, independently of the arena code). */
        unsigned char c;
        assert_int_equal(mds_safe_read(&c, (uintptr_t)a.base, 1), 0);
        assert_int_equal(mds_safe_read(&c, (uintptr_t)(a.base + a.size - 1), 1),
                         0);
        assert_int_not_equal(mds_safe_read(&c, (uintptr_t)(a.base + a.size), 1),
                             0);
        assert_int_not_equal(mds_safe_read(&c, (uintptr_t)(a.base - 1), 1), 0);
        memset(a.base, 0x5A, a.size); /* whole region writable */
        uintptr_t base = (uintptr_t)a.base;
        mds_arena_unmap(&a);
        assert_null(a.map);
        assert_null(a.base);
        assert_int_equal(a.size, 0);
        assert_int_not_equal(mds_safe_read(&c, base, 1), 0);
        mds_arena_unmap(&a); /* zeroed: no-op */
    }
}

static void test_alloc_aligned_bounded(void **state)
{
    (void)state;
    mds_arena a;
    /* Each round has a 4096-aligned block: 3 rounds need > 3 pages. */
    assert_int_equal(mds_arena_map(&a, 8 * page()), 0);
    static const size_t aligns[] = {1, 2, 4, 8, 16, 64, 256, 4096};
    unsigned char *prev_end = a.base;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
            size_t len = 1 + i * 13 + (size_t)round;
            unsigned char *p = mds_arena_alloc(&a, len, aligns[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % aligns[i], 0);
            /* Inside the region, after the previous block (no overlap). */
            assert_true(p >= prev_end);
            assert_true(p + len <= a.base + a.size);
            memset(p, (int)i, len);
            prev_end = p + len;
            assert_int_equal(a.used, (size_t)(prev_end - a.base));
        }
    }
    /* Bad alignments. */
    assert_null(mds_arena_alloc(&a, 1, 0));
    assert_null(mds_arena_alloc(&a, 1, 3));
    assert_null(mds_arena_alloc(&a, 1, 48));
    mds_arena_unmap(&a);
    /* An unmapped (zeroed) arena gives nothing. */
    assert_null(mds_arena_alloc(&a, 1, 1));
}

static void test_alloc_exhaust(void **state)
{
    (void)state;
    mds_arena a;
    assert_int_equal(mds_arena_map(&a, page()), 0);
    size_t sz = a.size;
    assert_null(mds_arena_alloc(&a, sz + 1, 1));
    assert_null(mds_arena_alloc(&a, SIZE_MAX, 1));
    assert_null(mds_arena_alloc(&a, SIZE_MAX - 8, 16));
    assert_int_equal(a.used, 0);
    unsigned char *p = mds_arena_alloc(&a, sz, 1);
    assert_ptr_equal(p, a.base);
    assert_null(mds_arena_alloc(&a, 1, 1));
    mds_arena_reset(&a);
    assert_int_equal(a.used, 0);
    /* Alignment padding that would pass the end fails cleanly. */
    assert_non_null(mds_arena_alloc(&a, sz - 10, 1));
    assert_null(mds_arena_alloc(&a, 1, 4096));
    assert_null(mds_arena_alloc(&a, 11, 1));
    assert_non_null(mds_arena_alloc(&a, 10, 1));
    assert_null(mds_arena_alloc(&a, 1, 1));
    assert_int_equal(a.used, sz);
    /* Zero-length allocation at the very end is allowed and in bounds. */
    unsigned char *z = mds_arena_alloc(&a, 0, 1);
    assert_ptr_equal(z, a.base + sz);
    mds_arena_unmap(&a);
}

/* ------------------------------------------------- guard-page faults */

static int fault_pipe = -1;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (write(fault_pipe, &addr, sizeof addr) != (ssize_t)sizeof addr)
        _exit(3);
    /* SA_RESETHAND restored the default action: returning re-runs the
     * faulting store, which now kills the child with SIGSEGV. */
}

/* Forks; the child writes one byte at base+offset of a fresh arena of
 * `size` bytes and must die of SIGSEGV at exactly that address. */
static void expect_guard_fault(size_t size, long offset)
{
    mds_arena a;
    assert_int_equal(mds_arena_map(&a, size), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    uintptr_t target = (uintptr_t)(a.base + offset);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fault_pipe = fds[1];
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
        sigaction(SIGSEGV, &sa, NULL);
        /* Both ends of the usable region are fine... */
        volatile unsigned char *v = a.base;
        v[0] = 1;
        v[a.size - 1] = 2;
        /* ...one byte beyond is not. */
        *(volatile unsigned char *)target = 3;
        _exit(0); /* not reached if the guard works */
    }
    close(fds[1]);
    uintptr_t got = 0;
    ssize_t n = read(fds[0], &got, sizeof got);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    assert_int_equal(n, sizeof got);
    assert_int_equal(got, target);
    mds_arena_unmap(&a);
}

static void test_guard_after(void **state)
{
    (void)state;
    expect_guard_fault(page(), (long)page()); /* base + size */
    expect_guard_fault(5 * page(), (long)(5 * page()));
    expect_guard_fault(1, (long)page()); /* size rounds up to one page */
}

static void test_guard_before(void **state)
{
    (void)state;
    expect_guard_fault(page(), -1); /* base - 1 */
    expect_guard_fault(2 * page(), -1);
}

/* An allocation that fills the arena ends right at the trailing guard. */
static void test_alloc_end_is_guard(void **state)
{
    (void)state;
    mds_arena a;
    assert_int_equal(mds_arena_map(&a, 2 * page()), 0);
    unsigned char *p = mds_arena_alloc(&a, 100, 1);
    unsigned char *q = mds_arena_alloc(&a, a.size - 100, 1);
    assert_non_null(p);
    assert_non_null(q);
    unsigned char c;
    assert_int_equal(mds_safe_read(&c, (uintptr_t)(q + a.size - 101), 1), 0);
    assert_int_not_equal(mds_safe_read(&c, (uintptr_t)(q + a.size - 100), 1),
                         0);
    mds_arena_unmap(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_size),
        cmocka_unit_test(test_map_geometry),
        cmocka_unit_test(test_alloc_aligned_bounded),
        cmocka_unit_test(test_alloc_exhaust),
        cmocka_unit_test(test_guard_after),
        cmocka_unit_test(test_guard_before),
        cmocka_unit_test(test_alloc_end_is_guard),
    };
    md_saferead_init(0); /* guards are checked through the safe read */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
