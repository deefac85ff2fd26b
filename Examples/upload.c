/*
 * upload.c - example: at startup, send every pending report to a server as
 * an HTTP multipart/form-data POST (libcurl), and purge a report only after
 * the server answered 2xx. On any failure (connection refused or dropped,
 * timeout, non-2xx answer) the report is kept for the next launch.
 *
 *   upload URL DIR
 *
 * Form fields: "report" (the .mayday file, application/octet-stream) and,
 * for the server's convenience, "uuid", "app_id", "app_version", "signal".
 *
 * Exit status: 0 all sent (or none pending), 1 some kept, 2 usage.
 * Context: normal (a standalone program using only the public API).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <mayday/mayday.h>

/* Discards the response body (keeps libcurl from writing it to stdout). */
static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

/* 0 if the server took the report (2xx), -1 otherwise. */
static int post_report(CURL *curl, const char *url, const char *path,
                       const mayday_report_info *info)
{
    curl_mime *mime = curl_mime_init(curl);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "report");
    curl_mime_filedata(part, path);
    curl_mime_type(part, "application/octet-stream");
    const char *fields[][2] = {
        {"uuid", info->uuid},
        {"app_id", info->app_id},
        {"app_version", info->app_version},
        {"signal", info->live ? "live" : info->signal_name},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, fields[i][0]);
        curl_mime_data(part, fields[i][1], CURL_ZERO_TERMINATED);
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_mime_free(mime);
    if (cc != CURLE_OK) {
        fprintf(stderr, "upload: %s: %s (kept)\n", path,
                curl_easy_strerror(cc));
        return -1;
    }
    if (code < 200 || code > 299) {
        fprintf(stderr, "upload: %s: server answered %ld (kept)\n", path, code);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: upload URL DIR\n");
        return 2;
    }
    const char *url = argv[1], *dir = argv[2];
    char **paths;
    size_t n;
    int rc = mayday_reports_list(dir, &paths, &n);
    if (rc == MAYDAY_ENOENT)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "upload: %s: %s\n", dir, mayday_strerror(rc));
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        mayday_reports_list_free(paths, n);
        return 1;
    }
    CURL *curl = curl_easy_init();
    int status = curl ? 0 : 1;
    for (size_t i = 0; i < n && curl; i++) {
        mayday_report *r;
        rc = mayday_report_load(paths[i], &r);
        if (rc < 0) {
            /* Not sent: a server cannot use it either. Kept for a person
             * to look at (`mayday list` marks it). */
            fprintf(stderr, "upload: %s: %s (kept)\n", paths[i],
                    mayday_strerror(rc));
            status = 1;
            continue;
        }
        mayday_report_info info;
        info.size = sizeof(info);
        mayday_report_get_info(r, &info);
        if (post_report(curl, url, paths[i], &info) == 0) {
            rc = mayday_report_purge(paths[i]);
            if (rc < 0) {
                fprintf(stderr, "upload: purge %s: %s\n", paths[i],
                        mayday_strerror(rc));
                status = 1;
            } else {
                printf("sent %s\n", paths[i]);
            }
        } else {
            status = 1;
        }
        mayday_report_free(r);
    }
    if (curl)
        curl_easy_cleanup(curl);
    curl_global_cleanup();
    mayday_reports_list_free(paths, n);
    return status;
}
