/*
 * main.c - the `mayday` command-line tool: decode reports to text or JSON
 * with offline symbolication, list pending reports, purge them.
 * See docs/mayday.1 for usage and exit codes.
 *
 * Context: normal (a standalone program).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/symbolize.h"
#include "mayday.pb-c.h"
#include "mayday/mayday.h"
#include "normal/reader/reader.h"

enum {
    EXIT_BAD_INPUT = MDC_EXIT_BAD_INPUT,
    EXIT_USAGE = MDC_EXIT_USAGE,
    EXIT_OUTPUT = MDC_EXIT_OUTPUT
};

#define MAX_STDIN ((size_t)300 << 20)

static void usage(FILE *f)
{
    fputs("usage: mayday decode [--format text|json] [--symbols DIR]... "
          "[--no-system-debug] FILE...\n"
          "       mayday list [--symbols DIR]... DIR\n"
          "       mayday purge DIR|FILE...\n"
          "       mayday export --format minidump|sentry|sentry-event "
          "[-o OUT] [OPTION]... FILE\n"
          "       mayday upload --sentry DSN|--minidump-url URL|--raw-url URL "
          "[OPTION]... DIR\n"
          "       mayday consent DIR [granted|denied|unknown]\n"
          "       mayday --help | --version\n"
          "\n"
          "  decode   print reports as text (default) or JSON; FILE - reads "
          "stdin\n"
          "  list     one line per report in DIR, oldest first: time, "
          "signal,\n"
          "           crashed function, upload state, path (corrupt reports "
          "are marked)\n"
          "  upload   send DIR's pending reports (consent, rate limit, "
          "retries,\n"
          "           retention: see mayday(1) and docs/integrations.md)\n"
          "  consent  show or set whether DIR's reports may be uploaded\n"
          "  purge    delete reports (only files that are mayday reports)\n"
          "  export   a report as a minidump, a Sentry envelope or event "
          "JSON;\n"
          "           options: --sentry-minidump --attach-report --release R\n"
          "           --environment E --tag K=V --dsn DSN --symbols DIR\n"
          "\n"
          "  --symbols DIR       look up binaries and debug files by "
          "build-id in DIR\n"
          "                      (flat, or a .build-id/xx/yyyy.debug tree); "
          "repeatable\n"
          "  --no-system-debug   do not look in /usr/lib/debug\n"
          "\n"
          "exit status: 0 ok, 1 a report could not be read/decoded/purged,\n"
          "             2 usage error, 3 output error\n",
          f);
}

int mdc_usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "mayday: %s%s%s (try 'mayday --help')\n", msg,
            arg ? ": " : "", arg ? arg : "");
    return EXIT_USAGE;
}

#define usage_error mdc_usage_error

typedef struct cli_opts {
    const char **dirs;
    size_t ndirs;
    int json;
    int no_system_debug;
} cli_opts;

/* Parses the options shared by the subcommands; returns the index of the
 * first operand, or -1 after printing a usage error. */
static int parse_opts(int argc, char **argv, cli_opts *o, int allow_format)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"symbols", required_argument, NULL, 's'},
        {"no-system-debug", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+f:s:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!allow_format)
                return usage_error("--format is only for decode", NULL), -1;
            if (strcmp(optarg, "json") == 0)
                o->json = 1;
            else if (strcmp(optarg, "text") == 0)
                o->json = 0;
            else
                return usage_error("unknown format", optarg), -1;
            break;
        case 's': {
            const char **nd = realloc(o->dirs, (o->ndirs + 1) * sizeof(*nd));
            if (!nd)
                return usage_error("out of memory", NULL), -1;
            o->dirs = nd;
            o->dirs[o->ndirs++] = optarg;
            break;
        }
        case 'n':
            o->no_system_debug = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return usage_error("unknown or incomplete option",
                               argv[optind - 1]),
                   -1;
        }
    }
    return optind;
}

static int read_stdin(mayday_report **out)
{
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_STDIN) {
                free(buf);
                return MAYDAY_ECORRUPT;
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, stdin);
        n += k;
        if (k == 0) {
            int rc =
                ferror(stdin) ? MAYDAY_EIO : mayday_report_parse(buf, n, out);
            free(buf);
            return rc;
        }
    }
    free(buf);
    return MAYDAY_ENOMEM;
}

