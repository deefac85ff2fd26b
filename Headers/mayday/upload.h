/*
 * upload.h - the public API of libmayday-upload: upload pending reports at
 * the next launch (Sentry DSN, a minidump endpoint, or the raw .mayday file
 * to a URL) through a report database with states, consent, a rate limit
 * and retention. docs/integrations.md and docs/upload.md describe it.
 *
 * A separate library (libmayday-upload.so / .a, pkg-config
 * `mayday-upload`, CMake `mayday::upload`) so that an application that only
 * wants crash handling does not link libcurl. It uses only the public API of
 * libmayday.
 *
 * Context: normal only. Never call any of this from the crash path (the
 * on_crash callback): it allocates, locks, and talks to the network.
 * Same ABI rules as mayday.h (structs start with their size, fields are
 * only appended, error codes are mayday's MAYDAY_E*).
 *
 *     mayday_upload_set_consent(dir, MAYDAY_CONSENT_GRANTED); // user said yes
 *     mayday_upload_config uc;
 *     mayday_upload_config_init(&uc);
 *     uc.kind = MAYDAY_UPLOAD_SENTRY;
 *     uc.url = "https://KEY@o0.ingest.sentry.io/42";
 *     mayday_upload_result res;
 *     res.size = sizeof(res);
 *     int rc = mayday_upload_pending(dir, &uc, &res);
 */
#ifndef MAYDAY_UPLOAD_H
#define MAYDAY_UPLOAD_H

#include <stdint.h>

#include "mayday.h" /* beside this header */

