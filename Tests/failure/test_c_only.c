/*
 * test_c_only.c - mayday stays a C library for C users although it has a
 * C++ part: a C program linked with the C library only (libmayday.a or
 * libmayday.so) links, runs and reports, and neither it nor the library
 * needs the C++ runtime.
 *
 * Expected values come from binutils (readelf -d for NEEDED entries, nm
 * for undefined symbols) and from the kernel (how the child ended).
 *
 * Context: test program.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fail_util.h"
#include "mdt.h"

/* Counts lines of a command's output that match an extended regex. */
static int count_matching(const char *cmd_fmt, const char *file,
                          const char *regex)
{
    char *cmd = 0, *full = 0;
    assert_true(asprintf(&cmd, cmd_fmt, file) > 0);
    assert_true(asprintf(&full, "%s | grep -cE '%s' || true", cmd, regex) > 0);
    char *line = fu_sh_line(full);
    int n = atoi(line);
    free(line);
    free(cmd);
    free(full);
    return n;
}

static void no_cxx_runtime(void **state)
{
    (void)state;
    const char *needs_re = "NEEDED.*(libstdc\\+\\+|libmayday-cxx)";
    const char *bins[] = {"Source/libmayday.so", "Tests/failure/c_only_static",
                          "Tests/failure/c_only_shared"};
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        char *p = mdt_build_path(bins[i]);
        /* the file exists and has a dynamic section at all */
        assert_true(count_matching("readelf -d '%s'", p, "NEEDED") > 0);
        if (count_matching("readelf -d '%s'", p, needs_re) != 0)
            fail_msg("%s needs the C++ runtime", p);
        free(p);
    }
    /* Nothing in the static library refers to C++ runtime symbols. */
    char *a = mdt_build_path("Source/libmayday.a");
    assert_true(count_matching("nm -u '%s'", a, " U ") > 0);
    assert_int_equal(
        count_matching("nm -u '%s'", a, " U (_Z|__cxa_|__gxx_|_Unwind_)"), 0);
    free(a);
}

static void run(const char *bin, const char *arg, int sig)
{
    char *p = mdt_build_path(bin);
    fu_run o;
    fu_run_child(&o, p, arg, 0, 15000);
    if (!fu_killed_by(&o, sig))
        fail_msg("%s %s: status 0x%x; output:\n%s", bin, arg, o.status, o.out);
    assert_int_equal(o.nreports, 1);
    assert_non_null(o.r);
    if (sig == SIGABRT) {
        assert_non_null(o.r->failure);
        assert_string_equal(o.r->failure->message, "c_only: plain C");
    } else {
        assert_null(o.r->failure);
    }
    fu_free(&o);
    free(p);
}

static void c_program_works(void **state)
{
    (void)state;
    run("Tests/failure/c_only_static", "fatal", SIGABRT);
    run("Tests/failure/c_only_shared", "fatal", SIGABRT);
    run("Tests/failure/c_only_static", "segv", SIGSEGV);
    run("Tests/failure/c_only_shared", "segv", SIGSEGV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_cxx_runtime),
        cmocka_unit_test(c_program_works),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
