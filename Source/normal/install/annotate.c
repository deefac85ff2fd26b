/*
 * annotate.c - mayday_annotate() and mayday_breadcrumb().
 *
 * Context: mayday_annotate is normal context (thread-safe; writers spin on
 * a tiny flag among themselves, the crash path never waits for it);
 * mayday_breadcrumb is async-signal-safe.
 */
#include <sched.h>
#include <string.h>

#include "crash/core/fmt.h"
#include "crash/handler/annot.h"
#include "mayday/mayday.h"

static void wlock(void)
{
    while (__atomic_exchange_n(&mds_annot_wlock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void wunlock(void) { __atomic_store_n(&mds_annot_wlock, 0, __ATOMIC_RELEASE); }

static void slot_write(mds_annot_slot *s, const char *key, const char *val)
{
    __atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL); /* odd: writing */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    mds_strlcpy(s->key, key, MDS_ANNOT_KEY);
    s->cut = mds_strlcpy(s->val, val, MDS_ANNOT_VAL) >= MDS_ANNOT_VAL;
    __atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL); /* even: stable */
}

int mayday_annotate(const char *key, const char *value)
{
    if (!key || !key[0] || strlen(key) >= MDS_ANNOT_KEY)
        return MAYDAY_EINVAL;
    wlock();
    int found = -1, empty = -1;
    for (int i = 0; i < MDS_ANNOT_MAX; i++) {
        if (mds_annots[i].key[0] == 0) {
            if (empty < 0)
                empty = i;
        } else if (strcmp(mds_annots[i].key, key) == 0) {
            found = i;
            break;
        }
    }
    int r = 0;
    if (!value) {
        if (found >= 0)
            slot_write(&mds_annots[found], "", "");
    } else if (found >= 0) {
        slot_write(&mds_annots[found], key, value);
    } else if (empty >= 0) {
        slot_write(&mds_annots[empty], key, value);
    } else {
        r = MAYDAY_ETOOBIG;
    }
    wunlock();
    return r;
}

int mayday_breadcrumb(const char *message)
{
    if (!message)
        return MAYDAY_EINVAL;
    mds_crumb_add(message);
    return 0;
}
