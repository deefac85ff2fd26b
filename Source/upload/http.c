/*
 * http.c - one upload request with libcurl: a Sentry envelope to the DSN's
 * envelope endpoint (X-Sentry-Auth), a minidump form upload
 * (multipart/form-data: upload_file_minidump + annotations as fields), or
 * the raw .mayday bytes. TLS verification is on unless the config says
 * MAYDAY_UPLOAD_INSECURE; http and https only; no redirects; proxies from
 * libcurl's usual environment variables unless the config names one;
 * Retry-After and X-Sentry-Rate-Limits are read from the answer.
 *
 * Context: normal only (never on the crash path).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "normal/reader/reader.h"
#include "mayday.pb-c.h"
#include "upload/upload_internal.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_rc;

static void global_init(void)
{
    g_init_rc =
        curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : MAYDAY_ENOTSUP;
}

int md_up_http_global_init(void)
{
    pthread_once(&g_once, global_init);
    return g_init_rc;
}

/* ------------------------------------------------------------------ DSN */

int md_up_parse_dsn(const char *dsn, char **envelope_url, char **auth)
{
    *envelope_url = *auth = NULL;
    CURLU *u = curl_url();
    if (!u)
        return MAYDAY_ENOMEM;
    char *scheme = NULL, *user = NULL, *pass = NULL, *host = NULL;
    char *port = NULL, *path = NULL;
    int rc = MAYDAY_EINVAL;
    if (curl_url_set(u, CURLUPART_URL, dsn, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
        !user[0])
        goto out;
    /* path: "/[prefix/]PROJECT" */
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        path[--pl] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash || !slash[1])
        goto out;
    *slash = '\0';
    const char *project = slash + 1;
    size_t n =
        strlen(scheme) + strlen(host) + strlen(path) + strlen(project) + 64;
    *envelope_url = malloc(n);
    size_t an = strlen(user) + (pass ? strlen(pass) : 0) + 160;
    *auth = malloc(an);
    if (!*envelope_url || !*auth) {
        rc = MAYDAY_ENOMEM;
        goto out;
    }
    snprintf(*envelope_url, n, "%s://%s%s%s%s/api/%s/envelope/", scheme, host,
             port ? ":" : "", port ? port : "", path, project);
    snprintf(*auth, an,
            "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=mayday/%s, "
            "sentry_key=%s%s%s",
            mayday_version(), user, pass ? ", sentry_secret=" : "",
            pass ? pass : "");
    rc = 0;
out:
    if (rc < 0) {
        free(*envelope_url);
        free(*auth);
        *envelope_url = *auth = NULL;
    }
    curl_free(scheme);
    curl_free(user);
    curl_free(pass);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* ------------------------------------------------------------- answers */

int64_t md_up_retry_after_s(const char *v, int64_t now_s)
{
    while (*v == ' ' || *v == '\t')
        v++;
    char *end;
    long long s = strtoll(v, &end, 10);
    if (end != v &&
        (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
        return s < 0 ? 0 : s;
    time_t t = curl_getdate(v, NULL); /* an HTTP date */
    if (t == (time_t)-1)
        return -1;
    return (int64_t)t > now_s ? (int64_t)t - now_s : 0;
}

/* The longest wait in an X-Sentry-Rate-Limits value
 * ("60:error;default:organization, 2700::key"), seconds; -1 if none. */
static int64_t sentry_rate_limits_s(const char *v)
{
    int64_t best = -1;
    for (const char *p = v; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        char *end;
        long long s = strtoll(p, &end, 10);
        if (end != p && *end == ':' && s > best)
            best = s;
        p = strchr(p, ',');
    }
    return best;
}

typedef struct answer {
    md_up_response *resp;
    char body[128];
    size_t body_len;
} answer;

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    answer *a = ud;
    size_t len = sz * n;
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)(len < 511 ? len : 511), p);
    int64_t s = -1, now_s = md_up_now_ns() / 1000000000;
    if (strncasecmp(line, "Retry-After:", 12) == 0)
        s = md_up_retry_after_s(line + 12, now_s);
    else if (strncasecmp(line, "X-Sentry-Rate-Limits:", 21) == 0)
        s = sentry_rate_limits_s(line + 21);
    if (s >= 0 && s < 7 * 86400 && s * 1000000000 > a->resp->retry_after_ns)
        a->resp->retry_after_ns = s * 1000000000;
    return len;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    answer *a = ud;
    size_t len = sz * n, room = sizeof(a->body) - 1 - a->body_len;
    size_t k = len < room ? len : room;
    memcpy(a->body + a->body_len, p, k);
    a->body_len += k;
    a->body[a->body_len] = '\0';
    return len;
}

