/*
 * symbolize.h - offline symbolication for the `mayday` CLI with elfutils
 * (libdwfl/libdw): finds each image's ELF by build-id, and resolves frames
 * to function (+offset), source file:line and inlined functions.
 *
 * Context: normal (CLI only; libmayday itself does not depend on libdw:
 * the formatters reach this code through mayday_format_options callbacks).
 *
 * Where an image's file is looked for, in order, accepting a file only if
 * its GNU build-id equals the one recorded in the report:
 *   1. the path recorded in the report;
 *   2. each --symbols DIR: DIR/.build-id/xx/rest{.debug,} and every regular
 *      file directly in DIR (binaries or .debug files, checked by build-id);
 *   3. /usr/lib/debug/.build-id/xx/rest.debug.
 * Separate debug info of a file without DWARF is looked for the same way.
 * An image recorded without a build-id is used only if the file at its path
 * has none either.
 */
#ifndef MDC_SYMBOLIZE_H
#define MDC_SYMBOLIZE_H

#include <stddef.h>

#include "mayday/mayday.h"

typedef struct mdc_sym mdc_sym;

/* dirs: the --symbols directories (kept by pointer). sysroot_debug: the
 * system debug directory, normally "/usr/lib/debug"; NULL for none. */
mdc_sym *mdc_sym_new(const char *const *dirs, size_t ndirs,
                     const char *sysroot_debug);
void mdc_sym_free(mdc_sym *s);
/* Prepares symbolication of one report (replaces the previous one). */
int mdc_sym_load(mdc_sym *s, const mayday_report *report);
/* Sets the symbolize and image_note callbacks of opt to this context. */
void mdc_sym_options(mdc_sym *s, mayday_format_options *opt);
/* Demangles an Itanium C++ name with libstdc++'s __cxa_demangle, looked up
 * at run time (dlopen) so that nothing links C++; NULL if unavailable or
 * not a mangled name. The result is malloc'ed. */
char *mdc_demangle(const char *name);

#endif
