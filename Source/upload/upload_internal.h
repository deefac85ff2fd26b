/*
 * upload_internal.h - internals of libmayday-upload (Source/upload/): the
 * report database (state files, consent, install id, rate-limit file,
 * directory lock), the HTTP layer (libcurl) and the run loop.
 *
 * Context: normal only (malloc, files, network). Uses only libmayday's
 * public API, so that it links against libmayday.so like any application.
 */
#ifndef MD_UPLOAD_INTERNAL_H
#define MD_UPLOAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mayday/mayday.h"
#include "mayday/upload.h"

/* File names in the report directory (docs/upload.md). None ends in
 * ".mayday" or ".mayday.tmp". */
#define MD_UP_REPORT_SUFFIX ".mayday"
#define MD_UP_STATE_SUFFIX ".upload-state"
#define MD_UP_TMP_SUFFIX ".upload-tmp"
#define MD_UP_CONSENT_FILE "upload-consent"
#define MD_UP_RATE_FILE "upload-ratelimit"
#define MD_UP_INSTALL_ID_FILE "install-id"
#define MD_UP_LOCK_FILE "upload.lock"

/* Requests remembered for the rate limit. */
#define MD_UP_RATE_MAX 4096

int64_t md_up_now_ns(void);
/* A MAYDAY_E* code for an errno value. */
int md_up_errno(int e);

/* ---- db.c: state files */
/* "<dir>/<stem>.upload-state" for "<dir>/<stem>.mayday" (malloc'ed). */
char *md_up_state_path(const char *report_path);
/* Reads the state beside report_path; a missing file is PENDING with no
 * attempts, an unreadable one too (with error "state file unreadable"). */
void md_up_read_state(const char *report_path, mayday_upload_status *st);
/* Writes st as the report's state (temporary file, fsync, rename, fsync
 * of the directory). 0 or an error. */
int md_up_write_state(const char *report_path, const mayday_upload_status *st);
/* Writes a small file atomically (dir/name). */
int md_up_write_file(const char *dir, const char *name, const char *text);
/* Reads up to n-1 bytes of dir/name into buf (terminated). Bytes read, or
 * an error (MAYDAY_ENOENT if missing). */
int md_up_read_file(const char *dir, const char *name, char *buf, size_t n);
/* Takes the directory's uploader lock (flock, non-blocking); the fd or
 * MAYDAY_EBUSY / an error. */
int md_up_lock(const char *dir);
void md_up_unlock(int fd);
/* The install id (16 random bytes, created on first use). */
int md_up_install_id(const char *dir, uint8_t id[16]);
/* Deletes a report and then its state file (in that order: a crash in
 * between leaves an orphan state file, never a report without state). */
int md_up_delete_report(const char *report_path);
/* Deletes state and temporary files whose report is gone. */
void md_up_clean_orphans(const char *dir);

/* ---- ratelimit.c */
typedef struct md_up_rate {
    int64_t sent[MD_UP_RATE_MAX]; /* request times in the last hour */
    size_t n;
    int64_t blocked_until; /* a 429 / Retry-After */
} md_up_rate;
void md_up_rate_load(const char *dir, md_up_rate *r, int64_t now);
int md_up_rate_save(const char *dir, const md_up_rate *r);
/* 1 if one more request is allowed now. */
int md_up_rate_allows(const md_up_rate *r, uint32_t max_per_hour, int64_t now);

/* ---- http.c */
typedef struct md_up_request {
    const mayday_upload_config *cfg;
    const char *report_path;
    const mayday_report *report;
    const char *report_id; /* UUID string */
    const uint8_t *client_id;
    uint32_t attempt;     /* 1 for the first */
    uint32_t interrupted; /* earlier attempts without a recorded end */
} md_up_request;

typedef struct md_up_response {
    int ok;                 /* 2xx */
    int http_status;        /* 0: no answer */
    int64_t retry_after_ns; /* from Retry-After / X-Sentry-Rate-Limits */
    char error[160];
} md_up_response;

int md_up_http_global_init(void);
/* Sends one report as cfg says. 0 when a request was made (see resp), or
 * an error before any request (bad DSN, export failure, no memory). */
int md_up_send(const md_up_request *req, md_up_response *resp);
/* Parses a DSN: the envelope URL and the X-Sentry-Auth header value
 * (malloc'ed). 0 or MAYDAY_EINVAL. */
int md_up_parse_dsn(const char *dsn, char **envelope_url, char **auth);
/* Seconds of a Retry-After value (delta or HTTP date) relative to now;
 * -1 if unparsable. */
int64_t md_up_retry_after_s(const char *value, int64_t now_s);

/* ---- retention.c */
int md_up_retention(const char *dir, const mayday_upload_config *cfg,
                    mayday_upload_result *res);

#endif
