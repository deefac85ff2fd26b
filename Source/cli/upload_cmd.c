/*
 * upload_cmd.c - `mayday upload` (send a directory's pending reports
 * through libmayday-upload's database), `mayday consent` (the per-install
 * consent setting), and the state column of `mayday list`.
 * docs/mayday.1 and docs/integrations.md give the commands.
 *
 * Context: normal (a standalone program).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/symbolize.h"
#include "mayday/upload.h"

typedef struct up_args {
    mayday_upload_config uc;
    const char **tags, **dirs;
    size_t ntags, ndirs;
    int no_system_debug, quiet;
} up_args;

static int push(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
    if (!nv)
        return -1;
    nv[(*n)++] = s;
    nv[*n] = NULL;
    *v = nv;
    return 0;
}

/* A non-negative number of seconds (fractions allowed) as ms. */
static int seconds_ms(const char *s, uint32_t *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0 || v > 4e6)
        return -1;
    *ms = (uint32_t)(v * 1000.0 + 0.5);
    return 0;
}

static int count(const char *s, uint32_t *v)
{
    char *end;
    unsigned long x = strtoul(s, &end, 10);
    if (end == s || *end || x > 1000000000ul || s[0] == '-')
        return -1;
    *v = (uint32_t)x;
    return 0;
}

static int set_endpoint(up_args *a, uint32_t kind, const char *url)
{
    if (a->uc.kind)
        return mdc_usage_error("give one of --sentry, --minidump-url, "
                               "--raw-url",
                               NULL);
    a->uc.kind = kind;
    a->uc.url = url;
    return 0;
}

static int option(up_args *a, int c, const char *arg)
{
    mayday_upload_config *u = &a->uc;
    switch (c) {
    case 'S':
        return set_endpoint(a, MAYDAY_UPLOAD_SENTRY, arg);
    case 'M':
        return set_endpoint(a, MAYDAY_UPLOAD_MINIDUMP, arg);
    case 'R':
        return set_endpoint(a, MAYDAY_UPLOAD_RAW, arg);
    case 'm':
        u->flags |= MAYDAY_UPLOAD_SENTRY_MINIDUMP;
        return 0;
    case 'a':
        u->flags |= MAYDAY_UPLOAD_ATTACH_REPORT;
        return 0;
    case 'k':
        u->flags |= MAYDAY_UPLOAD_INSECURE;
        return 0;
    case 'P':
        u->flags |= MAYDAY_UPLOAD_PURGE_AFTER;
        return 0;
    case 'T':
        return seconds_ms(arg, &u->timeout_ms);
    case 'C':
        return seconds_ms(arg, &u->connect_timeout_ms);
    case 'B':
        return seconds_ms(arg, &u->backoff_base_ms);
    case 'X':
        return seconds_ms(arg, &u->backoff_max_ms);
    case 'H':
        return count(arg, &u->max_per_hour);
    case 'A':
        return count(arg, &u->max_attempts);
    case 'D':
        return count(arg, &u->keep_uploaded_days);
    case 'N':
        return count(arg, &u->keep_max);
    case 'r':
        u->release = arg;
        return 0;
    case 'e':
        u->environment = arg;
        return 0;
    case 't':
        return strchr(arg, '=') ? push(&a->tags, &a->ntags, arg) : -1;
    case 'c':
        u->ca_file = arg;
        return 0;
    case 'p':
        u->proxy = arg;
        return 0;
    case 's':
        return push(&a->dirs, &a->ndirs, arg);
    case 'n':
        a->no_system_debug = 1;
        return 0;
    case 'q':
        a->quiet = 1;
        return 0;
    default:
        return -1;
    }
}

