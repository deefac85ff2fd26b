/*
 * test_upload.c - libmayday-upload against a loopback test server
 * (http_server.py, which parses multipart forms with Python's email
 * package): every field of a minidump form upload, the Sentry envelope
 * (endpoint, X-Sentry-Auth, items), the raw upload; answers 500, 429 with
 * Retry-After, a hanging server and a dropped connection keep the report
 * with the right state; consent off sends nothing; the rate limit and the
 * backoff are honoured across runs; http_proxy from the environment is
 * used; TLS verification is on by default (self-signed server refused,
 * trusted through ca_file, or skipped with MAYDAY_UPLOAD_INSECURE).
 *
 * Context: tests only (normal context, child processes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "normal/reader/reader.h"
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
    up_tmpdir(f->dir, sizeof(f->dir), "reports");
    up_tmpdir(f->sdir, sizeof(f->sdir), "server");
    up_server_start(&f->srv, f->sdir);
    up_config(&f->cfg, &f->srv, MAYDAY_UPLOAD_MINIDUMP, f->url, sizeof(f->url));
    assert_int_equal(mayday_upload_set_consent(f->dir, MAYDAY_CONSENT_GRANTED),
                     0);
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

static mayday_upload_result run(fx *f, int expect_rc)
{
    mayday_upload_result res;
    memset(&res, 0, sizeof(res));
    res.size = sizeof(res);
    int rc = mayday_upload_pending(f->dir, &f->cfg, &res);
    assert_int_equal(rc, expect_rc);
    return res;
}

static const char *field(const jm_node *req, const char *name)
{
    return jm_str(jm_get(jm_get(req, "fields"), name));
}

/* Every field of the form, against what the test wrote and the files. */
static void test_minidump_form_fields(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    const char *tags[] = {"channel=beta", NULL};
    f->cfg.tags = tags;
    f->cfg.release = "fx@9";
    mayday_upload_result res = run(f, 1);
    assert_int_equal(res.uploaded, 1);
    assert_int_equal(up_server_count(&f->srv), 1);
    jm_node *q = up_server_req(&f->srv, 1);
    assert_non_null(q);
    assert_string_equal(jm_str(jm_get(q, "path")), "/submit");
    assert_true(jm_get(q, "multipart_ok")->b);
    assert_null(jm_get(q, "parse_error"));
    /* The minidump file part. */
    jm_node *file = jm_get(jm_get(q, "files"), "upload_file_minidump");
    assert_non_null(file);
    assert_string_equal(jm_str(jm_get(file, "filename")), "minidump.dmp");
    assert_string_equal(jm_str(jm_get(file, "type")),
                        "application/octet-stream");
    size_t len;
    char *dump = up_server_file(&f->srv, jm_str(jm_get(file, "saved")), &len);
    assert_non_null(dump);
    assert_true(len > 32);
    assert_memory_equal(dump, "MDMP", 4);
    free(dump);
    /* Fields: conventions, ids, annotations, tags. */
    assert_string_equal(field(q, "mayday_report_id"), uuid);
    assert_string_equal(field(q, "mayday_attempt"), "1");
    assert_string_equal(field(q, "mayday_interrupted"), "0");
    assert_string_equal(field(q, "sentry[release]"), "fx@9");
    assert_string_equal(field(q, "channel"), "beta");
    assert_string_equal(field(q, "user"), "alice"); /* fixture annotation */
    mayday_report *r;
    assert_int_equal(mayday_report_load(path, &r), 0);
    const Mayday__Report *m = md_report_pb(r);
    for (size_t i = 0; i < m->n_annotations; i++)
        assert_string_equal(field(q, m->annotations[i]->key),
                            m->annotations[i]->value);
    if (m->app && m->app->id)
        assert_string_equal(field(q, "prod"), m->app->id);
    if (m->app && m->app->version)
        assert_string_equal(field(q, "ver"), m->app->version);
    mayday_report_free(r);
    char idp[256], idtext[64];
    snprintf(idp, sizeof(idp), "%s/install-id", f->dir);
    char *id = up_slurp(idp, NULL);
    assert_non_null(id);
    snprintf(idtext, sizeof(idtext), "%.32s", id);
    free(id);
    assert_string_equal(field(q, "guid"), idtext);
    jm_free(q);
    mayday_upload_status st = up_status(path);
    assert_int_equal(st.state, MAYDAY_UPLOAD_UPLOADED);
    assert_int_equal(st.attempts, 1);
    assert_int_equal(st.http_status, 200);
    /* A second run sends nothing more. */
    res = run(f, 0);
    assert_int_equal(up_server_count(&f->srv), 1);
}

