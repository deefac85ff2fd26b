/*
 * run.c - an upload run (mayday_upload_pending): under the directory lock,
 * for each report oldest first, decide from its state, consent, rate limit
 * and backoff whether to send it now; write "uploading" before the request
 * and "uploaded"/"failed" after it; then apply retention.
 *
 * Delivery is at-least-once (docs/upload.md): a report is marked uploaded
 * only after the server's 2xx, so a kill -9 between the server's answer
 * and the state write makes the next run send it again. Every request
 * carries the report's UUID (Sentry event_id, "mayday_report_id") and the
 * count of earlier interrupted attempts, so such a second copy is never
 * sent without saying so.
 *
 * Context: normal only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "upload/upload_internal.h"

void mayday_upload_config_init(mayday_upload_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->connect_timeout_ms = 10000;
    cfg->timeout_ms = 60000;
    cfg->max_per_hour = 10;
    cfg->max_attempts = 10;
    cfg->backoff_base_ms = 60000;
    cfg->backoff_max_ms = 86400000;
    cfg->keep_uploaded_days = 7;
}

/* Copies a caller's (maybe older, shorter) config over the defaults. */
static int copy_config(const mayday_upload_config *in, mayday_upload_config *c)
{
    mayday_upload_config_init(c);
    if (!in || in->size < 2 * sizeof(uint32_t))
        return MAYDAY_EINVAL;
    size_t n = in->size < sizeof(*c) ? in->size : sizeof(*c);
    memcpy(c, in, n);
    c->size = sizeof(*c);
    return 0;
}

static int validate(const mayday_upload_config *c)
{
    if (c->kind < MAYDAY_UPLOAD_SENTRY || c->kind > MAYDAY_UPLOAD_RAW ||
        !c->url)
        return MAYDAY_EINVAL;
    if (strncmp(c->url, "http://", 7) != 0 &&
        strncmp(c->url, "https://", 8) != 0)
        return MAYDAY_EINVAL;
    if (c->connect_timeout_ms == 0 || c->timeout_ms == 0 ||
        c->max_attempts == 0 || c->backoff_base_ms == 0 ||
        c->backoff_max_ms < c->backoff_base_ms)
        return MAYDAY_EINVAL;
    if (c->kind == MAYDAY_UPLOAD_SENTRY) {
        char *u, *a;
        int rc = md_up_parse_dsn(c->url, &u, &a);
        if (rc < 0)
            return rc;
        free(u);
        free(a);
    }
    return 0;
}

/* Delay after the n-th failed attempt: base * 2^(n-1) capped, with equal
 * jitter (uniform in the upper half), ns. */
static int64_t backoff_ns(const mayday_upload_config *c, uint32_t n)
{
    uint64_t d = c->backoff_base_ms;
    for (uint32_t i = 1; i < n && d < c->backoff_max_ms; i++)
        d *= 2;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = 0;
    uint64_t half = d / 2;
    uint64_t ms = half + (half ? (uint64_t)r % (half + 1) : 0);
    return (int64_t)ms * 1000000;
}

typedef struct run {
    const char *dir;
    const mayday_upload_config *c;
    mayday_upload_result *res;
    md_up_rate *rate;
    uint8_t client_id[16];
    int have_client_id;
} run;

static void event(const run *u, int ev, const char *path)
{
    if (u->c->on_event)
        u->c->on_event(ev, path, u->c->on_event_data);
}

static void note_next(run *u, int64_t t)
{
    if (t > 0 &&
        (u->res->next_try_unix_ns == 0 || t < u->res->next_try_unix_ns))
        u->res->next_try_unix_ns = t;
}

/* The report's id for servers: its UUID, else the file's stem. */
static void report_id(const mayday_report *r, const char *path, char *out,
                      size_t n)
{
    mayday_report_info info;
    info.size = sizeof(info);
    if (mayday_report_get_info(r, &info) == 0 && info.uuid && info.uuid[0]) {
        snprintf(out, n, "%s", info.uuid);
        return;
    }
    const char *s = strrchr(path, '/');
    snprintf(out, n, "%s", s ? s + 1 : path);
}

