/*
 * symbolize.c - offline symbolication with elfutils libdwfl/libdw for the
 * `mayday` CLI (see symbolize.h for where files are looked for).
 *
 * Context: normal (CLI only). A file is used for an image only if its GNU
 * build-id equals the recorded one: symbols from another build would be
 * plausible and wrong, which is worse than none.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/symbolize.h"
#include "mayday.pb-c.h"

#define MDC_MAX_ID 64

typedef struct flat_file {
    char *path;
    unsigned char id[MDC_MAX_ID];
    size_t idlen;
    int has_dwarf;
} flat_file;

typedef struct img_state {
    Dwfl_Module *mod;
    char *path;     /* the file used, malloc'ed; NULL if none */
    int elsewhere;  /* found by build-id, not at the recorded path */
    int unverified; /* neither report nor file had a build-id */
    int note_done;
    char note[768];
} img_state;

struct mdc_sym {
    const char *const *dirs;
    size_t ndirs;
    const char *sysdebug;
    flat_file *flat;
    size_t nflat;
    int indexed;
    Dwfl *dwfl;
    const mayday_report *rep;
    img_state *img;
    size_t nimg;
    char *scratch[64];
    size_t nscratch;
};

/* libdwfl's find_debuginfo callback has no context pointer of ours: the
 * CLI symbolicates one report at a time, from one thread. */
static mdc_sym *g_current;

/* ------------------------------------------------------------ ELF helpers */

/* Reads a file's build-id and whether it has DWARF. 0 on success. */
static int file_build_id(const char *path, unsigned char *id, size_t *len,
                         int *has_dwarf)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    int rc = -1;
    if (elf && elf_kind(elf) == ELF_K_ELF) {
        const void *p = NULL;
        ssize_t n = dwelf_elf_gnu_build_id(elf, &p);
        *len = 0;
        if (n > 0 && (size_t)n <= MDC_MAX_ID) {
            memcpy(id, p, (size_t)n);
            *len = (size_t)n;
        }
        rc = 0;
        if (has_dwarf) {
            *has_dwarf = 0;
            size_t shstrndx;
            if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
                for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn;
                     scn = elf_nextscn(elf, scn)) {
                    GElf_Shdr sh;
                    if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
                        continue;
                    const char *nm = elf_strptr(elf, shstrndx, sh.sh_name);
                    if (nm && (strcmp(nm, ".debug_info") == 0 ||
                               strcmp(nm, ".zdebug_info") == 0)) {
                        *has_dwarf = 1;
                        break;
                    }
                }
            }
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return rc;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* Indexes the regular files directly in every --symbols dir. */
static void build_index(mdc_sym *s)
{
    s->indexed = 1;
    for (size_t d = 0; d < s->ndirs; d++) {
        DIR *dir = opendir(s->dirs[d]);
        if (!dir)
            continue;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            size_t pl = strlen(s->dirs[d]) + strlen(de->d_name) + 2;
            char *path = malloc(pl);
            if (!path)
                break;
            snprintf(path, pl, "%s/%s", s->dirs[d], de->d_name);
            flat_file f = {.path = path};
            if (file_build_id(path, f.id, &f.idlen, &f.has_dwarf) != 0 ||
                f.idlen == 0) {
                free(path);
                continue;
            }
            flat_file *nv = realloc(s->flat, (s->nflat + 1) * sizeof(*nv));
            if (!nv) {
                free(path);
                break;
            }
            s->flat = nv;
            s->flat[s->nflat++] = f;
        }
        closedir(dir);
    }
}

/* 1 if the file at path has exactly this build-id (and DWARF if asked). */
static int matches(const char *path, const unsigned char *id, size_t len,
                   int want_dwarf)
{
    unsigned char got[MDC_MAX_ID];
    size_t glen;
    int dw;
    if (file_build_id(path, got, &glen, &dw) != 0)
        return 0;
    return glen == len && memcmp(got, id, len) == 0 && (!want_dwarf || dw);
}

/* A file with this build-id, malloc'ed path; NULL if none. exclude: a path
 * not to return (the main file, when looking for its debug info). */
