/*
 * test_ecosystem.c - the exports of a real crash (eco_crash: main thread
 * writes through NULL, a worker parked 30 frames deep, a worker blocked in
 * read) read by tools nobody here wrote:
 *   - parse_minidump.py (from the published layouts): every stream in
 *     bounds and saying what the report and the system say (readelf's
 *     build-ids, the child's pid and argv, the annotations it set);
 *   - lldb opens the minidump: `thread list` has every thread with the
 *     crashed one stopped by SIGSEGV; `bt all` frame 0 of each thread is a
 *     function `mayday decode` names for it; with stack memory in the
 *     report, the whole own-code backtrace of the crashed thread and of
 *     the parked worker equals decode's;
 *   - sentry-cli `debug-files check` gives the Debug ID and Code ID that
 *     the Sentry export has for every image file;
 *   - Spotlight receives `mayday upload` to a DSN pointing at it, with the
 *     exception type and the crashed thread's top function.
 * The npm tools come from MAYDAY_CONSUMERS_DIR (scripts/consumers.sh);
 * missing tools skip a test unless MAYDAY_REQUIRE_CONSUMERS=1 (test.sh).
 *
 * Context: tests only (child processes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "json_mini.h"

typedef struct eco {
    char dir[128], report[512], dmp[600];
    pid_t pid;
    jm_node *decoded; /* mayday decode --format json */
    jm_node *parsed;  /* parse_minidump.py */
    char consumers[512];
} eco;

static eco g;

static int require_tools(void)
{
    const char *r = getenv("MAYDAY_REQUIRE_CONSUMERS");
    return r && strcmp(r, "1") == 0;
}

/* 1 if the tool is there; else skips (or fails under test.sh). */
static int have_tool(const char *path)
{
    if (access(path, X_OK) == 0)
        return 1;
    if (require_tools())
        fail_msg("%s is missing (scripts/consumers.sh installs it)", path);
    fprintf(stderr, "SKIP: %s not installed (scripts/consumers.sh)\n", path);
    skip();
    return 0;
}

static void npm_tool(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/node_modules/.bin/%s", g.consumers, name);
}

static jm_node *run_json(char *const argv[])
{
    char *out = NULL, *err = NULL;
    int st = cu_run(argv, NULL, &out, &err);
    if (st != 0)
        fprintf(stderr, "%s exited %d: %s\n", argv[0], st, err);
    jm_node *j = st == 0 ? jm_parse(out, strlen(out), NULL) : NULL;
    free(out);
    free(err);
    return j;
}

static int group_setup(void **state)
{
    (void)state;
    const char *c = getenv("MAYDAY_CONSUMERS_DIR");
    snprintf(g.consumers, sizeof(g.consumers), "%s",
             c ? c : MAYDAY_SOURCE "/build-consumers");
    snprintf(g.dir, sizeof(g.dir), "/tmp/mayday-eco-XXXXXX");
    if (!mkdtemp(g.dir))
        return -1;
    char *crash[] = {ECO_CRASH, g.dir, NULL};
    int st = cu_run(crash, NULL, NULL, NULL);
    if (st != 1000 + SIGSEGV) {
        fprintf(stderr, "eco_crash ended with %d, not SIGSEGV\n", st);
        return -1;
    }
    DIR *d = opendir(g.dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 7 && strcmp(de->d_name + l - 7, ".mayday") == 0)
            snprintf(g.report, sizeof(g.report), "%s/%s", g.dir, de->d_name);
    }
    if (d)
        closedir(d);
    if (!g.report[0])
        return -1;
    char *dec[] = {MAYDAY_CLI, "decode", "--format", "json", g.report, NULL};
    g.decoded = run_json(dec);
    snprintf(g.dmp, sizeof(g.dmp), "%s/crash.dmp", g.dir);
    char *exp[] = {MAYDAY_CLI, "export", "--format", "minidump",
                   "-o",       g.dmp,    g.report,   NULL};
    if (cu_run(exp, NULL, NULL, NULL) != 0)
        return -1;
    char *par[] = {PYTHON3, PARSE_MINIDUMP, g.dmp, NULL};
    g.parsed = run_json(par);
    return g.decoded && g.parsed ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    jm_free(g.decoded);
    jm_free(g.parsed);
    cu_sh("rm -rf '%s'%s", g.dir, "");
    return 0;
}

