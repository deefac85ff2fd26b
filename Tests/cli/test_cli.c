/*
 * test_cli.c - the `mayday` CLI end to end: decode (text, JSON, stdin,
 * several files), symbolication of make_fixture (built -g) to the function
 * and file:line of MARKER comments found by scanning its source, the same
 * through a stripped copy plus a separate .debug found by build-id under
 * --symbols (tree and flat), refusal of a binary whose build-id differs,
 * list, purge, exit codes, and no crash on broken input.
 *
 * Context: test program (normal context); runs the CLI as a child.
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
#include "fixture.h"
#include "json_mini.h"
#include "schema_check.h"

typedef struct ctx {
    char *dir;
    char report[4200]; /* made by make_fixture from the build tree */
    int line_context, line_marker, line_in_inline, line_calls_inline, line_main;
} ctx;

static int mayday(char *out_err[2], const char *a1, const char *a2,
                  const char *a3, const char *a4, const char *a5)
{
    char *argv[] = {MAYDAY_CLI, (char *)a1, (char *)a2, (char *)a3,
                    (char *)a4, (char *)a5, NULL};
    return cu_run(argv, NULL, &out_err[0], &out_err[1]);
}

static void make_report(const char *prog, const char *path, const char *opt)
{
    char *argv[] = {(char *)prog, (char *)path, (char *)opt, NULL};
    char *o, *e;
    int st = cu_run(argv, NULL, &o, &e);
    if (st != 0)
        fail_msg("%s failed (%d): %s", prog, st, e);
    free(o);
    free(e);
}

