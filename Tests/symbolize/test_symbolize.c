/*
 * test_symbolize.c - `mayday decode` symbolicates like the platform's
 * tools: every frame of the crashed thread of real crashes is compared
 * with eu-addr2line and addr2line -f -i -C on the same address (symcmp.c):
 * the whole inline chain, function names, files and lines; and the ELF
 * symbol + offset with eu-addr2line -S. Cases: C -O2 -fomit-frame-pointer
 * as PIE and non-PIE (a store inlined three deep; a .cold part), C++
 * (std::sort comparator, lambda through std::function), dlopen'ed
 * libraries stripped with a .gnu_debuglink (debug file next to the
 * library and in .debug/) and stripped with only a build-id (debug file
 * in a --symbols tree). Every report's main thread ends in _start, whose
 * address lies in no compile unit: no file:line there.
 *
 * Context: test program; the programs crash in child processes.
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
#include "symcmp.h"

typedef struct ctx {
    char *dir;
    char libdir[4200], syms[4200];
    sc_stats total;
} ctx;

static ctx *g_ctx;
/* Measuring another CLI (MAYDAY_CLI_UNDER_TEST): print, assert nothing. */
static int g_measure;
#define CHECK(x)                                                               \
    do {                                                                       \
        if (!g_measure)                                                        \
            x;                                                                 \
    } while (0)

/* Stripped copies in libdir -> the unstripped originals. */
static const char *map_original(const char *path, void *ud)
{
    ctx *c = ud;
    size_t n = strlen(c->libdir);
    if (strncmp(path, c->libdir, n) != 0)
        return NULL;
    if (strstr(path, "libdl_a.so"))
        return LIB_A;
    if (strstr(path, "libdl_b.so"))
        return LIB_B;
    return NULL;
}