/* Records the outcome of an attempt that got no 2xx. */
static void failed(run *u, const char *path, mayday_upload_status *st,
                   const md_up_response *resp, int64_t now)
{
    int64_t delay = backoff_ns(u->c, st->attempts);
    if (resp->retry_after_ns > delay)
        delay = resp->retry_after_ns;
    if (resp->http_status == 429 ||
        (resp->http_status == 503 && resp->retry_after_ns > 0)) {
        /* The server wants us to stop: nothing more until then. */
        int64_t wait = resp->retry_after_ns > 0 ? resp->retry_after_ns
                                                : (int64_t)60 * 1000000000;
        u->rate->blocked_until = now + wait;
        md_up_rate_save(u->dir, u->rate);
    }
    st->state = MAYDAY_UPLOAD_FAILED;
    st->http_status = resp->http_status;
    snprintf(st->error, sizeof(st->error), "%s", resp->error);
    st->next_try_unix_ns = now + delay;
    st->gave_up = st->attempts >= u->c->max_attempts;
    st->changed_unix_ns = md_up_now_ns();
    md_up_write_state(path, st);
    event(u, MAYDAY_UPLOAD_EV_FAILED, path);
    u->res->failed++;
    if (st->gave_up)
        u->res->gave_up++;
    else
        note_next(u, st->next_try_unix_ns);
}

static void succeeded(run *u, const char *path, mayday_upload_status *st,
                      const md_up_response *resp)
{
    event(u, MAYDAY_UPLOAD_EV_SENT, path);
    st->state = MAYDAY_UPLOAD_UPLOADED;
    st->http_status = resp->http_status;
    st->error[0] = '\0';
    st->next_try_unix_ns = 0;
    st->uploaded_unix_ns = st->changed_unix_ns = md_up_now_ns();
    md_up_write_state(path, st);
    event(u, MAYDAY_UPLOAD_EV_UPLOADED, path);
    u->res->uploaded++;
    if ((u->c->flags & MAYDAY_UPLOAD_PURGE_AFTER) &&
        md_up_delete_report(path) == 0) {
        u->res->purged++;
        event(u, MAYDAY_UPLOAD_EV_PURGED, path);
    }
}

/* One attempt for a report that is due. */
static void attempt(run *u, const char *path, const mayday_report *r,
                    mayday_upload_status *st)
{
    int64_t now = md_up_now_ns();
    if (st->state == MAYDAY_UPLOAD_UPLOADING)
        st->interrupted++; /* the last attempt never recorded its end */
    st->state = MAYDAY_UPLOAD_UPLOADING;
    st->attempts++;
    st->changed_unix_ns = now;
    if (md_up_write_state(path, st) < 0) {
        /* Without the state on disk the promise cannot be kept: skip. */
        u->res->failed++;
        return;
    }
    event(u, MAYDAY_UPLOAD_EV_UPLOADING, path);
    if (u->rate->n < MD_UP_RATE_MAX)
        u->rate->sent[u->rate->n++] = now;
    md_up_rate_save(u->dir, u->rate);
    char id[64];
    report_id(r, path, id, sizeof(id));
    md_up_request q = {u->c,
                       path,
                       r,
                       id,
                       u->have_client_id ? u->client_id : NULL,
                       st->attempts,
                       st->interrupted};
    md_up_response resp;
    int rc = md_up_send(&q, &resp);
    if (rc < 0) {
        /* No request was made (e.g. no minidump for this architecture). */
        snprintf(resp.error, sizeof(resp.error), "%s", mayday_strerror(rc));
        resp.http_status = 0;
        resp.retry_after_ns = 0;
        if (rc == MAYDAY_ENOTSUP)
            st->attempts = u->c->max_attempts;
    }
    if (rc == 0 && resp.ok)
        succeeded(u, path, st, &resp);
    else
        failed(u, path, st, &resp, now);
}