static int parse(int argc, char **argv, up_args *a)
{
    static const struct option lo[] = {
        {"sentry", required_argument, NULL, 'S'},
        {"minidump-url", required_argument, NULL, 'M'},
        {"raw-url", required_argument, NULL, 'R'},
        {"sentry-minidump", no_argument, NULL, 'm'},
        {"attach-report", no_argument, NULL, 'a'},
        {"insecure", no_argument, NULL, 'k'},
        {"purge-after-upload", no_argument, NULL, 'P'},
        {"timeout", required_argument, NULL, 'T'},
        {"connect-timeout", required_argument, NULL, 'C'},
        {"backoff", required_argument, NULL, 'B'},
        {"backoff-max", required_argument, NULL, 'X'},
        {"max-per-hour", required_argument, NULL, 'H'},
        {"max-attempts", required_argument, NULL, 'A'},
        {"keep-uploaded-days", required_argument, NULL, 'D'},
        {"keep", required_argument, NULL, 'N'},
        {"release", required_argument, NULL, 'r'},
        {"environment", required_argument, NULL, 'e'},
        {"tag", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'c'},
        {"proxy", required_argument, NULL, 'p'},
        {"symbols", required_argument, NULL, 's'},
        {"no-system-debug", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+q", lo, NULL)) != -1) {
        if (c == '?' || c == ':' || option(a, c, optarg) < 0)
            return mdc_usage_error("bad or incomplete option",
                                   argv[optind - 1]),
                   -1;
    }
    if (!a->uc.kind)
        return mdc_usage_error("upload needs --sentry, --minidump-url or "
                               "--raw-url",
                               NULL),
               -1;
    if (argc - optind != 1)
        return mdc_usage_error("upload needs one DIR", NULL), -1;
    return optind;
}

/* The CLI's symbolicator for Sentry frames: mdc_sym_load() for each new
 * report the uploader hands it (told apart by pointer and UUID). */
typedef struct up_sym {
    mdc_sym *sym;
    const mayday_report *last;
    char uuid[40];
    mayday_format_options fo;
} up_sym;

static int up_symbolize(void *ud, const mayday_report *r, uint32_t image,
                        uint64_t pc, int context, mayday_symbol *out,
                        size_t max)
{
    up_sym *u = ud;
    mayday_report_info info;
    info.size = sizeof(info);
    if (mayday_report_get_info(r, &info) < 0)
        return 0;
    if (r != u->last || strcmp(info.uuid, u->uuid) != 0) {
        mayday_format_options_init(&u->fo);
        if (mdc_sym_load(u->sym, r) == 0)
            mdc_sym_options(u->sym, &u->fo);
        u->last = r;
        snprintf(u->uuid, sizeof(u->uuid), "%s", info.uuid);
    }
    if (!u->fo.symbolize)
        return 0;
    return u->fo.symbolize(u->fo.user_data, r, image, pc, context, out, max);
}

static void print_result(const mayday_upload_result *r)
{
    printf("uploaded %u, failed %u, deferred %u, rate-limited %u, "
           "not consented %u, corrupt %u, gave up %u, purged %u\n",
           r->uploaded, r->failed, r->deferred, r->rate_limited,
           r->not_consented, r->corrupt, r->gave_up, r->purged);
    if (r->not_consented)
        printf("consent is not granted: nothing was sent "
               "(mayday consent DIR granted)\n");
}

static void on_event(int ev, const char *path, void *ud)
{
    if (*(int *)ud)
        return;
    if (ev == MAYDAY_UPLOAD_EV_UPLOADED)
        printf("uploaded %s\n", path);
    else if (ev == MAYDAY_UPLOAD_EV_FAILED) {
        mayday_upload_status st;
        st.size = sizeof(st);
        mayday_upload_get_status(path, &st);
        printf("failed   %s: %s (attempt %u%s)\n", path, st.error, st.attempts,
               st.gave_up ? ", giving up" : "");
    } else if (ev == MAYDAY_UPLOAD_EV_PURGED)
        printf("purged   %s\n", path);
}

int mdc_cmd_upload(int argc, char **argv)
{
    up_args a;
    memset(&a, 0, sizeof(a));
    mayday_upload_config_init(&a.uc);
    int first = parse(argc, argv, &a);
    if (first < 0) {
        free(a.tags);
        free(a.dirs);
        return MDC_EXIT_USAGE;
    }
    const char *dir = argv[first];
    a.uc.tags = a.tags;
    a.uc.on_event = on_event;
    a.uc.on_event_data = &a.quiet;
    up_sym us;
    memset(&us, 0, sizeof(us));
    if (a.uc.kind == MAYDAY_UPLOAD_SENTRY &&
        !(a.uc.flags & MAYDAY_UPLOAD_SENTRY_MINIDUMP)) {
        us.sym = mdc_sym_new(a.dirs, a.ndirs,
                             a.no_system_debug ? NULL : "/usr/lib/debug");
        if (us.sym) {
            a.uc.symbolize = up_symbolize;
            a.uc.symbolize_data = &us;
        }
    }
    mayday_upload_result res;
    res.size = sizeof(res);
    int rc = mayday_upload_pending(dir, &a.uc, &res);
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "mayday: %s: %s\n", dir, mayday_strerror(rc));
        status = rc == MAYDAY_EINVAL ? MDC_EXIT_USAGE : MDC_EXIT_BAD_INPUT;
    } else {
        print_result(&res);
        if (res.failed)
            status = MDC_EXIT_UPLOAD;
        else if (res.corrupt)
            status = MDC_EXIT_BAD_INPUT;
    }
    mdc_sym_free(us.sym);
    free(a.tags);
    free(a.dirs);
    return status;
}

