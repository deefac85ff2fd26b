/*
 * test_examples.c - runs the examples: read_reports (list, print, purge)
 * and upload against upload_server.py on 127.0.0.1 in three modes: the
 * reports are purged only when the server answered 200, and kept when it
 * answered 500, dropped the connection, or was not there at all.
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

typedef struct server {
    pid_t pid;
    int port;
} server;

static server start_server(const char *mode, const char *outdir)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    server s = {0};
    s.pid = fork();
    if (s.pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(PYTHON3, PYTHON3, UPLOAD_SERVER, mode, outdir, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[64] = "";
    if (!fgets(line, sizeof(line), f) || sscanf(line, "PORT %d", &s.port) != 1)
        fail_msg("upload server did not start");
    fclose(f);
    return s;
}

static void stop_server(server *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

static void make_reports(const char *dir, int n)
{
    char p[4200];
    mkdir(dir, 0700);
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof(p), "%s/r%d.mayday", dir, i);
        char *argv[] = {MAKE_FIXTURE, p, NULL};
        assert_int_equal(cu_run(argv, NULL, NULL, NULL), 0);
    }
}

static int count_reports(const char *dir)
{
    char **paths;
    size_t n;
    if (mayday_reports_list(dir, &paths, &n) < 0)
        return -1;
    mayday_reports_list_free(paths, n);
    return (int)n;
}

static int run_upload(int port, const char *dir)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/upload", port);
    char *argv[] = {UPLOAD, url, (char *)dir, NULL};
    return cu_run(argv, NULL, NULL, NULL);
}

static void test_upload_modes(void **state)
{
    (void)state;
    char *root = tc_mkdtemp("upload");
    char dir[4200], out[4200], p[4200];
    const char *modes[] = {"error", "drop", "ok"};
    for (int m = 0; m < 3; m++) {
        snprintf(dir, sizeof(dir), "%s/%s-reports", root, modes[m]);
        snprintf(out, sizeof(out), "%s/%s-received", root, modes[m]);
        mkdir(out, 0700);
        make_reports(dir, 2);
        snprintf(p, sizeof(p), "%s/r0.mayday", dir);
        char *report = cu_slurp(p);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        mayday_report *r;
        assert_int_equal(mayday_report_load(p, &r), 0);
        mayday_report_info info;
        info.size = sizeof(info);
        mayday_report_get_info(r, &info);
        char uuid[64];
        snprintf(uuid, sizeof(uuid), "%s", info.uuid);
        mayday_report_free(r);

        server s = start_server(modes[m], out);
        int rc = run_upload(s.port, dir);
        stop_server(&s);
        /* The server saw the report bytes and the uuid field. */
        snprintf(p, sizeof(p), "%s/post-1.bin", out);
        char *body = cu_slurp(p);
        assert_true(strlen(body) > 0);
        size_t blen;
        {
            struct stat bs;
            assert_int_equal(stat(p, &bs), 0);
            blen = (size_t)bs.st_size;
        }
        assert_non_null(memmem(body, blen, report, (size_t)st.st_size));
        assert_non_null(memmem(body, blen, uuid, strlen(uuid)));
        assert_non_null(memmem(body, blen, "name=\"report\"", 13));
        free(body);
        free(report);
        if (strcmp(modes[m], "ok") == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(count_reports(dir), 0);
        } else {
            assert_int_equal(rc, 1);
            assert_int_equal(count_reports(dir), 2);
        }
    }
    /* Nobody listening: kept. Port of a server that is gone. */
    snprintf(out, sizeof(out), "%s/gone", root);
    mkdir(out, 0700);
    server s = start_server("ok", out);
    stop_server(&s);
    snprintf(dir, sizeof(dir), "%s/error-reports", root);
    assert_int_equal(run_upload(s.port, dir), 1);
    assert_int_equal(count_reports(dir), 2);
    tc_rmtree(root);
    free(root);
}

static void test_read_reports(void **state)
{
    (void)state;
    char *root = tc_mkdtemp("readrep");
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/reports", root);
    make_reports(dir, 2);
    char *out, *err;
    char *argv[] = {READ_REPORTS, dir, "--keep", NULL};
    assert_int_equal(cu_run(argv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "2 pending reports"));
    assert_non_null(strstr(out, "SIGSEGV (SEGV_MAPERR)"));
    free(out), free(err);
    assert_int_equal(count_reports(dir), 2);
    char *argv2[] = {READ_REPORTS, dir, NULL};
    assert_int_equal(cu_run(argv2, NULL, &out, &err), 0);
    free(out), free(err);
    assert_int_equal(count_reports(dir), 0);
    tc_rmtree(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_reports),
        cmocka_unit_test(test_upload_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
