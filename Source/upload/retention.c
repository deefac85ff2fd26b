/*
 * retention.c - what a run keeps: uploaded reports older than
 * keep_uploaded_days are deleted, and at most keep_max reports are kept
 * (uploaded ones are deleted first, oldest first, then the oldest of the
 * rest). A report is deleted before its state file (db.c), so a kill -9
 * in between leaves an orphan state file that the next run removes.
 *
 * Context: normal only; called with the directory lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "upload/upload_internal.h"

#define DAY_NS ((int64_t)86400 * 1000000000)

static void purged(const char *path, const mayday_upload_config *cfg,
                   mayday_upload_result *res)
{
    res->purged++;
    if (cfg->on_event)
        cfg->on_event(MAYDAY_UPLOAD_EV_PURGED, path, cfg->on_event_data);
}

int md_up_retention(const char *dir, const mayday_upload_config *cfg,
                    mayday_upload_result *res)
{
    char **paths = NULL;
    size_t n = 0;
    int rc = mayday_reports_list(dir, &paths, &n);
    if (rc < 0)
        return rc;
    int64_t now = md_up_now_ns();
    char *gone = calloc(n ? n : 1, 1);
    int *state = calloc(n ? n : 1, sizeof(*state));
    if (!gone || !state) {
        free(gone);
        free(state);
        mayday_reports_list_free(paths, n);
        return MAYDAY_ENOMEM;
    }
    size_t left = n;
    for (size_t i = 0; i < n; i++) {
        mayday_upload_status st;
        st.size = sizeof(st);
        md_up_read_state(paths[i], &st);
        state[i] = st.state;
        if (cfg->keep_uploaded_days > 0 && st.state == MAYDAY_UPLOAD_UPLOADED &&
            st.uploaded_unix_ns <
                now - (int64_t)cfg->keep_uploaded_days * DAY_NS &&
            md_up_delete_report(paths[i]) == 0) {
            gone[i] = 1;
            left--;
            purged(paths[i], cfg, res);
        }
    }
    /* keep_max: two passes over the list (oldest first): uploaded, then
     * the others. */
    for (int pass = 0; pass < 2 && cfg->keep_max > 0; pass++) {
        for (size_t i = 0; i < n && left > cfg->keep_max; i++) {
            if (gone[i] || (pass == 0 && state[i] != MAYDAY_UPLOAD_UPLOADED))
                continue;
            if (md_up_delete_report(paths[i]) == 0) {
                gone[i] = 1;
                left--;
                purged(paths[i], cfg, res);
            }
        }
    }
    free(gone);
    free(state);
    mayday_reports_list_free(paths, n);
    return 0;
}
