/*
 * test_cxx_exceptions.c - uncaught C++ exceptions and other reasons for
 * std::terminate, through libmayday-cxx's terminate handler: runs
 * Tests/failure/child_cxx in a child per scenario and checks the report
 * (protobuf-c, independently of the reader), the library's text and JSON
 * renderings, and how the child ended (SIGABRT).
 *
 * Expected values: the type name is what the child's C++ runtime printed
 * (typeid(...).name()), demangled by binutils' c++filt; tids come from
 * the kernel (gettid in the child); function ranges from nm -S; what()
 * strings and reasons from the scenario's construction.
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

#include <cmocka.h>

#include "fail_util.h"
#include "json_mini.h"
#include "emu.h"
#include "mdt.h"

#define TIMEOUT_MS 15000
#define T(x) MAYDAY__TERMINATE_REASON__TERMINATE_##x

typedef struct cscen {
    const char *name;
    const char *binary;  /* relative to the build dir */
    int reason;          /* TerminateReason */
    const char *message; /* what(), NULL: none */
    const char *frames;  /* function expected in the crashed thread */
    const char *thrower; /* function throw_pc points into, NULL: none */
    int typed;           /* an exception type is expected */
} cscen;

static const cscen scen[] = {
    {"runtime-error", "Tests/failure/child_cxx", T(UNCAUGHT), "boom",
     "cxx_thrower", "cxx_thrower", 1},
    {"runtime-error", "Tests/failure/child_cxx_shared", T(UNCAUGHT), "boom",
     "cxx_thrower", "cxx_thrower", 1},
    {"int", "Tests/failure/child_cxx", T(UNCAUGHT), 0, "cxx_throw_int",
     "cxx_throw_int", 1},
    {"noexcept", "Tests/failure/child_cxx", T(NOEXCEPT), "boom", "cxx_noexcept",
     "cxx_thrower", 1},
    {"unwinding", "Tests/failure/child_cxx", T(DURING_UNWINDING),
     "from a destructor", "cxx_unwinder", 0, 1},
    {"rethrow", "Tests/failure/child_cxx", T(UNCAUGHT_RETHROW), "boom",
     "cxx_rethrower", "cxx_rethrower", 1},
    {"thread", "Tests/failure/child_cxx", T(UNCAUGHT), "boom", "cxx_thrower",
     "cxx_thrower", 1},
    {"terminate", "Tests/failure/child_cxx", T(CALLED), 0, "main", 0, 0},
    {"prev-handler", "Tests/failure/child_cxx", T(UNCAUGHT), "boom",
     "cxx_thrower", "cxx_thrower", 1},
};

/* The demangled name binutils gives for a type name. */
static char *cxxfilt_type(const char *mangled)
{
    char *cmd = 0;
    assert_true(asprintf(&cmd, "c++filt -t '%s'", mangled) > 0);
    char *d = fu_sh_line(cmd);
    free(cmd);
    return d;
}

static void check_renderings(const fu_run *o, const cscen *s,
                             const char *demangled)
{
    char *text = fu_format(o->path, MAYDAY_FORMAT_TEXT);
    if (demangled && !strstr(text, demangled))
        fail_msg("text has no \"%s\":\n%s", demangled, text);
    if (s->message && !strstr(text, s->message))
        fail_msg("text has no message \"%s\"", s->message);
    assert_non_null(strstr(text, "C++ std::terminate"));
    if (s->thrower)
        assert_non_null(strstr(text, "Thrown at:      frame #"));
    free(text);

    char *json = fu_format(o->path, MAYDAY_FORMAT_JSON);
    jm_node *root = jm_parse(json, strlen(json), 0);
    assert_non_null(root);
    assert_string_equal(jm_str(jm_path(root, "failure.kind")), "cxx_terminate");
    const char *reason = jm_str(jm_path(root, "failure.exception.reason"));
    assert_non_null(reason);
    const char *want[] = {[1] = "uncaught",
                          [2] = "uncaught_rethrow",
                          [3] = "noexcept",
                          [4] = "during_unwinding",
                          [7] = "called"};
    assert_string_equal(reason, want[s->reason]);
    if (demangled)
        assert_string_equal(jm_str(jm_path(root, "failure.exception.type")),
                            demangled);
    if (s->message)
        assert_string_equal(jm_str(jm_path(root, "failure.message")),
                            s->message);
    jm_free(root);
    free(json);
}

