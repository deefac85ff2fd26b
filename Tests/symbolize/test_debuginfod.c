/*
 * test_debuginfod.c - `mayday decode` gets debug info from a debuginfod
 * server: Debian's `debuginfod`, started here on loopback over a
 * directory of debug files, while the binaries that crashed are stripped
 * (no .gnu_debuglink), so only the server has their DWARF. Checks the
 * frames against eu-addr2line on the unstripped originals, that the
 * client's cache answers once the server is gone, that --no-debuginfod
 * turns it off, and that a server that never answers (DEBUGINFOD_TIMEOUT)
 * or a port where nothing listens gives frames without lines, exit 0,
 * and a note.
 *
 * Context: test program; it starts the server and the crashing program
 * as children and stops the server it started (by pid).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_util.h"
#include "common.h"
#include "json_mini.h"
#include "schema_check.h"
#include "symcmp.h"

typedef struct ctx {
    char *dir;
    char bin[4200], lib[4200], served[4200], report[4400];
    pid_t server;
    int port;
} ctx;

static const char *map_original(const char *path, void *ud)
{
    ctx *c = ud;
    if (strcmp(path, c->bin) == 0)
        return C_PIE;
    if (strstr(path, "/lib/libdl_b.so"))
        return LIB_B;
    return NULL;
}

/* 1 if GET path on the server answers 200. */
static int http_ok(int port, const char *path)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[512], resp[64] = "";
    int ok = 0;
    if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
        int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
        if (write(s, req, (size_t)n) == n &&
            read(s, resp, sizeof(resp) - 1) > 12)
            ok = strncmp(resp + 9, "200", 3) == 0;
    }
    if (s >= 0)
        close(s);
    return ok;
}

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts debuginfod over c->served on a free loopback port and waits
 * (at most 30 s) until it serves the stripped binary's debuginfo. */
static void start_server(ctx *c, const char *id)
{
    char db[4300], url[256];
    snprintf(db, sizeof(db), "%s/db.sqlite", c->dir);
    for (int attempt = 0; attempt < 8 && !c->server; attempt++) {
        int port = 20000 + (int)((getpid() * 7 + attempt * 131) % 30000);
        char ps[16];
        snprintf(ps, sizeof(ps), "%d", port);
        pid_t pid = fork();
        if (pid == 0) {
            int dn = open("/dev/null", O_WRONLY);
            dup2(dn, 1);
            dup2(dn, 2);
            execlp("debuginfod", "debuginfod", "-p", ps, "-d", db, "-F", "-c",
                   "1", "-t", "3600", "-g", "0", c->served, (char *)NULL);
            _exit(127);
        }
        snprintf(url, sizeof(url), "/buildid/%s/debuginfo", id);
        for (int i = 0; i < 300; i++) {
            if (waitpid(pid, NULL, WNOHANG) == pid) {
                pid = 0; /* port taken, or no server: next port */
                break;
            }
            if (http_ok(port, url)) {
                c->server = pid;
                c->port = port;
                break;
            }
            msleep(100);
        }
        if (pid && !c->server) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
        }
    }
    if (!c->server)
        fail_msg("debuginfod did not come up");
}

static void stop_server(ctx *c)
{
    if (c->server) {
        kill(c->server, SIGTERM);
        waitpid(c->server, NULL, 0);
        c->server = 0;
    }
}