int mdc_cmd_consent(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return mdc_usage_error("consent needs DIR [granted|denied|unknown]",
                               NULL);
    const char *dir = argv[1];
    if (argc == 3) {
        int v = strcmp(argv[2], "granted") == 0   ? MAYDAY_CONSENT_GRANTED
                : strcmp(argv[2], "denied") == 0  ? MAYDAY_CONSENT_DENIED
                : strcmp(argv[2], "unknown") == 0 ? MAYDAY_CONSENT_UNKNOWN
                                                  : -1;
        if (v < 0)
            return mdc_usage_error("consent is granted, denied or unknown",
                                   argv[2]);
        int rc = mayday_upload_set_consent(dir, v);
        if (rc < 0) {
            fprintf(stderr, "mayday: %s: %s\n", dir, mayday_strerror(rc));
            return MDC_EXIT_BAD_INPUT;
        }
    }
    int c = mayday_upload_get_consent(dir);
    if (c < 0) {
        fprintf(stderr, "mayday: %s: %s\n", dir, mayday_strerror(c));
        return MDC_EXIT_BAD_INPUT;
    }
    printf("%s\n", c == MAYDAY_CONSENT_GRANTED  ? "granted"
                   : c == MAYDAY_CONSENT_DENIED ? "denied"
                                                : "unknown");
    return 0;
}

void mdc_state_text(const char *path, char *buf, size_t n)
{
    mayday_upload_status st;
    st.size = sizeof(st);
    if (mayday_upload_get_status(path, &st) < 0) {
        snprintf(buf, n, "?");
        return;
    }
    const char *name = mayday_upload_state_name(st.state);
    if (st.state == MAYDAY_UPLOAD_FAILED) {
        char t[32] = "-";
        time_t sec = (time_t)(st.next_try_unix_ns / 1000000000);
        struct tm tm;
        if (!st.gave_up && gmtime_r(&sec, &tm))
            strftime(t, sizeof(t), "%H:%M:%SZ", &tm);
        snprintf(buf, n, "failed(%u,%s)", st.attempts,
                 st.gave_up ? "gave-up" : t);
    } else if (st.state == MAYDAY_UPLOAD_UPLOADED && st.interrupted) {
        snprintf(buf, n, "uploaded(%u,dup?)", st.attempts);
    } else if (st.state == MAYDAY_UPLOAD_UPLOADING) {
        snprintf(buf, n, "uploading(%u)", st.attempts);
    } else {
        snprintf(buf, n, "%s", name);
    }
}
