/*
 * symmod_int.h - the insides of an mdc_mod (symmod.h), shared by symmod.c
 * (files, libdwfl session, status) and symlookup.c (lookups, result cache,
 * exported symbols, demangling).
 *
 * Context: normal (CLI only).
 */
#ifndef MDC_SYMMOD_INT_H
#define MDC_SYMMOD_INT_H

#include <elfutils/libdwfl.h>

#include "cli/symmod.h"

/* Lookups remembered per module before the table is emptied. */
#define MDC_RES_MAX 65536

typedef struct res_slot {
    uint64_t key; /* (rel << 1 | context) + 1; 0: empty */
    mdc_res *res;
} res_slot;

typedef struct dynsym {
    uint64_t addr, size;
    const char *name;
} dynsym;

struct mdc_mod {
    mdc_find *find;
    unsigned char id[MDC_MAX_ID];
    size_t idlen;
    char *path; /* recorded path */
    mdc_status status;
    char *file, *debug;
    mdc_found file_how, debug_how;
    Dwfl *dwfl;
    Dwfl_Module *mod;
    int dwarf_checked;
    int dwarf_used; /* a lookup asked libdwfl for the DWARF */
    char note[1024];
    res_slot *slots;
    size_t nslots, nres;
    char **strs; /* interned strings: open addressing set */
    size_t nstrs_cap, nstrs;
    dynsym *dyn;
    size_t ndyn;
    int dyn_loaded;
    int vdso_fd;
};

/* The module's copy of s (NULL for NULL, and without memory). */
const char *mdc_intern(mdc_mod *m, const char *s);
/* Demangled, without an ELF symbol version ("x@@GLIBC_2.34"), interned. */
const char *mdc_nice_name(mdc_mod *m, const char *name);

#endif