static int setup(void **state)
{
    /* No debuginfod server from the environment (results would depend
     * on the network). */
    unsetenv("DEBUGINFOD_URLS");
    ctx *c = calloc(1, sizeof(*c));
    *state = g_ctx = c; /* teardown frees it even if setup fails */
    c->dir = tc_mkdtemp("sym");
    snprintf(c->libdir, sizeof(c->libdir), "%s/lib", c->dir);
    snprintf(c->syms, sizeof(c->syms), "%s/syms", c->dir);
    mkdir(c->libdir, 0755);
    mkdir(c->syms, 0755);
    char cmd[20000];
    /* a: stripped, .gnu_debuglink to libdl_a.so.debug next to it. */
    snprintf(cmd, sizeof(cmd),
             "set -e; cd '%s'; cp '%s' libdl_a.so;"
             OBJCOPY " --only-keep-debug libdl_a.so libdl_a.so.debug;"
             OBJCOPY " --strip-debug --add-gnu-debuglink=libdl_a.so.debug "
             "libdl_a.so;"
             /* b: stripped, no link; its debug file only by build-id. */
             "cp '%s' libdl_b.so;"
             OBJCOPY " --only-keep-debug libdl_b.so libdl_b.so.debug;"
             OBJCOPY " --strip-debug libdl_b.so;"
             "id=$(readelf -n libdl_b.so | sed -n 's/.*Build ID: //p');"
             "mkdir -p '%s'/.build-id/$(echo $id | cut -c1-2);"
             "mv libdl_b.so.debug '%s'/.build-id/$(echo $id | cut -c1-2)/"
             "$(echo $id | cut -c3-).debug",
             c->libdir, LIB_A, LIB_B, c->syms, c->syms);
    assert_int_equal(system(cmd), 0);
    /* Neither stripped library has DWARF left (readelf). */
    assert_int_not_equal(
        cu_sh("readelf -S '%s/libdl_a.so' | grep -q debug_info%s", c->libdir,
              ""),
        0);
    const char *m = getenv("MAYDAY_CLI_UNDER_TEST");
    g_measure = m && m[0];
    *state = g_ctx = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    if (!c)
        return 0;
    printf("total: %d frames (%d entries): eu-addr2line differs %d "
           "(functions/lines %d), addr2line differs %d, tools disagree %d, "
           "ELF symbol+offset differs %d, failed %d\n",
           c->total.frames, c->total.entries, c->total.eu_mismatch,
           c->total.eu_fl_mismatch, c->total.bu_mismatch,
           c->total.tools_disagree, c->total.sym_mismatch, c->total.failed);
    tc_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

/* Runs prog DIR mode [arg] (it must die of SIGSEGV), decodes its report
 * as JSON with extra decode options, returns the parsed JSON. */
static int g_expect_sig = SIGSEGV;
static char g_last_report[4400];
static jm_node *crash_and_decode(const char *prog, const char *mode,
                                 const char *arg, const char *opt1,
                                 const char *opt2);

/* The signature id and the JSON of `decode --format json [opt] report`. */
static jm_node *decode_with(const char *report, const char *opt, char *id,
                            size_t n)
{
    char *dv[] = {MAYDAY_CLI,
                  "decode",
                  "--format",
                  "json",
                  "--no-debuginfod",
                  (char *)(opt ? opt : report),
                  opt ? (char *)report : NULL,
                  NULL};
    char *out, *err;
    int st = cu_run(dv, NULL, &out, &err);
    if (st != 0)
        fail_msg("decode failed (%d): %s", st, err);
    jm_schema_collect(out, strlen(out));
    jm_node *j = jm_parse(out, strlen(out), NULL);
    assert_non_null(j);
    snprintf(id, n, "%s", jm_str(jm_path(j, "signature.id")));
    printf("signature%s: %s %s\n", opt ? " (--no-system-debug)" : "", id,
           jm_str(jm_path(j, "signature.text")));
    free(out);
    free(err);
    return j;
}

/* 1 if some frame's symbol differs between the two decodes. */
static int symbols_differ(jm_node *a, jm_node *b)
{
    jm_node *fa = jm_path(a, "threads.0.frames"),
            *fb = jm_path(b, "threads.0.frames");
    for (size_t i = 0; i < fa->n && i < fb->n; i++) {
        const char *x = jm_str(jm_get(fa->kids[i], "symbol"));
        const char *y = jm_str(jm_get(fb->kids[i], "symbol"));
        if ((x || y) && (!x || !y || strcmp(x, y) != 0))
            return 1;
    }
    return fa->n != fb->n;
}

/* 1 if the system has a debug file for the libc of decoded report j
 * (/usr/lib/debug/.build-id/xx/rest.debug: libc6-dbg of the report's
 * architecture; the aarch64 stage installs none for arm64). */
static int have_libc_debug(jm_node *j)
{
    jm_node *im = jm_get(j, "images");
    for (size_t i = 0; im && i < im->n; i++) {
        const char *n = jm_str(jm_get(im->kids[i], "name"));
        const char *id = jm_str(jm_get(im->kids[i], "build_id"));
        if (!n || strcmp(n, "libc.so.6") != 0 || !id || strlen(id) < 3)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "/usr/lib/debug/.build-id/%.2s/%s.debug", id,
                 id + 2);
        return access(p, R_OK) == 0;
    }
    return 0;
}

/* The same crash has the same signature with and without the system's
 * debug info (libc6-dbg), although libc's frames are named differently;
 * different crashes have different signatures. */