/* Sentry: envelope endpoint, auth header, event and minidump items. */
static void test_sentry_envelope(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_config(&f->cfg, &f->srv, MAYDAY_UPLOAD_SENTRY, f->url, sizeof(f->url));
    f->cfg.flags |= MAYDAY_UPLOAD_SENTRY_MINIDUMP | MAYDAY_UPLOAD_ATTACH_REPORT;
    f->cfg.environment = "ci";
    run(f, 1);
    jm_node *q = up_server_req(&f->srv, 1);
    assert_non_null(q);
    assert_string_equal(jm_str(jm_get(q, "path")), "/api/42/envelope/");
    const char *auth = jm_str(jm_get(jm_get(q, "headers"), "x-sentry-auth"));
    assert_non_null(auth);
    assert_non_null(strstr(auth, "sentry_key=pubkey"));
    assert_non_null(strstr(auth, "sentry_version=7"));
    char hex[33];
    size_t k = 0;
    for (const char *c = uuid; *c; c++)
        if (*c != '-')
            hex[k++] = *c;
    hex[k] = '\0';
    jm_node *env = jm_get(q, "envelope");
    assert_non_null(env);
    assert_string_equal(jm_str(jm_path(env, "header.event_id")), hex);
    assert_string_equal(jm_str(jm_path(env, "items.0.header.type")), "event");
    jm_node *ev = jm_path(env, "items.0.event");
    assert_string_equal(jm_str(jm_get(ev, "event_id")), hex);
    assert_string_equal(jm_str(jm_get(ev, "platform")), "native");
    assert_string_equal(jm_str(jm_get(ev, "environment")), "ci");
    assert_string_equal(jm_str(jm_path(env, "items.1.header.attachment_type")),
                        "event.minidump");
    assert_string_equal(jm_str(jm_path(env, "items.2.header.filename")),
                        "report.mayday");
    /* The attached report is the file, byte for byte. */
    size_t a, b;
    char *sent =
        up_server_file(&f->srv, jm_str(jm_path(env, "items.2.saved")), &a);
    char *orig = up_slurp(path, &b);
    assert_int_equal(a, b);
    assert_memory_equal(sent, orig, a);
    free(sent);
    free(orig);
    jm_free(q);
}

static void test_raw(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    f->cfg.kind = MAYDAY_UPLOAD_RAW;
    run(f, 1);
    jm_node *q = up_server_req(&f->srv, 1);
    jm_node *h = jm_get(q, "headers");
    assert_string_equal(jm_str(jm_get(h, "x-mayday-report-id")), uuid);
    assert_string_equal(jm_str(jm_get(h, "x-mayday-attempt")), "1");
    size_t a, b;
    char *sent = up_server_file(&f->srv, jm_str(jm_get(q, "body_saved")), &a);
    char *orig = up_slurp(path, &b);
    assert_int_equal(a, b);
    assert_memory_equal(sent, orig, a);
    free(sent);
    free(orig);
    jm_free(q);
}

/* 500, hang, drop: the report stays, failed, with a next try. */
static void check_failure(fx *f, const char *mode, const char *error_part)
{
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_server_mode(&f->srv, mode);
    f->cfg.timeout_ms = 1500;
    int64_t before = up_now_ns();
    mayday_upload_result res = run(f, 0);
    assert_int_equal(res.failed, 1);
    assert_int_equal(access(path, F_OK), 0);
    mayday_upload_status st = up_status(path);
    assert_int_equal(st.state, MAYDAY_UPLOAD_FAILED);
    assert_int_equal(st.attempts, 1);
    assert_true(st.next_try_unix_ns > before);
    assert_non_null(strstr(st.error, error_part));
    assert_int_equal(up_server_count(&f->srv), 1);
    /* Once the server is well again (and the backoff is over), it goes. */
    up_server_mode(&f->srv, "ok");
    up_sleep_ms(250);
    res = run(f, 1);
    st = up_status(path);
    assert_int_equal(st.state, MAYDAY_UPLOAD_UPLOADED);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(st.interrupted, 0);
}

