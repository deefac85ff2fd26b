/*
 * test_saferead.c - tests of the fault-free memory reads
 * (Source/crash/core/saferead.h): every case once per method
 * (process_vm_readv where the self-test accepts it, and the pipe), the
 * self-test's choice, and what only the pipe has (reads larger than a
 * pipe, fds closed and reused behind its back, a forked child, many
 * threads at once).
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
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash/core/saferead.h"
#include "crash/core/saferead_state.h"

/* Set by Tests/CMakeLists.txt when the tests run under an emulator
 * (qemu-aarch64), which has no process_vm_readv. */
static int emulated(void) { return getenv("MAYDAY_EMULATOR") != NULL; }

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

/* ------------------------------------------------ the self-test's choice */

static void test_choice(void **state)
{
    (void)state;
    md_saferead_fini();
    int m = md_saferead_init(0);
    /* Natively process_vm_readv on ourselves works; qemu-user answers
     * ENOSYS, and the pipe must be chosen instead. */
    assert_int_equal(m, emulated() ? MDS_SAFEREAD_PIPE : MDS_SAFEREAD_VM);
    assert_int_equal(mds_safe_read_method(), m);
    /* Asking for the pipe gets it everywhere. */
    assert_int_equal(md_saferead_init(MDS_SAFEREAD_PIPE), MDS_SAFEREAD_PIPE);
    /* Asking for process_vm_readv under qemu falls back to the pipe. */
    assert_int_equal(md_saferead_init(MDS_SAFEREAD_VM),
                     emulated() ? MDS_SAFEREAD_PIPE : MDS_SAFEREAD_VM);
    md_saferead_fini();
    assert_int_equal(mds_safe_read_method(), MDS_SAFEREAD_VM);
}

/* --------------------------------------------------- pipe-only cases */

static unsigned char *pattern_map(size_t len, unsigned seed)
{
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    for (size_t i = 0; i < len; i++)
        m[i] = (unsigned char)((i * 2654435761u) >> 13 ^ seed);
    return m;
}

/* Larger than a pipe (several chunks), and a bad page after several
 * chunks: -EFAULT, nothing left in the pipe for the next read. */
static void test_pipe_big(void **state)
{
    (void)state;
    size_t len = 1 << 20, pg = page();
    unsigned char *m = pattern_map(len + pg, 3);
    unsigned char *dst = malloc(len + pg);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)m, len), 0);
    assert_memory_equal(dst, m, len);
    assert_int_equal(mprotect(m + len, pg, PROT_NONE), 0);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)m + 5, len), -EFAULT);
    assert_int_equal(mds_safe_read(dst, (uintptr_t)m + 100, 4000), 0);
    assert_memory_equal(dst, m + 100, 4000);
    free(dst);
    munmap(m, len + pg);
}

/* The application closes our fds and gets their numbers back for a file:
 * nothing is written into the file, the other pipes serve the reads. */
