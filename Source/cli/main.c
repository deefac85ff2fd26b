/*
 * main.c - the `mayday` command-line tool: option parsing shared by the
 * subcommands, decode (decode.c), list (listcmd.c), purge.
 * See docs/mayday.1 for usage and exit codes.
 *
 * Context: normal (a standalone program).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "mayday/mayday.h"

#define MAX_STDIN ((size_t)300 << 20)

static void usage(FILE *f)
{
    fputs("usage: mayday decode [--format text|json|jsonl] [--brief] "
          "[--source] [--strict] [--full]\n"
          "                     [SYMBOL OPTIONS] FILE|DIR...\n"
          "       mayday list [--group] [SYMBOL OPTIONS] DIR\n"
          "       mayday purge DIR|FILE...\n"
          "       mayday export --format minidump|sentry|sentry-event "
          "[-o OUT] [OPTION]... FILE\n"
          "       mayday upload --sentry DSN|--minidump-url URL|--raw-url URL "
          "[OPTION]... DIR\n"
          "       mayday consent DIR [granted|denied|unknown]\n"
          "       mayday --help | --version\n"
          "\n"
          "  decode   print reports as text (default), JSON (one object; "
          "several\n"
          "           reports: JSON Lines) or JSON Lines; a DIR means every "
          "report\n"
          "           in it, oldest first; FILE - reads stdin\n"
          "  list     one line per report in DIR, oldest first: time, "
          "signal,\n"
          "           crashed function, upload state, path (corrupt reports "
          "are\n"
          "           marked); --group: reports counted per crash signature\n"
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
          "  --brief             the crashed thread only\n"
          "  --full              text: every stack in full, attachments "
          "whole\n"
          "  --source            source lines around the crashed frame\n"
          "  --strict            exit 4 if a frame of the crashed thread "
          "has no symbol\n"
          "symbol options:\n"
          "  --symbols DIR       look up binaries and debug files by "
          "build-id in DIR\n"
          "                      (flat, or a .build-id/xx/yyyy.debug tree); "
          "repeatable\n"
          "  --no-system-debug   do not look in /usr/lib/debug\n"
          "  --no-debuginfod     do not ask debuginfod servers "
          "(DEBUGINFOD_URLS)\n"
          "  --debuginfod-cache DIR  debuginfod's download cache "
          "(DEBUGINFOD_CACHE_PATH)\n"
          "  --module-cache N    binaries kept loaded across reports "
          "(default 64)\n"
          "\n"
          "exit status: 0 ok, 1 a report could not be read/decoded/purged,\n"
          "             2 usage error, 3 output error, 4 --strict: not "
          "symbolicated\n",
          f);
}

int cli_usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "mayday: %s%s%s (try 'mayday --help')\n", msg,
            arg ? ": " : "", arg ? arg : "");
    return EXIT_USAGE;
}

/* 1 if the long option `name` is in the comma list `allowed`. */
static int allowed_opt(const char *allowed, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = allowed; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int cli_parse(int argc, char **argv, cli_opts *o, const char *allowed)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"symbols", required_argument, NULL, 's'},
        {"no-system-debug", no_argument, NULL, 'n'},
        {"no-debuginfod", no_argument, NULL, 'D'},
        {"debuginfod-cache", required_argument, NULL, 'C'},
        {"module-cache", required_argument, NULL, 'M'},
        {"strict", no_argument, NULL, 'S'},
        {"brief", no_argument, NULL, 'b'},
        {"source", no_argument, NULL, 'c'},
        {"group", no_argument, NULL, 'g'},
        {"full", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c, li = -1;
    while ((c = getopt_long(argc, argv, "+f:s:h", lo, &li)) != -1) {
        const char *name = NULL;
        for (size_t i = 0; lo[i].name; i++)
            if (lo[i].val == c)
                name = lo[i].name;
        if (name && strchr("fMSbcgF", c) && !allowed_opt(allowed, name))
            return cli_usage_error("option not valid here", argv[optind - 1]),
                   -1;
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                o->format = CLI_JSON;
            else if (strcmp(optarg, "jsonl") == 0)
                o->format = CLI_JSONL;
            else if (strcmp(optarg, "text") == 0)
                o->format = CLI_TEXT;
            else
                return cli_usage_error("unknown format", optarg), -1;
            break;
        case 's': {
            const char **nd = realloc(o->dirs, (o->ndirs + 1) * sizeof(*nd));
            if (!nd)
                return cli_usage_error("out of memory", NULL), -1;
            o->dirs = nd;
            o->dirs[o->ndirs++] = optarg;
            break;
        }
        case 'n':
            o->no_system_debug = 1;
            break;
        case 'D':
            o->no_debuginfod = 1;
            break;
        case 'C':
            setenv("DEBUGINFOD_CACHE_PATH", optarg, 1);
            break;
        case 'M': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000)
                return cli_usage_error("bad --module-cache", optarg), -1;
            o->module_cache = (size_t)v;
            break;
        }
        case 'S':
            o->strict = 1;
            break;
        case 'b':
            o->brief = 1;
            break;
        case 'c':
            o->source = 1;
            break;
        case 'g':
            o->group = 1;
            break;
        case 'F':
            o->full = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return cli_usage_error("unknown or incomplete option",
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

int cli_load(const char *path, mayday_report **r)
{
    if (strcmp(path, "-") == 0)
        return read_stdin(r);
    return mayday_report_load(path, r);
}

mdc_sym *cli_symbolicator(const cli_opts *o)
{
    mdc_sym_opts so = {.dirs = o->dirs,
                       .ndirs = o->ndirs,
                       .debug_dir =
                           o->no_system_debug ? NULL : "/usr/lib/debug",
                       .debuginfod = !o->no_debuginfod,
                       .max_modules = o->module_cache};
    return mdc_sym_new_opts(&so);
}

static int cmd_purge(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("purge needs a DIR or FILE", NULL);
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
        return cli_usage_error("missing command", NULL);
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
        return cli_usage_error("unknown command", cmd);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc != EXIT_OUTPUT)
            fprintf(stderr, "mayday: write error: %s\n", strerror(errno));
        return EXIT_OUTPUT;
    }
    return rc;
}
