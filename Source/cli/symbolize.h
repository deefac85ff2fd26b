/*
 * symbolize.h - offline symbolication for the `mayday` CLI with elfutils
 * (libdwfl/libdw): maps each image of a report to a module (symmod.h)
 * found by build-id (symfind.h says where files are looked for), and
 * gives the formatters their callbacks (frames, image notes, per-image
 * status).
 *
 * Modules are kept across reports, keyed by build-id, at most
 * max_modules of them (least recently used ones are closed first; the
 * current report's are never closed), so that a batch of reports from
 * the same program loads each binary's debug info once.
 *
 * Context: normal (CLI only; libmayday itself does not depend on libdw:
 * the formatters reach this code through mayday_format_options callbacks).
 */
#ifndef MDC_SYMBOLIZE_H
#define MDC_SYMBOLIZE_H

#include <stddef.h>

#include "cli/symmod.h"
#include "mayday/mayday.h"

typedef struct mdc_sym mdc_sym;

typedef struct mdc_sym_opts {
    const char *const *dirs; /* --symbols directories (kept by pointer) */
    size_t ndirs;
    const char *debug_dir; /* normally "/usr/lib/debug"; NULL for none */
    int debuginfod;        /* 1: ask debuginfod (DEBUGINFOD_URLS) */
    size_t max_modules;    /* 0: the default, 64 */
} mdc_sym_opts;

mdc_sym *mdc_sym_new_opts(const mdc_sym_opts *o);
/* The same with debuginfod on and the default cache size. */
mdc_sym *mdc_sym_new(const char *const *dirs, size_t ndirs,
                     const char *debug_dir);
void mdc_sym_free(mdc_sym *s);
/* Prepares symbolication of one report (replaces the previous one). */
int mdc_sym_load(mdc_sym *s, const mayday_report *report);
/* Sets the symbolize, image_note and image_symbols callbacks of opt. */
void mdc_sym_options(mdc_sym *s, mayday_format_options *opt);
/* The module of image i of the loaded report, NULL if none. */
mdc_mod *mdc_sym_module(mdc_sym *s, uint32_t image);
/* Modules open now (for tests and benchmarks). */
size_t mdc_sym_open_modules(const mdc_sym *s);

#endif
