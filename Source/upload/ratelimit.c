/*
 * ratelimit.c - the directory's rate-limit file ("upload-ratelimit"): the
 * times of the requests made in the last hour and the time until which a
 * server asked us to wait (429 + Retry-After, Sentry's X-Sentry-Rate-Limits).
 * Kept across runs, so that "at most N per hour" holds for an application
 * that starts many times an hour. Rewritten atomically (db.c).
 *
 *   blocked_until=<ns>
 *   sent=<ns>          (one line per request, oldest first)
 *
 * Context: normal only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upload/upload_internal.h"

#define HOUR_NS ((int64_t)3600 * 1000000000)

void md_up_rate_load(const char *dir, md_up_rate *r, int64_t now)
{
    memset(r, 0, sizeof(*r));
    size_t cap = 64 + (size_t)MD_UP_RATE_MAX * 32;
    char *text = malloc(cap);
    if (!text)
        return;
    int rc = md_up_read_file(dir, MD_UP_RATE_FILE, text, cap);
    for (char *l = rc > 0 ? text : NULL; l && *l;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        int64_t v;
        if (sscanf(l, "sent=%" SCNd64, &v) == 1) {
            /* Only the last hour counts; a time in the future (clock set
             * back) counts as now. */
            if (v > now)
                v = now;
            if (v > now - HOUR_NS && r->n < MD_UP_RATE_MAX)
                r->sent[r->n++] = v;
        } else if (sscanf(l, "blocked_until=%" SCNd64, &v) == 1) {
            r->blocked_until = v;
        }
        l = e ? e + 1 : NULL;
    }
    free(text);
}

int md_up_rate_save(const char *dir, const md_up_rate *r)
{
    size_t cap = 64 + r->n * 32;
    char *text = malloc(cap);
    if (!text)
        return MAYDAY_ENOMEM;
    size_t o = (size_t)snprintf(text, cap, "blocked_until=%" PRId64 "\n",
                                r->blocked_until);
    for (size_t i = 0; i < r->n && o < cap; i++)
        o += (size_t)snprintf(text + o, cap - o, "sent=%" PRId64 "\n",
                              r->sent[i]);
    int rc = md_up_write_file(dir, MD_UP_RATE_FILE, text);
    free(text);
    return rc;
}

int md_up_rate_allows(const md_up_rate *r, uint32_t max_per_hour, int64_t now)
{
    if (r->blocked_until > now)
        return 0;
    if (max_per_hour == 0)
        return 1;
    size_t recent = 0;
    for (size_t i = 0; i < r->n; i++)
        recent += r->sent[i] > now - HOUR_NS;
    return recent < max_per_hour;
}
