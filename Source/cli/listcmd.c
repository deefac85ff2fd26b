/*
 * listcmd.c - `mayday list DIR`: one line per report, oldest first
 * (time, signal, crashed function, path; corrupt ones marked), and
 * `mayday list --group DIR`: reports counted per crash signature
 * (signature.h), most frequent first.
 *
 * Context: normal (a standalone program).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/signature.h"
#include "normal/reader/reader.h"

/* The crashed thread's innermost function, or image+offset, into buf. */
static void crashed_function(mdc_sym *sym, const mayday_report *rep, char *buf,
                             size_t n)
{
    const Mayday__Report *r = md_report_pb(rep);
    snprintf(buf, n, "?");
    size_t ti = md_brief_thread(r);
    if (ti >= r->n_threads || r->threads[ti]->n_frames == 0)
        return;
    const Mayday__Frame *f = r->threads[ti]->frames[0];
    if (!f->has_image || !f->has_pc)
        return;
    const Mayday__Image *m = r->images[f->image];
    mdc_mod *mod = mdc_sym_module(sym, f->image);
    const mdc_res *res = mod ? mdc_mod_lookup(mod, md_image_rel(m, f->pc),
                                              md_frame_is_context(f, 0))
                             : NULL;
    if (res && res->n > 0 && res->e[0].function) {
        snprintf(buf, n, "%s", res->e[0].function);
        return;
    }
    snprintf(buf, n, "%s+0x%" PRIx64, md_image_short_name(m),
             md_image_rel(m, f->pc));
}

static void utc(int64_t ns, char *t, size_t n)
{
    snprintf(t, n, "-");
    time_t sec = (time_t)(ns / 1000000000);
    struct tm tm;
    if (ns > 0 && gmtime_r(&sec, &tm))
        strftime(t, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct group {
    mdc_signature sig;
    size_t count;
    int64_t first_ns, last_ns;
    char *example; /* path of the newest report */
} group;

static int by_count(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

static void add_to_group(group **g, size_t *ng, const mdc_signature *sig,
                         int64_t t, const char *path)
{
    for (size_t i = 0; i < *ng; i++) {
        group *e = &(*g)[i];
        if (strcmp(e->sig.id, sig->id) == 0) {
            e->count++;
            if (t < e->first_ns)
                e->first_ns = t;
            if (t >= e->last_ns) {
                e->last_ns = t;
                free(e->example);
                e->example = strdup(path);
            }
            return;
        }
    }
    group *n = realloc(*g, (*ng + 1) * sizeof(*n));
    if (!n)
        return;
    *g = n;
    n[*ng] = (group){*sig, 1, t, t, strdup(path)};
    (*ng)++;
}

static void print_groups(group *g, size_t ng, size_t corrupt)
{
    qsort(g, ng, sizeof(*g), by_count);
    printf("%-6s  %-16s  %-20s  %-20s  %s\n", "COUNT", "SIGNATURE", "FIRST",
           "LAST", "FRAMES");
    for (size_t i = 0; i < ng; i++) {
        char a[32], b[32];
        utc(g[i].first_ns, a, sizeof(a));
        utc(g[i].last_ns, b, sizeof(b));
        printf("%-6zu  %-16s  %-20s  %-20s  %s\n", g[i].count, g[i].sig.id, a,
               b, g[i].sig.text);
        free(g[i].example);
    }
    if (corrupt)
        printf("%-6zu  %-16s  %-20s  %-20s  %s\n", corrupt, "-", "-", "-",
               "(corrupt reports)");
}

int cmd_list(int argc, char **argv)
{
    cli_opts o = {0};
    int first = cli_parse(argc, argv, &o, "group,module-cache");
    if (first < 0)
        return EXIT_USAGE;
    if (argc - first != 1)
        return free(o.dirs), cli_usage_error("list needs one DIR", NULL);
    const char *dir = argv[first];
    char **paths = NULL;
    size_t n = 0;
    int rc = mayday_reports_list(dir, &paths, &n);
    if (rc < 0) {
        fprintf(stderr, "mayday: %s: %s\n", dir, mayday_strerror(rc));
        free(o.dirs);
        return EXIT_BAD_INPUT;
    }
    mdc_sym *sym = cli_symbolicator(&o);
    group *groups = NULL;
    size_t ngroups = 0, corrupt = 0;
    for (size_t i = 0; i < n && sym; i++) {
        mayday_report *r = NULL;
        rc = mayday_report_load(paths[i], &r);
        if (rc < 0) {
            corrupt++;
            if (!o.group)
                printf("%-20s  %-9s  %-32s  %-18s  %s  (%s)\n", "-",
                       "CORRUPT", "-", "-", paths[i], mayday_strerror(rc));
            continue;
        }
        mayday_report_info info;
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        mayday_report_get_info(r, &info);
        mdc_sym_load(sym, r);
        if (o.group) {
            mdc_signature sig;
            mdc_signature_of(sym, r, &sig);
            add_to_group(&groups, &ngroups, &sig, info.time_unix_ns, paths[i]);
        } else {
            char t[32], fn[256];
            utc(info.time_unix_ns, t, sizeof(t));
            crashed_function(sym, r, fn, sizeof(fn));
            const char *sig = info.live             ? "live"
                              : info.signal_name[0] ? info.signal_name
                                                    : "?";
            char state[64];
            mdc_state_text(paths[i], state, sizeof(state)); /* issue 13 */
            printf("%-20s  %-9s  %-32s  %-18s  %s\n", t, sig, fn, state,
                   paths[i]);
        }
        mayday_report_free(r);
    }
    if (o.group)
        print_groups(groups, ngroups, corrupt);
    free(groups);
    mdc_sym_free(sym);
    mayday_reports_list_free(paths, n);
    free(o.dirs);
    return sym ? 0 : EXIT_BAD_INPUT;
}
