/*
 * symlookup.c - address lookups of one module (symmod.h): the inline
 * chain the way eu-addr2line -f -i builds it, the ELF symbol and offset,
 * the cache of results; exported (.dynsym) symbols for crash signatures;
 * C++ demangling.
 *
 * How the chain is built (elfutils' src/addr2line.c does the same):
 *   - the compile unit containing the address (dwfl_module_addrdie), kept
 *     only if its ranges really contain it (dwarf_haspc: libdwfl also
 *     answers for the gaps between one unit's ranges, where no tool shows
 *     a line);
 *   - entry 0: the innermost inlined_subroutine or subprogram of
 *     dwarf_getscopes(), with the line table's file:line of the address;
 *   - then, walking dwarf_getscopes_die() of that innermost scope (its
 *     lexical parents, not the scopes where an inlined function is
 *     defined, which dwarf_getscopes() appends), for each
 *     inlined_subroutine: the next enclosing inlined_subroutine or
 *     subprogram, at the inlined call's DW_AT_call_file:call_line.
 *
 * Context: normal (CLI only).
 */
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/symmod_int.h"

/* The DWARF name as eu-addr2line shows it: linkage name, else name. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *n = NULL;
    if (dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a) ||
        dwarf_attr_integrate(die, DW_AT_linkage_name, &a))
        n = dwarf_formstring(&a);
    if (!n)
        n = dwarf_diename(die);
    return n;
}

static unsigned attr_u(Dwarf_Die *die, unsigned name)
{
    Dwarf_Attribute a;
    Dwarf_Word v;
    if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &v) != 0)
        return 0;
    return (unsigned)v;
}

/* Where the function die starts: entry_pc/low_pc, else its first range
 * (gcc lists the hot part first). 0 if unknown. */
static Dwarf_Addr func_entry(Dwarf_Die *die)
{
    Dwarf_Addr pc, base, end;
    if (dwarf_entrypc(die, &pc) == 0)
        return pc;
    if (dwarf_ranges(die, 0, &base, &pc, &end) > 0)
        return pc;
    return 0;
}

/* A source file name as eu-addr2line prints it by default: relative
 * names prefixed with the unit's DW_AT_comp_dir. Interned. */
static const char *src_name(mdc_mod *m, Dwarf_Die *cu, const char *src)
{
    if (!src || src[0] == '/' || !cu)
        return mdc_intern(m, src);
    Dwarf_Attribute a;
    const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
    if (!dir)
        return mdc_intern(m, src);
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", dir, src);
    return mdc_intern(m, buf);
}

static int is_func(int tag)
{
    return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram ||
           tag == DW_TAG_entry_point;
}

/* Appends the callers an inlined scope chain leads to (see the top). */
static void inline_callers(mdc_mod *m, Dwarf_Die *cu, Dwarf_Die *inner,
                           mdc_res *r, Dwarf_Addr *phys_entry)
{
    Dwarf_Addr b2;
    Dwarf_Die sub;
    Dwarf *dw = dwfl_module_getdwarf(m->mod, &b2);
    if (!dw || !dwarf_offdie(dw, dwarf_dieoffset(inner), &sub))
        return;
    Dwarf_Die *sc = NULL;
    int n = dwarf_getscopes_die(&sub, &sc);
    Dwarf_Files *files = NULL;
    Dwarf_Die icu;
    if (n > 1 && (dwarf_getsrcfiles(cu, &files, NULL) != 0 ||
                  !dwarf_diecu(&sc[0], &icu, NULL, NULL)))
        files = NULL;
    for (int i = 0; i < n; i++) {
        if (dwarf_tag(&sc[i]) == DW_TAG_subprogram)
            *phys_entry = func_entry(&sc[i]);
        if (i == n - 1 || dwarf_tag(&sc[i]) != DW_TAG_inlined_subroutine)
            continue;
        if (r->n >= MDC_MAX_CHAIN)
            break;
        mdc_ent *e = &r->e[r->n++];
        memset(e, 0, sizeof(*e));
        for (int j = i + 1; j < n; j++)
            if (is_func(dwarf_tag(&sc[j]))) {
                e->function = mdc_nice_name(m, die_name(&sc[j]));
                break;
            }
        Dwarf_Attribute a;
        Dwarf_Word idx;
        if (files && dwarf_attr(&sc[i], DW_AT_call_file, &a) &&
            dwarf_formudata(&a, &idx) == 0)
            e->file = src_name(m, &icu, dwarf_filesrc(files, idx, NULL, NULL));
        e->line = attr_u(&sc[i], DW_AT_call_line);
        e->column = attr_u(&sc[i], DW_AT_call_column);
    }
    free(sc);
}

static void fill(mdc_mod *m, uint64_t rel, int context, mdc_res *r)
{
    Dwfl_Module *mod = m->mod;
    Dwarf_Addr a = context ? rel : rel - 1;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *ename =
        dwfl_module_addrinfo(mod, a, &off, &sym, NULL, NULL, NULL);
    Dwarf_Addr bias = 0;
    m->dwarf_used = 1;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, a, &bias);
    if (cu && dwarf_haspc(cu, a - bias) <= 0)
        cu = NULL;
    const char *file = NULL;
    int line = 0, col = 0;
    Dwfl_Line *ln = cu ? dwfl_module_getsrc(mod, a) : NULL;
    if (ln)
        file = dwfl_lineinfo(ln, NULL, &line, &col, NULL, NULL);
    Dwarf_Die *scopes = NULL;
    int ns = cu ? dwarf_getscopes(cu, a - bias, &scopes) : 0;
    const char *fn0 = NULL;
    for (int i = 0; i < ns; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
            fn0 = die_name(&scopes[i]);
            break;
        }
    }
    r->n = 1;
    memset(&r->e[0], 0, sizeof(r->e[0]));
    r->e[0].function = mdc_nice_name(m, fn0 ? fn0 : ename);
    r->e[0].file = src_name(m, ln ? dwfl_linecu(ln) : NULL, file);
    r->e[0].line = line > 0 ? (uint32_t)line : 0;
    r->e[0].column = col > 0 ? (uint32_t)col : 0;
    Dwarf_Addr entry = 0;
    if (ns > 0)
        inline_callers(m, cu, &scopes[0], r, &entry);
    free(scopes);
    mdc_ent *last = &r->e[r->n - 1];
    if (ename) {
        last->symbol = mdc_nice_name(m, ename);
        last->offset = rel - (a - off);
        last->symbol_is_start = !entry || entry + bias == a - off;
    }
    if (!r->e[0].function && !r->e[0].file && r->n == 1)
        r->n = 0;
}

