/*
 * export_cmd.c - `mayday export`: a report as a minidump, a Sentry envelope
 * or a Sentry event JSON (docs/integrations.md, docs/mayday.1).
 *
 *   mayday export --format minidump|sentry|sentry-event [-o OUT]
 *                 [--sentry-minidump] [--attach-report] [--release R]
 *                 [--environment E] [--tag KEY=VALUE]... [--dsn DSN]
 *                 [--symbols DIR]... [--no-system-debug] REPORT
 *
 * Sentry frames get function names from the CLI's DWARF symbolicator
 * (the binaries found by build-id, as `mayday decode` does).
 *
 * Context: normal (a standalone program).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/symbolize.h"
#include "mayday/mayday.h"

typedef struct export_args {
    int format;
    const char *out;
    mayday_export_options eo;
    const char **tags;
    size_t ntags;
    const char **dirs;
    size_t ndirs;
    int no_system_debug;
} export_args;

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

static int parse_format(const char *s)
{
    if (strcmp(s, "minidump") == 0)
        return MAYDAY_EXPORT_MINIDUMP;
    if (strcmp(s, "sentry") == 0)
        return MAYDAY_EXPORT_SENTRY_ENVELOPE;
    if (strcmp(s, "sentry-event") == 0)
        return MAYDAY_EXPORT_SENTRY_EVENT;
    return 0;
}

/* Returns the index of REPORT, or -1 after a usage error. */
static int parse(int argc, char **argv, export_args *a)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"sentry-minidump", no_argument, NULL, 'm'},
        {"attach-report", no_argument, NULL, 'a'},
        {"release", required_argument, NULL, 'r'},
        {"environment", required_argument, NULL, 'e'},
        {"tag", required_argument, NULL, 't'},
        {"dsn", required_argument, NULL, 'd'},
        {"symbols", required_argument, NULL, 's'},
        {"no-system-debug", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+f:o:", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!(a->format = parse_format(optarg)))
                return mdc_usage_error("unknown export format", optarg), -1;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'm':
            a->eo.flags |= MAYDAY_EXPORT_SENTRY_MINIDUMP;
            break;
        case 'a':
            a->eo.flags |= MAYDAY_EXPORT_ATTACH_REPORT;
            break;
        case 'r':
            a->eo.release = optarg;
            break;
        case 'e':
            a->eo.environment = optarg;
            break;
        case 't':
            if (!strchr(optarg, '=') || push(&a->tags, &a->ntags, optarg))
                return mdc_usage_error("--tag wants KEY=VALUE", optarg), -1;
            break;
        case 'd':
            a->eo.dsn = optarg;
            break;
        case 's':
            if (push(&a->dirs, &a->ndirs, optarg))
                return mdc_usage_error("out of memory", NULL), -1;
            break;
        case 'n':
            a->no_system_debug = 1;
            break;
        default:
            return mdc_usage_error("unknown or incomplete option",
                                   argv[optind - 1]),
                   -1;
        }
    }
    if (!a->format)
        return mdc_usage_error("export needs --format", NULL), -1;
    if (argc - optind != 1)
        return mdc_usage_error("export needs one REPORT", NULL), -1;
    return optind;
}

/* Writes the export to stdout. */
static int to_stdout(const mayday_report *r, const export_args *a)
{
    void *data;
    size_t len;
    int rc = mayday_report_export(r, a->format, &a->eo, &data, &len);
    if (rc < 0)
        return rc;
    size_t k = fwrite(data, 1, len, stdout);
    free(data);
    return k == len ? 0 : MAYDAY_EIO;
}

int mdc_cmd_export(int argc, char **argv)
{
    export_args a;
    memset(&a, 0, sizeof(a));
    mayday_export_options_init(&a.eo);
    int first = parse(argc, argv, &a);
    if (first < 0) {
        free(a.tags);
        free(a.dirs);
        return MDC_EXIT_USAGE;
    }
    const char *path = argv[first];
    a.eo.tags = a.tags;
    a.eo.report_path = path;
    if (a.format == MAYDAY_EXPORT_MINIDUMP && !a.out && isatty(1)) {
        free(a.tags);
        free(a.dirs);
        return mdc_usage_error("a minidump is binary: give -o FILE", NULL);
    }
    int status = 0;
    mayday_report *r = NULL;
    int rc = mayday_report_load(path, &r);
    mdc_sym *sym = NULL;
    if (rc == 0 && a.format != MAYDAY_EXPORT_MINIDUMP) {
        sym = mdc_sym_new(a.dirs, a.ndirs,
                          a.no_system_debug ? NULL : "/usr/lib/debug");
        if (sym && mdc_sym_load(sym, r) == 0) {
            mayday_format_options fo;
            mayday_format_options_init(&fo);
            mdc_sym_options(sym, &fo);
            a.eo.symbolize = fo.symbolize;
            a.eo.user_data = fo.user_data;
        }
    }
    if (rc == 0)
        rc = a.out ? mayday_report_export_file(r, a.format, &a.eo, a.out)
                   : to_stdout(r, &a);
    if (rc < 0) {
        fprintf(stderr, "mayday: %s: %s\n", a.out && r ? a.out : path,
                mayday_strerror(rc));
        status = r ? MDC_EXIT_OUTPUT : MDC_EXIT_BAD_INPUT;
        if (rc == MAYDAY_ENOTSUP)
            status = MDC_EXIT_BAD_INPUT;
    }
    mdc_sym_free(sym);
    mayday_report_free(r);
    free(a.tags);
    free(a.dirs);
    return status;
}