static int setup(void **state)
{
    *state = NULL;
    if (system("command -v debuginfod >/dev/null") != 0) {
        print_message("debuginfod not installed (scripts/deps.sh)\n");
        return -1;
    }
    ctx *c = calloc(1, sizeof(*c));
    *state = c; /* teardown frees it even if an assertion below fails */
    c->dir = tc_mkdtemp("dfd");
    snprintf(c->bin, sizeof(c->bin), "%s/bin/c_pie", c->dir);
    snprintf(c->lib, sizeof(c->lib), "%s/lib", c->dir);
    snprintf(c->served, sizeof(c->served), "%s/served", c->dir);
    char cmd[30000];
    snprintf(cmd, sizeof(cmd),
             "set -e; cd '%s'; mkdir bin lib served;"
             "cp '%s' bin/c_pie; cp '%s' lib/libdl_b.so;"
             "for f in bin/c_pie lib/libdl_b.so; do"
             "  " OBJCOPY " --only-keep-debug $f served/$(basename $f).debug;"
             "  " OBJCOPY " --strip-debug $f; done",
             c->dir, C_PIE, LIB_B);
    assert_int_equal(system(cmd), 0);
    /* The report of the stripped program, crashing in libdl_b. */
    char rdir[4300];
    snprintf(rdir, sizeof(rdir), "%s/reports", c->dir);
    mkdir(rdir, 0700);
    char *argv[] = {c->bin, rdir, "dl-buildid", c->lib, NULL};
    assert_int_equal(cu_run(argv, NULL, NULL, NULL), 1000 + SIGSEGV);
    char **paths;
    size_t n;
    assert_int_equal(mayday_reports_list(rdir, &paths, &n), 0);
    assert_int_equal(n, 1);
    snprintf(c->report, sizeof(c->report), "%s", paths[0]);
    mayday_reports_list_free(paths, n);
    char id[200];
    assert_int_equal(cu_build_id(c->bin, id, sizeof(id)), 0);
    start_server(c, id);
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    if (!c)
        return 0;
    stop_server(c);
    tc_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

/* decode --format json with DEBUGINFOD_URLS=url and a cache dir. */
static jm_node *decode(ctx *c, const char *url, const char *cache,
                       const char *opt)
{
    if (url)
        setenv("DEBUGINFOD_URLS", url, 1);
    else
        unsetenv("DEBUGINFOD_URLS");
    char *dv[] = {MAYDAY_CLI,
                  "decode",
                  "--format",
                  "json",
                  "--debuginfod-cache",
                  (char *)cache,
                  (char *)(opt ? opt : c->report),
                  opt ? c->report : NULL,
                  NULL};
    char *out, *err;
    int st = cu_run(dv, NULL, &out, &err);
    if (st != 0)
        fail_msg("decode failed (%d): %s", st, err);
    jm_schema_collect(out, strlen(out));
    jm_node *j = jm_parse(out, strlen(out), NULL);
    assert_non_null(j);
    free(out);
    free(err);
    return j;
}

/* The main program's image index in the report. */
static const jm_node *main_image(jm_node *j)
{
    const jm_node *imgs = jm_get(j, "images");
    for (size_t i = 0; i < imgs->n; i++) {
        const jm_node *m = jm_get(imgs->kids[i], "main_program");
        if (m && m->b)
            return imgs->kids[i];
    }
    fail_msg("no main program image");
    return NULL;
}

static void test_from_server(void **state)
{
    ctx *c = *state;
    char url[64], cache[4300];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", c->port);
    snprintf(cache, sizeof(cache), "%s/cache", c->dir);
    jm_node *j = decode(c, url, cache, NULL);
    const jm_node *m = main_image(j);
    assert_string_equal(jm_str(jm_path(m, "symbols.debug_found_by")),
                        "debuginfod");
    assert_string_equal(jm_str(jm_path(m, "symbols.status")), "ok");
    assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                        "store_it");
    sc_stats st = {0};
    sc_compare(j, 0, map_original, c, "debuginfod", &st);
    printf("debuginfod: %d frames, %d differ from eu-addr2line\n", st.frames,
           st.eu_mismatch);
    assert_true(st.frames >= 5);
    assert_int_equal(st.failed, 0);
    jm_free(j);

    /* Server gone: the client's cache still has the files. */
    stop_server(c);
    j = decode(c, url, cache, NULL);
    assert_string_equal(jm_str(jm_path(main_image(j), "symbols.status")), "ok");
    jm_free(j);
    /* --no-debuginfod: names only for the stripped program. */
    snprintf(cache, sizeof(cache), "%s/cache2", c->dir);
    j = decode(c, url, cache, "--no-debuginfod");
    assert_string_equal(jm_str(jm_path(main_image(j), "symbols.status")),
                        "no_debug_info");
    assert_int_equal(jm_path(j, "threads.0.frames.0.line")->type, JM_NULL);
    jm_free(j);
}

static void test_server_broken(void **state)
{
    ctx *c = *state;
    /* Nothing listens on the (stopped) server's port. */
    char url[64], cache[4300];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", c->port);
    snprintf(cache, sizeof(cache), "%s/cache3", c->dir);
    stop_server(c);
    jm_node *j = decode(c, url, cache, NULL);
    assert_string_equal(jm_str(jm_path(main_image(j), "symbols.status")),
                        "no_debug_info");
    jm_free(j);
    /* A server that accepts and never answers: DEBUGINFOD_TIMEOUT. */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s, 16), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    snprintf(cache, sizeof(cache), "%s/cache4", c->dir);
    setenv("DEBUGINFOD_TIMEOUT", "1", 1);
    time_t t0 = time(NULL);
    j = decode(c, url, cache, NULL);
    unsetenv("DEBUGINFOD_TIMEOUT");
    close(s);
    assert_true(time(NULL) - t0 < 60);
    assert_string_equal(jm_str(jm_path(main_image(j), "symbols.status")),
                        "no_debug_info");
    assert_string_equal(jm_str(jm_path(j, "threads.0.frames.0.symbol")),
                        "middle"); /* from libdl_b.so.s .symtab */
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
        cmocka_unit_test(test_from_server),
        cmocka_unit_test(test_server_broken),
        cmocka_unit_test(test_json_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