static void test_signature(void **state)
{
    (void)state;
    if (access("/usr/lib/debug/.build-id", F_OK) != 0)
        skip();
    {
        jm_node *j = crash_and_decode(C_PIE, "inline", NULL, NULL, NULL);
        int have = have_libc_debug(j);
        jm_free(j);
        if (!have) {
            fprintf(stderr, "SKIP: no debug file for the programs' libc in "
                            "/usr/lib/debug/.build-id (libc6-dbg of their "
                            "architecture)\n");
            skip();
        }
    }
    const char *modes[] = {"inline", "cold", "abort"};
    const int sigs[] = {SIGSEGV, SIGSEGV, SIGABRT};
    char ids[3][64];
    for (int i = 0; i < 3; i++) {
        g_expect_sig = sigs[i];
        jm_free(crash_and_decode(C_PIE, modes[i], NULL, NULL, NULL));
        g_expect_sig = SIGSEGV;
        char id2[64];
        jm_node *a = decode_with(g_last_report, NULL, ids[i], sizeof(ids[i]));
        jm_node *b =
            decode_with(g_last_report, "--no-system-debug", id2, sizeof(id2));
        assert_true(symbols_differ(a, b));
        assert_string_equal(ids[i], id2);
        const char *text = jm_str(jm_path(a, "signature.text"));
        if (i == 2) /* abort's machinery is not part of it */
            assert_true(strncmp(text, "SIGABRT: give_up | main", 23) == 0);
        jm_free(a);
        jm_free(b);
    }
    assert_string_not_equal(ids[0], ids[1]);
    assert_string_not_equal(ids[0], ids[2]);
    assert_string_not_equal(ids[1], ids[2]);
}

static jm_node *crash_and_decode(const char *prog, const char *mode,
                                 const char *arg, const char *opt1,
                                 const char *opt2)
{
    ctx *c = g_ctx;
    static int seq;
    char dir[4300];
    snprintf(dir, sizeof(dir), "%s/r%d-%s-%s", c->dir, seq++,
             strrchr(prog, '/') + 1, mode);
    mkdir(dir, 0700);
    setenv("ASAN_OPTIONS", "handle_segv=0:handle_abort=0", 1);
    char *argv[] = {(char *)prog, dir, (char *)mode, (char *)arg, NULL};
    int st = cu_run(argv, NULL, NULL, NULL);
    if (st != 1000 + g_expect_sig)
        fail_msg("%s %s ended with %d, not signal %d", prog, mode, st,
                 g_expect_sig);
    char **paths;
    size_t n;
    assert_int_equal(mayday_reports_list(dir, &paths, &n), 0);
    assert_int_equal(n, 1);
    snprintf(g_last_report, sizeof(g_last_report), "%s", paths[0]);
    /* MAYDAY_CLI_UNDER_TEST: another build of the CLI (to measure an
     * older one against the same tools; docs/performance.md). */
    const char *cli = getenv("MAYDAY_CLI_UNDER_TEST");
    char *dv[] = {(char *)(cli && cli[0] ? cli : MAYDAY_CLI),
                  "decode",
                  "--format",
                  "json",
                  (char *)(opt1 ? opt1 : paths[0]),
                  (char *)(opt1 ? opt2 : NULL),
                  opt1 ? paths[0] : NULL,
                  NULL};
    char *out, *err;
    st = cu_run(dv, NULL, &out, &err);
    mayday_reports_list_free(paths, n);
    if (st != 0)
        fail_msg("decode failed (%d): %s", st, err);
    jm_schema_collect(out, strlen(out));
    jm_node *j = jm_parse(out, strlen(out), NULL);
    assert_non_null(j);
    free(out);
    free(err);
    return j;
}

/* Compares the crashed thread; fails on any frame that differs. */
static void compare(jm_node *j, const char *tag)
{
    sc_stats st = {0};
    int ok;
    size_t t = (size_t)jm_int(jm_get(j, "crashed_thread"), &ok);
    assert_true(ok);
    sc_compare(j, t, map_original, g_ctx, tag, &st);
    printf("%s: %d frames, %d entries; differs from eu-addr2line %d "
           "(functions/lines %d), addr2line %d; tools disagree %d; ELF "
           "symbol+offset differs from eu-addr2line -S %d\n",
           tag, st.frames, st.entries, st.eu_mismatch, st.eu_fl_mismatch,
           st.bu_mismatch, st.tools_disagree, st.sym_mismatch);
    g_ctx->total.frames += st.frames;
    g_ctx->total.entries += st.entries;
    g_ctx->total.eu_mismatch += st.eu_mismatch;
    g_ctx->total.bu_mismatch += st.bu_mismatch;
    g_ctx->total.tools_disagree += st.tools_disagree;
    g_ctx->total.failed += st.failed;
    g_ctx->total.eu_fl_mismatch += st.eu_fl_mismatch;
    g_ctx->total.sym_mismatch += st.sym_mismatch;
    CHECK(assert_true(st.frames >= 3));
    CHECK(assert_int_equal(st.failed, 0));
    CHECK(assert_int_equal(st.line_outside_cu, 0));
    CHECK(assert_int_equal(st.sym_mismatch, 0));
}

