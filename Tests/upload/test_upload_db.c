/*
 * test_upload_db.c - the report database under kill -9: an uploader (a
 * forked child) is killed with SIGKILL at each state transition (the
 * on_event hook), then a new run finishes the job; no report is lost and
 * delivery is at-least-once with duplicates announced (same report id,
 * "mayday_interrupted" = 1). Also kill -9 at random moments of a run,
 * retention (keep N, keep uploaded D days, purge after upload), orphan
 * state files, pre-created report files with an all-zero header, and the
 * directory lock.
 *
 * Context: tests only (normal context, child processes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "up_util.h"

typedef struct fx {
    char dir[128], sdir[128];
    up_server srv;
    char url[128];
    mayday_upload_config cfg;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    up_tmpdir(f->dir, sizeof(f->dir), "db");
    up_tmpdir(f->sdir, sizeof(f->sdir), "dbsrv");
    up_server_start(&f->srv, f->sdir);
    up_config(&f->cfg, &f->srv, MAYDAY_UPLOAD_MINIDUMP, f->url, sizeof(f->url));
    mayday_upload_set_consent(f->dir, MAYDAY_CONSENT_GRANTED);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    up_server_stop(&f->srv);
    up_rmrf(f->dir);
    up_rmrf(f->sdir);
    free(f);
    return 0;
}

static int g_kill_at;

static void killer(int ev, const char *path, void *ud)
{
    (void)path;
    (void)ud;
    if (ev == g_kill_at)
        raise(SIGKILL);
}

/* Runs an upload in a child that kills itself at event `at`; asserts it
 * died by SIGKILL (or exited 0 when `at` never happened: returns 0). */
