/*
 * symmod.c - one image's symbols: files, libdwfl session, lookups with
 * inline chains as eu-addr2line gives them, and a cache of the results
 * (see symmod.h).
 *
 * Context: normal (CLI only).
 */
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
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/symmod_int.h"

const char *mdc_status_name(mdc_status s)
{
    static const char *const n[] = {
        [MDC_ST_OK] = "ok",
        [MDC_ST_NO_DEBUG_INFO] = "no_debug_info",
        [MDC_ST_MISSING] = "missing",
        [MDC_ST_MISMATCH] = "build_id_mismatch",
        [MDC_ST_NO_BUILD_ID] = "no_build_id",
        [MDC_ST_UNVERIFIED] = "unverified",
        [MDC_ST_VDSO] = "vdso",
        [MDC_ST_ERROR] = "error",
    };
    return s <= MDC_ST_ERROR ? n[s] : "error";
}

/* ------------------------------------------------------------ strings */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* The module's copy of s (NULL for NULL, and without memory). */
const char *mdc_intern(mdc_mod *m, const char *s)
{
    if (!s)
        return NULL;
    if (m->nstrs * 2 >= m->nstrs_cap) {
        size_t nc = m->nstrs_cap ? m->nstrs_cap * 2 : 256;
        char **ns = calloc(nc, sizeof(*ns));
        if (!ns)
            return NULL;
        for (size_t i = 0; i < m->nstrs_cap; i++) {
            if (!m->strs[i])
                continue;
            size_t k = hash_str(m->strs[i]) & (nc - 1);
            while (ns[k])
                k = (k + 1) & (nc - 1);
            ns[k] = m->strs[i];
        }
        free(m->strs);
        m->strs = ns;
        m->nstrs_cap = nc;
    }
    size_t k = hash_str(s) & (m->nstrs_cap - 1);
    while (m->strs[k]) {
        if (strcmp(m->strs[k], s) == 0)
            return m->strs[k];
        k = (k + 1) & (m->nstrs_cap - 1);
    }
    m->strs[k] = strdup(s);
    if (m->strs[k])
        m->nstrs++;
    return m->strs[k];
}

/* Demangled, without an ELF symbol version ("x@@GLIBC_2.34"), interned. */
const char *mdc_nice_name(mdc_mod *m, const char *name)
{
    if (!name)
        return NULL;
    char buf[1024];
    const char *at = strchr(name, '@');
    if (at && at != name && (size_t)(at - name) < sizeof(buf)) {
        memcpy(buf, name, (size_t)(at - name));
        buf[at - name] = '\0';
        name = buf;
    }
    char *d = mdc_demangle(name);
    const char *r = mdc_intern(m, d ? d : name);
    free(d);
    return r;
}

/* ------------------------------------------------------ libdwfl glue */

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
    (void)mod, (void)modname, (void)base;
    mdc_mod *m = ud ? *ud : NULL;
    if (!m || !file_name)
        return -1;
    mdc_found how;
    char *p = mdc_find_debug(m->find, file_name, m->id, m->idlen, debuglink,
                             crc, &how);
    if (!p)
        return -1;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        free(p);
        return -1;
    }
    free(m->debug);
    m->debug = strdup(p);
    m->debug_how = how;
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