static jm_node *thread_by_name(const char *name)
{
    jm_node *ts = jm_get(g.decoded, "threads");
    for (size_t i = 0; ts && i < ts->n; i++) {
        const char *n = jm_str(jm_get(ts->kids[i], "name"));
        if (n && strcmp(n, name) == 0)
            return ts->kids[i];
    }
    return NULL;
}

static int64_t num(const jm_node *n)
{
    int ok;
    return jm_int(n, &ok);
}

/* The crashed thread in decode's output: eco_crash's main thread (its tid
 * is the pid). Found by the crashed flag, not by its name: under
 * qemu-user every name the program did not set is "qemu-aarch64". */
static jm_node *crashed_thread(void)
{
    jm_node *ts = jm_get(g.decoded, "threads");
    for (size_t i = 0; ts && i < ts->n; i++) {
        jm_node *c = jm_get(ts->kids[i], "crashed");
        if (c && c->b) {
            assert_int_equal(num(jm_get(ts->kids[i], "tid")),
                             num(jm_path(g.decoded, "process.pid")));
            return ts->kids[i];
        }
    }
    fail_msg("decode has no crashed thread");
    return NULL;
}

/* ------------------------------------------------ the minidump's streams */

static void test_minidump_streams(void **state)
{
    (void)state;
    jm_node *p = g.parsed, *d = g.decoded;
    assert_int_equal(jm_get(p, "errors")->n, 0);
    /* Threads: same tids, same pc and sp, in the report's order. */
    jm_node *pt = jm_get(p, "threads"), *dt = jm_get(d, "threads");
    assert_int_equal(pt->n, dt->n);
    assert_true(pt->n >= 3);
    for (size_t i = 0; i < pt->n; i++) {
        assert_int_equal(num(jm_get(pt->kids[i], "tid")),
                         num(jm_get(dt->kids[i], "tid")));
        int ok;
        uint64_t pc = jm_hex(jm_path(dt->kids[i], "frames.0.pc"), &ok);
        assert_true(ok);
        assert_int_equal((uint64_t)num(jm_get(pt->kids[i], "pc")), pc);
        uint64_t sp = jm_hex(jm_path(dt->kids[i], "frames.0.sp"), &ok);
        assert_true(ok);
        assert_int_equal((uint64_t)num(jm_get(pt->kids[i], "sp")), sp);
    }
    /* Modules: base, name; build-id equal to readelf's for each file. */
    jm_node *pm = jm_get(p, "modules"), *di = jm_get(d, "images");
    assert_int_equal(pm->n, di->n);
    int checked = 0;
    for (size_t i = 0; i < pm->n; i++) {
        const char *name = jm_str(jm_get(pm->kids[i], "name"));
        int ok;
        assert_int_equal((uint64_t)num(jm_get(pm->kids[i], "base")),
                         jm_hex(jm_get(di->kids[i], "base"), &ok));
        char hex[256];
        if (name[0] == '/' && cu_build_id(name, hex, sizeof(hex)) == 0) {
            assert_string_equal(jm_str(jm_get(pm->kids[i], "cv_signature")),
                                "LEpB"); /* 'BpEL' read as bytes */
            assert_string_equal(jm_str(jm_get(pm->kids[i], "build_id")), hex);
            checked++;
        }
    }
    assert_true(checked >= 3);
    /* Exception: the crashed thread, SIGSEGV / SEGV_MAPERR at 0. */
    jm_node *ex = jm_get(p, "exception");
    assert_int_equal(num(jm_get(ex, "code")), SIGSEGV);
    assert_int_equal(num(jm_get(ex, "flags")), 1);
    assert_int_equal(num(jm_get(ex, "address")), 0);
    assert_int_equal(num(jm_get(ex, "tid")),
                     num(jm_get(crashed_thread(), "tid")));
    /* System: AMD64 (9) or ARM64 (12), Linux, the machine's CPU count;
     * the context of that architecture. */
#if defined(__aarch64__)
    assert_int_equal(num(jm_path(p, "system.arch")), 12);
    assert_int_equal(num(jm_path(pt->kids[0], "ctx_flags")) & 0x00400003,
                     0x00400003);
#else
    assert_int_equal(num(jm_path(p, "system.arch")), 9);
    assert_int_equal(num(jm_path(pt->kids[0], "ctx_flags")) & 0x00100003,
                     0x00100003);
#endif
    assert_int_equal(num(jm_path(p, "system.platform")), 0x8201);
    assert_int_equal(num(jm_path(p, "system.ncpu")),
                     num(jm_path(d, "system.cpu_count")));
    /* Misc: the crashed process's pid (its main thread's tid). */
    assert_int_equal(num(jm_path(p, "misc.pid")),
                     num(jm_get(crashed_thread(), "tid")));
    /* Thread names as the program set them. */
    char key[32];
    snprintf(key, sizeof(key), "%lld",
             (long long)num(jm_get(thread_by_name("parked-30"), "tid")));
    assert_string_equal(jm_str(jm_get(jm_get(p, "thread_names"), key)),
                        "parked-30");
    /* Command line: what the test passed, after the emulator's words
     * under one (qemu-user's own command line is the process's). */
    size_t k = 0;
    char words[512] = "";
    if (mdt_emulator())
        snprintf(words, sizeof(words), "%s", mdt_emulator());
    char key2[32];
    for (char *w = strtok(words, " "); w; w = strtok(NULL, " ")) {
        snprintf(key2, sizeof(key2), "cmdline.%zu", k++);
        assert_string_equal(jm_str(jm_path(p, key2)), w);
    }
    snprintf(key2, sizeof(key2), "cmdline.%zu", k);
    assert_string_equal(jm_str(jm_path(p, key2)), ECO_CRASH);
    snprintf(key2, sizeof(key2), "cmdline.%zu", k + 1);
    assert_string_equal(jm_str(jm_path(p, key2)), g.dir);
    /* The process name (comm): qemu-user's own name under it. */
    const char *comm = jm_str(jm_path(d, "process.name"));
    if (!mdt_emulator())
        assert_string_equal(comm, "eco_crash");
    char name_line[64];
    snprintf(name_line, sizeof(name_line), "Name:\t%s\n", comm);
    assert_non_null(strstr(jm_str(jm_get(p, "status")), name_line));
    /* Crashpad: report id and the annotations the program set. */
    jm_node *cp = jm_get(p, "crashpad");
    assert_string_equal(jm_str(jm_get(cp, "report_id")),
                        jm_str(jm_path(d, "report.uuid")));
    jm_node *an = jm_get(cp, "annotations");
    assert_string_equal(jm_str(jm_get(an, "phase")), "crashing");
    assert_string_equal(jm_str(jm_get(an, "tag.shard")), "eu-7");
    assert_string_equal(jm_str(jm_get(an, "environment")), "staging");
}

