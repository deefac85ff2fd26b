/*
 * symbolize.c - the CLI's symbolicator: a bounded cache of modules keyed
 * by build-id (symmod.h), the mapping of a report's images onto it, and
 * the formatter callbacks (see symbolize.h).
 *
 * Context: normal (CLI only).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/symbolize.h"
#include "normal/reader/reader.h"

#define MDC_DEFAULT_MODULES 64

typedef struct cache_ent {
    mdc_mod *mod;
    int vdso;
    uint64_t last_use; /* report generation that last used it */
} cache_ent;

struct mdc_sym {
    mdc_find *find;
    size_t max;
    cache_ent *cache;
    size_t ncache, cap;
    uint64_t gen;
    const mayday_report *rep;
    mdc_mod **img;
    size_t nimg;
};

mdc_sym *mdc_sym_new_opts(const mdc_sym_opts *o)
{
    mdc_sym *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    mdc_find_opts fo = {.dirs = o->dirs,
                        .ndirs = o->ndirs,
                        .debug_dir = o->debug_dir,
                        .debuginfod = o->debuginfod};
    s->find = mdc_find_new(&fo);
    s->max = o->max_modules ? o->max_modules : MDC_DEFAULT_MODULES;
    if (!s->find) {
        free(s);
        return NULL;
    }
    return s;
}

mdc_sym *mdc_sym_new(const char *const *dirs, size_t ndirs,
                     const char *debug_dir)
{
    mdc_sym_opts o = {
        .dirs = dirs, .ndirs = ndirs, .debug_dir = debug_dir, .debuginfod = 1};
    return mdc_sym_new_opts(&o);
}

void mdc_sym_free(mdc_sym *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncache; i++)
        mdc_mod_free(s->cache[i].mod);
    free(s->cache);
    free(s->img);
    mdc_find_free(s->find);
    free(s);
}

size_t mdc_sym_open_modules(const mdc_sym *s) { return s->ncache; }

static int same_key(mdc_mod *m, const Mayday__Image *img, int vdso, int ev)
{
    size_t len;
    const unsigned char *id = mdc_mod_id(m, &len);
    size_t want = img->has_build_id ? img->build_id.len : 0;
    if (vdso != ev || len != want ||
        (want && memcmp(id, img->build_id.data, want) != 0))
        return 0;
    if (want)
        return 1;
    /* No build-id: one module per recorded path. */
    const char *p = mdc_mod_path(m);
    return p && img->path && strcmp(p, img->path) == 0;
}

/* Closes least recently used modules that the current report does not
 * use, until there is room for one more. */
static void make_room(mdc_sym *s)
{
    while (s->ncache >= s->max) {
        size_t victim = s->ncache;
        for (size_t i = 0; i < s->ncache; i++)
            if (s->cache[i].last_use != s->gen &&
                (victim == s->ncache ||
                 s->cache[i].last_use < s->cache[victim].last_use))
                victim = i;
        if (victim == s->ncache)
            return; /* all in use: the cache grows for this report */
        mdc_mod_free(s->cache[victim].mod);
        s->cache[victim] = s->cache[--s->ncache];
    }
}

static mdc_mod *module_for(mdc_sym *s, const Mayday__Image *img)
{
    int vdso = img->vdso != 0;
    for (size_t i = 0; i < s->ncache; i++)
        if (same_key(s->cache[i].mod, img, vdso, s->cache[i].vdso)) {
            s->cache[i].last_use = s->gen;
            return s->cache[i].mod;
        }
    make_room(s);
    if (s->ncache == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        cache_ent *n = realloc(s->cache, nc * sizeof(*n));
        if (!n)
            return NULL;
        s->cache = n;
        s->cap = nc;
    }
    mdc_mod *m = mdc_mod_open(
        s->find, img->has_build_id ? img->build_id.data : NULL,
        img->has_build_id ? img->build_id.len : 0, img->path, vdso);
    if (!m)
        return NULL;
    s->cache[s->ncache++] = (cache_ent){m, vdso, s->gen};
    return m;
}

int mdc_sym_load(mdc_sym *s, const mayday_report *rep)
{
    const Mayday__Report *r = md_report_pb(rep);
    s->gen++;
    s->rep = rep;
    free(s->img);
    s->nimg = r->n_images;
    s->img = calloc(s->nimg ? s->nimg : 1, sizeof(*s->img));
    if (!s->img) {
        s->nimg = 0;
        return MAYDAY_ENOMEM;
    }
    /* Images are opened when a frame or a note first needs them. */
    return 0;
}

mdc_mod *mdc_sym_module(mdc_sym *s, uint32_t image)
{
    if (image >= s->nimg || !s->rep)
        return NULL;
    if (!s->img[image])
        s->img[image] = module_for(s, md_report_pb(s->rep)->images[image]);
    return s->img[image];
}

/* ------------------------------------------------------------ callbacks */

#define HAS_FIELD(st, field)                                                   \
    ((st)->size >= offsetof(__typeof__(*(st)), field) + sizeof((st)->field))

static int symbolize(void *ud, const mayday_report *rep, uint32_t image,
                     uint64_t pc, int context, mayday_symbol *out, size_t max)
{
    mdc_sym *s = ud;
    if (rep != s->rep || max == 0)
        return 0;
    mdc_mod *m = mdc_sym_module(s, image);
    if (!m)
        return 0;
    const Mayday__Image *img = md_report_pb(rep)->images[image];
    const mdc_res *r = mdc_mod_lookup(m, md_image_rel(img, pc), context);
    size_t n = (size_t)r->n < max ? (size_t)r->n : max;
    for (size_t i = 0; i < n; i++) {
        const mdc_ent *e = &r->e[i];
        out[i].function = e->function;
        out[i].file = e->file;
        out[i].line = e->line;
        out[i].column = e->column;
        out[i].inlined = i + 1 < n;
        out[i].offset = e->offset;
        if (HAS_FIELD(&out[i], symbol_at_function)) {
            out[i].symbol = e->symbol;
            out[i].symbol_at_function = e->symbol_is_start;
        }
    }
    return (int)n;
}

static const char *image_note(void *ud, const mayday_report *rep,
                              uint32_t image)
{
    mdc_sym *s = ud;
    mdc_mod *m = rep == s->rep ? mdc_sym_module(s, image) : NULL;
    return m ? mdc_mod_note(m) : NULL;
}

static int image_symbols(void *ud, const mayday_report *rep, uint32_t image,
                         mayday_image_symbols *out)
{
    mdc_sym *s = ud;
    mdc_mod *m = rep == s->rep ? mdc_sym_module(s, image) : NULL;
    if (!m || !HAS_FIELD(out, debug_found_by))
        return MAYDAY_ENOTFOUND;
    mdc_found fh, dh;
    out->status = mdc_status_name(mdc_mod_status(m));
    out->file = mdc_mod_file(m, &fh);
    out->found_by = mdc_found_name(fh);
    out->debug_file = mdc_mod_debug_file(m, &dh);
    out->debug_found_by = mdc_found_name(dh);
    return 0;
}

void mdc_sym_options(mdc_sym *s, mayday_format_options *opt)
{
    opt->symbolize = symbolize;
    opt->image_note = image_note;
    opt->image_symbols = image_symbols;
    opt->user_data = s;
}
