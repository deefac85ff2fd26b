/*
 * symfind.h - where the `mayday` CLI finds an image's ELF file and its
 * separate debug information, the way gdb, eu-stack and addr2line do:
 *
 *   ELF (symbols, and DWARF if it has any), accepted only with the
 *   recorded GNU build-id:
 *     1. the path recorded in the report;
 *     2. each --symbols DIR: DIR/.build-id/xx/rest.debug, .../rest, and
 *        every regular file directly in DIR (any name, read by build-id);
 *     3. the debug directory (/usr/lib/debug): .build-id/xx/rest.debug;
 *     4. debuginfod (DEBUGINFOD_URLS): the executable, else the debuginfo.
 *   Separate debug info of a file without DWARF:
 *     1. --symbols dirs as above; 2. the debug directory's .build-id tree;
 *     3. the file's .gnu_debuglink NAME: next to the file, in .debug/
 *        beside it, and under the debug directory + the file's directory;
 *     4. debuginfod.
 *   A debuglink candidate must have the file's build-id (or, for a file
 *   without one, the CRC-32 the link records).
 *
 * Context: normal (CLI only).
 */
#ifndef MDC_SYMFIND_H
#define MDC_SYMFIND_H

#include <stddef.h>
#include <stdint.h>

#define MDC_MAX_ID 64

/* How a file was found (the JSON's "found_by" values). */
typedef enum mdc_found {
    MDC_FOUND_NONE = 0,
    MDC_FOUND_PATH,        /* the recorded path */
    MDC_FOUND_SYMBOLS_DIR, /* a --symbols directory */
    MDC_FOUND_DEBUG_DIR,   /* the debug directory's .build-id tree */
    MDC_FOUND_DEBUGLINK,   /* .gnu_debuglink */
    MDC_FOUND_DEBUGINFOD,  /* a debuginfod server (or its cache) */
    MDC_FOUND_IN_FILE      /* debug info inside the ELF itself */
} mdc_found;

const char *mdc_found_name(mdc_found f); /* "path", ...; NULL for NONE */

typedef struct mdc_find mdc_find;

typedef struct mdc_find_opts {
    const char *const *dirs; /* --symbols directories (kept by pointer) */
    size_t ndirs;
    const char *debug_dir; /* "/usr/lib/debug", NULL for none */
    int debuginfod;        /* 1: ask debuginfod when DEBUGINFOD_URLS is set */
} mdc_find_opts;

mdc_find *mdc_find_new(const mdc_find_opts *o);
void mdc_find_free(mdc_find *f);

/* Reads a file's build-id (*len 0 if it has none) and whether it has
 * DWARF (.debug_info with contents). 0, or -1 if it is no readable ELF. */
int mdc_file_build_id(const char *path, unsigned char *id, size_t *len,
                      int *has_dwarf);

/* An ELF file for this build-id (malloc'ed path), trying the recorded
 * path first; NULL if none. */
char *mdc_find_elf(mdc_find *f, const char *recorded_path,
                   const unsigned char *id, size_t len, mdc_found *how);

/* Separate debug info for main_file (its build-id id/len, may be empty;
 * its .gnu_debuglink name and CRC, debuglink may be NULL). Never returns
 * main_file itself. NULL if none. */
char *mdc_find_debug(mdc_find *f, const char *main_file,
                     const unsigned char *id, size_t len, const char *debuglink,
                     uint32_t crc, mdc_found *how);

/* The last debuginfod error for this build-id's lookups, or NULL. */
const char *mdc_find_debuginfod_error(mdc_find *f);

#endif
