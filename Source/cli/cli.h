/*
 * cli.h - what the `mayday` CLI's command files share: exit codes, the
 * usage-error helper and the subcommands outside main.c.
 *
 * Context: normal (the CLI program).
 */
#ifndef MDC_CLI_H
#define MDC_CLI_H

#include <stddef.h>

enum {
    MDC_EXIT_BAD_INPUT = 1, /* a report could not be read, decoded or purged */
    MDC_EXIT_USAGE = 2,     /* bad command line */
    MDC_EXIT_OUTPUT = 3,    /* writing the output failed */
    MDC_EXIT_UPLOAD = 4     /* some report could not be uploaded (kept) */
};

/* Prints "mayday: msg: arg (try 'mayday --help')"; returns MDC_EXIT_USAGE. */
int mdc_usage_error(const char *msg, const char *arg);

int mdc_cmd_export(int argc, char **argv);
int mdc_cmd_upload(int argc, char **argv);
int mdc_cmd_consent(int argc, char **argv);
/* The upload state of a report for `mayday list`, e.g. "failed(2,12:00Z)". */
void mdc_state_text(const char *path, char *buf, size_t n);

#endif
