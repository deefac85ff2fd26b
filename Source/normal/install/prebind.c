/*
 * prebind.c - no lazy binding on the crash path: at install, every PLT
 * slot the crash path can go through is bound, so that no call between
 * the fault and the report enters the dynamic linker's lazy resolver
 * (_dl_runtime_resolve: symbol lookups in a process whose loader state
 * may be mid-update, and lock-taking in some lookups).
 *
 * Context: normal (install). Uses dl_iterate_phdr, dladdr-free lookups
 * with dlsym/dlvsym, malloc.
 *
 * Which slots:
 *   1. In the object that holds mayday's code (libmayday.so, or the
 *      executable that linked libmayday.a): the slots of the symbols the
 *      crash path imports (scripts/crash-path-allowlist.txt, compiled in
 *      as crash_imports.h). libmayday.so is linked -z now, so there this
 *      only finds where those slots lead.
 *   2. Every object those slots lead to (libunwind-x86_64.so.8, libc.so.6)
 *      and, transitively, every object their slots lead to (liblzma,
 *      ld.so): all of their slots. libunwind, as Debian ships it, is not
 *      linked -z now: 42 of its 52 slots were still unbound after install
 *      before this existed, and a crash through a frame whose CFI uses
 *      DW_CFA_remember_state bound _Ux86_64_get_reg at crash time.
 * How: for each R_*_JUMP_SLOT relocation whose slot still points into
 * its own object (the lazy stub, or a binding to itself), the symbol is
 * looked up as ld.so would for a lazy binding of an object in the global
 * scope: the first definition in the global scope that matches the
 * version the object requires (an unversioned one, such as a sanitizer's
 * interposed malloc, matches too); the result
 * (an IFUNC already resolved by dlsym) is stored into the slot with one
 * aligned word store. Slots in RELRO or read-only memory, unresolvable
 * symbols and objects already bound now are left alone. Tests:
 * Tests/bind (every slot compared with what LD_BIND_NOW=1 gives; a crash
 * under LD_DEBUG=bindings shows no binding after install).
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "normal/install/install.h"

#if defined(__x86_64__)
#define MD_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#elif defined(__aarch64__)
#define MD_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#endif

#define MAX_BOUND_OBJECTS 16 /* objects whose slots are bound */

static const char *const crash_imports[] = {
#include "crash_imports.h"
};

typedef struct md_obj {
    uintptr_t base; /* l_addr */
    const char *name;
    const ElfW(Phdr) * phdr;
    size_t phnum;
} md_obj;

typedef struct md_objs {
    md_obj *v;
    size_t n, cap;
} md_objs;

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    md_objs *o = data;
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        md_obj *v = realloc(o->v, cap * sizeof(*v));
        if (!v)
            return 1;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = (md_obj){info->dlpi_addr, info->dlpi_name, info->dlpi_phdr,
                            info->dlpi_phnum};
    return 0;
}

/* The object with a PT_LOAD segment containing a, or -1. */
static int find_obj(const md_objs *o, uintptr_t a)
{
    for (size_t i = 0; i < o->n; i++) {
        const md_obj *b = &o->v[i];
        for (size_t k = 0; k < b->phnum; k++) {
            const ElfW(Phdr) *p = &b->phdr[k];
            uintptr_t s = b->base + p->p_vaddr;
            if (p->p_type == PT_LOAD && a - s < p->p_memsz)
                return (int)i;
        }
    }
    return -1;
}

/* 1 if [a, a + 8) lies in a writable PT_LOAD of b and outside RELRO. */
static int slot_writable(const md_obj *b, uintptr_t a)
{
    int w = 0;
    for (size_t k = 0; k < b->phnum; k++) {
        const ElfW(Phdr) *p = &b->phdr[k];
        uintptr_t s = b->base + p->p_vaddr;
        if (a - s >= p->p_memsz)
            continue;
        if (p->p_type == PT_GNU_RELRO)
            return 0;
        if (p->p_type == PT_LOAD && (p->p_flags & PF_W))
            w = 1;
    }
    return w;
}

