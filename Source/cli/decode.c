/*
 * decode.c - `mayday decode`: reports as text, JSON or JSON Lines, from
 * files, directories (every report in them, oldest first) or stdin, in
 * one process: modules stay loaded across reports (symbolize.h). With
 * --strict, exits 4 when a crashed thread's frame could not be
 * symbolicated.
 *
 * Context: normal (a standalone program).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/signature.h"
#include "normal/reader/reader.h"

/* The operands expanded: directories become their reports. */
typedef struct paths {
    char **v;
    size_t n, cap;
    int bad; /* an operand could not be listed */
} paths;

static void push(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        char **nv = realloc(p->v, nc * sizeof(*nv));
        if (!nv)
            return;
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n] = strdup(s);
    if (p->v[p->n])
        p->n++;
}

static void expand(paths *p, const char *arg)
{
    struct stat st;
    if (strcmp(arg, "-") != 0 && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        char **l = NULL;
        size_t n = 0;
        int rc = mayday_reports_list(arg, &l, &n);
        if (rc < 0) {
            fprintf(stderr, "mayday: %s: %s\n", arg, mayday_strerror(rc));
            p->bad = 1;
            return;
        }
        for (size_t i = 0; i < n; i++)
            push(p, l[i]);
        mayday_reports_list_free(l, n);
        return;
    }
    push(p, arg);
}

/* --strict: every frame of the crashed thread (thread 0 if none) that is
 * in an image other than a file-less vdso has a function name. Prints
 * the first that has none. 1 if all are symbolicated. */
static int strict_ok(mdc_sym *s, const mayday_report *rep,
                     const mayday_format_options *fo, const char *path)
{
    const Mayday__Report *r = md_report_pb(rep);
    size_t ti = md_brief_thread(r);
    if (ti >= r->n_threads)
        return 1;
    const Mayday__Thread *t = r->threads[ti];
    for (size_t fi = 0; fi < t->n_frames; fi++) {
        const Mayday__Frame *f = t->frames[fi];
        if (!f->has_image)
            continue;
        mdc_mod *m = mdc_sym_module(s, f->image);
        mdc_status st = m ? mdc_mod_status(m) : MDC_ST_ERROR;
        if (st == MDC_ST_VDSO)
            continue;
        mayday_symbol sym[MD_MAX_SYMBOLS];
        int ns = md_frame_symbols(rep, fo, t, fi, sym);
        if (ns > 0 && sym[ns - 1].function)
            continue;
        fprintf(stderr,
                "mayday: %s: thread %zu frame #%02zu (%s) not symbolicated: "
                "%s\n",
                path, ti, fi, md_image_short_name(r->images[f->image]),
                mdc_status_name(st));
        return 0;
    }
    return 1;
}

static int decode_one(mdc_sym *sym, const cli_opts *o, const char *path,
                      int many, int *nout, int *strict_failed)
{
    mayday_report *r = NULL;
    int rc = cli_load(path, &r);
    if (rc < 0) {
        fprintf(stderr, "mayday: %s: %s\n", path, mayday_strerror(rc));
        return EXIT_BAD_INPUT;
    }
    mayday_format_options fo;
    mayday_format_options_init(&fo);
    mdc_signature sig;
    if (mdc_sym_load(sym, r) == 0) {
        mdc_sym_options(sym, &fo);
        mdc_signature_of(sym, r, &sig);
        fo.signature_id = sig.id;
        fo.signature = sig.text;
    }
    if (o->brief)
        fo.flags |= MAYDAY_FORMAT_BRIEF;
    if (o->source)
        fo.flags |= MAYDAY_FORMAT_SOURCE;
    if (o->full)
        fo.flags |= MAYDAY_FORMAT_FULL_MEMORY;
    int lines = o->format == CLI_JSONL || (o->format == CLI_JSON && many);
    if (lines)
        fo.flags |= MAYDAY_FORMAT_COMPACT;
    if (o->format == CLI_TEXT) {
        if (*nout > 0)
            fputc('\n', stdout);
        if (many)
            printf("==> %s <==\n", path);
    }
    rc = mayday_report_format_ex(
        r, o->format == CLI_TEXT ? MAYDAY_FORMAT_TEXT : MAYDAY_FORMAT_JSON, &fo,
        stdout);
    (*nout)++;
    if (rc == 0 && o->strict && fo.symbolize && !strict_ok(sym, r, &fo, path))
        *strict_failed = 1;
    mayday_report_free(r);
    if (rc < 0) {
        fprintf(stderr, "mayday: write error: %s\n", strerror(errno));
        return EXIT_OUTPUT;
    }
    return 0;
}

int cmd_decode(int argc, char **argv)
{
    cli_opts o = {0};
    int first =
        cli_parse(argc, argv, &o,
                  "format,strict,brief,source,module-cache,full");
    if (first < 0)
        return EXIT_USAGE;
    if (first >= argc)
        return free(o.dirs),
               cli_usage_error("decode needs a FILE or DIR", NULL);
    paths p = {0};
    for (int i = first; i < argc; i++)
        expand(&p, argv[i]);
    /* One operand that is a file: one JSON object; otherwise JSON Lines. */
    struct stat st;
    int many = p.n > 1 || argc - first > 1 ||
               (strcmp(argv[first], "-") != 0 && stat(argv[first], &st) == 0 &&
                S_ISDIR(st.st_mode));
    mdc_sym *sym = cli_symbolicator(&o);
    int status = p.bad ? EXIT_BAD_INPUT : 0, nout = 0, strict_failed = 0;
    for (size_t i = 0; sym && i < p.n; i++) {
        int rc = decode_one(sym, &o, p.v[i], many, &nout, &strict_failed);
        if (rc == EXIT_OUTPUT) {
            status = rc;
            break;
        }
        if (rc)
            status = rc;
    }
    if (!sym) {
        fprintf(stderr, "mayday: cannot start the symbolicator: %s\n",
                strerror(ENOMEM));
        status = EXIT_BAD_INPUT;
    }
    if (status == 0 && strict_failed)
        status = EXIT_STRICT;
    mdc_sym_free(sym);
    for (size_t i = 0; i < p.n; i++)
        free(p.v[i]);
    free(p.v);
    free(o.dirs);
    return status;
}
