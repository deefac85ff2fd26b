/*
 * test_last_crash.c - mayday_last_crash_read()/clear() on markers left by
 * real crashes of forked children, and on missing, blank and corrupt
 * markers. The marker's bytes follow the layout documented in
 * Source/crash/handler/marker.h, which this test writes by hand for the
 * corrupt cases.
 *
 * Context: test program.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mayday/mayday.h"
#include "mdt.h"

static volatile int *volatile null_ptr;

/* A real fault, also under UBSan (which would report and exit first). */
__attribute__((noinline, no_sanitize("undefined"))) static void
null_store(void)
{
    *null_ptr = 1;
}

/* cmocka catches SIGSEGV in tests: a crashing child must not chain to
 * that, it must die as a program without it would. */
static void default_dispositions(void)
{
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}

/* A child installs mayday on dir and dies of SIGSEGV. */
static void crash_child(const char *dir)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        default_dispositions();
        mayday_config c;
        mayday_config_init(&c);
        c.report_dir = dir;
        c.flags = MAYDAY_FLAG_NO_FSYNC;
        if (mayday_install(&c) < 0)
            _exit(9);
        null_store();
        _exit(8);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

static void written(void **state)
{
    (void)state;
    char *dir = mdt_mkdtemp("lastcrash");
    mayday_last_crash lc = {.size = sizeof lc};
    assert_int_equal(mayday_last_crash_read(dir, &lc), MAYDAY_ENOENT);
    crash_child(dir);
    assert_int_equal(mayday_last_crash_read(dir, &lc), 1);
    assert_int_equal(lc.state, MAYDAY_LAST_CRASH_WRITTEN);
    assert_int_equal(lc.signo, SIGSEGV);
    assert_int_equal(lc.result, 0);
    assert_true(lc.time_unix_ns > 0);
    char path[4096], want[4096];
    assert_int_equal(mdt_count_reports(dir, path, sizeof path), 1);
    snprintf(want, sizeof want, "%s/%s", dir, lc.report_name);
    assert_string_equal(path, want);
    /* Cleared: nothing recorded until the next crash. */
    assert_int_equal(mayday_last_crash_clear(dir), 0);
    assert_int_equal(mayday_last_crash_read(dir, &lc), 0);
    assert_int_equal(lc.state, MAYDAY_LAST_CRASH_NONE);
    mdt_rmtree(dir);
    free(dir);
}

/* The report directory became read-only: no report, and the marker
 * (created at install) says why. */
static void failed(void **state)
{
    (void)state;
    char *dir = mdt_mkdtemp("lastcrash-ro");
    pid_t pid = fork();
    if (pid == 0) {
        default_dispositions();
        mayday_config c;
        mayday_config_init(&c);
        c.report_dir = dir;
        if (mayday_install(&c) < 0)
            _exit(9);
        chmod(dir, 0500);
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(10);
        null_store();
        _exit(8);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    chmod(dir, 0700);
    mayday_last_crash lc = {.size = sizeof lc};
    assert_int_equal(mayday_last_crash_read(dir, &lc), 1);
    assert_int_equal(lc.state, MAYDAY_LAST_CRASH_FAILED);
    assert_int_equal(lc.result, MAYDAY_EACCES);
    assert_true(strlen(lc.reason) > 0);
    assert_int_equal(mdt_count_reports(dir, 0, 0), 0);
    mdt_rmtree(dir);
    free(dir);
}

static void write_marker(const char *dir, const void *buf, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/last-crash.marker", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
}

static void bad_input(void **state)
{
    (void)state;
    char *dir = mdt_mkdtemp("lastcrash-bad");
    mayday_last_crash lc = {.size = sizeof lc};
    unsigned char rec[512];
    memset(rec, 0, sizeof rec);
    write_marker(dir, rec, sizeof rec); /* blank, as install makes it */
    assert_int_equal(mayday_last_crash_read(dir, &lc), 0);
    memcpy(rec, "MAYDAYLC", 8);
    rec[8] = 1;
    rec[12] = 77; /* no such state */
    write_marker(dir, rec, sizeof rec);
    assert_int_equal(mayday_last_crash_read(dir, &lc), MAYDAY_ECORRUPT);
    rec[8] = 2; /* a future layout */
    write_marker(dir, rec, sizeof rec);
    assert_int_equal(mayday_last_crash_read(dir, &lc), MAYDAY_EVERSION);
    rec[8] = 1;
    rec[12] = 2;
    memset(rec + 48, 'x', 464); /* names without their NUL */
    write_marker(dir, rec, sizeof rec);
    assert_int_equal(mayday_last_crash_read(dir, &lc), 1);
    assert_true(strlen(lc.report_name) < sizeof lc.report_name);
    assert_true(strlen(lc.reason) < sizeof lc.reason);
    write_marker(dir, rec, 100); /* cut short */
    assert_int_equal(mayday_last_crash_read(dir, &lc), 0);
    lc.size = 8;
    assert_int_equal(mayday_last_crash_read(dir, &lc), MAYDAY_EINVAL);
    assert_int_equal(mayday_last_crash_read(0, &lc), MAYDAY_EINVAL);
    assert_int_equal(mayday_last_crash_clear("/nonexistent/dir"),
                     MAYDAY_ENOENT);
    mdt_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(written),
        cmocka_unit_test(failed),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