static void test_server_500(void **state)
{
    check_failure(*state, "error", "500");
}

static void test_server_hangs(void **state)
{
    check_failure(*state, "hang", "imeout");
}

static void test_server_drops(void **state)
{
    fx *f = *state;
    /* curl words it as a reset, an empty reply or a receive failure. */
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_server_mode(&f->srv, "drop");
    mayday_upload_result res = run(f, 0);
    assert_int_equal(res.failed, 1);
    mayday_upload_status st = up_status(path);
    assert_int_equal(st.state, MAYDAY_UPLOAD_FAILED);
    assert_int_equal(st.http_status, 0);
    assert_true(st.error[0] != '\0');
    assert_int_equal(access(path, F_OK), 0);
}

/* 429 + Retry-After: nothing is sent until then, by any run. */
static void test_429_retry_after(void **state)
{
    fx *f = *state;
    char p1[512], p2[512], u[37];
    up_make_report(f->dir, 1000, p1, sizeof(p1), u);
    up_make_report(f->dir, 2000, p2, sizeof(p2), u);
    up_server_mode(&f->srv, "429:3");
    int64_t before = up_now_ns();
    mayday_upload_result res = run(f, 0);
    assert_int_equal(res.failed, 1);
    assert_int_equal(res.rate_limited, 1); /* the second one waited */
    assert_int_equal(up_server_count(&f->srv), 1);
    mayday_upload_status st = up_status(p1);
    assert_int_equal(st.http_status, 429);
    assert_true(st.next_try_unix_ns >= before + 3000000000LL);
    up_server_mode(&f->srv, "ok");
    res = run(f, 0); /* still within Retry-After */
    assert_int_equal(up_server_count(&f->srv), 1);
    assert_int_equal(res.uploaded, 0);
    up_sleep_ms(3200);
    res = run(f, 2);
    assert_int_equal(up_server_count(&f->srv), 3);
}

static void test_consent(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_make_report(f->dir, 2000, path, sizeof(path), uuid);
    int vals[] = {MAYDAY_CONSENT_UNKNOWN, MAYDAY_CONSENT_DENIED};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mayday_upload_set_consent(f->dir, vals[i]), 0);
        assert_int_equal(mayday_upload_get_consent(f->dir), vals[i]);
        mayday_upload_result res = run(f, 0);
        assert_int_equal(res.not_consented, 2);
        assert_int_equal(res.uploaded, 0);
        assert_int_equal(up_server_count(&f->srv), 0);
    }
    /* A damaged consent file is not a yes. */
    char cp[256];
    snprintf(cp, sizeof(cp), "%s/upload-consent", f->dir);
    up_write(cp, "granted-ish\n");
    assert_int_equal(mayday_upload_get_consent(f->dir), MAYDAY_CONSENT_UNKNOWN);
    run(f, 0);
    assert_int_equal(up_server_count(&f->srv), 0);
    assert_int_equal(mayday_upload_set_consent(f->dir, MAYDAY_CONSENT_GRANTED),
                     0);
    run(f, 2);
    assert_int_equal(up_server_count(&f->srv), 2);
}

/* At most N per hour, across runs (the limit is kept on disk). */
static void test_rate_limit(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    for (int i = 0; i < 5; i++)
        up_make_report(f->dir, 1000 + i, path, sizeof(path), uuid);
    f->cfg.max_per_hour = 2;
    mayday_upload_result res = run(f, 2);
    assert_int_equal(res.rate_limited, 3);
    assert_true(res.next_try_unix_ns > up_now_ns() + 3500LL * 1000000000LL);
    res = run(f, 0);
    assert_int_equal(res.rate_limited, 3);
    assert_int_equal(up_server_count(&f->srv), 2);
    f->cfg.max_per_hour = 3;
    run(f, 1);
    assert_int_equal(up_server_count(&f->srv), 3);
}

