/*
 * test_fatal.c - failures the application declares (mayday_fatal,
 * mayday_fatalf) in every handler mode, and the failures glibc and the
 * compiler declare (assert, abort, a malloc check, _FORTIFY_SOURCE, the
 * stack protector, __builtin_trap): runs Tests/failure/child_c per
 * scenario and checks the report's Failure (protobuf-c), the library's
 * text/JSON renderings, and how the child ended.
 *
 * Expected values: glibc's own message is what the child printed on
 * stderr (glibc writes it there before aborting); tids from the kernel
 * (gettid in the child); function ranges from nm -S; the messages of
 * mayday_fatal from the scenario's construction.
 *
 * Each scenario runs $MAYDAY_REPEAT times (default 3).
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
#include <sys/wait.h>

#include <cmocka.h>

#include "fail_util.h"
#include "json_mini.h"
#include "mdt.h"

#define TIMEOUT_MS 15000
#define K(x) MAYDAY__FAILURE_KIND__FAILURE_##x

typedef struct fscen {
    const char *name;
    const char *mode;        /* CHILD_MODE, NULL: auto */
    int sig;                 /* how the child must end */
    int kind;                /* Failure.kind, 0: no report expected */
    const char *message;     /* Failure.message expected */
    const char *stderr_line; /* glibc's message: Report.abort_message */
    const char *func;        /* function expected in the crashed thread */
    const char *json_kind;
} fscen;

#if defined(__aarch64__)
#define TRAP_SIGNAL SIGTRAP
#else
#define TRAP_SIGNAL SIGILL
#endif

static const fscen scen[] = {
    {"fatal", 0, SIGABRT, K(FATAL), "disk on fire", 0, "child_fatal_caller",
     "fatal"},
    {"fatal", "thread", SIGABRT, K(FATAL), "disk on fire", 0,
     "child_fatal_caller", "fatal"},
    {"fatal", "signal", SIGABRT, K(FATAL), "disk on fire", 0,
     "child_fatal_caller", "fatal"},
    {"fatalf", 0, SIGABRT, K(FATAL), "code 42 at step seven", 0,
     "child_fatal_caller", "fatal"},
    {"fatalf", "signal", SIGABRT, K(FATAL), "code 42 at step seven", 0,
     "child_fatal_caller", "fatal"},
    {"fatalf-long", 0, SIGABRT, K(FATAL), 0, 0, "child_fatal_caller", "fatal"},
    {"fatal-signal", 0, SIGSEGV, K(FATAL), "disk on fire", 0,
     "child_fatal_caller", "fatal"},
    {"fatal-uninstalled", 0, SIGABRT, 0, 0, 0, 0, 0},
    {"fortify-strcpy", 0, SIGABRT, K(FORTIFY), 0,
     "*** buffer overflow detected ***: terminated", "child_fortify_overflow",
     "fortify"},
    {"stack-protector", 0, SIGABRT, K(STACK_PROTECTOR), 0,
     "*** stack smashing detected ***: terminated", 0, "stack_protector"},
    {"malloc-check", 0, SIGABRT, K(MALLOC_CHECK), 0, "free(): invalid pointer",
     0, "malloc_check"},
    {"assert", 0, SIGABRT, K(ASSERT), 0, "Assertion `1 + 1 == 3' failed.",
     "main", "assert"},
    {"abort", 0, SIGABRT, K(ABORT), 0, 0, "main", "abort"},
    /* __builtin_trap: ud2 (SIGILL) on x86_64, brk (SIGTRAP) on aarch64 */
    {"trap", 0, TRAP_SIGNAL, K(TRAP), 0, 0, "child_trap", "trap"},
};

static char *g_child;

/* The line of the child's output that holds needle (malloc'ed). */
static char *line_with(const char *out, const char *needle)
{
    const char *p = strstr(out, needle);
    if (!p)
        return 0;
    const char *b = p;
    while (b > out && b[-1] != '\n')
        b--;
    size_t n = strcspn(b, "\n");
    return strndup(b, n);
}

static void check_renderings(const fu_run *o, const fscen *s)
{
    char *json = fu_format(o->path, MAYDAY_FORMAT_JSON);
    jm_node *root = jm_parse(json, strlen(json), 0);
    assert_non_null(root);
    assert_string_equal(jm_str(jm_path(root, "failure.kind")), s->json_kind);
    if (s->message)
        assert_string_equal(jm_str(jm_path(root, "failure.message")),
                            s->message);
    jm_free(root);
    free(json);
    char *text = fu_format(o->path, MAYDAY_FORMAT_TEXT);
    assert_non_null(strstr(text, "Failure:"));
    if (s->message && !strstr(text, s->message))
        fail_msg("text has no message \"%s\":\n%s", s->message, text);
    free(text);
}

