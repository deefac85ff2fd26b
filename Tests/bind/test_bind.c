/*
 * test_bind.c - no lazy binding on the crash path (Source/normal/install/
 * prebind.c). The oracle is the dynamic linker itself:
 *   - every PLT slot of the objects the crash path calls into (mayday's
 *     own object, libunwind, libc, liblzma) holds, after mayday_install,
 *     what it holds when ld.so binds everything at start (LD_BIND_NOW=1);
 *     in the executable that linked libmayday.a, the slots of the symbols
 *     in scripts/crash-path-allowlist.txt. Without install they differ
 *     (the check can fail);
 *   - a crash whose walk goes through DW_CFA_remember_state (paths of
 *     libunwind the warm-up does not take) under LD_DEBUG=bindings: ld.so
 *     prints no binding after the child's "MARK" (written after install).
 * Both for a child linked with libmayday.so and one with libmayday.a.
 *
 * Context: test program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mdt.h"

#define TIMEOUT_MS 30000

typedef struct slots {
    char **line; /* "OBJ SYMBOL TARGET+OFF" */
    size_t n;
} slots;

static void slots_free(slots *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->line[i]);
    free(s->line);
}

static void run_dump(const char *child, const char *mode, int bind_now,
                     slots *out)
{
    char log[] = "/tmp/mayday-bind-log-XXXXXX";
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    char *argv[] = {(char *)child, (char *)mode, 0};
    char *env[] = {"LD_BIND_NOW=1", 0};
    int hung = 0;
    int st = mdt_run(argv, bind_now ? env : 0, TIMEOUT_MS, &hung, log);
    assert_false(hung);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    memset(out, 0, sizeof *out);
    char buf[1024];
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = 0;
        out->line = realloc(out->line, (out->n + 1) * sizeof(char *));
        out->line[out->n++] = strdup(buf);
    }
    fclose(f);
    unlink(log);
}

/* The crash path's imports: the allowlist's symbol names. */
static int allowlisted(const char *sym)
{
    FILE *f = fopen(ALLOWLIST, "r");
    assert_non_null(f);
    char buf[512];
    int found = 0;
    while (!found && fgets(buf, sizeof buf, f)) {
        size_t k = strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
                               "stuvwxyz0123456789_");
        found = k && k == strlen(sym) && !strncmp(buf, sym, k);
    }
    fclose(f);
    return found;
}

/* libunwind's per-architecture library (the one the crash path calls),
 * as a dump line starts with it. */
#if defined(__x86_64__)
#define UNWIND_LIB "libunwind-x86_64.so.8 "
#else
#define UNWIND_LIB "libunwind-aarch64.so.8 "
#endif

/* Slots that must be bound: all of the libraries the crash path calls
 * into; in the executable (static library case) the allowlisted ones. */
static int checked(const char *line, const char *exe)
{
    static const char *libs[] = {"libmayday.so.0 ", UNWIND_LIB,
                                 "libc.so.6 ", "liblzma.so.5 "};
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
        if (!strncmp(line, libs[i], strlen(libs[i])))
            return 1;
    size_t el = strlen(exe);
    if (strncmp(line, exe, el) || line[el] != ' ')
        return 0;
    char sym[256];
    if (sscanf(line + el + 1, "%255s", sym) != 1)
        return 0;
    return allowlisted(sym);
}

static const char *find(const slots *s, const char *key, size_t klen)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->line[i], key, klen) && s->line[i][klen] == ' ')
            return s->line[i];
    return 0;
}

/* Number of checked slots of ref that differ in got (printed). */
static int compare(const slots *ref, const slots *got, const char *exe,
                   int print, int *nchecked, int *nunwind)
{
    int diff = 0;
    *nchecked = *nunwind = 0;
    for (size_t i = 0; i < ref->n; i++) {
        const char *l = ref->line[i];
        if (!checked(l, exe))
            continue;
        /* LD_BIND_NOW bound it to nothing: a weak reference no loaded
         * object defines (Debian's libunwind-aarch64 calls
         * _U_dyn_info_list_addr through its PLT only when the GOT says it
         * exists). Install leaves such a slot alone (prebind.c's lookup
         * says why); it is never called. */
        const char *t = strrchr(l, ' ');
        if (t && !strcmp(t, " ?+0x0"))
            continue;
        (*nchecked)++;
        *nunwind += !strncmp(l, UNWIND_LIB, strlen(UNWIND_LIB));
        /* key: "OBJ SYMBOL" */
        const char *sp = strchr(l, ' ');
        assert_non_null(sp);
        sp = strchr(sp + 1, ' ');
        assert_non_null(sp);
        const char *g = find(got, l, (size_t)(sp - l));
        if (!g || strcmp(g, l)) {
            diff++;
            if (print)
                fprintf(stderr, "  LD_BIND_NOW: %s\n  after install: %s\n", l,
                        g ? g : "(missing)");
        }
    }
    return diff;
}