static void test_pipe_fd_reused(void **state)
{
    (void)state;
    char path[] = "/tmp/mayday-saferead-XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    int rd0 = mds_sr.p[0].rd, wr1 = mds_sr.p[1].wr;
    assert_true(rd0 >= 0 && wr1 >= 0);
    assert_int_equal(dup2(f, rd0), rd0);
    assert_int_equal(dup2(f, wr1), wr1);
    unsigned char src[512], dst[512];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 7);
    for (int k = 0; k < 10; k++) {
        memset(dst, 0, sizeof dst);
        assert_int_equal(mds_safe_read(dst, (uintptr_t)src, sizeof src), 0);
        assert_memory_equal(dst, src, sizeof src);
    }
    struct stat st;
    assert_int_equal(fstat(f, &st), 0);
    assert_int_equal(st.st_size, 0);
    /* The foreign fds are left alone (still open, still the file). */
    assert_int_equal(fstat(rd0, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(mds_sr.p[0].rd, -1);
    assert_int_equal(mds_sr.p[1].wr, -1);
    close(rd0);
    close(wr1);
    close(f);
    md_saferead_fini();
    assert_int_equal(md_saferead_init(MDS_SAFEREAD_PIPE), MDS_SAFEREAD_PIPE);
}

static void read_many(unsigned seed, int rounds)
{
    size_t len = 3 * 4096 + 17;
    unsigned char *m = pattern_map(len, seed);
    unsigned char *dst = malloc(len);
    for (int k = 0; k < rounds; k++) {
        size_t off = (size_t)(k * 37) % 4096, n = len - off;
        int r = mds_safe_read(dst, (uintptr_t)m + off, n);
        if (r != 0 || memcmp(dst, m + off, n) != 0) {
            fprintf(stderr, "read_many(%u): round %d: %d%s\n", seed, k, r,
                    r == 0 ? ", wrong bytes" : "");
            abort();
        }
    }
    free(dst);
    munmap(m, len);
}

/* A forked child gets pipes of its own (the parent's are shared with it)
 * and both read at the same time without mixing their bytes. */
static void test_pipe_fork(void **state)
{
    (void)state;
    uint64_t parent_ino = mds_sr.p[0].ino;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        read_many(11, 2000);
        uint64_t ino = mds_sr.p[0].ino;
        int differs = ino != parent_ino && mds_sr.owner_pid == (uint32_t)getpid();
        _exit(write(fds[1], &differs, sizeof differs) == sizeof differs ? 0 : 9);
    }
    read_many(12, 2000);
    int st = 0, differs = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(read(fds[0], &differs, sizeof differs), sizeof differs);
    assert_true(differs);
    assert_int_equal(mds_sr.p[0].ino, parent_ino);
    close(fds[0]);
    close(fds[1]);
}

static void *reader_thread(void *arg)
{
    read_many((unsigned)(uintptr_t)arg, 1500);
    return NULL;
}

/* More readers than pipes: each read waits for a free pipe (bounded) and
 * gets its own bytes. */
static void test_pipe_threads(void **state)
{
    (void)state;
    pthread_t t[2 * MDS_SR_PIPES];
    for (int i = 0; i < 2 * MDS_SR_PIPES; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader_thread,
                                        (void *)(uintptr_t)(100 + i)),
                         0);
    for (int i = 0; i < 2 * MDS_SR_PIPES; i++)
        pthread_join(t[i], NULL);
}

static int setup_vm(void **state)
{
    (void)state;
    md_saferead_fini();
    return md_saferead_init(MDS_SAFEREAD_VM) == MDS_SAFEREAD_VM ? 0 : -1;
}

static int setup_pipe(void **state)
{
    (void)state;
    md_saferead_fini();
    return md_saferead_init(MDS_SAFEREAD_PIPE) == MDS_SAFEREAD_PIPE ? 0 : -1;
}

static int teardown_any(void **state)
{
    (void)state;
    md_saferead_fini();
    return 0;
}

#define EVERY_CASE                                                             \
    cmocka_unit_test(test_valid), cmocka_unit_test(test_null),               \
        cmocka_unit_test(test_prot_none), cmocka_unit_test(test_unmapped),   \
        cmocka_unit_test(test_straddle),                                     \
        cmocka_unit_test(test_str_before_guard)

int main(void)
{
    const struct CMUnitTest choice[] = {cmocka_unit_test(test_choice)};
    const struct CMUnitTest vm[] = {EVERY_CASE};
    const struct CMUnitTest pipe_cases[] = {
        EVERY_CASE,
        cmocka_unit_test(test_pipe_big),
        cmocka_unit_test(test_pipe_fd_reused),
        cmocka_unit_test(test_pipe_fork),
        cmocka_unit_test(test_pipe_threads),
    };
    int rc = cmocka_run_group_tests_name("choice", choice, NULL, NULL);
    /* qemu-user has no process_vm_readv (test_choice asserts it). */
    if (!emulated())
        rc |= cmocka_run_group_tests_name("process_vm_readv", vm, setup_vm,
                                          teardown_any);
    rc |= cmocka_run_group_tests_name("pipe", pipe_cases, setup_pipe,
                                      teardown_any);
    return rc;
}