static uint64_t hash_key(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

const mdc_res *mdc_mod_lookup(mdc_mod *m, uint64_t rel, int context)
{
    static const mdc_res none;
    if (!m->mod)
        return &none;
    uint64_t key = ((rel << 1) | (context ? 1 : 0)) + 1;
    if (m->nres >= MDC_RES_MAX) { /* bounded: start again */
        for (size_t i = 0; i < m->nslots; i++)
            free(m->slots[i].res);
        memset(m->slots, 0, m->nslots * sizeof(*m->slots));
        m->nres = 0;
    }
    if ((m->nres + 1) * 2 > m->nslots) {
        size_t nn = m->nslots ? m->nslots * 2 : 1024;
        res_slot *ns = calloc(nn, sizeof(*ns));
        if (!ns)
            return &none;
        for (size_t i = 0; i < m->nslots; i++) {
            if (!m->slots[i].key)
                continue;
            size_t k = hash_key(m->slots[i].key) & (nn - 1);
            while (ns[k].key)
                k = (k + 1) & (nn - 1);
            ns[k] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->nslots = nn;
    }
    size_t k = hash_key(key) & (m->nslots - 1);
    while (m->slots[k].key) {
        if (m->slots[k].key == key)
            return m->slots[k].res;
        k = (k + 1) & (m->nslots - 1);
    }
    mdc_res *r = calloc(1, sizeof(*r));
    if (!r)
        return &none;
    fill(m, rel, context, r);
    m->slots[k].key = key;
    m->slots[k].res = r;
    m->nres++;
    return r;
}

/* ------------------------------------------------- exported symbols */

static int leading_underscores(const char *s)
{
    int n = 0;
    while (s[n] == '_')
        n++;
    return n;
}

/* Orders by address, and among aliases at one address puts first the
 * one a signature uses: fewer leading underscores ("raise" before
 * "__GI_raise"), then the shorter name ("raise" before "gsignal"), then
 * by name. */
static int dyn_cmp(const void *pa, const void *pb)
{
    const dynsym *a = pa, *b = pb;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    int ua = leading_underscores(a->name), ub = leading_underscores(b->name);
    if (ua != ub)
        return ua - ub;
    size_t la = strlen(a->name), lb = strlen(b->name);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void load_dynsym(mdc_mod *m)
{
    m->dyn_loaded = 1;
    GElf_Addr bias;
    Elf *elf = m->mod ? dwfl_module_getelf(m->mod, &bias) : NULL;
    if (!elf)
        return;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn;
         scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM ||
            !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_size / sh.sh_entsize;
        m->dyn = d ? calloc(n ? n : 1, sizeof(*m->dyn)) : NULL;
        for (size_t i = 0; m->dyn && i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
                s.st_size == 0 ||
                (GELF_ST_TYPE(s.st_info) != STT_FUNC &&
                 GELF_ST_TYPE(s.st_info) != STT_GNU_IFUNC))
                continue;
            const char *nm = elf_strptr(elf, sh.sh_link, s.st_name);
            if (!nm || !nm[0])
                continue;
            m->dyn[m->ndyn++] =
                (dynsym){s.st_value, s.st_size, mdc_nice_name(m, nm)};
        }
        break;
    }
    if (m->ndyn)
        qsort(m->dyn, m->ndyn, sizeof(*m->dyn), dyn_cmp);
}

const char *mdc_mod_exported(mdc_mod *m, uint64_t rel, int context)
{
    if (!m->dyn_loaded)
        load_dynsym(m);
    uint64_t a = context ? rel : rel - 1;
    /* The symbols starting last at or before a: the first of them (the
     * canonical alias), if it contains a. */
    size_t lo = 0, hi = m->ndyn;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->dyn[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    size_t first = lo - 1;
    while (first > 0 && m->dyn[first - 1].addr == m->dyn[lo - 1].addr)
        first--;
    for (size_t i = first; i < lo; i++)
        if (a < m->dyn[i].addr + m->dyn[i].size)
            return m->dyn[first].name;
    return NULL;
}

/* ------------------------------------------------------------ demangling */

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

char *mdc_demangle(const char *name)
{
    static int tried;
    static cxa_demangle_fn fn;
    if (!name || strncmp(name, "_Z", 2) != 0)
        return NULL;
    if (!tried) {
        tried = 1;
        fn = (cxa_demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
        if (!fn) {
            void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
            if (h)
                fn = (cxa_demangle_fn)dlsym(h, "__cxa_demangle");
        }
    }
    if (!fn)
        return NULL;
    int status = -1;
    char *d = fn(name, NULL, NULL, &status);
    if (status != 0) {
        free(d);
        return NULL;
    }
    return d;
}
