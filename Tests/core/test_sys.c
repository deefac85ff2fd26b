/*
 * test_sys.c - tests of a few raw system call wrappers
 * (Source/crash/core/sys.h) against libc.
 *
 * Context: normal-context test program (cmocka). No timing assertion: the
 * clock is only checked to lie between two libc readings.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash/core/sys.h"

static void test_ids(void **state)
{
    (void)state;
    assert_int_equal(mds_getpid(), getpid());
    assert_int_equal(mds_getppid(), getppid());
    assert_int_equal(mds_gettid(), gettid());
    assert_int_equal(mds_gettid(), getpid()); /* main thread */
    assert_int_equal(mds_getuid(), getuid());
    assert_int_equal(mds_geteuid(), geteuid());
    assert_int_equal(mds_getgid(), getgid());
    /* In a child the values change with libc's. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int ok = mds_getpid() == getpid() && mds_gettid() == gettid() &&
                 mds_getppid() == getppid();
        _exit(ok ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void *tid_thread(void *arg)
{
    long *out = arg;
    out[0] = mds_gettid();
    out[1] = gettid();
    return NULL;
}

static void test_gettid_thread(void **state)
{
    (void)state;
    long t[2];
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tid_thread, t), 0);
    pthread_join(th, NULL);
    assert_int_equal(t[0], t[1]);
    assert_int_not_equal(t[0], getpid());
}

static uint64_t libc_ns(clockid_t c)
{
    struct timespec ts;
    assert_int_equal(clock_gettime(c, &ts), 0);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_clock(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++) {
        uint64_t a = libc_ns(CLOCK_MONOTONIC);
        uint64_t m = mds_now_ns();
        uint64_t b = libc_ns(CLOCK_MONOTONIC);
        assert_true(a <= m && m <= b);
        struct timespec ts;
        assert_int_equal(mds_clock_gettime(CLOCK_MONOTONIC, &ts), 0);
        assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
        uint64_t c = libc_ns(CLOCK_MONOTONIC);
        uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        assert_true(b <= t && t <= c);
    }
    uint64_t a = libc_ns(CLOCK_REALTIME);
    uint64_t r = mds_realtime_ns();
    uint64_t b = libc_ns(CLOCK_REALTIME);
    assert_true(a <= r && r <= b);
    struct timespec ts;
    assert_int_equal(mds_clock_gettime(12345, &ts), -EINVAL);
}

static void test_futex_timeout(void **state)
{
    (void)state;
    volatile uint32_t word = 7;
    /* Value matches: sleeps until the (short) deadline. */
    assert_int_equal(mds_futex_wait(&word, 7, 1000000), -ETIMEDOUT);
    assert_int_equal(mds_futex_wait(&word, 7, 0), -ETIMEDOUT);
    /* Value differs: returns at once. */
    assert_int_equal(mds_futex_wait(&word, 8, 1000000000), -EAGAIN);
    /* Nobody waits: wakes nobody. */
    assert_int_equal(mds_futex_wake(&word, 1), 0);
}

static volatile uint32_t fword;
static long waiter_result;

static void *waiter(void *arg)
{
    (void)arg;
    /* A long deadline: the main thread wakes us long before it. */
    waiter_result = mds_futex_wait(&fword, 0, 60ull * 1000000000u);
    return NULL;
}

static void test_futex_wake(void **state)
{
    (void)state;
    pthread_t th;
    fword = 0;
    waiter_result = 12345;
    assert_int_equal(pthread_create(&th, NULL, waiter, NULL), 0);
    /* Wake until the waiter was really asleep on the word (a wake that
     * finds nobody returns 0). Bounded: ~10 s worth of retries. */
    long woken = 0;
    for (int i = 0; i < 10000 && woken == 0; i++) {
        woken = mds_futex_wake(&fword, 1);
        if (woken == 0)
            usleep(1000);
    }
    assert_int_equal(woken, 1);
    pthread_join(th, NULL);
    assert_int_equal(waiter_result, 0);
}

static void test_random(void **state)
{
    (void)state;
    unsigned char a[32], b[32], z[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(z, 0, sizeof z);
    mds_random(a, sizeof a);
    mds_random(b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, z, sizeof a);
    /* Every byte position changes across many draws (not a fixed byte). */
    unsigned char first[16], seen_diff[16] = {0};
    mds_random(first, sizeof first);
    for (int k = 0; k < 64; k++) {
        unsigned char c[16];
        mds_random(c, sizeof c);
        for (int i = 0; i < 16; i++)
            seen_diff[i] |= c[i] != first[i];
    }
    for (int i = 0; i < 16; i++)
        assert_true(seen_diff[i]);
    mds_random(a, 0); /* zero length is fine */
}

static void test_file_calls(void **state)
{
    (void)state;
    char path[] = "/tmp/mayday-test-sys-XXXXXX";
    int tfd = mkstemp(path);
    assert_true(tfd >= 0);
    close(tfd);
    long fd = mds_openat(AT_FDCWD, path, O_RDWR | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(mds_write((int)fd, "hello world", 11), 11);
    assert_int_equal(mds_pwrite((int)fd, "W", 1, 6), 1);
    char b[16] = {0};
    assert_int_equal(mds_pread((int)fd, b, sizeof b, 0), 11);
    assert_string_equal(b, "hello World");
    assert_int_equal(mds_lseek((int)fd, 0, SEEK_END), 11);
    assert_int_equal(mds_ftruncate((int)fd, 5), 0);
    assert_int_equal(mds_lseek((int)fd, 0, SEEK_END), 5);
    assert_int_equal(mds_close((int)fd), 0);
    assert_int_equal(mds_close((int)fd), -EBADF);
    assert_int_equal(mds_read(-1, b, 1), -EBADF);
    assert_int_equal(mds_openat(AT_FDCWD, "/nonexistent/x", O_RDONLY, 0),
                     -ENOENT);
    assert_int_equal(mds_unlinkat(AT_FDCWD, path, 0), 0);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),        cmocka_unit_test(test_gettid_thread),
        cmocka_unit_test(test_clock),      cmocka_unit_test(test_futex_timeout),
        cmocka_unit_test(test_futex_wake), cmocka_unit_test(test_random),
        cmocka_unit_test(test_file_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