#ifdef __cplusplus
extern "C" {
#endif

/* Where reports go. */
typedef enum mayday_upload_kind {
    /* url is a Sentry DSN (https://KEY@HOST/PROJECT): the envelope
     * endpoint, authenticated with X-Sentry-Auth. */
    MAYDAY_UPLOAD_SENTRY = 1,
    /* url takes a multipart/form-data POST: the minidump in the
     * "upload_file_minidump" field, annotations as fields (the
     * Breakpad/Crashpad convention: Socorro, Sentry's minidump endpoint,
     * BugSplat, Backtrace). */
    MAYDAY_UPLOAD_MINIDUMP = 2,
    /* url takes the .mayday file itself as the POST body. */
    MAYDAY_UPLOAD_RAW = 3
} mayday_upload_kind;

/* Flags for mayday_upload_config.flags. */
enum {
    /* Do not verify the server's TLS certificate and name. For tests
     * against self-signed servers only. */
    MAYDAY_UPLOAD_INSECURE = 1u << 0,
    /* Sentry: send the minidump (event.minidump) instead of the walked
     * threads; the server walks it. */
    MAYDAY_UPLOAD_SENTRY_MINIDUMP = 1u << 1,
    /* Sentry: attach the .mayday file; minidump: add it as the form file
     * "mayday_report". */
    MAYDAY_UPLOAD_ATTACH_REPORT = 1u << 2,
    /* Delete a report (and its state) as soon as it is uploaded. */
    MAYDAY_UPLOAD_PURGE_AFTER = 1u << 3
};

/* A report's state in the database. */
typedef enum mayday_upload_state {
    MAYDAY_UPLOAD_PENDING = 0,   /* never tried, or waiting for a retry */
    MAYDAY_UPLOAD_UPLOADING = 1, /* an attempt started and has not ended */
    MAYDAY_UPLOAD_UPLOADED = 2,  /* the server accepted it (2xx) */
    MAYDAY_UPLOAD_FAILED = 3     /* the last attempt failed; see next_try */
} mayday_upload_state;

/* The per-install consent setting. Nothing is uploaded unless GRANTED. */
typedef enum mayday_consent {
    MAYDAY_CONSENT_UNKNOWN = 0, /* never set: nothing is uploaded */
    MAYDAY_CONSENT_GRANTED = 1,
    MAYDAY_CONSENT_DENIED = 2
} mayday_consent;

/* Points of an upload run reported to mayday_upload_config.on_event, in
 * the order they happen for one report. */
typedef enum mayday_upload_event {
    MAYDAY_UPLOAD_EV_UPLOADING = 1, /* state "uploading" is on disk */
    MAYDAY_UPLOAD_EV_SENT = 2,      /* the server answered 2xx; the new
                                       state is not on disk yet */
    MAYDAY_UPLOAD_EV_UPLOADED = 3,  /* state "uploaded" is on disk */
    MAYDAY_UPLOAD_EV_FAILED = 4,    /* state "failed" is on disk */
    MAYDAY_UPLOAD_EV_PURGED = 5     /* report and state deleted */
} mayday_upload_event;

typedef void (*mayday_upload_event_fn)(int event, const char *report_path,
                                       void *user_data);

typedef struct mayday_upload_config {
    uint32_t size; /* set by mayday_upload_config_init */
    /* A mayday_upload_kind. Required. */
    uint32_t kind;
    /* The DSN (SENTRY) or the endpoint URL (MINIDUMP, RAW); http or https
     * only. Required. */
    const char *url;
    /* MAYDAY_UPLOAD_* flags. Default 0. */
    uint32_t flags;
    /* Connection timeout and whole-request timeout, ms. Defaults 10000 and
     * 60000. */
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;
    /* At most this many requests per hour (per report directory, across
     * runs). Default 10; 0: no limit. */
    uint32_t max_per_hour;
    /* Attempts per report before it is given up (kept, not retried).
     * Default 10. */
    uint32_t max_attempts;
    /* Retry delay after the n-th failed attempt: base * 2^(n-1), at most
     * max, with equal jitter (a random point in its upper half); a 429's
     * Retry-After is honoured when longer. Defaults 60000 ms and 86400000
     * ms. */
    uint32_t backoff_base_ms;
    uint32_t backoff_max_ms;
    /* Retention after each run: delete uploaded reports older than this
     * many days (0: keep them; default 7) ... */
    uint32_t keep_uploaded_days;
    /* ... and keep at most this many reports, deleting uploaded ones
     * first, then the oldest (0: no limit; default 0). */
    uint32_t keep_max;
    /* CA bundle file; NULL: the system's. */
    const char *ca_file;
    /* Proxy URL; NULL: libcurl's environment variables (http_proxy,
     * https_proxy, all_proxy, no_proxy). */
    const char *proxy;
    /* Sentry release/environment and extra tags ("key=value",
     * NULL-terminated), as in mayday_export_options; for minidump uploads
     * the tags become form fields. */
    const char *release;
    const char *environment;
    const char *const *tags;
    /* Function names in Sentry frames (see mayday_symbolize_fn); NULL:
     * the server symbolicates. */
    mayday_symbolize_fn symbolize;
    void *symbolize_data;
    /* Progress callback (also the test suite's hook to kill the uploader
     * at each step); may be NULL. */
    mayday_upload_event_fn on_event;
    void *on_event_data;
} mayday_upload_config;

MAYDAY_EXPORT void mayday_upload_config_init(mayday_upload_config *cfg);

/* What a run did. Starts with its size (set by the caller). */
typedef struct mayday_upload_result {
    uint32_t size;
    uint32_t uploaded;      /* accepted by the server in this run */
    uint32_t failed;        /* attempts that failed in this run (kept) */
    uint32_t deferred;      /* waiting for their next try */
    uint32_t rate_limited;  /* not sent: max_per_hour or a 429 */
    uint32_t not_consented; /* not sent: consent is not GRANTED */
    uint32_t corrupt;       /* unreadable reports (kept, never sent) */
    uint32_t gave_up;       /* over max_attempts (kept, never retried) */
    uint32_t purged;        /* deleted by retention in this run */
    /* Earliest time a later run may send something, ns since the epoch;
     * 0 if nothing is waiting. */
    int64_t next_try_unix_ns;
} mayday_upload_result;

/*
 * Uploads the pending reports of report_dir, oldest first, through the
 * database (docs/upload.md): at-least-once delivery with the report's UUID
 * as a stable id (Sentry event_id, form field "mayday_report_id"); a report
 * whose previous attempt was interrupted is sent again and says so
 * ("mayday_interrupted"). Then applies retention. res may be NULL.
 * Returns the number uploaded in this run, or MAYDAY_EINVAL (config),
 * MAYDAY_EBUSY (another uploader holds the directory), MAYDAY_ENOENT, ...
 * Server errors are not errors of the call: they are counted in res and
 * the reports are kept.
 */
MAYDAY_EXPORT int mayday_upload_pending(const char *report_dir,
                                        const mayday_upload_config *cfg,
                                        mayday_upload_result *res);

/* Only the retention part of a run (cfg's keep_* fields; kind/url are not
 * needed). Returns the number of reports deleted. */
MAYDAY_EXPORT int mayday_upload_prune(const char *report_dir,
                                      const mayday_upload_config *cfg);

/* Consent of this installation (a file in report_dir). set: 0 or an
 * error; get: a mayday_consent value or an error. */
MAYDAY_EXPORT int mayday_upload_set_consent(const char *report_dir,
                                            int consent);
MAYDAY_EXPORT int mayday_upload_get_consent(const char *report_dir);

/* A report's database entry. */
typedef struct mayday_upload_status {
    uint32_t size;            /* set by the caller */
    int state;                /* a mayday_upload_state */
    uint32_t attempts;        /* attempts started */
    uint32_t interrupted;     /* attempts that ended without a result on
                                 disk (uploader killed): the server may
                                 have the report more than once */
    int gave_up;              /* over max_attempts: not retried */
    int http_status;          /* of the last attempt; 0 if none */
    int64_t changed_unix_ns;  /* when the state was written */
    int64_t next_try_unix_ns; /* FAILED: earliest next attempt */
    int64_t uploaded_unix_ns; /* UPLOADED: when */
    char error[160];          /* the last attempt's error, "" if none */
} mayday_upload_status;

/* The state of the report at report_path ("pending" when it has no state
 * file yet). MAYDAY_ENOENT if the report does not exist. */
MAYDAY_EXPORT int mayday_upload_get_status(const char *report_path,
                                           mayday_upload_status *st);
/* "pending", "uploading", "uploaded", "failed"; "unknown". */
MAYDAY_EXPORT const char *mayday_upload_state_name(int state);

#ifdef __cplusplus
}
#endif
#endif /* MAYDAY_UPLOAD_H */