static int run_killed(fx *f, int at)
{
    pid_t pid = fork();
    if (pid == 0) {
        g_kill_at = at;
        f->cfg.on_event = killer;
        _exit(mayday_upload_pending(f->dir, &f->cfg, NULL) < 0 ? 1 : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) {
        assert_int_equal(WTERMSIG(st), SIGKILL);
        return 1;
    }
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
}

static int run_clean(fx *f)
{
    f->cfg.on_event = NULL;
    return mayday_upload_pending(f->dir, &f->cfg, NULL);
}

/* The report ids and interrupted counts the server saw. */
static void check_requests(fx *f, const char *uuid, int want,
                           int want_last_interrupted)
{
    assert_int_equal(up_server_count(&f->srv), want);
    for (int i = 1; i <= want; i++) {
        jm_node *q = up_server_req(&f->srv, i);
        assert_non_null(q);
        assert_string_equal(jm_str(jm_path(q, "fields.mayday_report_id")),
                            uuid);
        char a[16];
        snprintf(a, sizeof(a), "%d", i);
        assert_string_equal(jm_str(jm_path(q, "fields.mayday_attempt")), a);
        if (i == want)
            assert_int_equal(
                atoi(jm_str(jm_path(q, "fields.mayday_interrupted"))),
                want_last_interrupted);
        jm_free(q);
    }
}

/* Killed right after "uploading" is on disk, before the request. */
static void test_kill_after_uploading(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    assert_true(run_killed(f, MAYDAY_UPLOAD_EV_UPLOADING));
    assert_int_equal(up_status(path).state, MAYDAY_UPLOAD_UPLOADING);
    assert_int_equal(up_server_count(&f->srv), 0);
    assert_int_equal(run_clean(f), 1);
    mayday_upload_status st = up_status(path);
    assert_int_equal(st.state, MAYDAY_UPLOAD_UPLOADED);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(st.interrupted, 1);
    /* The server got it once; the copy says an attempt was interrupted. */
    assert_int_equal(up_server_count(&f->srv), 1);
    jm_node *q = up_server_req(&f->srv, 1);
    assert_string_equal(jm_str(jm_path(q, "fields.mayday_attempt")), "2");
    assert_string_equal(jm_str(jm_path(q, "fields.mayday_interrupted")), "1");
    jm_free(q);
}

/* Killed after the server's 2xx, before "uploaded" is on disk: sent
 * again (at-least-once), announced as such, same report id. */
static void test_kill_after_sent(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    assert_true(run_killed(f, MAYDAY_UPLOAD_EV_SENT));
    assert_int_equal(up_status(path).state, MAYDAY_UPLOAD_UPLOADING);
    assert_int_equal(run_clean(f), 1);
    check_requests(f, uuid, 2, 1);
    mayday_upload_status st = up_status(path);
    assert_int_equal(st.state, MAYDAY_UPLOAD_UPLOADED);
    assert_int_equal(st.interrupted, 1);
}

static void test_kill_after_uploaded(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    assert_true(run_killed(f, MAYDAY_UPLOAD_EV_UPLOADED));
    assert_int_equal(up_status(path).state, MAYDAY_UPLOAD_UPLOADED);
    assert_int_equal(run_clean(f), 0);
    check_requests(f, uuid, 1, 0);
}

static void test_kill_after_failed(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_server_mode(&f->srv, "error");
    assert_true(run_killed(f, MAYDAY_UPLOAD_EV_FAILED));
    assert_int_equal(up_status(path).state, MAYDAY_UPLOAD_FAILED);
    up_server_mode(&f->srv, "ok");
    up_sleep_ms(250);
    assert_int_equal(run_clean(f), 1);
    check_requests(f, uuid, 2, 0);
}

static void test_kill_after_purged(void **state)
{
    fx *f = *state;
    char path[512], uuid[37], p2[512], u2[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_make_report(f->dir, 2000, p2, sizeof(p2), u2);
    f->cfg.flags |= MAYDAY_UPLOAD_PURGE_AFTER;
    assert_true(run_killed(f, MAYDAY_UPLOAD_EV_PURGED));
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(run_clean(f), 1); /* only the second one */
    assert_int_equal(up_server_count(&f->srv), 2);
    assert_int_equal(access(p2, F_OK), -1);
    /* No state file is left behind. */
    char sp[600];
    snprintf(sp, sizeof(sp), "%.*s.upload-state",
             (int)(strlen(path) - strlen(".mayday")), path);
    assert_int_equal(access(sp, F_OK), -1);
}

/* SIGKILL at random moments while 3 reports go out; then a clean run.
 * Every report ends uploaded, each id reached the server at least once,
 * and a second copy is only ever sent with mayday_interrupted > 0. */
static void test_kill_at_random_moments(void **state)
{
    fx *f = *state;
    char paths[3][512], uuids[3][37];
    for (int i = 0; i < 3; i++)
        up_make_report(f->dir, 1000 + i, paths[i], sizeof(paths[i]), uuids[i]);
    for (int round = 0; round < 12; round++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(run_clean(f) < 0 ? 1 : 0);
        unsigned r = 0;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
            r = (unsigned)round * 7919u;
        up_sleep_ms((int)(r % 40));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    assert_true(run_clean(f) >= 0);
    int n = up_server_count(&f->srv);
    int seen[3] = {0, 0, 0};
    for (int i = 1; i <= n; i++) {
        jm_node *q = up_server_req(&f->srv, i);
        assert_non_null(q);
        if (!jm_get(q, "complete")->b) {
            jm_free(q); /* the uploader died while sending it */
            continue;
        }
        const char *id = jm_str(jm_path(q, "fields.mayday_report_id"));
        assert_non_null(id);
        int interrupted = atoi(jm_str(jm_path(q, "fields.mayday_interrupted")));
        for (int k = 0; k < 3; k++) {
            if (strcmp(id, uuids[k]) != 0)
                continue;
            if (seen[k] > 0)
                assert_true(interrupted > 0);
            seen[k]++;
        }
        jm_free(q);
    }
    for (int k = 0; k < 3; k++) {
        assert_true(seen[k] >= 1);
        assert_int_equal(up_status(paths[k]).state, MAYDAY_UPLOAD_UPLOADED);
    }
}

static void test_retention(void **state)
{
    fx *f = *state;
    char p[6][512], u[37];
    for (int i = 0; i < 6; i++)
        up_make_report(f->dir, 1000 + i, p[i], sizeof(p[i]), u);
    f->cfg.max_per_hour = 2; /* p0, p1 uploaded; the rest pending */
    assert_int_equal(run_clean(f), 2);
    /* Make p0's upload 10 days old (the format is documented). */
    char sp[600];
    snprintf(sp, sizeof(sp), "%.*s.upload-state",
             (int)(strlen(p[0]) - strlen(".mayday")), p[0]);
    char *t = up_slurp(sp, NULL), out[2048];
    char *at = strstr(t, "uploaded_ns="), *end = strchr(at, '\n');
    snprintf(out, sizeof(out), "%.*suploaded_ns=%lld%s", (int)(at - t), t,
             (long long)(up_now_ns() - 10LL * 86400 * 1000000000), end);
    up_write(sp, out);
    free(t);
    mayday_upload_config c;
    mayday_upload_config_init(&c);
    c.keep_uploaded_days = 7;
    assert_int_equal(mayday_upload_prune(f->dir, &c), 1);
    assert_int_equal(access(p[0], F_OK), -1);
    assert_int_equal(access(sp, F_OK), -1);
    /* keep 3: the uploaded p1 goes first, then the oldest pending p2. */
    c.keep_uploaded_days = 0;
    c.keep_max = 3;
    assert_int_equal(mayday_upload_prune(f->dir, &c), 2);
    assert_int_equal(access(p[1], F_OK), -1);
    assert_int_equal(access(p[2], F_OK), -1);
    for (int i = 3; i < 6; i++)
        assert_int_equal(access(p[i], F_OK), 0);
}

/* Files that are not reports, orphans, and the lock. */
static void test_foreign_files_and_lock(void **state)
{
    fx *f = *state;
    char path[512], uuid[37], zp[300], orphan[300];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    /* A report file pre-created at install: a header of 16 zero bytes. */
    snprintf(zp, sizeof(zp), "%s/0000-precreated.mayday", f->dir);
    FILE *z = fopen(zp, "wb");
    char zeros[4096] = {0};
    fwrite(zeros, 1, sizeof(zeros), z);
    fclose(z);
    snprintf(orphan, sizeof(orphan), "%s/999-gone.upload-state", f->dir);
    up_write(orphan, "mayday-upload-state 1\nstate=uploaded\n");
    mayday_upload_result res;
    memset(&res, 0, sizeof(res));
    res.size = sizeof(res);
    assert_int_equal(mayday_upload_pending(f->dir, &f->cfg, &res), 1);
    assert_int_equal(res.corrupt, 0);
    assert_int_equal(up_server_count(&f->srv), 1);
    assert_int_equal(access(zp, F_OK), 0);      /* untouched */
    assert_int_equal(access(orphan, F_OK), -1); /* cleaned */
    /* A damaged state file: the report counts as pending again. */
    char sp[600];
    snprintf(sp, sizeof(sp), "%.*s.upload-state",
             (int)(strlen(path) - strlen(".mayday")), path);
    up_write(sp, "garbage\n");
    assert_int_equal(up_status(path).state, MAYDAY_UPLOAD_PENDING);
    /* Another uploader holds the directory: EBUSY, nothing sent. */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char lp[300];
        snprintf(lp, sizeof(lp), "%s/upload.lock", f->dir);
        int l = open(lp, O_RDWR);
        if (l < 0 || flock(l, LOCK_EX) != 0)
            _exit(1);
        if (write(fd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(fd[0], &c, 1), 1);
    assert_int_equal(mayday_upload_pending(f->dir, &f->cfg, NULL),
                     MAYDAY_EBUSY);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(up_server_count(&f->srv), 1);
    /* Nonsense configs. */
    mayday_upload_config bad = f->cfg;
    bad.url = "ftp://x/y";
    assert_int_equal(mayday_upload_pending(f->dir, &bad, NULL), MAYDAY_EINVAL);
    bad = f->cfg;
    bad.kind = MAYDAY_UPLOAD_SENTRY;
    bad.url = "http://127.0.0.1/no-key";
    assert_int_equal(mayday_upload_pending(f->dir, &bad, NULL), MAYDAY_EINVAL);
    assert_int_equal(mayday_upload_pending("/nonexistent/dir", &f->cfg, NULL),
                     MAYDAY_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_after_uploading, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kill_after_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_after_uploaded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kill_after_failed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kill_after_purged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kill_at_random_moments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_files_and_lock, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