static int load(const char *path, mayday_report **r)
{
    if (strcmp(path, "-") == 0)
        return read_stdin(r);
    return mayday_report_load(path, r);
}

static int cmd_decode(int argc, char **argv)
{
    cli_opts o = {0};
    int first = parse_opts(argc, argv, &o, 1);
    if (first < 0)
        return EXIT_USAGE;
    if (first >= argc)
        return free(o.dirs), usage_error("decode needs a FILE", NULL);
    mdc_sym *sym = mdc_sym_new(o.dirs, o.ndirs,
                               o.no_system_debug ? NULL : "/usr/lib/debug");
    if (!sym)
        return free(o.dirs), EXIT_BAD_INPUT;
    int status = 0, nout = 0, many = argc - first > 1;
    if (o.json && many)
        fputs("[\n", stdout);
    for (int i = first; i < argc; i++) {
        mayday_report *r = NULL;
        int rc = load(argv[i], &r);
        if (rc < 0) {
            fprintf(stderr, "mayday: %s: %s\n", argv[i], mayday_strerror(rc));
            status = EXIT_BAD_INPUT;
            continue;
        }
        mayday_format_options fo;
        mayday_format_options_init(&fo);
        if (mdc_sym_load(sym, r) == 0)
            mdc_sym_options(sym, &fo);
        if (nout > 0)
            fputs(o.json ? ",\n" : "\n", stdout);
        if (!o.json && many)
            printf("==> %s <==\n", argv[i]);
        rc = mayday_report_format_ex(
            r, o.json ? MAYDAY_FORMAT_JSON : MAYDAY_FORMAT_TEXT, &fo, stdout);
        nout++;
        mayday_report_free(r);
        if (rc < 0) {
            fprintf(stderr, "mayday: write error: %s\n", strerror(errno));
            status = EXIT_OUTPUT;
            break;
        }
    }
    if (o.json && many && status != EXIT_OUTPUT)
        fputs("]\n", stdout);
    mdc_sym_free(sym);
    free(o.dirs);
    return status;
}

/* The crashed thread's innermost function, or image+offset, into buf. */
static void crashed_function(mdc_sym *sym, const mayday_report *rep, char *buf,
                             size_t n)
{
    const Mayday__Report *r = md_report_pb(rep);
    snprintf(buf, n, "?");
    size_t ti = r->has_crashed_thread ? r->crashed_thread : 0;
    if (ti >= r->n_threads || r->threads[ti]->n_frames == 0)
        return;
    const Mayday__Frame *f = r->threads[ti]->frames[0];
    if (!f->has_image)
        return;
    mayday_format_options fo;
    mayday_format_options_init(&fo);
    mdc_sym_options(sym, &fo);
    mayday_symbol s[16];
    memset(s, 0, sizeof(s));
    for (size_t i = 0; i < 16; i++)
        s[i].size = sizeof(s[i]);
    int context = !f->has_trust || f->trust == MAYDAY__TRUST__TRUST_CONTEXT;
    int k = fo.symbolize(fo.user_data, rep, f->image, f->pc, context, s, 16);
    if (k > 0 && s[0].function) {
        snprintf(buf, n, "%s", s[0].function);
        return;
    }
    const Mayday__Image *m = r->images[f->image];
    const char *nm = m->path ? strrchr(m->path, '/') : NULL;
    nm = nm ? nm + 1 : (m->path ? m->path : "?");
    snprintf(buf, n, "%s+0x%" PRIx64, nm,
             f->pc - (m->has_load_bias ? m->load_bias : m->address));
}