static char *find_by_id(mdc_sym *s, const unsigned char *id, size_t len,
                        const char *exclude, int want_dwarf)
{
    if (len == 0)
        return NULL;
    char h[2 * MDC_MAX_ID + 1], path[4096];
    hex(id, len, h);
    static const char *const sfx[] = {".debug", ""};
    for (size_t d = 0; d < s->ndirs; d++)
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s%s", s->dirs[d],
                     h, h + 2, sfx[k]);
            if ((!exclude || strcmp(path, exclude) != 0) &&
                matches(path, id, len, want_dwarf))
                return strdup(path);
        }
    if (!s->indexed)
        build_index(s);
    for (size_t i = 0; i < s->nflat; i++) {
        flat_file *f = &s->flat[i];
        if (f->idlen == len && memcmp(f->id, id, len) == 0 &&
            (!want_dwarf || f->has_dwarf) &&
            (!exclude || strcmp(f->path, exclude) != 0))
            return strdup(f->path);
    }
    if (s->sysdebug) {
        snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", s->sysdebug,
                 h, h + 2);
        if ((!exclude || strcmp(path, exclude) != 0) &&
            matches(path, id, len, want_dwarf))
            return strdup(path);
    }
    return NULL;
}

/* ------------------------------------------------------ libdwfl callbacks */

static int find_elf_none(Dwfl_Module *mod, void **ud, const char *name,
                         Dwarf_Addr base, char **file_name, Elf **elfp)
{
    (void)mod, (void)ud, (void)name, (void)base, (void)file_name, (void)elfp;
    return -1;
}

static int find_debuginfo(Dwfl_Module *mod, void **ud, const char *modname,
                          Dwarf_Addr base, const char *file_name,
                          const char *debuglink, GElf_Word crc,
                          char **debuginfo_file_name)
{
    (void)ud, (void)modname, (void)base, (void)debuglink, (void)crc;
    mdc_sym *s = g_current;
    const unsigned char *bits;
    GElf_Addr vaddr;
    if (!s)
        return -1;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    if (n <= 0 || n > MDC_MAX_ID)
        return -1;
    char *p = find_by_id(s, bits, (size_t)n, file_name, 1);
    if (!p)
        return -1;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        free(p);
        return -1;
    }
    *debuginfo_file_name = p; /* libdwfl frees it */
    return fd;
}

static char *g_debuginfo_path = NULL;
static const Dwfl_Callbacks k_callbacks = {
    .find_elf = find_elf_none,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &g_debuginfo_path,
};

/* ------------------------------------------------------------ lifecycle */

mdc_sym *mdc_sym_new(const char *const *dirs, size_t ndirs,
                     const char *sysroot_debug)
{
    elf_version(EV_CURRENT);
    mdc_sym *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->dirs = dirs;
    s->ndirs = ndirs;
    s->sysdebug = sysroot_debug;
    return s;
}

static void clear_scratch(mdc_sym *s)
{
    for (size_t i = 0; i < s->nscratch; i++)
        free(s->scratch[i]);
    s->nscratch = 0;
}

static void unload(mdc_sym *s)
{
    if (s->dwfl)
        dwfl_end(s->dwfl);
    s->dwfl = NULL;
    for (size_t i = 0; i < s->nimg; i++)
        free(s->img[i].path);
    free(s->img);
    s->img = NULL;
    s->nimg = 0;
    clear_scratch(s);
}

void mdc_sym_free(mdc_sym *s)
{
    if (!s)
        return;
    unload(s);
    for (size_t i = 0; i < s->nflat; i++)
        free(s->flat[i].path);
    free(s->flat);
    if (g_current == s)
        g_current = NULL;
    free(s);
}

