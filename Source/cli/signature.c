/*
 * signature.c - crash signatures (the normalisation is in signature.h).
 *
 * Context: normal (CLI only).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/signature.h"
#include "normal/reader/reader.h"

typedef struct sig_acc {
    char names[MDC_SIG_FRAMES][256];
    int n;
} sig_acc;

static int starts_with(const char *s, const char *p)
{
    return s && strncmp(s, p, strlen(p)) == 0;
}

static int is_system_image(const Mayday__Image *img)
{
    static const char *const dirs[] = {"/lib/", "/usr/lib/", "/lib64/",
                                       "/usr/lib64/", "/usr/libexec/"};
    if (img->vdso)
        return 1;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (starts_with(img->path, dirs[i]))
            return 1;
    return 0;
}

/* libc, libstdc++, libgcc_s: where abort()'s machinery lives. */
static int is_abort_image(const Mayday__Image *img)
{
    const char *n = md_image_short_name(img);
    return starts_with(n, "libc.so") || starts_with(n, "libc-") ||
           starts_with(n, "libstdc++.so") || starts_with(n, "libgcc_s.so");
}

static int is_mayday(const Mayday__Image *img, const char *fn)
{
    return starts_with(md_image_short_name(img), "libmayday.so") ||
           starts_with(fn, "mayday_") || starts_with(fn, "mds_") ||
           starts_with(fn, "md_");
}

/* fn without a compiler clone suffix, into buf. */
static void strip_clone(const char *fn, char *buf, size_t n)
{
    static const char *const sfx[] = {".constprop.", ".isra.",     ".part.",
                                      ".cold",       ".lto_priv.", ".llvm."};
    snprintf(buf, n, "%s", fn);
    for (;;) {
        char *cut = NULL;
        for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
            char *p = strstr(buf, sfx[i]);
            if (p && (!cut || p < cut))
                cut = p;
        }
        if (!cut)
            return;
        *cut = '\0';
    }
}

static void add(sig_acc *a, const char *name)
{
    if (a->n > 0 && strcmp(a->names[a->n - 1], name) == 0)
        return; /* recursion: once */
    if (a->n < MDC_SIG_FRAMES)
        snprintf(a->names[a->n++], sizeof(a->names[0]), "%s", name);
}

void mdc_signature_of(mdc_sym *s, const mayday_report *rep, mdc_signature *out)
{
    const Mayday__Report *r = md_report_pb(rep);
    char sigbuf[16];
    const char *sig = r->header && r->header->live
                          ? "live"
                          : md_report_signal_name(r, sigbuf, sizeof(sigbuf));
    int aborting = r->signal && r->signal->has_number && r->signal->number == 6;
    size_t ti = r->has_crashed_thread ? r->crashed_thread : 0;
    sig_acc acc = {.n = 0};
    int leading = 1;
    for (size_t fi = 0; ti < r->n_threads && fi < r->threads[ti]->n_frames &&
                        acc.n < MDC_SIG_FRAMES;
         fi++) {
        const Mayday__Frame *f = r->threads[ti]->frames[fi];
        if (!f->has_image || !f->has_pc)
            continue;
        const Mayday__Image *img = r->images[f->image];
        mdc_mod *m = mdc_sym_module(s, f->image);
        uint64_t rel = md_image_rel(img, f->pc);
        int ctx = md_frame_is_context(f, fi);
        const mdc_res *res = m ? mdc_mod_lookup(m, rel, ctx) : NULL;
        const char *fn0 = res && res->n ? res->e[res->n - 1].function : NULL;
        if (is_mayday(img, fn0))
            continue;
        if (aborting && leading && is_abort_image(img))
            continue;
        leading = 0;
        char buf[256];
        if (is_system_image(img)) {
            const char *ex = m ? mdc_mod_exported(m, rel, ctx) : NULL;
            add(&acc, ex ? ex : md_image_short_name(img));
            continue;
        }
        int named = 0;
        for (int k = 0; res && k < res->n; k++)
            if (res->e[k].function) {
                strip_clone(res->e[k].function, buf, sizeof(buf));
                add(&acc, buf);
                named = 1;
            }
        if (!named) {
            snprintf(buf, sizeof(buf), "%s+0x%" PRIx64,
                     md_image_short_name(img), rel);
            add(&acc, buf);
        }
    }
    size_t o = (size_t)snprintf(out->text, sizeof(out->text),
                                "%s:", sig && sig[0] ? sig : "?");
    for (int i = 0; i < acc.n && o < sizeof(out->text); i++)
        o += (size_t)snprintf(out->text + o, sizeof(out->text) - o, "%s%s",
                              i ? " | " : " ", acc.names[i]);
    if (acc.n == 0 && o < sizeof(out->text))
        snprintf(out->text + o, sizeof(out->text) - o, " (no frames)");
    uint64_t h = 1469598103934665603ull;
    for (const char *c = out->text; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    snprintf(out->id, sizeof(out->id), "%016" PRIx64, h);
}
