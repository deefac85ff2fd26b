/*
 * cli.h - what the `mayday` CLI's subcommands share: exit codes, the
 * parsed options, loading a report from a path or stdin, the
 * symbolicator built from the options, and the subcommands outside
 * main.c.
 *
 * Context: normal (a standalone program).
 */
#ifndef MDC_CLI_H
#define MDC_CLI_H

#include <stddef.h>

#include "cli/symbolize.h"
#include "mayday/mayday.h"

enum {
    EXIT_BAD_INPUT = 1, /* a report could not be read, decoded or purged */
    EXIT_USAGE = 2,     /* bad command line */
    EXIT_OUTPUT = 3,    /* writing the output failed */
    EXIT_STRICT = 4     /* --strict: a crashed thread not symbolicated */
};

typedef enum cli_format { CLI_TEXT, CLI_JSON, CLI_JSONL } cli_format;

typedef struct cli_opts {
    const char **dirs; /* --symbols */
    size_t ndirs;
    cli_format format;
    int no_system_debug, no_debuginfod, strict, brief, source, group;
    int full; /* --full: MAYDAY_FORMAT_FULL_MEMORY (issue 11) */
    size_t module_cache; /* 0: default */
} cli_opts;

/* Parses the options; `allowed` lists the long options the subcommand
 * takes (e.g. "format,strict"); the shared symbol options are always
 * allowed. Returns the index of the first operand, or -1 after a usage
 * error was printed. */
int cli_parse(int argc, char **argv, cli_opts *o, const char *allowed);
int cli_usage_error(const char *msg, const char *arg);

/* path, or "-" for stdin. */
int cli_load(const char *path, mayday_report **r);
mdc_sym *cli_symbolicator(const cli_opts *o);

int cmd_decode(int argc, char **argv);
int cmd_list(int argc, char **argv);

/* --- issue 13: export, upload, consent (export_cmd.c, upload_cmd.c) --- */
enum {
    MDC_EXIT_BAD_INPUT = EXIT_BAD_INPUT,
    MDC_EXIT_USAGE = EXIT_USAGE,
    MDC_EXIT_OUTPUT = EXIT_OUTPUT,
    MDC_EXIT_UPLOAD = 4 /* some report could not be uploaded (kept) */
};
#define mdc_usage_error cli_usage_error
int mdc_cmd_export(int argc, char **argv);
int mdc_cmd_upload(int argc, char **argv);
int mdc_cmd_consent(int argc, char **argv);
/* The upload state of a report for `mayday list`, e.g. "failed(2,12:00Z)". */
void mdc_state_text(const char *path, char *buf, size_t n);

#endif