int mdc_sym_load(mdc_sym *s, const mayday_report *rep)
{
    unload(s);
    g_current = s;
    s->rep = rep;
    const Mayday__Report *r = mayday_report_message(rep);
    s->nimg = r->n_images;
    s->img = calloc(s->nimg ? s->nimg : 1, sizeof(*s->img));
    if (!s->img)
        return MAYDAY_ENOMEM;
    s->dwfl = dwfl_begin(&k_callbacks);
    if (!s->dwfl)
        return MAYDAY_ENOMEM;
    dwfl_report_begin(s->dwfl);
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        img_state *st = &s->img[i];
        char h[2 * MDC_MAX_ID + 1] = "";
        size_t idlen = m->has_build_id ? m->build_id.len : 0;
        if (idlen > MDC_MAX_ID) {
            snprintf(st->note, sizeof(st->note),
                     "not symbolicated: build-id too long");
            continue;
        }
        hex(m->build_id.data, idlen, h);
        unsigned char got[MDC_MAX_ID];
        size_t glen = 0;
        int at_path = m->path && m->path[0] &&
                      file_build_id(m->path, got, &glen, NULL) == 0;
        if (idlen == 0) {
            if (at_path && glen == 0) {
                st->path = strdup(m->path);
                st->unverified = 1;
            } else {
                snprintf(st->note, sizeof(st->note),
                         m->vdso ? "not symbolicated: vdso (no file)"
                                 : "not symbolicated: no build-id recorded");
                continue;
            }
        } else if (at_path && glen == idlen &&
                   memcmp(got, m->build_id.data, idlen) == 0) {
            st->path = strdup(m->path);
        } else {
            st->path = find_by_id(s, m->build_id.data, idlen, NULL, 0);
            st->elsewhere = st->path != NULL;
            if (!st->path) {
                char g[2 * MDC_MAX_ID + 1];
                hex(got, glen, g);
                if (at_path)
                    snprintf(st->note, sizeof(st->note),
                             "not symbolicated: %s has build-id %s, not the "
                             "recorded %s; no file with that build-id found",
                             m->path, glen ? g : "(none)", h);
                else
                    snprintf(st->note, sizeof(st->note),
                             "not symbolicated: no file with build-id %s "
                             "found%s",
                             h, m->vdso ? " (vdso)" : "");
                continue;
            }
        }
        uint64_t base = m->has_load_bias ? m->load_bias : m->address;
        st->mod =
            dwfl_report_elf(s->dwfl, m->path && m->path[0] ? m->path : "?",
                            st->path, -1, base, false);
        if (!st->mod)
            snprintf(st->note, sizeof(st->note),
                     "not symbolicated: libdwfl: %s", dwfl_errmsg(-1));
    }
    dwfl_report_end(s->dwfl, NULL, NULL);
    return 0;
}

/* ------------------------------------------------------------- lookups */

static const char *keep(mdc_sym *s, char *p)
{
    if (!p)
        return NULL;
    if (s->nscratch == sizeof(s->scratch) / sizeof(s->scratch[0])) {
        free(p);
        return NULL;
    }
    s->scratch[s->nscratch++] = p;
    return p;
}

/* Demangled copy kept in scratch, or the name itself; without an ELF
 * symbol version suffix ("__libc_start_main@@GLIBC_2.34"). */
static const char *nice_name(mdc_sym *s, const char *name)
{
    if (!name)
        return NULL;
    const char *at = strchr(name, '@');
    if (at && at != name) {
        const char *k = keep(s, strndup(name, (size_t)(at - name)));
        if (k)
            name = k;
    }
    const char *d = keep(s, mdc_demangle(name));
    return d ? d : name;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *n = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        n = dwarf_formstring(&a);
    if (!n && dwarf_attr_integrate(die, DW_AT_name, &a))
        n = dwarf_formstring(&a);
    return n;
}