/* Every slot that install changed (got differs from lazy) must hold what
 * LD_BIND_NOW gives, whatever object it is in (e.g. a sanitizer build
 * reaches libgcc_s and libasan): install never binds a slot differently
 * from ld.so. Returns the number of such slots. */
static int changed_match(const slots *ref, const slots *got, const slots *lazy,
                         int *nchanged)
{
    int bad = 0;
    *nchanged = 0;
    for (size_t i = 0; i < got->n; i++) {
        const char *g = got->line[i];
        const char *sp = strchr(g, ' ');
        sp = sp ? strchr(sp + 1, ' ') : 0;
        if (!sp)
            continue;
        size_t k = (size_t)(sp - g);
        const char *l = find(lazy, g, k), *r = find(ref, g, k);
        if (!l || !strcmp(l, g))
            continue; /* install did not change it */
        (*nchanged)++;
        if (!r || strcmp(r, g)) {
            bad++;
            fprintf(stderr, "  install bound: %s\n  LD_BIND_NOW:   %s\n", g,
                    r ? r : "(missing)");
        }
    }
    return bad;
}

static void check_slots(const char *child)
{
    const char *exe = strrchr(child, '/') + 1;
    slots ref, got, lazy;
    run_dump(child, "dump", 1, &ref);
    run_dump(child, "install-dump", 0, &got);
    run_dump(child, "dump", 0, &lazy);
    int n, nu, n2, nu2;
    int diff = compare(&ref, &got, exe, 1, &n, &nu);
    int lazy_diff = compare(&ref, &lazy, exe, 0, &n2, &nu2);
    fprintf(stderr,
            "%s: %d slots checked (%d in libunwind); after install "
            "%d differ from LD_BIND_NOW, without install %d\n",
            exe, n, nu, diff, lazy_diff);
    int changed;
    int wrong = changed_match(&ref, &got, &lazy, &changed);
    fprintf(stderr, "%s: install changed %d slots, %d not as LD_BIND_NOW\n",
            exe, changed, wrong);
    assert_int_equal(wrong, 0);
    assert_true(nu > 0);        /* libunwind's slots were seen */
    assert_true(lazy_diff > 0); /* the comparison can fail */
    assert_int_equal(diff, 0);
    slots_free(&ref);
    slots_free(&got);
    slots_free(&lazy);
}

static void test_slots_shared(void **state)
{
    (void)state;
    check_slots(BIND_CHILD_SHARED);
}

static void test_slots_static(void **state)
{
    (void)state;
    check_slots(BIND_CHILD_STATIC);
}

/* The walk of bind_early_return really meets DW_CFA_remember_state. */
static void check_remember_state(const char *child)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "readelf --debug-dump=frames '%s' | grep -q DW_CFA_remember_state",
             child);
    assert_int_equal(system(cmd), 0);
}

static void check_crash(const char *child)
{
    check_remember_state(child);
    int runs = mdt_repeat(10);
    for (int i = 0; i < runs; i++) {
        char *dir = mdt_mkdtemp("bind");
        char log[4200];
        snprintf(log, sizeof log, "%s.log", dir);
        char *argv[] = {(char *)child, "crash", dir, 0};
        char *env[] = {"LD_DEBUG=bindings", 0};
        int hung = 0;
        int st = mdt_run(argv, env, TIMEOUT_MS, &hung, log);
        assert_false(hung);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
        assert_int_equal(mdt_count_reports(dir, 0, 0), 1);
        FILE *f = fopen(log, "r");
        assert_non_null(f);
        char buf[2048];
        int marked = 0, after = 0, before = 0;
        while (fgets(buf, sizeof buf, f)) {
            if (!strcmp(buf, "MARK\n")) {
                marked = 1;
                continue;
            }
            if (strstr(buf, "binding file")) {
                if (marked) {
                    after++;
                    fprintf(stderr, "bound after install: %s", buf);
                } else {
                    before++;
                }
            }
        }
        fclose(f);
        assert_true(marked);
        assert_true(before > 0); /* LD_DEBUG did print bindings */
        assert_int_equal(after, 0);
        unlink(log);
        mdt_rmtree(dir);
        free(dir);
    }
}

static void test_crash_shared(void **state)
{
    (void)state;
    check_crash(BIND_CHILD_SHARED);
}

static void test_crash_static(void **state)
{
    (void)state;
    check_crash(BIND_CHILD_STATIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_shared),
        cmocka_unit_test(test_slots_static),
        cmocka_unit_test(test_crash_shared),
        cmocka_unit_test(test_crash_static),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