/* ----------------------------------------------------------------- lldb */

static char *lldb_output(void)
{
    char *argv[] = {"/usr/bin/lldb", "--batch", "-c",     g.dmp, "-o",
                    "thread list",   "-o",      "bt all", NULL};
    char *out = NULL, *err = NULL;
    int st = cu_run(argv, NULL, &out, &err);
    if (st != 0)
        fprintf(stderr, "lldb exited %d: %s\n", st, err);
    free(err);
    return out;
}

/* "module`function" of a "frame #k: 0x... module`function ..." line. */
static int frame_function(const char *line, char *fn, size_t n)
{
    const char *f = strstr(line, "frame #");
    const char *t = f ? strchr(f, '`') : NULL;
    if (!t)
        return 0;
    const char *m = strchr(f, ':');
    if (!m || !(m = strchr(m + 2, ' ')) || m > t)
        return 0;
    size_t k = strcspn(t + 1, " (\n");
    snprintf(fn, n, "%.*s`%.*s", (int)(t - m - 1), m + 1, (int)k, t + 1);
    return 1;
}

/* The function part of "module`function". */
static const char *fn_of(const char *mf)
{
    const char *t = strchr(mf, '`');
    return t ? t + 1 : mf;
}

/* The frames ("module`function") lldb's `bt all` printed for its thread
 * #index (lldb numbers the dump's threads from 1, in the dump's order). */