static const char *call_file(Dwarf_Die *cu, Dwarf_Die *scope)
{
    Dwarf_Attribute a;
    Dwarf_Word idx;
    Dwarf_Files *files;
    size_t nfiles;
    if (!dwarf_attr(scope, DW_AT_call_file, &a) ||
        dwarf_formudata(&a, &idx) != 0 ||
        dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
        return NULL;
    return dwarf_filesrc(files, idx, NULL, NULL);
}

static unsigned attr_u(Dwarf_Die *die, int name)
{
    Dwarf_Attribute a;
    Dwarf_Word v;
    if (!dwarf_attr(die, (unsigned)name, &a) || dwarf_formudata(&a, &v) != 0)
        return 0;
    return (unsigned)v;
}

static int symbolize(void *ud, const mayday_report *rep, uint32_t image,
                     uint64_t pc, int context, mayday_symbol *out, size_t max)
{
    mdc_sym *s = ud;
    if (rep != s->rep || image >= s->nimg || !s->img[image].mod || max == 0)
        return 0;
    clear_scratch(s);
    Dwfl_Module *mod = s->img[image].mod;
    /* A return address points after the call: look up the call itself. */
    Dwarf_Addr addr = context ? pc : pc - 1;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name =
        dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    const char *file = NULL;
    int line = 0, col = 0;
    Dwfl_Line *ln = dwfl_module_getsrc(mod, addr);
    if (ln)
        file = dwfl_lineinfo(ln, NULL, &line, &col, NULL, NULL);
    size_t k = 0;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
    Dwarf_Die *scopes = NULL;
    int ns = cu ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
    const char *dwarf_fn = NULL;
    Dwarf_Addr dwarf_low = 0;
    for (int i = 0; i < ns; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_inlined_subroutine) {
            if (k + 1 < max) {
                out[k].function = nice_name(s, die_name(&scopes[i]));
                out[k].file = file;
                out[k].line = line > 0 ? (uint32_t)line : 0;
                out[k].column = col > 0 ? (uint32_t)col : 0;
                out[k].inlined = 1;
                k++;
            }
            file = call_file(cu, &scopes[i]);
            line = (int)attr_u(&scopes[i], DW_AT_call_line);
            col = (int)attr_u(&scopes[i], DW_AT_call_column);
        } else if (tag == DW_TAG_subprogram) {
            dwarf_fn = die_name(&scopes[i]);
            if (dwarf_lowpc(&scopes[i], &dwarf_low) == 0)
                dwarf_low += bias;
            else
                dwarf_low = 0;
            break;
        }
    }
    free(scopes);
    /* The ELF symbol, unless it is a compiler clone
     * ("parse_config.constprop.0") and DWARF has the source name
     * ("parse_config"). The offset is from the ELF symbol, which is the
     * code actually run. */
    const char *fn = name;
    if (dwarf_fn && (!name || strchr(name, '.')))
        fn = dwarf_fn;
    out[k].function = nice_name(s, fn);
    if (name)
        out[k].offset = pc - (addr - off);
    else if (dwarf_low)
        out[k].offset = pc - dwarf_low;
    out[k].file = file;
    out[k].line = line > 0 ? (uint32_t)line : 0;
    out[k].column = col > 0 ? (uint32_t)col : 0;
    out[k].inlined = 0;
    if (!out[k].function && !out[k].file && k == 0)
        return 0;
    return (int)k + 1;
}

static const char *image_note(void *ud, const mayday_report *rep,
                              uint32_t image)
{
    mdc_sym *s = ud;
    if (rep != s->rep || image >= s->nimg)
        return NULL;
    img_state *st = &s->img[image];
    if (!st->mod || st->note_done)
        return st->note[0] ? st->note : NULL;
    st->note_done = 1;
    Dwarf_Addr bias;
    const char *debug = NULL;
    /* Loads the DWARF (own or separate) if not done yet. */
    Dwarf *dw = dwfl_module_getdwarf(st->mod, &bias);
    dwfl_module_info(st->mod, NULL, NULL, NULL, NULL, NULL, NULL, &debug);
    size_t o = 0;
    if (st->elsewhere)
        o += (size_t)snprintf(st->note, sizeof(st->note), "symbols: %s",
                              st->path);
    if (dw && debug && strcmp(debug, st->path) != 0)
        snprintf(st->note + o, sizeof(st->note) - o, "%sdebug info: %s",
                 o ? "; " : "", debug);
    else if (!dw)
        snprintf(st->note + o, sizeof(st->note) - o,
                 "%sno debug info: function names only", o ? "; " : "");
    if (st->unverified) {
        o = strlen(st->note);
        snprintf(st->note + o, sizeof(st->note) - o,
                 "%sunverified: no build-id", o ? "; " : "");
    }
    return st->note[0] ? st->note : NULL;
}

void mdc_sym_options(mdc_sym *s, mayday_format_options *opt)
{
    opt->symbolize = symbolize;
    opt->image_note = image_note;
    opt->user_data = s;
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