static void run_once(const fscen *s)
{
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's allocator owns malloc/free: it, not glibc, reports the bad
     * free (and exits). Checked in the other builds. */
    if (!strcmp(s->name, "malloc-check"))
        skip();
#endif
    fu_run o;
    fu_run_child(&o, g_child, s->name, s->mode, TIMEOUT_MS);
    if (!fu_killed_by(&o, s->sig))
        fail_msg("%s: status 0x%x, want signal %d; output:\n%s", s->name,
                 o.status, s->sig, o.out);
    if (!s->kind) {
        assert_int_equal(o.nreports, 0);
        assert_non_null(strstr(o.out, "mayday: fatal: disk on fire"));
        fu_free(&o);
        return;
    }
    if (o.nreports != 1 || !o.r)
        fail_msg("%s: %d reports (decoded: %d), want 1", s->name, o.nreports,
                 o.r != 0);
    const Mayday__Report *r = o.r;
    assert_int_equal(r->signal->number, s->sig);
    assert_non_null(r->failure);
    assert_int_equal(r->failure->kind, s->kind);
    if (s->message)
        assert_string_equal(r->failure->message, s->message);
    if (!strcmp(s->name, "fatalf-long")) {
        /* "long: " + 2999 x, kept: 1023 bytes, flagged */
        assert_true(r->failure->message_truncated);
        assert_int_equal(strlen(r->failure->message), 1023);
        assert_memory_equal(r->failure->message, "long: xxxx", 10);
    } else {
        assert_false(r->failure->message_truncated);
    }
    if (s->stderr_line) {
        char *line = line_with(o.out, s->stderr_line);
        if (!line)
            fail_msg("%s: glibc printed no \"%s\":\n%s", s->name,
                     s->stderr_line, o.out);
        assert_non_null(r->abort_message);
        assert_non_null(strstr(line, r->abort_message));
        free(line);
    } else if (s->kind != K(ABORT)) {
        assert_null(r->abort_message);
    }
    const Mayday__Thread *t = fu_crashed(r);
    long tid = fu_out_long(&o, "TID");
    if (tid > 0)
        assert_int_equal(t->tid, (uint32_t)tid);
    if (s->func && fu_frames_in(g_child, r, t, s->func) < 1)
        fail_msg("%s: no frame in %s", s->name, s->func);
    if (s->kind == K(FATAL)) {
        int want = !s->mode || !strcmp(s->mode, "thread")
                       ? MAYDAY__HANDLER__HANDLER_EXCEPTION_THREAD
                       : MAYDAY__HANDLER__HANDLER_SIGNAL;
        assert_int_equal(r->header->handler, want);
        assert_non_null(strstr(o.out, "mayday: fatal: "));
    }
    check_renderings(&o, s);
    fu_free(&o);
}

static void run_scenario(void **state)
{
    const fscen *s = *state;
    int reps = mdt_repeat(3);
    for (int i = 0; i < reps; i++)
        run_once(s);
}

/* Nonsense fatal/hang settings are refused at install. */
static void config_validation(void **state)
{
    (void)state;
    char *dir = mdt_mkdtemp("failcfg");
    int bad_fatal[] = {-1, SIGKILL, SIGTERM, 1000};
    for (size_t i = 0; i < sizeof bad_fatal / sizeof bad_fatal[0]; i++) {
        mayday_config c;
        mayday_config_init(&c);
        c.report_dir = dir;
        c.fatal_signal = bad_fatal[i];
        assert_int_equal(mayday_install(&c), MAYDAY_EINVAL);
    }
    int bad_hang[] = {-3, SIGCHLD, SIGSTOP, SIGCONT, 100};
    for (size_t i = 0; i < sizeof bad_hang / sizeof bad_hang[0]; i++) {
        mayday_config c;
        mayday_config_init(&c);
        c.report_dir = dir;
        c.hang_signal = bad_hang[i];
        assert_int_equal(mayday_install(&c), MAYDAY_EINVAL);
    }
    mayday_config c;
    mayday_config_init(&c);
    c.report_dir = dir;
    c.hang_action = 7;
    assert_int_equal(mayday_install(&c), MAYDAY_EINVAL);
    mayday_exception_info e = {0};
    assert_int_equal(mayday_record_exception(0), MAYDAY_EINVAL);
    assert_int_equal(mayday_record_exception(&e), MAYDAY_EINVAL); /* size */
    e.size = sizeof e;
    e.reason = 99;
    assert_int_equal(mayday_record_exception(&e), MAYDAY_EINVAL);
    mdt_rmtree(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    g_child = mdt_build_path("Tests/failure/child_c");
    const char *only = argc > 1 ? argv[1] : getenv("MAYDAY_SCENARIO");
    size_t n = sizeof scen / sizeof scen[0];
    struct CMUnitTest *tests = calloc(n + 1, sizeof *tests);
    char(*names)[96] = calloc(n, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && strcmp(only, scen[i].name) != 0)
            continue;
        snprintf(names[k], sizeof names[k], "%s%s%s", scen[i].name,
                 scen[i].mode ? "/" : "", scen[i].mode ? scen[i].mode : "");
        tests[k].name = names[k];
        tests[k].test_func = run_scenario;
        tests[k].initial_state = (void *)&scen[i];
        k++;
    }
    if (!only) {
        tests[k].name = "config_validation";
        tests[k].test_func = config_validation;
        k++;
    }
    return _cmocka_run_group_tests("fatal", tests, k, 0, 0);
}
