/*
 * symmod.h - one binary image's symbols for the `mayday` CLI: its ELF and
 * debug files (found through symfind.h), an elfutils libdwfl session with
 * that one module at its ELF addresses (load bias 0), and the results of
 * address lookups, cached. Modules are shared by every report that has an
 * image with the same build-id (symbolize.c keeps them, bounded).
 *
 * Lookups give what eu-addr2line -f -i -C (and binutils addr2line -f -i
 * -C) print for the address: the innermost function first (an inlined one
 * with the file:line inside it), then each function it was inlined into
 * with the call site's file:line, last the real function; no file:line
 * for an address in no compile unit's ranges; plus the ELF symbol and the
 * offset from it (eu-addr2line -S).
 *
 * Context: normal (CLI only).
 */
#ifndef MDC_SYMMOD_H
#define MDC_SYMMOD_H

#include <stddef.h>
#include <stdint.h>

#include "cli/symfind.h"

/* Symbolication status of an image (the JSON's "status" values). */
typedef enum mdc_status {
    MDC_ST_OK = 0,        /* symbols and DWARF (file:line) */
    MDC_ST_NO_DEBUG_INFO, /* symbols only: no DWARF found */
    MDC_ST_MISSING,       /* no file with the build-id found */
    MDC_ST_MISMATCH,      /* the file at the path has another build-id,
                             and no file with the recorded one was found */
    MDC_ST_NO_BUILD_ID,   /* no build-id recorded, and the file at the path
                             has one (or is missing): cannot be verified */
    MDC_ST_UNVERIFIED,    /* neither has a build-id; the path's file used */
    MDC_ST_VDSO,          /* the vdso: no file */
    MDC_ST_ERROR          /* libdwfl could not read the file */
} mdc_status;

const char *mdc_status_name(mdc_status s); /* "ok", "no_debug_info", ... */

/* One entry of a lookup: strings owned by the module (interned). */
typedef struct mdc_ent {
    const char *function; /* NULL if unknown */
    const char *file;     /* NULL if unknown */
    uint32_t line, column;
    const char *symbol;  /* the ELF symbol (last entry only), or NULL */
    uint64_t offset;     /* pc - symbol's address */
    int symbol_is_start; /* the symbol starts where the function does */
} mdc_ent;

#define MDC_MAX_CHAIN 16

typedef struct mdc_res {
    int n; /* 0: nothing known */
    mdc_ent e[MDC_MAX_CHAIN];
} mdc_res;

typedef struct mdc_mod mdc_mod;

/* Opens the module for an image: id/len its recorded build-id (len 0:
 * none), path its recorded path, vdso 1 for the vdso. Always returns a
 * module (NULL only without memory); a module that could not be found
 * has a status other than OK/NO_DEBUG_INFO/UNVERIFIED and no lookups. */
mdc_mod *mdc_mod_open(mdc_find *f, const unsigned char *id, size_t len,
                      const char *path, int vdso);
void mdc_mod_free(mdc_mod *m);

/* rel: the pc relative to the load bias (the ELF address); context: 1 if
 * it is the faulting instruction, 0 for a return address (looked up at
 * rel - 1). The result stays valid until mdc_mod_free(). */
const mdc_res *mdc_mod_lookup(mdc_mod *m, uint64_t rel, int context);

mdc_status mdc_mod_status(mdc_mod *m);
/* The ELF file used and how it was found (NULL/NONE if none), the debug
 * file (NULL when the DWARF is in the ELF file or there is none). */
const char *mdc_mod_file(mdc_mod *m, mdc_found *how);
const char *mdc_mod_debug_file(mdc_mod *m, mdc_found *how);
/* A sentence for people ("not symbolicated: ..."), or NULL. */
const char *mdc_mod_note(mdc_mod *m);
/* The build-id the module was opened with. */
const unsigned char *mdc_mod_id(mdc_mod *m, size_t *len);
const char *mdc_mod_path(mdc_mod *m);
/* The name of the exported (.dynsym) symbol containing rel, if any:
 * the same with and without separate debug info. NULL if none. */
const char *mdc_mod_exported(mdc_mod *m, uint64_t rel, int context);

/* Demangles an Itanium C++ name with libstdc++'s __cxa_demangle, looked up
 * at run time (dlopen) so that nothing links C++; NULL if unavailable or
 * not a mangled name. The result is malloc'ed. */
char *mdc_demangle(const char *name);

#endif