static size_t lldb_frames(const char *out, int index, char fns[][128],
                          size_t max)
{
    char hdr[32];
    snprintf(hdr, sizeof(hdr), "thread #%d", index);
    const char *bt = strstr(out, "(lldb) bt all");
    size_t n = 0;
    int in = 0;
    for (const char *l = bt; l && *l && n < max;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char line[1024];
        snprintf(line, sizeof(line), "%.*s", (int)len, l);
        const char *h = strstr(line, "thread #");
        if (h && !strstr(line, "frame #")) {
            size_t hl = strlen(hdr);
            in = strncmp(h, hdr, hl) == 0 &&
                 (h[hl] == ',' || h[hl] == '\0' || h[hl] == ' ');
        } else if (in && frame_function(line, fns[n], sizeof(fns[n]))) {
            n++;
        }
        l = e ? e + 1 : NULL;
    }
    return n;
}

/* 1 if decode names fn at frame index fi of thread t. */
static int decode_has(const jm_node *t, int fi, const char *fn)
{
    jm_node *fr = jm_get(t, "frames");
    for (size_t i = 0; i < fr->n; i++) {
        const char *s = jm_str(jm_get(fr->kids[i], "symbol"));
        if (num(jm_get(fr->kids[i], "index")) == fi && s && strcmp(s, fn) == 0)
            return 1;
    }
    return 0;
}

static void test_lldb_thread_list(void **state)
{
    (void)state;
    if (!have_tool("/usr/bin/lldb"))
        return;
    char *out = lldb_output();
    assert_non_null(out);
    jm_node *dt = jm_get(g.decoded, "threads");
    for (size_t i = 0; i < dt->n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "thread #%zu: tid = %lld,", i + 1,
                 (long long)num(jm_get(dt->kids[i], "tid")));
        const char *l = strstr(out, want);
        if (!l)
            fail_msg("lldb's thread list has no '%s':\n%s", want, out);
        int crashed = jm_get(dt->kids[i], "crashed")->b;
        const char *eol = strchr(l, '\n');
        const char *sig = strstr(l, "stop reason = signal SIGSEGV");
        assert_int_equal(crashed, sig != NULL && (!eol || sig < eol));
        /* Frame 0 is a function decode names for that frame. When decode
         * names none (a pc in no image: under qemu-user its own thread,
         * which shows the host's pc; a libc without symbols, as the arm64
         * libc without libc6-dbg), lldb names none either, at that pc:
         * nothing or its "___lldb_unnamed_symbol". */
        char fns[8][128];
        size_t n = lldb_frames(out, (int)i + 1, fns, 8);
        jm_node *f0 = jm_path(dt->kids[i], "frames.0");
        if (!jm_str(jm_get(f0, "symbol"))) {
            int ok;
            char pc[64];
            snprintf(pc, sizeof(pc), "0x%016llx",
                     (unsigned long long)jm_hex(jm_get(f0, "pc"), &ok));
            const char *at = strstr(l, ", 0x");
            assert_non_null(at);
            if (strncmp(at + 2, pc, strlen(pc)) != 0)
                fail_msg("thread %zu: lldb's pc is not %s: %.*s", i, pc,
                         (int)(eol ? eol - l : (long)strlen(l)), l);
            assert_true(n == 0 ||
                        strncmp(fn_of(fns[0]), "___lldb_unnamed_symbol", 22) ==
                            0);
            continue;
        }
        assert_true(n >= 1);
        if (!decode_has(dt->kids[i], 0, fn_of(fns[0])))
            fail_msg("thread %zu: lldb frame 0 is %s, decode has not", i,
                     fns[0]);
    }
    free(out);
}