/* Exponential backoff: base * 2^(n-1) with equal jitter, capped. */
static void test_backoff(void **state)
{
    fx *f = *state;
    char path[512], uuid[37];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    up_server_mode(&f->srv, "error");
    f->cfg.backoff_base_ms = 1000;
    f->cfg.backoff_max_ms = 4000;
    f->cfg.max_attempts = 4;
    int64_t expect_ms[] = {1000, 2000, 4000, 4000};
    for (int i = 0; i < 4; i++) {
        int64_t before = up_now_ns();
        mayday_upload_result res = run(f, 0);
        assert_int_equal(res.failed, 1);
        mayday_upload_status st = up_status(path);
        int64_t d = st.next_try_unix_ns - before;
        assert_true(d >= expect_ms[i] / 2 * 1000000 - 1000000);
        assert_true(d <= expect_ms[i] * 1000000 + 500000000);
        if (i == 3) {
            assert_true(st.gave_up);
            break;
        }
        res = run(f, 0); /* too early: deferred, nothing sent */
        assert_int_equal(res.deferred, 1);
        assert_int_equal(up_server_count(&f->srv), i + 1);
        /* Pretend the wait is over (the state file format is documented:
         * docs/upload.md). */
        char sp[600], *text;
        snprintf(sp, sizeof(sp), "%.*s.upload-state",
                 (int)(strlen(path) - strlen(".mayday")), path);
        text = up_slurp(sp, NULL);
        char *nt = strstr(text, "next_try_ns=");
        assert_non_null(nt);
        char *end = strchr(nt, '\n');
        char out[2048];
        snprintf(out, sizeof(out), "%.*snext_try_ns=1%s", (int)(nt - text),
                 text, end);
        up_write(sp, out);
        free(text);
    }
    mayday_upload_result res = run(f, 0);
    assert_int_equal(res.gave_up, 1);
    assert_int_equal(up_server_count(&f->srv), 4);
    assert_int_equal(access(path, F_OK), 0); /* kept for a person */
}

/* http_proxy from the environment is used (libcurl's usual variables):
 * the request for a host that does not exist reaches the proxy. */
static void test_proxy_from_environment(void **state)
{
    fx *f = *state;
    char path[512], uuid[37], proxy[64];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", f->srv.port);
    f->cfg.url = "http://crash-server.invalid/submit";
    setenv("http_proxy", proxy, 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    mayday_upload_result res = run(f, 1);
    unsetenv("http_proxy");
    assert_int_equal(res.uploaded, 1);
    jm_node *q = up_server_req(&f->srv, 1);
    assert_string_equal(jm_str(jm_path(q, "headers.host")),
                        "crash-server.invalid");
    assert_string_equal(jm_str(jm_get(q, "path")), "/submit");
    jm_free(q);
}

/* TLS: verification is on by default (a self-signed server is refused),
 * ca_file trusts it, MAYDAY_UPLOAD_INSECURE skips verification. */
static void test_tls_verification(void **state)
{
    fx *f = *state;
    char cert[256], key[256], cmd[1024];
    snprintf(cert, sizeof(cert), "%s/cert.pem", f->sdir);
    snprintf(key, sizeof(key), "%s/key.pem", f->sdir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
             "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout '%s' -out '%s' >/dev/null 2>&1",
             key, cert);
    assert_int_equal(system(cmd), 0);
    up_server tls;
    char tdir[128];
    up_tmpdir(tdir, sizeof(tdir), "tls");
    up_server_start_tls(&tls, tdir, cert, key);
    char path[512], uuid[37], url[128];
    up_make_report(f->dir, 1000, path, sizeof(path), uuid);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/submit", tls.port);
    f->cfg.url = url;
    mayday_upload_result res = run(f, 0);
    assert_int_equal(res.failed, 1);
    mayday_upload_status st = up_status(path);
    assert_non_null(strstr(st.error, "certificate"));
    assert_int_equal(up_server_count(&tls), 0);
    up_sleep_ms(250);
    f->cfg.ca_file = cert;
    run(f, 1);
    assert_int_equal(up_server_count(&tls), 1);
    up_make_report(f->dir, 2000, path, sizeof(path), uuid);
    f->cfg.ca_file = NULL;
    f->cfg.flags |= MAYDAY_UPLOAD_INSECURE;
    run(f, 1);
    assert_int_equal(up_server_count(&tls), 2);
    up_server_stop(&tls);
    up_rmrf(tdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_minidump_form_fields, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sentry_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_hangs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_from_environment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_verification, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