static int setup(void **state)
{
    /* No debuginfod server from the environment (results would depend
     * on the network). */
    unsetenv("DEBUGINFOD_URLS");
    ctx *c = calloc(1, sizeof(*c));
    c->dir = tc_mkdtemp("cli");
    snprintf(c->report, sizeof(c->report), "%s/fixture.mayday", c->dir);
    make_report(MAKE_FIXTURE, c->report, NULL);
    c->line_context = cu_marker_line(MAKE_FIXTURE_SRC, "CONTEXT_MARKER");
    c->line_marker = cu_marker_line(MAKE_FIXTURE_SRC, "MARKER");
    c->line_in_inline = cu_marker_line(MAKE_FIXTURE_SRC, "IN_INLINE_MARKER");
    c->line_calls_inline =
        cu_marker_line(MAKE_FIXTURE_SRC, "CALLS_INLINE_MARKER");
    c->line_main = cu_marker_line(MAKE_FIXTURE_SRC, "MAIN_MARKER");
    assert_true(c->line_context > 0 && c->line_marker > 0 &&
                c->line_in_inline > 0 && c->line_calls_inline > 0 &&
                c->line_main > 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    tc_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

static void test_help_version(void **state)
{
    (void)state;
    char *oe[2];
    assert_int_equal(mayday(oe, "--help", NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(oe[0], "usage: mayday decode"));
    free(oe[0]), free(oe[1]);
    assert_int_equal(mayday(oe, "--version", NULL, NULL, NULL, NULL), 0);
    assert_string_equal(oe[0], "mayday " MAYDAY_VERSION_STRING "\n");
    free(oe[0]), free(oe[1]);
    const char *bad[][3] = {
        {"frobnicate", NULL, NULL},   {"decode", NULL, NULL},
        {"decode", "--format", NULL}, {"decode", "--format=xml", "x"},
        {"list", NULL, NULL},         {"purge", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int st = mayday(oe, bad[i][0], bad[i][1], bad[i][2], NULL, NULL);
        assert_int_equal(st, 2);
        /* One line on stderr. */
        char *nl = strchr(oe[1], '\n');
        assert_non_null(nl);
        assert_int_equal(nl[1], '\0');
        assert_true(strncmp(oe[1], "mayday: ", 8) == 0);
        free(oe[0]), free(oe[1]);
    }
    assert_int_equal(mayday(oe, NULL, NULL, NULL, NULL, NULL), 2);
    free(oe[0]), free(oe[1]);
}

/* Checks frame line "#NN ..." of text contains all of the given strings. */
static void frame_has(const char *text, const char *prefix, int nth,
                      const char *a, const char *b)
{
    char buf[1024];
    const char *t = text;
    for (int i = 0; i <= nth; i++) {
        if (!cu_line_starting(t, prefix, buf, sizeof(buf)))
            fail_msg("no line %d starting with %s in:\n%s", nth, prefix, text);
        t = strstr(t, buf) + strlen(buf);
    }
    if ((a && !strstr(buf, a)) || (b && !strstr(buf, b)))
        fail_msg("line \"%s\" lacks \"%s\" / \"%s\"", buf, a ? a : "",
                 b ? b : "");
}

static void frame_lacks(const char *text, const char *prefix, const char *a)
{
    char buf[1024];
    if (!cu_line_starting(text, prefix, buf, sizeof(buf)))
        fail_msg("no line starting with %s", prefix);
    if (strstr(buf, a))
        fail_msg("line \"%s\" should not contain \"%s\"", buf, a);
}

/* The symbolicated frames of a make_fixture report, in text. */
static void check_symbolicated(ctx *c, const char *text, const char *src)
{
    char fl[128];
    snprintf(fl, sizeof(fl), "(%s:%d)", src, c->line_context);
    frame_has(text, "#00 ", 0, "context_function+0x", fl);
    snprintf(fl, sizeof(fl), "(%s:%d)", src, c->line_marker);
    frame_has(text, "#01 ", 0, "marker_function+0x", fl);
    snprintf(fl, sizeof(fl), "(%s:%d) [inlined]", src, c->line_in_inline);
    frame_has(text, "#02 ", 0, "inlined_helper ", fl);
    snprintf(fl, sizeof(fl), "(%s:%d)", src, c->line_calls_inline);
    frame_has(text, "#02 ", 1, "marker_function+0x", fl);
    snprintf(fl, sizeof(fl), "(%s:%d)", src, c->line_main);
    frame_has(text, "#03 ", 0, "main+0x", fl);
}

static void test_decode_text(void **state)
{
    ctx *c = *state;
    char *oe[2];
    int st = mayday(oe, "decode", c->report, NULL, NULL, NULL);
    assert_int_equal(st, 0);
    assert_string_equal(oe[1], "");
    check_symbolicated(c, oe[0], "make_fixture.c");
    /* libc frame #04: write(), from libc's symbol table at least. */
    frame_has(oe[0], "#04 ", 0, "libc.so.6", "write");
    /* C++ names are demangled (libstdc++ looked up at run time). */
    char buf[1024];
    if (cu_line_starting(oe[0], "#05 ", buf, sizeof(buf)))
        frame_has(oe[0], "#05 ", 0, "libstdc++.so.6",
                  "std::exception::what() const+0x2");
    else
        print_message("libstdc++ not installed: demangling not checked\n");
    assert_non_null(strstr(oe[0], "SIGSEGV (SEGV_MAPERR)"));
    free(oe[0]), free(oe[1]);
    /* The same from stdin. */
    char *argv[] = {MAYDAY_CLI, "decode", "-", NULL};
    st = cu_run(argv, c->report, &oe[0], &oe[1]);
    assert_int_equal(st, 0);
    check_symbolicated(c, oe[0], "make_fixture.c");
    free(oe[0]), free(oe[1]);
}

static void test_decode_json(void **state)
{
    ctx *c = *state;
    char *oe[2];
    int st = mayday(oe, "decode", "--format", "json", c->report, NULL);
    assert_int_equal(st, 0);
    jm_schema_collect(oe[0], strlen(oe[0]));
    jm_node *j = jm_parse(oe[0], strlen(oe[0]), NULL);
    assert_non_null(j);
    struct {
        const char *sym;
        int line, inlined, index;
    } want[] = {
        {"context_function", c->line_context, 0, 0},
        {"marker_function", c->line_marker, 0, 1},
        {"inlined_helper", c->line_in_inline, 1, 2},
        {"marker_function", c->line_calls_inline, 0, 2},
        {"main", c->line_main, 0, 3},
    };
    for (size_t i = 0; i < 5; i++) {
        char p[128];
        snprintf(p, sizeof(p), "threads.0.frames.%zu.symbol", i);
        assert_string_equal(jm_str(jm_path(j, p)), want[i].sym);
        snprintf(p, sizeof(p), "threads.0.frames.%zu.line", i);
        int ok;
        assert_int_equal(jm_int(jm_path(j, p), &ok), want[i].line);
        snprintf(p, sizeof(p), "threads.0.frames.%zu.inlined", i);
        assert_int_equal(jm_path(j, p)->b, want[i].inlined);
        snprintf(p, sizeof(p), "threads.0.frames.%zu.index", i);
        assert_int_equal(jm_int(jm_path(j, p), &ok), want[i].index);
        snprintf(p, sizeof(p), "threads.0.frames.%zu.offset", i);
        assert_int_equal(jm_path(j, p)->type,
                         want[i].inlined ? JM_NULL : JM_STR);
        snprintf(p, sizeof(p), "threads.0.frames.%zu.file", i);
        const char *f = jm_str(jm_path(j, p));
        assert_non_null(f);
        assert_non_null(strstr(f, "make_fixture.c"));
    }
    jm_free(j);
    free(oe[0]), free(oe[1]);
    /* Two files: JSON Lines, one report object per line. */
    st = mayday(oe, "decode", "--format=json", c->report, c->report, NULL);
    assert_int_equal(st, 0);
    jm_schema_collect(oe[0], strlen(oe[0]));
    char *nl = strchr(oe[0], '\n');
    assert_non_null(nl);
    assert_int_equal(strchr(nl + 1, '\n') - nl - 1, nl - oe[0]);
    assert_string_equal(strchr(nl + 1, '\n') + 1, "");
    for (int k = 0; k < 2; k++) {
        j = jm_parse(k ? nl + 1 : oe[0], (size_t)(nl - oe[0]), NULL);
        assert_non_null(j);
        assert_int_equal(j->type, JM_OBJ);
        assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                            "context_function");
        jm_free(j);
    }
    free(oe[0]), free(oe[1]);
}

/* A copy of make_fixture stripped of debug info, its .debug file under a
 * symbols dir (by build-id tree, then flat), and a report made by it. */
static void test_stripped(void **state)
{
    ctx *c = *state;
    char bin[4200], dbg[4200], tree[4200], flat[4200], rep[4200], id[200];
    char *oe[2];
    snprintf(bin, sizeof(bin), "%s/bin", c->dir);
    mkdir(bin, 0755);
    snprintf(bin, sizeof(bin), "%s/bin/target", c->dir);
    snprintf(dbg, sizeof(dbg), "%s/target.debug", c->dir);
    assert_int_equal(cu_sh("cp '%s' '%s'", MAKE_FIXTURE, bin), 0);
    /* The binutils of the target (a cross build's make_fixture). */
    assert_int_equal(cu_sh(OBJCOPY " --only-keep-debug '%s' '%s'", bin, dbg),
                     0);
    assert_int_equal(cu_sh(STRIP " --strip-debug '%s' && true '%s'", bin, ""),
                     0);
    assert_int_equal(cu_build_id(bin, id, sizeof(id)), 0);
    char id2[200];
    assert_int_equal(cu_build_id(dbg, id2, sizeof(id2)), 0);
    assert_string_equal(id, id2);
    /* No DWARF left in the binary (readelf, independent). */
    assert_int_not_equal(
        cu_sh("readelf -S '%s' | grep -q debug_info%s", bin, ""), 0);
    snprintf(rep, sizeof(rep), "%s/stripped.mayday", c->dir);
    make_report(bin, rep, NULL);

    /* a. no symbols dir: names from .symtab, no file:line. */
    int st = mayday(oe, "decode", "--no-system-debug", rep, NULL, NULL);
    assert_int_equal(st, 0);
    frame_has(oe[0], "#01 ", 0, "marker_function+0x", NULL);
    frame_lacks(oe[0], "#01 ", "make_fixture.c");
    assert_non_null(strstr(oe[0], "no debug info"));
    free(oe[0]), free(oe[1]);

    /* b. .build-id tree. */
    snprintf(tree, sizeof(tree), "%s/syms/.build-id/%.2s", c->dir, id);
    assert_int_equal(cu_sh("mkdir -p '%s'%s", tree, ""), 0);
    snprintf(tree, sizeof(tree), "%s/syms/.build-id/%.2s/%s.debug", c->dir, id,
             id + 2);
    assert_int_equal(cu_sh("cp '%s' '%s'", dbg, tree), 0);
    snprintf(tree, sizeof(tree), "%s/syms", c->dir);
    st = mayday(oe, "decode", "--symbols", tree, rep, NULL);
    assert_int_equal(st, 0);
    check_symbolicated(c, oe[0], "make_fixture.c");
    assert_non_null(strstr(oe[0], "debug info: "));
    free(oe[0]), free(oe[1]);

    /* c. flat dir with the .debug file under any name. */
    snprintf(flat, sizeof(flat), "%s/flat", c->dir);
    mkdir(flat, 0755);
    assert_int_equal(cu_sh("cp '%s' '%s/whatever.dbg'", dbg, flat), 0);
    st = mayday(oe, "decode", "--symbols", flat, rep, NULL);
    assert_int_equal(st, 0);
    check_symbolicated(c, oe[0], "make_fixture.c");
    free(oe[0]), free(oe[1]);

    /* d. binary gone: the .debug alone gives names and lines. */
    assert_int_equal(unlink(bin), 0);
    st = mayday(oe, "decode", "--symbols", flat, rep, NULL);
    assert_int_equal(st, 0);
    check_symbolicated(c, oe[0], "make_fixture.c");
    assert_non_null(strstr(oe[0], "symbols: "));
    free(oe[0]), free(oe[1]);

    /* e. another binary at the recorded path (different build-id), no
     * symbols dir: never used; frames keep image + offset. */
    assert_int_equal(cu_sh("cp '%s' '%s'", MAYDAY_CLI, bin), 0);
    st = mayday(oe, "decode", "--no-system-debug", rep, NULL, NULL);
    assert_int_equal(st, 0);
    frame_has(oe[0], "#01 ", 0, "target + 0x", NULL);
    frame_lacks(oe[0], "#01 ", "marker_function");
    assert_non_null(strstr(oe[0], "not symbolicated"));
    assert_non_null(strstr(oe[0], id));
    free(oe[0]), free(oe[1]);
    /* --strict: the crashed thread's frames lack symbols: exit 4, and
     * the reason on stderr. */
    st = mayday(oe, "decode", "--strict", "--no-system-debug", rep, NULL);
    assert_int_equal(st, 4);
    assert_non_null(strstr(oe[1], "build_id_mismatch"));
    free(oe[0]), free(oe[1]);
    st = mayday(oe, "decode", "--format", "json", rep, NULL);
    assert_int_equal(st, 0);
    jm_schema_collect(oe[0], strlen(oe[0]));
    jm_node *j = jm_parse(oe[0], strlen(oe[0]), NULL);
    assert_non_null(j);
    assert_int_equal(jm_path(j, "threads.0.frames.1.symbol")->type, JM_NULL);
    assert_non_null(jm_str(jm_path(j, "images.0.symbols_note")));
    assert_string_equal(jm_str(jm_path(j, "images.0.symbols.status")),
                        "build_id_mismatch");
    assert_string_equal(jm_str(jm_path(j, "threads.0.frames.1.symbolicated")),
                        "none");
    jm_free(j);
    free(oe[0]), free(oe[1]);
    /* ...but with the right .debug under --symbols it symbolicates. */
    st = mayday(oe, "decode", "--symbols", tree, rep, NULL);
    assert_int_equal(st, 0);
    check_symbolicated(c, oe[0], "make_fixture.c");
    free(oe[0]), free(oe[1]);
}

static void test_decode_errors(void **state)
{
    ctx *c = *state;
    char *oe[2], path[4200];
    snprintf(path, sizeof(path), "%s/bad.mayday", c->dir);
    char *good = cu_slurp(c->report);
    struct stat st;
    assert_int_equal(stat(c->report, &st), 0);
    /* Truncations at a stride of lengths, and foreign content. */
    for (off_t n = 0; n < st.st_size; n += 97) {
        assert_int_equal(fx_write_file(path, good, (size_t)n), 0);
        int s = mayday(oe, "decode", path, NULL, NULL, NULL);
        assert_int_equal(s, 1);
        assert_non_null(strstr(oe[1], "corrupt"));
        free(oe[0]), free(oe[1]);
        s = mayday(oe, "decode", "--format", "json", path, NULL);
        assert_int_equal(s, 1);
        free(oe[0]), free(oe[1]);
        assert_true(tc_exists(path));
    }
    free(good);
    /* A directory is every report in it (batch): here the fixture and
     * the corrupt bad.mayday: the good one printed, exit 1. */
    int s = mayday(oe, "decode", c->dir, NULL, NULL, NULL);
    assert_int_equal(s, 1);
    assert_non_null(strstr(oe[0], "==> "));
    assert_non_null(strstr(oe[0], "fixture.mayday"));
    assert_non_null(strstr(oe[1], "corrupt"));
    free(oe[0]), free(oe[1]);
    s = mayday(oe, "decode", "/nonexistent/x.mayday", NULL, NULL, NULL);
    assert_int_equal(s, 1);
    assert_non_null(strstr(oe[1], "no such file"));
    free(oe[0]), free(oe[1]);
    s = mayday(oe, "decode", MAYDAY_CLI, NULL, NULL, NULL);
    assert_int_equal(s, 1);
    assert_non_null(strstr(oe[1], "not a mayday report"));
    free(oe[0]), free(oe[1]);
    /* One bad among good ones: the good ones are still printed. */
    s = mayday(oe, "decode", c->report, "/nonexistent", c->report, NULL);
    assert_int_equal(s, 1);
    assert_non_null(strstr(oe[0], "==> "));
    free(oe[0]), free(oe[1]);
}

/* Batch: a directory of reports in one process, JSON Lines, --brief,
 * --strict, a module cache of 1, list --group. */
static void test_batch(void **state)
{
    ctx *c = *state;
    char d[4200], p[4300], *oe[2];
    snprintf(d, sizeof(d), "%s/batch", c->dir);
    mkdir(d, 0700);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/r%d.mayday", d, i);
        char t[32];
        snprintf(t, sizeof(t), "%d000000000000000000", i + 1);
        char *argv[] = {MAKE_FIXTURE, p, "--time", t, NULL};
        assert_int_equal(cu_run(argv, NULL, NULL, NULL), 0);
    }
    char *argv[] = {MAYDAY_CLI,       "decode", "--format", "jsonl",
                    "--module-cache", "1",      d,          NULL};
    assert_int_equal(cu_run(argv, NULL, &oe[0], &oe[1]), 0);
    jm_schema_collect(oe[0], strlen(oe[0]));
    int lines = 0;
    for (char *l = oe[0], *e; (e = strchr(l, '\n')); l = e + 1, lines++) {
        jm_node *j = jm_parse(l, (size_t)(e - l), NULL);
        assert_non_null(j);
        assert_string_equal(jm_str(jm_path(j, "threads.0.frames.1.symbol")),
                            "marker_function");
        assert_non_null(jm_str(jm_path(j, "signature.id")));
        jm_free(j);
    }
    assert_int_equal(lines, 5);
    free(oe[0]), free(oe[1]);
    /* --brief: only the crashed thread. */
    char *bv[] = {MAYDAY_CLI, "decode",  "--brief", "--format",
                  "json",     c->report, NULL};
    assert_int_equal(cu_run(bv, NULL, &oe[0], &oe[1]), 0);
    jm_schema_collect(oe[0], strlen(oe[0]));
    jm_node *j = jm_parse(oe[0], strlen(oe[0]), NULL);
    assert_non_null(j);
    assert_int_equal(jm_get(j, "threads")->n, 1);
    assert_true(jm_path(j, "threads.0.crashed")->b);
    jm_free(j);
    free(oe[0]), free(oe[1]);
    /* --strict: the fixture's frames all have symbols (exit 0); a binary
     * with another build-id at the recorded path does not (exit 4). */
    char *sv[] = {MAYDAY_CLI,        "decode",  "--strict",
                  "--no-debuginfod", c->report, NULL};
    assert_int_equal(cu_run(sv, NULL, &oe[0], &oe[1]), 0);
    free(oe[0]), free(oe[1]);
    /* list --group: five reports, one signature. */
    assert_int_equal(mayday(oe, "list", "--group", d, NULL, NULL), 0);
    char buf[1024];
    assert_non_null(cu_line_starting(oe[0], "5 ", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "SIGSEGV: context_function"));
    free(oe[0]), free(oe[1]);
}

static void test_list_purge(void **state)
{
    ctx *c = *state;
    char d[4200], p[4200], *oe[2];
    snprintf(d, sizeof(d), "%s/reports", c->dir);
    mkdir(d, 0700);
    const char *names[] = {"new.mayday", "old.mayday"};
    const char *times[] = {"2000000000000000000", "1000000000000000000"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", d, names[i]);
        char *argv[] = {MAKE_FIXTURE, p, "--time", (char *)times[i], NULL};
        assert_int_equal(cu_run(argv, NULL, NULL, NULL), 0);
    }
    snprintf(p, sizeof(p), "%s/broken.mayday", d);
    assert_int_equal(fx_write_file(p, "MAYDAY\x01", 7), 0);
    snprintf(p, sizeof(p), "%s/notes.txt", d);
    assert_int_equal(fx_write_file(p, "x", 1), 0);
    snprintf(p, sizeof(p), "%s/foreign.mayday", d);
    assert_int_equal(fx_write_file(p, "not a report", 12), 0);

    int s = mayday(oe, "list", d, NULL, NULL, NULL);
    assert_int_equal(s, 0);
    /* old (2001), broken (mtime: now), new (2033) */
    char *l1 = strstr(oe[0], "old.mayday");
    char *l2 = strstr(oe[0], "broken.mayday");
    char *l3 = strstr(oe[0], "new.mayday");
    assert_non_null(l1);
    assert_non_null(l2);
    assert_non_null(l3);
    assert_true(l1 < l2 && l2 < l3);
    assert_null(strstr(oe[0], "foreign"));
    assert_null(strstr(oe[0], "notes.txt"));
    char buf[1024];
    assert_non_null(
        cu_line_starting(oe[0], "2001-09-09T01:46:40Z", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "SIGSEGV"));
    assert_non_null(strstr(buf, "context_function"));
    assert_non_null(cu_line_starting(oe[0], "-", buf, sizeof(buf)));
    assert_non_null(strstr(buf, "CORRUPT"));
    assert_non_null(strstr(buf, "broken.mayday"));
    free(oe[0]), free(oe[1]);

    /* purge FILE of a foreign file: refused, kept. */
    s = mayday(oe, "purge", p, NULL, NULL, NULL);
    assert_int_equal(s, 1);
    assert_true(tc_exists(p));
    free(oe[0]), free(oe[1]);
    /* purge DIR: every report (also the broken one), nothing else. */
    s = mayday(oe, "purge", d, NULL, NULL, NULL);
    assert_int_equal(s, 0);
    assert_string_equal(oe[0], "purged 3 reports\n");
    free(oe[0]), free(oe[1]);
    assert_true(tc_exists(p));
    snprintf(p, sizeof(p), "%s/notes.txt", d);
    assert_true(tc_exists(p));
    snprintf(p, sizeof(p), "%s/old.mayday", d);
    assert_false(tc_exists(p));
    s = mayday(oe, "list", d, NULL, NULL, NULL);
    assert_int_equal(s, 0);
    assert_string_equal(oe[0], "");
    free(oe[0]), free(oe[1]);
    s = mayday(oe, "list", "/nonexistent", NULL, NULL, NULL);
    assert_int_equal(s, 1);
    free(oe[0]), free(oe[1]);
}

/* Runs real_crash (mayday installed, crashes for real) into dir; returns
 * the path of the single report it wrote (static buffer). */
static const char *real_report(const char *dir, const char *mode, int sig)
{
    static char path[4200];
    mkdir(dir, 0700);
    /* In sanitizer builds ASan would take SIGSEGV for itself. */
    setenv("ASAN_OPTIONS", "handle_segv=0:handle_abort=0", 1);
    char *argv[] = {REAL_CRASH, (char *)dir, (char *)mode, NULL};
    int st = cu_run(argv, NULL, NULL, NULL);
    assert_int_equal(st, 1000 + sig);
    char **paths;
    size_t n;
    assert_int_equal(mayday_reports_list(dir, &paths, &n), 0);
    assert_int_equal(n, 1);
    snprintf(path, sizeof(path), "%s", paths[0]);
    mayday_reports_list_free(paths, n);
    return path;
}

static void test_real_crash(void **state)
{
    ctx *c = *state;
    char dir[4200], fl[128], *oe[2];
    int crash_line = cu_marker_line(REAL_CRASH_SRC, "CRASH_MARKER");
    int caller_line = cu_marker_line(REAL_CRASH_SRC, "CALLER_MARKER");
    assert_true(crash_line > 0 && caller_line > 0);
    snprintf(dir, sizeof(dir), "%s/real-segv", c->dir);
    const char *rep = real_report(dir, "segv", SIGSEGV);

    int st = mayday(oe, "decode", rep, NULL, NULL, NULL);
    assert_int_equal(st, 0);
    snprintf(fl, sizeof(fl), "(real_crash.c:%d)", crash_line);
    frame_has(oe[0], "#00 ", 0, "crash_here+0x", fl);
    snprintf(fl, sizeof(fl), "(real_crash.c:%d)", caller_line);
    frame_has(oe[0], "#01 ", 0, "caller+0x", fl);
    assert_non_null(strstr(oe[0], "SIGSEGV (SEGV_MAPERR)"));
    assert_non_null(strstr(oe[0], "null dereference"));
    free(oe[0]), free(oe[1]);

    st = mayday(oe, "decode", "--format", "json", rep, NULL);
    assert_int_equal(st, 0);
    jm_schema_collect(oe[0], strlen(oe[0]));
    jm_node *j = jm_parse(oe[0], strlen(oe[0]), NULL);
    assert_non_null(j);
    assert_string_equal(jm_str(jm_path(j, "signal.name")), "SIGSEGV");
    assert_string_equal(jm_str(jm_path(j, "cause")), "null_dereference");
    assert_string_equal(jm_str(jm_path(j, "app.id")), "real_crash");
    assert_string_equal(jm_str(jm_path(j, "annotations.phase")), "crashing");
    assert_string_equal(jm_str(jm_path(j, "breadcrumbs.0.message")),
                        "about to crash");
    assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                        "crash_here");
    int ok;
    assert_int_equal(jm_int(jm_path(j, "threads.0.frames.0.line"), &ok),
                     crash_line);
    jm_free(j);
    free(oe[0]), free(oe[1]);

    st = mayday(oe, "list", dir, NULL, NULL, NULL);
    assert_int_equal(st, 0);
    assert_non_null(strstr(oe[0], "crash_here"));
    free(oe[0]), free(oe[1]);

    /* The real report cut at every length: an error, never a crash. */
    char *bytes = cu_slurp(rep);
    struct stat sb;
    assert_int_equal(stat(rep, &sb), 0);
    mayday_report *r;
    assert_int_equal(mayday_report_parse(bytes, (size_t)sb.st_size, &r), 0);
    mayday_report_free(r);
    for (off_t n = 0; n < sb.st_size; n++)
        assert_int_equal(mayday_report_parse(bytes, (size_t)n, &r),
                         MAYDAY_ECORRUPT);
    free(bytes);

    /* abort(): SIGABRT, cause abort, the caller on the stack. */
    snprintf(dir, sizeof(dir), "%s/real-abort", c->dir);
    rep = real_report(dir, "abort", SIGABRT);
    st = mayday(oe, "decode", rep, NULL, NULL, NULL);
    assert_int_equal(st, 0);
    assert_non_null(strstr(oe[0], "SIGABRT"));
    assert_non_null(strstr(oe[0], " caller+0x"));
    free(oe[0]), free(oe[1]);
}

/* Every JSON output of this program against docs/report.schema.json. */
static void test_json_schema(void **state)
{
    (void)state;
    assert_int_equal(jm_schema_validate(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_decode_text),
        cmocka_unit_test(test_decode_json),
        cmocka_unit_test(test_stripped),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_list_purge),
        cmocka_unit_test(test_real_crash),
        cmocka_unit_test(test_json_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