/* The running system's vdso as a file (memfd) if its build-id is id. */
static int local_vdso(const unsigned char *id, size_t len)
{
    const unsigned char *base =
        (const unsigned char *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (!base || len == 0)
        return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64)
        return -1;
    /* The vdso's file image is its sections' extent. */
    size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
    if (size > (8u << 20))
        return -1;
    int fd = memfd_create("vdso", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (write(fd, base, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "/proc/self/fd/%d", fd);
    unsigned char got[MDC_MAX_ID];
    size_t glen;
    if (mdc_file_build_id(tmp, got, &glen, NULL) != 0 || glen != len ||
        memcmp(got, id, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void set_missing_note(mdc_mod *m)
{
    char h[2 * MDC_MAX_ID + 1] = "", g[2 * MDC_MAX_ID + 1] = "(none)";
    for (size_t i = 0; i < m->idlen; i++)
        sprintf(h + 2 * i, "%02x", m->id[i]);
    unsigned char got[MDC_MAX_ID];
    size_t glen = 0;
    int at_path = m->path && m->path[0] &&
                  mdc_file_build_id(m->path, got, &glen, NULL) == 0;
    for (size_t i = 0; i < glen; i++)
        sprintf(g + 2 * i, "%02x", got[i]);
    const char *dfd = mdc_find_debuginfod_error(m->find);
    if (at_path) {
        m->status = MDC_ST_MISMATCH;
        snprintf(m->note, sizeof(m->note),
                 "not symbolicated: %s has build-id %s, not the recorded "
                 "%s; no file with that build-id found%s%s",
                 m->path, g, h, dfd ? "; " : "", dfd ? dfd : "");
    } else {
        m->status = MDC_ST_MISSING;
        snprintf(m->note, sizeof(m->note),
                 "not symbolicated: no file with build-id %s found%s%s", h,
                 dfd ? "; " : "", dfd ? dfd : "");
    }
}

mdc_mod *mdc_mod_open(mdc_find *f, const unsigned char *id, size_t len,
                      const char *path, int vdso)
{
    mdc_mod *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->find = f;
    m->vdso_fd = -1;
    m->idlen = len <= MDC_MAX_ID ? len : 0;
    memcpy(m->id, id, m->idlen);
    m->path = path ? strdup(path) : NULL;
    if (len > MDC_MAX_ID) {
        m->status = MDC_ST_ERROR;
        snprintf(m->note, sizeof(m->note),
                 "not symbolicated: build-id too long");
        return m;
    }
    if (vdso) {
        m->vdso_fd = local_vdso(id, len);
        if (m->vdso_fd < 0) {
            m->status = MDC_ST_VDSO;
            snprintf(m->note, sizeof(m->note),
                     "not symbolicated: vdso (no file; this system's vdso "
                     "has another build-id)");
            return m;
        }
        m->file = strdup("[vdso]");
        m->file_how = MDC_FOUND_PATH;
    } else if (m->idlen == 0) {
        unsigned char got[MDC_MAX_ID];
        size_t glen = 1;
        if (path && path[0] && mdc_file_build_id(path, got, &glen, NULL) == 0 &&
            glen == 0) {
            m->file = strdup(path);
            m->file_how = MDC_FOUND_PATH;
            m->status = MDC_ST_UNVERIFIED;
        } else {
            m->status = MDC_ST_NO_BUILD_ID;
            snprintf(m->note, sizeof(m->note),
                     "not symbolicated: no build-id recorded");
            return m;
        }
    } else {
        m->file = mdc_find_elf(f, path, m->id, m->idlen, &m->file_how);
        if (!m->file) {
            set_missing_note(m);
            return m;
        }
    }
    m->dwfl = dwfl_begin(&k_callbacks);
    if (m->dwfl) {
        dwfl_report_begin(m->dwfl);
        m->mod =
            dwfl_report_elf(m->dwfl, path && path[0] ? path : "?", m->file,
                            m->vdso_fd >= 0 ? dup(m->vdso_fd) : -1, 0, false);
        dwfl_report_end(m->dwfl, NULL, NULL);
    }
    if (!m->mod) {
        m->status = MDC_ST_ERROR;
        snprintf(m->note, sizeof(m->note), "not symbolicated: libdwfl: %s",
                 dwfl_errmsg(-1));
        return m;
    }
    void **ud = NULL;
    dwfl_module_info(m->mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
    if (ud)
        *ud = m;
    return m;
}

/* Loads the DWARF (own or separate) once: sets the status and note. */
/* Whether the module has DWARF and where, without loading it (libdw
 * inflates whole compressed sections: tens of ms for libc6-dbg's): the
 * ELF file's own .debug_info, else the separate file libdwfl's
 * find_debuginfo callback would be given (same search). */
static int probe_dwarf(mdc_mod *m)
{
    unsigned char id[MDC_MAX_ID];
    size_t len;
    int in_file = 0;
    if (m->vdso_fd < 0 && m->file &&
        mdc_file_build_id(m->file, id, &len, &in_file) == 0 && in_file) {
        free(m->debug);
        m->debug = NULL;
        m->debug_how = MDC_FOUND_IN_FILE;
        return 1;
    }
    if (m->debug)
        return 1;
    GElf_Addr b;
    GElf_Word crc = 0;
    Elf *elf = dwfl_module_getelf(m->mod, &b);
    const char *link = elf ? dwelf_elf_gnu_debuglink(elf, &crc) : NULL;
    mdc_found how;
    char *p = m->vdso_fd < 0 ? mdc_find_debug(m->find, m->file, m->id, m->idlen,
                                              link, crc, &how)
                             : NULL;
    if (!p)
        return 0;
    m->debug = p;
    m->debug_how = how;
    return 1;
}

static void check_dwarf(mdc_mod *m)
{
    if (m->dwarf_checked || !m->mod)
        return;
    m->dwarf_checked = 1;
    int dw;
    if (m->dwarf_used) {
        /* Already loaded for a lookup: what libdwfl really found. */
        Dwarf_Addr bias;
        dw = dwfl_module_getdwarf(m->mod, &bias) != NULL;
        const char *debug = NULL;
        dwfl_module_info(m->mod, NULL, NULL, NULL, NULL, NULL, NULL, &debug);
        if (dw && (!debug || !m->debug || strcmp(debug, m->debug) != 0)) {
            /* The DWARF is in the file itself. */
            free(m->debug);
            m->debug = NULL;
            m->debug_how = MDC_FOUND_IN_FILE;
        }
    } else {
        dw = probe_dwarf(m);
    }
    if (m->status == MDC_ST_OK && !dw)
        m->status = MDC_ST_NO_DEBUG_INFO;
    size_t o = 0;
    if (m->file_how != MDC_FOUND_PATH)
        o += (size_t)snprintf(m->note, sizeof(m->note), "symbols: %s", m->file);
    if (dw && m->debug)
        o += (size_t)snprintf(m->note + o, sizeof(m->note) - o,
                              "%sdebug info: %s", o ? "; " : "", m->debug);
    else if (!dw)
        o += (size_t)snprintf(m->note + o, sizeof(m->note) - o,
                              "%sno debug info: function names only",
                              o ? "; " : "");
    if (m->status == MDC_ST_UNVERIFIED)
        snprintf(m->note + o, sizeof(m->note) - o, "%sunverified: no build-id",
                 o ? "; " : "");
}

mdc_status mdc_mod_status(mdc_mod *m)
{
    check_dwarf(m);
    return m->status;
}

const char *mdc_mod_note(mdc_mod *m)
{
    check_dwarf(m);
    return m->note[0] ? m->note : NULL;
}

const char *mdc_mod_file(mdc_mod *m, mdc_found *how)
{
    *how = m->file_how;
    return m->file;
}

const char *mdc_mod_debug_file(mdc_mod *m, mdc_found *how)
{
    check_dwarf(m);
    *how = m->debug || m->debug_how == MDC_FOUND_IN_FILE ? m->debug_how
                                                         : MDC_FOUND_NONE;
    return m->debug;
}

const unsigned char *mdc_mod_id(mdc_mod *m, size_t *len)
{
    *len = m->idlen;
    return m->id;
}

const char *mdc_mod_path(mdc_mod *m) { return m->path; }

void mdc_mod_free(mdc_mod *m)
{
    if (!m)
        return;
    if (m->dwfl)
        dwfl_end(m->dwfl);
    if (m->vdso_fd >= 0)
        close(m->vdso_fd);
    for (size_t i = 0; i < m->nslots; i++)
        free(m->slots[i].res);
    free(m->slots);
    for (size_t i = 0; i < m->nstrs_cap; i++)
        free(m->strs[i]);
    free(m->strs);
    free(m->dyn);
    free(m->path);
    free(m->file);
    free(m->debug);
    free(m);
}
