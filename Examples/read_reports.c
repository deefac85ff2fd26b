/*
 * read_reports.c - example: what an application does at startup with the
 * reports its previous runs left behind: list them (oldest first), print
 * each one, then purge it.
 *
 *   read_reports DIR [--json] [--keep]
 *
 * Context: normal (a standalone program using only the public API).
 */
#include <stdio.h>
#include <string.h>

#include <mayday/mayday.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: read_reports DIR [--json] [--keep]\n");
        return 2;
    }
    const char *dir = argv[1];
    mayday_format fmt = MAYDAY_FORMAT_TEXT;
    int keep = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            fmt = MAYDAY_FORMAT_JSON;
        else if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
    }

    char **paths;
    size_t n;
    int rc = mayday_reports_list(dir, &paths, &n);
    if (rc == MAYDAY_ENOENT) {
        printf("no report directory yet: nothing to do\n");
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "read_reports: %s: %s\n", dir, mayday_strerror(rc));
        return 1;
    }
    printf("%zu pending report%s in %s\n", n, n == 1 ? "" : "s", dir);

    int status = 0;
    for (size_t i = 0; i < n; i++) {
        mayday_report *r;
        rc = mayday_report_load(paths[i], &r);
        if (rc < 0) {
            /* A corrupt report (e.g. the machine lost power while it was
             * written) is of no use: say so, and drop it unless --keep. */
            fprintf(stderr, "read_reports: %s: %s\n", paths[i],
                    mayday_strerror(rc));
            if (!keep && (rc == MAYDAY_ECORRUPT || rc == MAYDAY_EVERSION))
                mayday_report_purge(paths[i]);
            status = 1;
            continue;
        }
        mayday_report_info info;
        info.size = sizeof(info);
        mayday_report_get_info(r, &info);
        printf("\n=== %s: %s %s, %s%s%s\n", paths[i], info.process_name,
               info.uuid, info.live ? "live report" : info.signal_name,
               info.cause[0] ? ", " : "", info.cause);
        if (mayday_report_format(r, fmt, stdout) < 0)
            status = 1;
        mayday_report_free(r);
        if (!keep) {
            rc = mayday_report_purge(paths[i]);
            if (rc < 0) {
                fprintf(stderr, "read_reports: purge %s: %s\n", paths[i],
                        mayday_strerror(rc));
                status = 1;
            }
        }
    }
    mayday_reports_list_free(paths, n);
    return status;
}