/* ------------------------------------------------------------ requests */

static void common_opts(CURL *c, const mayday_upload_config *cfg,
                        const char *url, answer *a)
{
    char ua[64]; /* libcurl copies it */
    snprintf(ua, sizeof(ua), "mayday/%s", mayday_version());
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)cfg->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    long verify = (cfg->flags & MAYDAY_UPLOAD_INSECURE) ? 0L : 1L;
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (cfg->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->proxy)
        curl_easy_setopt(c, CURLOPT_PROXY, cfg->proxy);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
}

/* Runs the request and fills resp. */
static void perform(CURL *c, answer *a)
{
    md_up_response *r = a->resp;
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    r->http_status = (int)code;
    if (cc != CURLE_OK) {
        snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(cc));
        r->http_status = 0;
        return;
    }
    r->ok = code >= 200 && code <= 299;
    if (!r->ok) {
        for (char *p = a->body; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        snprintf(r->error, sizeof(r->error), "server answered %ld%s%.100s",
                 code, a->body_len ? ": " : "", a->body);
    }
}

static void export_opts(const md_up_request *q, mayday_export_options *eo)
{
    const mayday_upload_config *cfg = q->cfg;
    mayday_export_options_init(eo);
    eo->release = cfg->release;
    eo->environment = cfg->environment;
    eo->tags = cfg->tags;
    eo->client_id = q->client_id;
    eo->symbolize = cfg->symbolize;
    eo->user_data = cfg->symbolize_data;
    eo->report_path = q->report_path;
    if (cfg->flags & MAYDAY_UPLOAD_SENTRY_MINIDUMP)
        eo->flags |= MAYDAY_EXPORT_SENTRY_MINIDUMP;
    if (cfg->flags & MAYDAY_UPLOAD_ATTACH_REPORT)
        eo->flags |= MAYDAY_EXPORT_ATTACH_REPORT;
}

static int send_sentry(CURL *c, const md_up_request *q, answer *a)
{
    char *url, *auth;
    int rc = md_up_parse_dsn(q->cfg->url, &url, &auth);
    if (rc < 0)
        return rc;
    mayday_export_options eo;
    export_opts(q, &eo);
    eo.dsn = q->cfg->url;
    void *data = NULL;
    size_t len = 0;
    rc = mayday_report_export(q->report, MAYDAY_EXPORT_SENTRY_ENVELOPE, &eo,
                              &data, &len);
    struct curl_slist *h = NULL;
    if (rc == 0) {
        h = curl_slist_append(h, auth);
        h = curl_slist_append(h, "Content-Type: application/x-sentry-envelope");
        h = curl_slist_append(h, "Expect:");
        common_opts(c, q->cfg, url, a);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        perform(c, a);
    }
    curl_slist_free_all(h);
    free(data);
    free(url);
    free(auth);
    return rc;
}

static void field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, name);
    curl_mime_data(p, value ? value : "", CURL_ZERO_TERMINATED);
}