/* decode's function names in eco_crash itself, innermost first. */
static size_t own_frames(const jm_node *t, char fns[][128], size_t max)
{
    jm_node *fr = jm_get(t, "frames");
    size_t n = 0;
    for (size_t i = 0; i < fr->n && n < max; i++) {
        const char *img = jm_str(jm_get(fr->kids[i], "image_name"));
        const char *s = jm_str(jm_get(fr->kids[i], "symbol"));
        if (img && s && strcmp(img, "eco_crash") == 0)
            snprintf(fns[n++], 128, "%s", s);
    }
    return n;
}

static void test_lldb_bt_deep(void **state)
{
    (void)state;
    if (!have_tool("/usr/bin/lldb"))
        return;
    jm_node *pt = jm_get(g.parsed, "threads");
    int stacks = 0;
    for (size_t i = 0; i < pt->n; i++)
        stacks += num(jm_get(pt->kids[i], "stack_size")) > 0;
    if (stacks == 0) {
        fprintf(stderr, "SKIP: the report has no stack memory, so lldb can "
                        "unwind only frame 0 (issue 11 adds it)\n");
        skip();
    }
    char *out = lldb_output();
    jm_node *dt = jm_get(g.decoded, "threads");
    const char *names[] = {"the crashed thread", "parked-30"};
    jm_node *crashed = crashed_thread();
    for (int k = 0; k < 2; k++) {
        size_t idx = 0;
        for (; idx < dt->n; idx++)
            if (k == 0 ? dt->kids[idx] == crashed
                       : strcmp(jm_str(jm_get(dt->kids[idx], "name")),
                                names[k]) == 0)
                break;
        assert_true(idx < dt->n);
        static char want[64][128], got_all[128][128], got[64][128];
        size_t nw = own_frames(dt->kids[idx], want, 64);
        size_t na = lldb_frames(out, (int)idx + 1, got_all, 128), ng = 0;
        for (size_t i = 0; i < na && ng < 64; i++)
            if (strncmp(got_all[i], "eco_crash`", 10) == 0)
                snprintf(got[ng++], 128, "%s", fn_of(got_all[i]));
        if (ng != nw) {
            fprintf(stderr, "lldb printed:\n%s\n", out);
            fail_msg("%s: lldb shows %zu frames in eco_crash, decode %zu",
                     names[k], ng, nw);
        }
        assert_true(nw >= (k == 0 ? 3 : 32));
        assert_int_equal(ng, nw);
        for (size_t i = 0; i < nw; i++)
            assert_string_equal(got[i], want[i]);
    }
    free(out);
}

/* ----------------------------------------------------------- sentry-cli */

static void test_sentry_cli_ids(void **state)
{
    (void)state;
    char cli[600];
    npm_tool("sentry-cli", cli, sizeof(cli));
    if (!have_tool(cli))
        return;
    char *ev[] = {MAYDAY_CLI,     "export", "--format",
                  "sentry-event", g.report, NULL};
    jm_node *e = run_json(ev);
    assert_non_null(e);
    jm_node *im = jm_path(e, "debug_meta.images");
    int checked = 0;
    for (size_t i = 0; i < im->n; i++) {
        const char *file = jm_str(jm_get(im->kids[i], "code_file"));
        const char *did = jm_str(jm_get(im->kids[i], "debug_id"));
        const char *cid = jm_str(jm_get(im->kids[i], "code_id"));
        assert_string_equal(jm_str(jm_get(im->kids[i], "type")), "elf");
        if (!file || file[0] != '/' || access(file, R_OK) != 0 || !did)
            continue;
        char *argv[] = {cli, "debug-files", "check", (char *)file, NULL};
        char *out = NULL;
        cu_run_ex(argv, NULL, &out, NULL, 1); /* it reads the file only */
        char line[256], got_d[64] = "", got_c[128] = "";
        const char *p = strstr(out, "Debug ID:");
        if (p && sscanf(p, "Debug ID: %63s", got_d) != 1)
            got_d[0] = '\0';
        p = strstr(out, "Code ID:");
        if (p && sscanf(p, "Code ID: %127s", got_c) != 1)
            got_c[0] = '\0';
        (void)line;
        if (strcmp(got_d, did) != 0 || strcmp(got_c, cid) != 0)
            fail_msg("%s: sentry-cli says %s / %s, export %s / %s\n%s", file,
                     got_d, got_c, did, cid, out);
        free(out);
        checked++;
    }
    assert_true(checked >= 4);
    /* libeco_short.so's 8-byte build-id was among them (zero padded). */
    int short_id = 0;
    for (size_t i = 0; i < im->n; i++) {
        const char *cid = jm_str(jm_get(im->kids[i], "code_id"));
        short_id += cid && strcmp(cid, "0011223344556677") == 0;
    }
    assert_int_equal(short_id, 1);
    jm_free(e);
}

