/*
 * test_saferead.c - tests of the fault-free memory reads
 * (Source/crash/core/saferead.h).
 *
 * Context: normal-context test program (cmocka). Bad addresses are made
 * with mmap/mprotect/munmap here; a read that faulted instead of returning
 * an error would kill this process and fail the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash/core/saferead.h"

static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* npages readable pages followed by one PROT_NONE page. */
static unsigned char *map_then_none(size_t npages)
{
    size_t pg = page();
    void *m = mmap(NULL, (npages + 1) * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect((unsigned char *)m + npages * pg, pg, PROT_NONE),
                     0);
    return m;
}

static void test_valid(void **state)
{
    (void)state;
    unsigned char src[300], dst[300];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 7 + 1);
    memset(dst, 0, sizeof dst);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)src, sizeof src), 0);
    assert_memory_equal(dst, src, sizeof src);
    /* Unaligned start and odd length. */
    memset(dst, 0, sizeof dst);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)(src + 3), 101), 0);
    assert_memory_equal(dst, src + 3, 101);
    uintptr_t word = 0, want = 0x1122334455667788u;
    assert_int_equal(mds_safe_read_word((uintptr_t)&want, &word), 0);
    assert_int_equal(word, want);
    /* Zero length: nothing to read, even at NULL. */
    assert_int_equal(mds_safe_read(dst, 0, 0), 0);
    /* Across a page boundary of readable memory. */
    unsigned char *m = map_then_none(2);
    for (size_t i = 0; i < 2 * page(); i++)
        m[i] = (unsigned char)(i ^ (i >> 8));
    assert_int_equal(mds_safe_read(dst, (uintptr_t)(m + page() - 100), 200), 0);
    assert_memory_equal(dst, m + page() - 100, 200);
    munmap(m, 3 * page());
}

static void test_null(void **state)
{
    (void)state;
    unsigned char dst[16];
    assert_int_equal(mds_safe_read(dst, 0, 8), -EFAULT);
    assert_int_equal(mds_safe_read(dst, 8, 1), -EFAULT);
    uintptr_t w;
    assert_int_equal(mds_safe_read_word(0, &w), -EFAULT);
}

static void test_prot_none(void **state)
{
    (void)state;
    unsigned char dst[64];
    unsigned char *m = map_then_none(1);
    unsigned char *none = m + page();
    assert_int_equal(mds_safe_read(dst, (uintptr_t)none, 1), -EFAULT);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)none, 64), -EFAULT);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)(none + 100), 8), -EFAULT);
    munmap(m, 2 * page());
}

static void test_unmapped(void **state)
{
    (void)state;
    unsigned char dst[64];
    size_t pg = page();
    void *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    memset(m, 1, 2 * pg);
    assert_int_equal(munmap(m, 2 * pg), 0);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)m, 8), -EFAULT);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)m + pg + 5, 64), -EFAULT);
    /* Kernel half and a range that wraps around the address space. */
    assert_int_equal(mds_safe_read(dst, (uintptr_t)0xffff880000000000u, 8),
                     -EFAULT);
    assert_int_equal(mds_safe_read(dst, UINTPTR_MAX - 3, 8), -EFAULT);
}

static void test_straddle(void **state)
{
    (void)state;
    unsigned char dst[64];
    unsigned char *m = map_then_none(1);
    unsigned char *edge = m + page();
    memset(m, 0x42, page());
    /* Ends exactly at the boundary: fine. */
    assert_int_equal(mds_safe_read(dst, (uintptr_t)(edge - 8), 8), 0);
    assert_memory_equal(dst, edge - 8, 8);
    /* One byte over, many bytes over: error, no fault. */
    assert_int_equal(mds_safe_read(dst, (uintptr_t)(edge - 8), 9), -EFAULT);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)(edge - 1), 64), -EFAULT);
    uintptr_t w;
    assert_int_equal(mds_safe_read_word((uintptr_t)(edge - 4), &w), -EFAULT);
    munmap(m, 2 * page());

    /* Readable, PROT_NONE, readable: the hole in the middle is seen. */
    size_t pg = page();
    unsigned char *h = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(h != MAP_FAILED);
    assert_int_equal(mprotect(h + pg, pg, PROT_NONE), 0);
    unsigned char *big = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(big != MAP_FAILED);
    assert_int_equal(mds_safe_read(big, (uintptr_t)h, 3 * pg), -EFAULT);
    munmap(big, 3 * pg);
    munmap(h, 3 * pg);
}

static void test_str_before_guard(void **state)
{
    (void)state;
    char dst[8192];
    unsigned char *m = map_then_none(2);
    size_t pg = page();
    char *edge = (char *)m + 2 * pg;

    /* "hello" whose NUL is the last readable byte. */
    memcpy(edge - 6, "hello", 6);
    assert_int_equal(mds_safe_read_str(dst, sizeof dst, (uintptr_t)(edge - 6)),
                     5);
    assert_string_equal(dst, "hello");
    /* Empty string in the last byte. */
    edge[-1] = 0;
    assert_int_equal(mds_safe_read_str(dst, sizeof dst, (uintptr_t)(edge - 1)),
                     0);
    assert_string_equal(dst, "");

    /* A string that crosses from the first page into the second. */
    char *s = (char *)m + pg - 10;
    memset(s, 'x', 30);
    s[30] = 0;
    assert_int_equal(mds_safe_read_str(dst, sizeof dst, (uintptr_t)s),
                     (long)strlen(s));
    assert_string_equal(dst, s);

    /* Cap smaller than the string: cut, terminated, returns cap - 1. */
    assert_int_equal(mds_safe_read_str(dst, 4, (uintptr_t)s), 3);
    assert_string_equal(dst, "xxx");
    assert_int_equal(mds_safe_read_str(dst, 1, (uintptr_t)s), 0);
    assert_string_equal(dst, "");
    assert_int_equal(mds_safe_read_str(dst, 0, (uintptr_t)s), -EINVAL);

    /* No NUL before the PROT_NONE page: error, no fault, dst terminated. */
    memset(edge - 20, 'y', 20);
    dst[0] = 'Z';
    assert_int_equal(mds_safe_read_str(dst, sizeof dst, (uintptr_t)(edge - 20)),
                     -EFAULT);
    assert_true(strlen(dst) <= 20);
    /* Exactly fits the cap right at the guard: no read of the guard. */
    assert_int_equal(mds_safe_read_str(dst, 21, (uintptr_t)(edge - 20)), 20);
    assert_int_equal(strlen(dst), 20);

    /* NULL and unmapped. */
    assert_int_equal(mds_safe_read_str(dst, sizeof dst, 0), -EFAULT);
    assert_int_equal(mds_safe_read_str(dst, sizeof dst, (uintptr_t)edge),
                     -EFAULT);
    munmap(m, 3 * pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_prot_none),
        cmocka_unit_test(test_unmapped),
        cmocka_unit_test(test_straddle),
        cmocka_unit_test(test_str_before_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