/* The form fields of a minidump upload (docs/integrations.md). */
static void form_fields(curl_mime *m, const md_up_request *q)
{
    const Mayday__Report *r = md_report_pb(q->report);
    char num[32];
    if (r->app && r->app->id)
        field(m, "prod", r->app->id);
    if (r->app && r->app->version)
        field(m, "ver", r->app->version);
    if (q->client_id) {
        char g[33];
        for (int i = 0; i < 16; i++)
            snprintf(g + 2 * i, 3, "%02x", q->client_id[i]);
        field(m, "guid", g);
    }
    field(m, "mayday_report_id", q->report_id);
    snprintf(num, sizeof(num), "%u", q->attempt);
    field(m, "mayday_attempt", num);
    snprintf(num, sizeof(num), "%u", q->interrupted);
    field(m, "mayday_interrupted", num);
    if (q->cfg->release)
        field(m, "sentry[release]", q->cfg->release);
    if (q->cfg->environment)
        field(m, "sentry[environment]", q->cfg->environment);
    for (size_t i = 0; i < r->n_annotations; i++)
        if (r->annotations[i]->key && r->annotations[i]->key[0])
            field(m, r->annotations[i]->key, r->annotations[i]->value);
    for (const char *const *t = q->cfg->tags; t && *t; t++) {
        const char *eq = strchr(*t, '=');
        if (!eq || eq == *t)
            continue;
        char k[128];
        snprintf(k, sizeof(k), "%.*s", (int)(eq - *t), *t);
        field(m, k, eq + 1);
    }
}

static int send_minidump(CURL *c, const md_up_request *q, answer *a)
{
    mayday_export_options eo;
    export_opts(q, &eo);
    void *data = NULL;
    size_t len = 0;
    int rc = mayday_report_export(q->report, MAYDAY_EXPORT_MINIDUMP, &eo, &data,
                                  &len);
    if (rc < 0)
        return rc;
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "upload_file_minidump");
    curl_mime_filename(p, "minidump.dmp");
    curl_mime_type(p, "application/octet-stream");
    curl_mime_data(p, data, len);
    form_fields(m, q);
    if (q->cfg->flags & MAYDAY_UPLOAD_ATTACH_REPORT) {
        p = curl_mime_addpart(m);
        curl_mime_name(p, "mayday_report");
        curl_mime_filedata(p, q->report_path);
        curl_mime_filename(p, "report.mayday");
        curl_mime_type(p, "application/octet-stream");
    }
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    common_opts(c, q->cfg, q->cfg->url, a);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    perform(c, a);
    curl_slist_free_all(h);
    curl_mime_free(m);
    free(data);
    return 0;
}

/* The whole report file (the loader already checked its size). */
static int slurp(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return md_up_errno(errno);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return MAYDAY_EFOREIGN;
    }
    *data = malloc((size_t)st.st_size + 1);
    *len = 0;
    if (!*data) {
        close(fd);
        return MAYDAY_ENOMEM;
    }
    while (*len < (size_t)st.st_size) {
        ssize_t k = read(fd, *data + *len, (size_t)st.st_size - *len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        *len += (size_t)k;
    }
    close(fd);
    return 0;
}

static int send_raw(CURL *c, const md_up_request *q, answer *a)
{
    char *data = NULL;
    size_t len = 0;
    int rc = slurp(q->report_path, &data, &len);
    if (rc < 0)
        return rc;
    char h1[96], h2[64], h3[64];
    snprintf(h1, sizeof(h1), "X-Mayday-Report-Id: %s", q->report_id);
    snprintf(h2, sizeof(h2), "X-Mayday-Attempt: %u", q->attempt);
    snprintf(h3, sizeof(h3), "X-Mayday-Interrupted: %u", q->interrupted);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/octet-stream");
    h = curl_slist_append(h, h1);
    h = curl_slist_append(h, h2);
    h = curl_slist_append(h, h3);
    h = curl_slist_append(h, "Expect:");
    common_opts(c, q->cfg, q->cfg->url, a);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    perform(c, a);
    curl_slist_free_all(h);
    free(data);
    return 0;
}

int md_up_send(const md_up_request *q, md_up_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    int rc = md_up_http_global_init();
    if (rc < 0)
        return rc;
    CURL *c = curl_easy_init();
    if (!c)
        return MAYDAY_ENOMEM;
    answer a;
    memset(&a, 0, sizeof(a));
    a.resp = resp;
    switch (q->cfg->kind) {
    case MAYDAY_UPLOAD_SENTRY:
        rc = send_sentry(c, q, &a);
        break;
    case MAYDAY_UPLOAD_MINIDUMP:
        rc = send_minidump(c, q, &a);
        break;
    case MAYDAY_UPLOAD_RAW:
        rc = send_raw(c, q, &a);
        break;
    default:
        rc = MAYDAY_EINVAL;
    }
    curl_easy_cleanup(c);
    return rc;
}