/* ------------------------------------------------------------ Spotlight */

static void test_spotlight(void **state)
{
    (void)state;
    char sp[600];
    npm_tool("spotlight", sp, sizeof(sp));
    if (!have_tool(sp))
        return;
    char out_path[256], err_path[256], updir[256];
    snprintf(out_path, sizeof(out_path), "%s/spotlight.out", g.dir);
    snprintf(err_path, sizeof(err_path), "%s/spotlight.err", g.dir);
    snprintf(updir, sizeof(updir), "%s/upload", g.dir);
    assert_int_equal(mkdir(updir, 0700), 0);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s/'", g.report, updir);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        execl(sp, sp, "tail", "errors", "-f", "json", "-p", "0", (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 300 && !port; i++) { /* up to 30 s */
        usleep(100000);
        char *e = cu_slurp(err_path);
        const char *l = strstr(e, "listening on ");
        if (l)
            port = atoi(l + 13);
        free(e);
    }
    char *got = NULL;
    if (port) {
        char dsn[128];
        snprintf(dsn, sizeof(dsn), "http://mayday@127.0.0.1:%d/0", port);
        char *c1[] = {MAYDAY_CLI, "consent", updir, "granted", NULL};
        char *c2[] = {MAYDAY_CLI, "upload", "--sentry", dsn, updir, NULL};
        assert_int_equal(cu_run(c1, NULL, NULL, NULL), 0);
        char *uo = NULL;
        assert_int_equal(cu_run(c2, NULL, &uo, NULL), 0);
        assert_non_null(strstr(uo, "uploaded 1,"));
        free(uo);
        for (int i = 0; i < 100; i++) { /* up to 10 s */
            got = cu_slurp(out_path);
            if (strchr(got, '\n'))
                break;
            free(got);
            got = NULL;
            usleep(100000);
        }
    }
    /* Spotlight's graceful shutdown can wait on open connections: TERM,
     * then KILL the whole group after 3 s. */
    kill(-pid, SIGTERM);
    int done = 0;
    for (int i = 0; i < 30 && !done; i++) {
        done = waitpid(pid, NULL, WNOHANG) == pid;
        if (!done)
            usleep(100000);
    }
    kill(-pid, SIGKILL);
    if (!done)
        waitpid(pid, NULL, 0);
    if (!port)
        fail_msg("Spotlight did not start: %s", cu_slurp(err_path));
    assert_non_null(got);
    fprintf(stderr, "Spotlight printed: %s", got);
    jm_node *j = jm_parse(got, strcspn(got, "\n"), NULL);
    assert_non_null(j);
    assert_string_equal(jm_str(jm_get(j, "exception_type")), "SIGSEGV");
    const char *top =
        jm_str(jm_path(crashed_thread(), "frames.0.symbol"));
    assert_non_null(top);
    assert_string_equal(jm_str(jm_get(j, "function")), top);
    jm_free(j);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minidump_streams),
        cmocka_unit_test(test_lldb_thread_list),
        cmocka_unit_test(test_lldb_bt_deep),
        cmocka_unit_test(test_sentry_cli_ids),
        cmocka_unit_test(test_spotlight),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