static int cmd_list(int argc, char **argv)
{
    cli_opts o = {0};
    int first = parse_opts(argc, argv, &o, 0);
    if (first < 0)
        return EXIT_USAGE;
    if (argc - first != 1)
        return free(o.dirs), usage_error("list needs one DIR", NULL);
    const char *dir = argv[first];
    char **paths = NULL;
    size_t n = 0;
    int rc = mayday_reports_list(dir, &paths, &n);
    if (rc < 0) {
        fprintf(stderr, "mayday: %s: %s\n", dir, mayday_strerror(rc));
        free(o.dirs);
        return EXIT_BAD_INPUT;
    }
    mdc_sym *sym = mdc_sym_new(o.dirs, o.ndirs,
                               o.no_system_debug ? NULL : "/usr/lib/debug");
    for (size_t i = 0; i < n && sym; i++) {
        mayday_report *r = NULL;
        rc = mayday_report_load(paths[i], &r);
        if (rc < 0) {
            printf("%-20s  %-9s  %-32s  %-18s  %s  (%s)\n", "-", "CORRUPT", "-",
                   "-", paths[i], mayday_strerror(rc));
            continue;
        }
        mayday_report_info info;
        info.size = sizeof(info);
        mayday_report_get_info(r, &info);
        char t[32] = "-", fn[256];
        time_t sec = (time_t)(info.time_unix_ns / 1000000000);
        struct tm tm;
        if (info.time_unix_ns > 0 && gmtime_r(&sec, &tm))
            strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
        mdc_sym_load(sym, r);
        crashed_function(sym, r, fn, sizeof(fn));
        const char *sig = info.live             ? "live"
                          : info.signal_name[0] ? info.signal_name
                                                : "?";
        char state[64];
        mdc_state_text(paths[i], state, sizeof(state));
        printf("%-20s  %-9s  %-32s  %-18s  %s\n", t, sig, fn, state, paths[i]);
        mayday_report_free(r);
    }
    mdc_sym_free(sym);
    mayday_reports_list_free(paths, n);
    free(o.dirs);
    return 0;
}

static int cmd_purge(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("purge needs a DIR or FILE", NULL);
    int status = 0;
    size_t purged = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            char **paths = NULL;
            size_t n = 0;
            int rc = mayday_reports_list(argv[i], &paths, &n);
            if (rc < 0) {
                fprintf(stderr, "mayday: %s: %s\n", argv[i],
                        mayday_strerror(rc));
                status = EXIT_BAD_INPUT;
                continue;
            }
            for (size_t k = 0; k < n; k++) {
                rc = mayday_report_purge(paths[k]);
                if (rc < 0) {
                    fprintf(stderr, "mayday: %s: %s\n", paths[k],
                            mayday_strerror(rc));
                    status = EXIT_BAD_INPUT;
                } else {
                    purged++;
                }
            }
            mayday_reports_list_free(paths, n);
        } else {
            int rc = mayday_report_purge(argv[i]);
            if (rc < 0) {
                fprintf(stderr, "mayday: %s: %s\n", argv[i],
                        mayday_strerror(rc));
                status = EXIT_BAD_INPUT;
            } else {
                purged++;
            }
        }
    }
    printf("purged %zu report%s\n", purged, purged == 1 ? "" : "s");
    return status;
}

int main(int argc, char **argv)
{
    /* A closed pipe is an output error (exit 3), not a death by signal. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return usage_error("missing command", NULL);
    const char *cmd = argv[1];
    int rc;
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        rc = 0;
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("mayday %s\n", mayday_version());
        rc = 0;
    } else if (strcmp(cmd, "decode") == 0) {
        rc = cmd_decode(argc - 1, argv + 1);
    } else if (strcmp(cmd, "list") == 0) {
        rc = cmd_list(argc - 1, argv + 1);
    } else if (strcmp(cmd, "purge") == 0) {
        rc = cmd_purge(argc - 1, argv + 1);
    } else if (strcmp(cmd, "export") == 0) {
        rc = mdc_cmd_export(argc - 1, argv + 1);
    } else if (strcmp(cmd, "upload") == 0) {
        rc = mdc_cmd_upload(argc - 1, argv + 1);
    } else if (strcmp(cmd, "consent") == 0) {
        rc = mdc_cmd_consent(argc - 1, argv + 1);
    } else {
        return usage_error("unknown command", cmd);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc != EXIT_OUTPUT)
            fprintf(stderr, "mayday: write error: %s\n", strerror(errno));
        return EXIT_OUTPUT;
    }
    return rc;
}
