/*
 * symfind.c - finding an image's ELF file and separate debug info by
 * build-id, .gnu_debuglink and debuginfod (see symfind.h for the order).
 *
 * Context: normal (CLI only). A file is accepted only if its GNU build-id
 * equals the recorded one: symbols from another build would be plausible
 * and wrong, which is worse than none.
 */
#include <dirent.h>
#include <errno.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/symfind.h"
#include "crash/core/writer.h"

typedef struct flat_file {
    char *path;
    unsigned char id[MDC_MAX_ID];
    size_t idlen;
    int has_dwarf;
} flat_file;

struct mdc_find {
    mdc_find_opts o;
    flat_file *flat;
    size_t nflat;
    int indexed;
    debuginfod_client *dfd;
    int dfd_tried;
    char dfd_error[256];
};

const char *mdc_found_name(mdc_found f)
{
    static const char *const n[] = {
        [MDC_FOUND_PATH] = "path",
        [MDC_FOUND_SYMBOLS_DIR] = "symbols_dir",
        [MDC_FOUND_DEBUG_DIR] = "debug_dir",
        [MDC_FOUND_DEBUGLINK] = "debuglink",
        [MDC_FOUND_DEBUGINFOD] = "debuginfod",
        [MDC_FOUND_IN_FILE] = "in_file",
    };
    return f > 0 && f <= MDC_FOUND_IN_FILE ? n[f] : NULL;
}

int mdc_file_build_id(const char *path, unsigned char *id, size_t *len,
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
        size_t shstrndx;
        if (has_dwarf) {
            *has_dwarf = 0;
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

mdc_find *mdc_find_new(const mdc_find_opts *o)
{
    elf_version(EV_CURRENT);
    mdc_find *f = calloc(1, sizeof(*f));
    if (f)
        f->o = *o;
    return f;
}

void mdc_find_free(mdc_find *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nflat; i++)
        free(f->flat[i].path);
    free(f->flat);
    if (f->dfd)
        debuginfod_end(f->dfd);
    free(f);
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Indexes the regular files directly in every --symbols dir, once. */
static void build_index(mdc_find *f)
{
    f->indexed = 1;
    for (size_t d = 0; d < f->o.ndirs; d++) {
        DIR *dir = opendir(f->o.dirs[d]);
        if (!dir)
            continue;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char *path = NULL;
            if (asprintf(&path, "%s/%s", f->o.dirs[d], de->d_name) < 0)
                break;
            flat_file ff = {.path = path};
            if (mdc_file_build_id(path, ff.id, &ff.idlen, &ff.has_dwarf) != 0 ||
                ff.idlen == 0) {
                free(path);
                continue;
            }
            flat_file *nv = realloc(f->flat, (f->nflat + 1) * sizeof(*nv));
            if (!nv) {
                free(path);
                break;
            }
            f->flat = nv;
            f->flat[f->nflat++] = ff;
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
    if (mdc_file_build_id(path, got, &glen, &dw) != 0)
        return 0;
    return glen == len && memcmp(got, id, len) == 0 && (!want_dwarf || dw);
}

static char *try_path(const char *path, const unsigned char *id, size_t len,
                      const char *exclude, int want_dwarf)
{
    if (exclude && strcmp(path, exclude) == 0)
        return NULL;
    return matches(path, id, len, want_dwarf) ? strdup(path) : NULL;
}

/* --symbols dirs (tree, then flat), then the debug dir's tree. */
static char *find_local(mdc_find *f, const unsigned char *id, size_t len,
                        const char *exclude, int want_dwarf, mdc_found *how)
{
    char h[2 * MDC_MAX_ID + 1], path[4096];
    char *r;
    hex(id, len, h);
    static const char *const sfx[] = {".debug", ""};
    for (size_t d = 0; d < f->o.ndirs; d++)
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s%s", f->o.dirs[d],
                     h, h + 2, sfx[k]);
            if ((r = try_path(path, id, len, exclude, want_dwarf))) {
                *how = MDC_FOUND_SYMBOLS_DIR;
                return r;
            }
        }
    if (!f->indexed)
        build_index(f);
    for (size_t i = 0; i < f->nflat; i++) {
        flat_file *ff = &f->flat[i];
        if (ff->idlen == len && memcmp(ff->id, id, len) == 0 &&
            (!want_dwarf || ff->has_dwarf) &&
            (!exclude || strcmp(ff->path, exclude) != 0)) {
            *how = MDC_FOUND_SYMBOLS_DIR;
            return strdup(ff->path);
        }
    }
    if (f->o.debug_dir) {
        snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug",
                 f->o.debug_dir, h, h + 2);
        if ((r = try_path(path, id, len, exclude, want_dwarf))) {
            *how = MDC_FOUND_DEBUG_DIR;
            return r;
        }
    }
    return NULL;
}