/* Decides what to do with one report. */
static void one(run *u, const char *path)
{
    mayday_upload_status st;
    st.size = sizeof(st);
    md_up_read_state(path, &st);
    int64_t now = md_up_now_ns();
    if (st.state == MAYDAY_UPLOAD_UPLOADED)
        return;
    if (st.gave_up) {
        u->res->gave_up++;
        return;
    }
    if (st.state == MAYDAY_UPLOAD_FAILED && st.next_try_unix_ns > now) {
        u->res->deferred++;
        note_next(u, st.next_try_unix_ns);
        return;
    }
    mayday_report *r = NULL;
    if (mayday_report_load(path, &r) < 0) {
        /* Never sent and never given a state: it may still be being
         * written by a crashing process, or be looked at by a person. */
        u->res->corrupt++;
        return;
    }
    if (!md_up_rate_allows(u->rate, u->c->max_per_hour, now)) {
        u->res->rate_limited++;
        note_next(u, u->rate->blocked_until > now
                         ? u->rate->blocked_until
                         : (u->rate->n ? u->rate->sent[0] : now) +
                               (int64_t)3600 * 1000000000);
    } else {
        attempt(u, path, r, &st);
    }
    mayday_report_free(r);
}

static void count_unconsented(const char *const *paths, size_t n,
                              mayday_upload_result *res)
{
    for (size_t i = 0; i < n; i++) {
        mayday_upload_status st;
        st.size = sizeof(st);
        md_up_read_state(paths[i], &st);
        res->not_consented += st.state != MAYDAY_UPLOAD_UPLOADED;
    }
}

int mayday_upload_pending(const char *dir, const mayday_upload_config *cfg,
                          mayday_upload_result *res_out)
{
    mayday_upload_config c;
    int rc = copy_config(cfg, &c);
    if (rc == 0)
        rc = validate(&c);
    if (rc < 0 || !dir)
        return rc < 0 ? rc : MAYDAY_EINVAL;
    mayday_upload_result res;
    memset(&res, 0, sizeof(res));
    int lock = md_up_lock(dir);
    if (lock < 0)
        return lock;
    md_up_clean_orphans(dir);
    char **paths = NULL;
    size_t n = 0;
    rc = mayday_reports_list(dir, &paths, &n);
    md_up_rate *rate = calloc(1, sizeof(*rate));
    if (rc == 0 && !rate)
        rc = MAYDAY_ENOMEM;
    if (rc == 0 && mayday_upload_get_consent(dir) != MAYDAY_CONSENT_GRANTED) {
        count_unconsented((const char *const *)paths, n, &res);
    } else if (rc == 0) {
        run u = {dir, &c, &res, rate, {0}, 0};
        u.have_client_id = md_up_install_id(dir, u.client_id) == 0;
        md_up_rate_load(dir, rate, md_up_now_ns());
        for (size_t i = 0; i < n; i++)
            one(&u, paths[i]);
    }
    mayday_reports_list_free(paths, n);
    free(rate);
    if (rc == 0)
        rc = md_up_retention(dir, &c, &res);
    md_up_unlock(lock);
    if (res_out && res_out->size >= sizeof(uint32_t)) {
        uint32_t size = res_out->size;
        size_t k = size < sizeof(res) ? size : sizeof(res);
        res.size = size;
        memcpy(res_out, &res, k);
    }
    return rc < 0 ? rc : (int)res.uploaded;
}

int mayday_upload_prune(const char *dir, const mayday_upload_config *cfg)
{
    mayday_upload_config c;
    int rc = copy_config(cfg, &c);
    if (rc < 0 || !dir)
        return rc < 0 ? rc : MAYDAY_EINVAL;
    int lock = md_up_lock(dir);
    if (lock < 0)
        return lock;
    md_up_clean_orphans(dir);
    mayday_upload_result res;
    memset(&res, 0, sizeof(res));
    rc = md_up_retention(dir, &c, &res);
    md_up_unlock(lock);
    return rc < 0 ? rc : (int)res.purged;
}