typedef struct md_dyn {
    const ElfW(Rela) * jmprel;
    size_t n_jmprel;
    const ElfW(Sym) * symtab;
    const char *strtab;
    const ElfW(Half) * versym;
    const ElfW(Verneed) * verneed;
    int now; /* DF_BIND_NOW / DF_1_NOW / DT_BIND_NOW */
} md_dyn;

/* ld.so adjusts most d_ptr values in place by the load bias, not all
 * (DT_VERNEED), and never the vdso's: an address below the bias of an
 * object loaded at a non-zero bias is still a file address. */
static uintptr_t dptr(const md_obj *b, uintptr_t v)
{
    return (b->base && v < b->base) ? v + b->base : v;
}

/* The dynamic section's symbol, version and PLT tables of b. */
static int read_dyn_syms(const md_obj *b, md_dyn *d)
{
    memset(d, 0, sizeof(*d));
    const ElfW(Dyn) *dyn = 0;
    for (size_t k = 0; k < b->phnum; k++)
        if (b->phdr[k].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(b->base + b->phdr[k].p_vaddr);
    if (!dyn)
        return -1;
    size_t relsz = 0;
    int pltrel = 0;
    for (size_t i = 0; i < 4096 && dyn[i].d_tag != DT_NULL; i++) {
        uintptr_t v = dyn[i].d_un.d_ptr;
        switch (dyn[i].d_tag) {
        case DT_JMPREL:
            d->jmprel = (const ElfW(Rela) *)dptr(b, v);
            break;
        case DT_PLTRELSZ:
            relsz = dyn[i].d_un.d_val;
            break;
        case DT_PLTREL:
            pltrel = (int)dyn[i].d_un.d_val;
            break;
        case DT_SYMTAB:
            d->symtab = (const ElfW(Sym) *)dptr(b, v);
            break;
        case DT_STRTAB:
            d->strtab = (const char *)dptr(b, v);
            break;
        case DT_VERSYM:
            d->versym = (const ElfW(Half) *)dptr(b, v);
            break;
        case DT_VERNEED:
            d->verneed = (const ElfW(Verneed) *)dptr(b, v);
            break;
        case DT_BIND_NOW:
            d->now = 1;
            break;
        case DT_FLAGS:
            d->now |= (dyn[i].d_un.d_val & DF_BIND_NOW) != 0;
            break;
        case DT_FLAGS_1:
            d->now |= (dyn[i].d_un.d_val & DF_1_NOW) != 0;
            break;
        }
    }
    if (!d->symtab || !d->strtab)
        return -1;
    if (d->jmprel && pltrel == DT_RELA)
        d->n_jmprel = relsz / sizeof(ElfW(Rela));
    else
        d->jmprel = 0;
    return 0;
}

/* read_dyn_syms, and the object has PLT relocations. */
static int read_dyn(const md_obj *b, md_dyn *d)
{
    return read_dyn_syms(b, d) == 0 && d->jmprel ? 0 : -1;
}

/* The version the object requires for symbol index si, or NULL. */
static const char *needed_version(const md_dyn *d, size_t si)
{
    if (!d->versym || !d->verneed)
        return NULL;
    ElfW(Half) v = d->versym[si] & 0x7fff;
    if (v <= 1)
        return NULL; /* local or unversioned global */
    const ElfW(Verneed) *vn = d->verneed;
    for (int i = 0; i < 256 && vn; i++) {
        const ElfW(Vernaux) *a =
            (const ElfW(Vernaux) *)((const char *)vn + vn->vn_aux);
        for (unsigned k = 0; k < vn->vn_cnt && k < 256; k++) {
            if (a->vna_other == v)
                return d->strtab + a->vna_name;
            a = (const ElfW(Vernaux) *)((const char *)a + a->vna_next);
        }
        if (!vn->vn_next)
            break;
        vn = (const ElfW(Verneed) *)((const char *)vn + vn->vn_next);
    }
    return NULL;
}

/* 1 if the definition at p (found by dlsym) is unversioned in its object:
 * ld.so binds a versioned reference to such a definition when it comes
 * first in the scope (an interposer such as ASan's malloc), while dlvsym
 * skips it. */
static int unversioned_def(const md_objs *o, void *p)
{
    Dl_info di;
    const ElfW(Sym) *sym = 0;
    if (!dladdr1(p, &di, (void **)&sym, RTLD_DL_SYMENT) || !sym)
        return 0;
    int oi = find_obj(o, (uintptr_t)p);
    md_dyn d;
    if (oi < 0 || read_dyn_syms(&o->v[oi], &d) < 0)
        return 0;
    if (!d.versym)
        return 1;
    size_t si = (size_t)(sym - d.symtab);
    return (d.versym[si] & 0x7fff) <= 1;
}

static void *lookup(const md_objs *o, const char *name, const char *ver)
{
    void *p = dlsym(RTLD_DEFAULT, name);
    if (ver) {
        /* The first definition in scope order, unless it is of another
         * version than the one required: then the required one. */
        void *pv = dlvsym(RTLD_DEFAULT, name, ver);
        if (pv && pv != p && !(p && unversioned_def(o, p)))
            p = pv;
    }
    /* Not in the global scope: a weak reference nothing defines (Debian's
     * libunwind-aarch64 has one, _U_dyn_info_list_addr of libunwind.so,
     * which is not loaded), or an object dlopen'ed RTLD_LOCAL elsewhere.
     * The slot stays as it is. dlsym on the object's link_map (what
     * dladdr1 gives) is not an answer: for an object loaded at startup
     * that map has no search list of its own, and glibc's lookup crashed
     * in it (seen under qemu-aarch64). */
    return p;
}

static int is_crash_import(const char *name)
{
    for (size_t i = 0; i < sizeof crash_imports / sizeof crash_imports[0]; i++)
        if (!strcmp(crash_imports[i], name))
            return 1;
    return 0;
}

typedef struct md_bind {
    md_objs objs;
    int todo[MAX_BOUND_OBJECTS]; /* object indexes, in the order found */
    size_t ntodo;
    int bound; /* slots written */
} md_bind;

static void want(md_bind *x, int obj)
{
    if (obj < 0)
        return;
    for (size_t i = 0; i < x->ntodo; i++)
        if (x->todo[i] == obj)
            return;
    if (x->ntodo < MAX_BOUND_OBJECTS)
        x->todo[x->ntodo++] = obj;
}

/* Binds the slots of object oi (only the crash path's imports if
 * imports_only) and queues the objects they lead to. */
static void bind_object(md_bind *x, int oi, int imports_only)
{
    const md_obj *b = &x->objs.v[oi];
    md_dyn d;
    if (read_dyn(b, &d) < 0)
        return;
    for (size_t i = 0; i < d.n_jmprel; i++) {
        const ElfW(Rela) *r = &d.jmprel[i];
        if (ELF64_R_TYPE(r->r_info) != MD_R_JUMP_SLOT)
            continue;
        size_t si = ELF64_R_SYM(r->r_info);
        const char *name = d.strtab + d.symtab[si].st_name;
        if (!name[0] || (imports_only && !is_crash_import(name)))
            continue;
        uintptr_t *slot = (uintptr_t *)(b->base + r->r_offset);
        uintptr_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (!d.now && find_obj(&x->objs, cur) == oi &&
            slot_writable(b, (uintptr_t)slot)) {
            /* Lazy stub (or bound to itself): bind it as ld.so would. */
            void *p = lookup(&x->objs, name, needed_version(&d, si));
            if (p && (uintptr_t)p != cur) {
                __atomic_store_n(slot, (uintptr_t)p, __ATOMIC_RELEASE);
                x->bound++;
                cur = (uintptr_t)p;
            }
        }
        want(x, find_obj(&x->objs, cur));
    }
}

int md_prebind(void)
{
#ifndef MD_R_JUMP_SLOT
    return 0;
#else
    md_bind x;
    memset(&x, 0, sizeof x);
    dl_iterate_phdr(collect, &x.objs);
    int self = find_obj(&x.objs, (uintptr_t)&md_prebind);
    if (self < 0) {
        free(x.objs.v);
        return 0; /* a static executable: nothing is lazy */
    }
    x.todo[x.ntodo++] = self;
    for (size_t i = 0; i < x.ntodo; i++)
        bind_object(&x, x.todo[i], i == 0);
    free(x.objs.v);
    return x.bound;
#endif
}