/* The JSON entries of frame 0 (all with index 0). */
static int frame0_entries(jm_node *j, size_t t)
{
    char p[64];
    snprintf(p, sizeof(p), "threads.%zu.frames", t);
    jm_node *f = jm_path(j, p);
    int n = 0, ok;
    while ((size_t)n < f->n && jm_int(jm_get(f->kids[n], "index"), &ok) == 0)
        n++;
    return n;
}

static void test_c_inline(void **state)
{
    (void)state;
    const char *progs[] = {C_PIE, C_NOPIE};
    for (int i = 0; i < 2; i++) {
        jm_node *j = crash_and_decode(progs[i], "inline", NULL, NULL, NULL);
        compare(j, i ? "c non-PIE inline" : "c PIE inline");
        /* poke inlined into leaf_inline inlined into recurse. */
        CHECK(assert_int_equal(frame0_entries(j, 0), 3));
        jm_free(j);
    }
}

static void test_c_cold(void **state)
{
    (void)state;
    const char *progs[] = {C_PIE, C_NOPIE};
    for (int i = 0; i < 2; i++) {
        jm_node *j = crash_and_decode(progs[i], "cold", NULL, NULL, NULL);
        compare(j, i ? "c non-PIE cold" : "c PIE cold");
        CHECK(assert_string_equal(
            jm_str(jm_path(j, "threads.0.frames.0.symbol")), "check_value"));
        CHECK(assert_string_equal(
            jm_str(jm_path(j, "threads.0.frames.0.elf_symbol")),
            "check_value.cold"));
        jm_free(j);
    }
}

static void test_cxx(void **state)
{
    (void)state;
    const char *modes[] = {"sort", "function"};
    for (int i = 0; i < 2; i++) {
        jm_node *j = crash_and_decode(CXX_PROG, modes[i], NULL, NULL, NULL);
        compare(j, i ? "c++ std::function" : "c++ std::sort");
        CHECK(assert_true(frame0_entries(j, 0) >= 2));
        jm_free(j);
    }
}

static void test_dl_debuglink(void **state)
{
    ctx *c = *state;
    jm_node *j = crash_and_decode(C_PIE, "dl-debuglink", c->libdir, NULL, NULL);
    compare(j, "dlopen, .gnu_debuglink next to it");
    CHECK(assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                              "store_it"));
    jm_free(j);
    /* The debug file moved into .debug/ beside the library. */
    char cmd[13000];
    snprintf(cmd, sizeof(cmd),
             "mkdir -p '%s/.debug' && mv '%s/libdl_a.so.debug' '%s/.debug/'",
             c->libdir, c->libdir, c->libdir);
    assert_int_equal(system(cmd), 0);
    j = crash_and_decode(C_PIE, "dl-debuglink", c->libdir, NULL, NULL);
    compare(j, "dlopen, .gnu_debuglink in .debug/");
    CHECK(assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                              "store_it"));
    jm_free(j);
}

static void test_dl_buildid(void **state)
{
    ctx *c = *state;
    jm_node *j =
        crash_and_decode(C_PIE, "dl-buildid", c->libdir, "--symbols", c->syms);
    compare(j, "dlopen, build-id only (--symbols tree)");
    CHECK(assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                              "store_it"));
    jm_free(j);
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
        cmocka_unit_test(test_c_inline),    cmocka_unit_test(test_c_cold),
        cmocka_unit_test(test_cxx),         cmocka_unit_test(test_dl_debuglink),
        cmocka_unit_test(test_dl_buildid),  cmocka_unit_test(test_signature),
        cmocka_unit_test(test_json_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