/* debuginfod: the executable (want_exec) or the debuginfo. */
static char *find_debuginfod(mdc_find *f, const unsigned char *id, size_t len,
                             int want_exec, mdc_found *how)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    if (!f->o.debuginfod || !urls || !urls[0] || len == 0)
        return NULL;
    if (!f->dfd_tried) {
        f->dfd_tried = 1;
        f->dfd = debuginfod_begin();
    }
    if (!f->dfd)
        return NULL;
    char *path = NULL;
    int fd = want_exec ? debuginfod_find_executable(f->dfd, id, (int)len, &path)
                       : debuginfod_find_debuginfo(f->dfd, id, (int)len, &path);
    if (fd < 0) {
        char h[2 * MDC_MAX_ID + 1];
        hex(id, len, h);
        /* A server that cannot be reached or does not answer in time
         * would cost that time again for every image: stop asking. */
        int down = fd != -ENOENT && fd != -ENOSYS;
        snprintf(f->dfd_error, sizeof(f->dfd_error),
                 "debuginfod: %s for %s: %s%s",
                 want_exec ? "executable" : "debuginfo", h, strerror(-fd),
                 down ? " (debuginfod not asked again)" : "");
        if (down)
            f->o.debuginfod = 0;
        free(path);
        return NULL;
    }
    close(fd);
    /* The server's file is checked like any other. */
    if (!path || !matches(path, id, len, !want_exec)) {
        free(path);
        return NULL;
    }
    *how = MDC_FOUND_DEBUGINFOD;
    return path;
}

const char *mdc_find_debuginfod_error(mdc_find *f)
{
    return f->dfd_error[0] ? f->dfd_error : NULL;
}

char *mdc_find_elf(mdc_find *f, const char *recorded_path,
                   const unsigned char *id, size_t len, mdc_found *how)
{
    *how = MDC_FOUND_NONE;
    if (recorded_path && recorded_path[0] &&
        matches(recorded_path, id, len, 0)) {
        *how = MDC_FOUND_PATH;
        return strdup(recorded_path);
    }
    if (len == 0)
        return NULL;
    char *r = find_local(f, id, len, NULL, 0, how);
    if (!r)
        r = find_debuginfod(f, id, len, 1, how);
    if (!r)
        r = find_debuginfod(f, id, len, 0, how);
    return r;
}

/* CRC-32 of a whole file, as .gnu_debuglink records it. -1 on error. */
static int64_t file_crc(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint32_t crc = 0;
    unsigned char buf[65536];
    ssize_t k;
    while ((k = read(fd, buf, sizeof(buf))) > 0)
        crc = mds_crc32(crc, buf, (size_t)k);
    close(fd);
    return k < 0 ? -1 : (int64_t)crc;
}

static char *try_debuglink(const char *cand, const char *main_file,
                           const unsigned char *id, size_t len, uint32_t crc)
{
    char *rm = realpath(main_file, NULL), *rc = realpath(cand, NULL);
    int same = rm && rc && strcmp(rm, rc) == 0;
    free(rm);
    free(rc);
    if (same || access(cand, R_OK) != 0)
        return NULL;
    if (len > 0)
        return matches(cand, id, len, 1) ? strdup(cand) : NULL;
    return file_crc(cand) == (int64_t)crc ? strdup(cand) : NULL;
}

static char *find_debuglink(mdc_find *f, const char *main_file,
                            const unsigned char *id, size_t len,
                            const char *link, uint32_t crc)
{
    if (!link || !link[0] || strchr(link, '/'))
        return NULL;
    char dir[4096], cand[8192];
    snprintf(dir, sizeof(dir), "%s", main_file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    char *r;
    snprintf(cand, sizeof(cand), "%s/%s", dir, link);
    if ((r = try_debuglink(cand, main_file, id, len, crc)))
        return r;
    snprintf(cand, sizeof(cand), "%s/.debug/%s", dir, link);
    if ((r = try_debuglink(cand, main_file, id, len, crc)))
        return r;
    if (f->o.debug_dir && dir[0] == '/') {
        snprintf(cand, sizeof(cand), "%s%s/%s", f->o.debug_dir, dir, link);
        if ((r = try_debuglink(cand, main_file, id, len, crc)))
            return r;
    }
    return NULL;
}

char *mdc_find_debug(mdc_find *f, const char *main_file,
                     const unsigned char *id, size_t len, const char *debuglink,
                     uint32_t crc, mdc_found *how)
{
    *how = MDC_FOUND_NONE;
    char *r = len ? find_local(f, id, len, main_file, 1, how) : NULL;
    if (!r && (r = find_debuglink(f, main_file, id, len, debuglink, crc)))
        *how = MDC_FOUND_DEBUGLINK;
    if (!r)
        r = find_debuginfod(f, id, len, 0, how);
    return r;
}