static void run_once(const cscen *s, const char *bin)
{
    fu_run o;
    fu_run_child(&o, bin, s->name, 0, TIMEOUT_MS);
    if (!fu_killed_by(&o, SIGABRT))
        fail_msg("%s: status 0x%x, want SIGABRT; output:\n%s", s->name,
                 o.status, o.out);
    if (o.nreports != 1 || !o.r)
        fail_msg("%s: %d reports (decoded: %d), want 1", s->name, o.nreports,
                 o.r != 0);
    const Mayday__Report *r = o.r;
    assert_non_null(r->failure);
    assert_int_equal(r->failure->kind,
                     MAYDAY__FAILURE_KIND__FAILURE_CXX_TERMINATE);
    const Mayday__CxxException *e = r->failure->exception;
    assert_non_null(e);
    assert_int_equal(e->reason, s->reason);

    char type[256];
    char *demangled = 0;
    if (s->typed) {
        assert_non_null(fu_out_str(&o, "TYPE", type, sizeof type));
        assert_non_null(e->type);
        assert_string_equal(e->type, type);
        demangled = cxxfilt_type(type);
    } else {
        assert_null(e->type);
    }
    if (s->message) {
        assert_true(e->std_exception);
        assert_string_equal(r->failure->message, s->message);
    } else {
        assert_false(e->std_exception);
        assert_null(r->failure->message);
    }

    /* The failing thread, and the thrower's frames on it. */
    const Mayday__Thread *t = fu_crashed(r);
    long tid = fu_out_long(&o, "TID");
    assert_true(tid > 0);
    assert_int_equal(t->tid, (uint32_t)tid);
    if (!strcmp(s->name, "thread"))
        assert_int_not_equal(t->tid, r->process->pid);
    if (fu_frames_in(bin, r, t, s->frames) < 1)
        fail_msg("%s: no frame in %s", s->name, s->frames);
    if (s->thrower) {
        assert_true(e->has_throw_pc);
        if (!fu_pc_in(bin, r, e->throw_pc, s->thrower))
            fail_msg("%s: throw_pc 0x%llx not in %s", s->name,
                     (unsigned long long)e->throw_pc, s->thrower);
    }
    if (!strcmp(s->name, "prev-handler"))
        assert_non_null(strstr(o.out, "PREVIOUS-HANDLER-RAN"));
    else /* libstdc++'s default handler ran after ours */
        assert_non_null(strstr(o.out, "terminate called"));
    check_renderings(&o, s, demangled);
    free(demangled);
    fu_free(&o);
}

static void run_scenario(void **state)
{
    const cscen *s = *state;
    char *bin = mdt_build_path(s->binary);
    int reps = mdt_repeat(3);
    for (int i = 0; i < reps; i++)
        run_once(s, bin);
    free(bin);
}

/* libmayday-cxx.so exports its two functions and nothing else. */
static void cxx_library_exports(void **state)
{
    (void)state;
    char *lib = mdt_build_path("Source/normal/cxx/libmayday-cxx.so");
    char *cmd = 0;
    assert_true(asprintf(&cmd,
                         "nm -D --defined-only '%s' | awk 'NF >= 3 {print "
                         "$3}' | sort | tr '\\n' ' '",
                         lib) > 0);
    char *line = fu_sh_line(cmd);
    assert_string_equal(line, "mayday_cxx_install mayday_cxx_uninstall ");
    free(line);
    free(cmd);
    free(lib);
}

/* A C++ program linked with mayday::mayday_cxx_static keeps libgcc's
 * exception unwinder: libstdc++'s _Unwind_RaiseException binds to
 * libgcc_s (or ASan's interceptor), not to libunwind.so.8 (which libmayday.a's
 * dependencies bring and which defines the same names). Asked of the dynamic
 * linker (the target's, through the emulator when there is one: the
 * emulator itself links no libstdc++, so its own bindings do not match). */
static void cxx_unwinder_is_libgcc(void **state)
{
    (void)state;
    char *bin = mdt_build_path("Tests/failure/child_cxx");
    char *dir = mdt_mkdtemp("unwinder");
    char *cmd = 0;
    const char *emu = mdt_emulator();
    assert_true(asprintf(&cmd,
                         "LD_DEBUG=bindings %s '%s' '%s/r' runtime-error 2>&1 | "
                         "grep 'libstdc++.*normal symbol "
                         "`_Unwind_RaiseException' | head -n1",
                         emu ? emu : "", bin, dir) > 0);
    char *line = fu_sh_line(cmd);
    /* libgcc_s, or a sanitizer runtime's interceptor in front of it */
    if (!line[0] || strstr(line, "libunwind.so"))
        fail_msg("libstdc++'s _Unwind_RaiseException: \"%s\"", line);
    free(line);
    free(cmd);
    mdt_rmtree(dir);
    free(dir);
    free(bin);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : getenv("MAYDAY_SCENARIO");
    size_t n = sizeof scen / sizeof scen[0];
    struct CMUnitTest *tests = calloc(n + 2, sizeof *tests);
    char(*names)[96] = calloc(n, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && strcmp(only, scen[i].name) != 0)
            continue;
        snprintf(names[k], sizeof names[k], "%s%s", scen[i].name,
                 strstr(scen[i].binary, "shared") ? "/shared" : "");
        tests[k].name = names[k];
        tests[k].test_func = run_scenario;
        tests[k].initial_state = (void *)&scen[i];
        k++;
    }
    if (!only) {
        tests[k].name = "cxx_library_exports";
        tests[k].test_func = cxx_library_exports;
        k++;
        tests[k].name = "cxx_unwinder_is_libgcc";
        tests[k].test_func = cxx_unwinder_is_libgcc;
        k++;
    }
    return _cmocka_run_group_tests("cxx_exceptions", tests, k, 0, 0);
}
