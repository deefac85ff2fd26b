/*
 * test_demo.c - the CLI on real reports written by Examples/crash_demo
 * (mayday installed, the process really crashes) for every kind of crash
 * it offers: `mayday decode` in text and JSON succeeds, the JSON parses,
 * the signal is the one the crash raises, and the crashed thread's frames
 * are symbolicated to the demo's own functions (parse_config for the
 * faults in it, recurse for the stack overflows). `mayday list` shows them.
 *
 * Context: test program (normal context); runs the programs as children.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "common.h"
#include "json_mini.h"
#include "schema_check.h"

static void check_kind(const char *root, const char *kind, int sig,
                       const char *fn)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/%s", root, kind);
    mkdir(dir, 0700);
    /* Sanitizer builds: ASan must not handle the crash itself (its
     * handler exits 1). Options already set (scripts/test-sanitizers.sh
     * sets these and more) are kept. */
    setenv("ASAN_OPTIONS",
           "handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:"
           "handle_sigill=0:use_sigaltstack=0",
           0);
    char *argv[] = {CRASH_DEMO, "--dir", dir, "--crash", (char *)kind, NULL};
    int st = cu_run(argv, NULL, NULL, NULL);
    if (st != 1000 + sig)
        fail_msg("crash_demo --crash %s ended with %d, want signal %d", kind,
                 st, sig);
    char **paths;
    size_t n;
    assert_int_equal(mayday_reports_list(dir, &paths, &n), 0);
    assert_int_equal(n, 1);

    char *out, *err;
    char *dec[] = {MAYDAY_CLI, "decode", paths[0], NULL};
    assert_int_equal(cu_run(dec, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "Crashed: Thread"));
    free(out), free(err);

    char *js[] = {MAYDAY_CLI, "decode", "--format", "json", paths[0], NULL};
    assert_int_equal(cu_run(js, NULL, &out, &err), 0);
    jm_schema_collect(out, strlen(out));
    jm_node *j = jm_parse(out, strlen(out), NULL);
    if (!j)
        fail_msg("%s: JSON does not parse", kind);
    char want[16];
    snprintf(want, sizeof(want), "%d", sig);
    int ok;
    assert_int_equal(jm_int(jm_path(j, "signal.number"), &ok), sig);
    int ct = (int)jm_int(jm_get(j, "crashed_thread"), &ok);
    assert_true(ok);
    char p[128];
    snprintf(p, sizeof(p), "threads.%d.frames", ct);
    jm_node *frames = jm_path(j, p);
    assert_non_null(frames);
    int found = 0;
    for (size_t i = 0; i < frames->n && !found; i++) {
        const char *s = jm_str(jm_get(frames->kids[i], "symbol"));
        const char *f = jm_str(jm_get(frames->kids[i], "file"));
        found = s && strcmp(s, fn) == 0 && f && strstr(f, "crash_demo.c");
    }
    if (!found)
        fail_msg("%s: no frame %s (crash_demo.c) in the crashed thread", kind,
                 fn);
    jm_free(j);
    free(out), free(err);

    char *ls[] = {MAYDAY_CLI, "list", dir, NULL};
    assert_int_equal(cu_run(ls, NULL, &out, &err), 0);
    assert_non_null(strstr(out, paths[0]));
    assert_null(strstr(out, "CORRUPT"));
    free(out), free(err);
    mayday_reports_list_free(paths, n);
}

static void test_demo_kinds(void **state)
{
    (void)state;
    char *root = tc_mkdtemp("demo");
    check_kind(root, "null-write", SIGSEGV, "parse_config");
    check_kind(root, "null-read", SIGSEGV, "parse_config");
    check_kind(root, "abort", SIGABRT, "parse_config");
#if !defined(__aarch64__) /* no trap on integer division by zero there */
    check_kind(root, "fpe", SIGFPE, "parse_config");
#endif
    check_kind(root, "ill", SIGILL, "parse_config");
    check_kind(root, "overflow", SIGSEGV, "recurse");
    check_kind(root, "thread-overflow", SIGSEGV, "recurse");
    tc_rmtree(root);
    free(root);
}

/* Every JSON output of this program against docs/report.schema.json. */
static void test_json_schema(void **state)
{
    (void)state;
    assert_int_equal(jm_schema_validate(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_demo_kinds),
                                       cmocka_unit_test(test_json_schema)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
