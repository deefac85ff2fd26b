/*
 * annot.c - annotation/breadcrumb storage and its seqlock readers.
 *
 * Context: async-signal-safe. No locks: readers retry on a torn read and
 * give up after a few tries.
 */
#include "crash/handler/annot.h"

#include <string.h>

#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/core/poison.h"

mds_annot_slot mds_annots[MDS_ANNOT_MAX];
mds_crumb_slot mds_crumbs[MDS_CRUMB_MAX];
volatile uint32_t mds_crumb_head;
volatile uint32_t mds_annot_wlock;

int mds_annot_read(int i, char *key, char *val)
{
    mds_annot_slot *s = &mds_annots[i];
    for (int tries = 0; tries < 8; tries++) {
        uint32_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (a & 1)
            continue;
        memcpy(key, s->key, MDS_ANNOT_KEY);
        memcpy(val, s->val, MDS_ANNOT_VAL);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == a) {
            key[MDS_ANNOT_KEY - 1] = 0;
            val[MDS_ANNOT_VAL - 1] = 0;
            return key[0] != 0;
        }
    }
    return 0;
}

int mds_crumb_read(uint32_t n, int64_t *time_ns, char *msg)
{
    mds_crumb_slot *s = &mds_crumbs[n % MDS_CRUMB_MAX];
    /* Slot sequence = 2 * (n / MDS_CRUMB_MAX + 1) once written. */
    uint32_t want = 2 * (n / MDS_CRUMB_MAX + 1);
    for (int tries = 0; tries < 8; tries++) {
        uint32_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (a != want)
            return 0;
        *time_ns = s->time_ns;
        memcpy(msg, s->msg, MDS_CRUMB_MSG);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == a) {
            msg[MDS_CRUMB_MSG - 1] = 0;
            return 1;
        }
    }
    return 0;
}

void mds_crumb_add(const char *msg)
{
    uint32_t n = __atomic_fetch_add(&mds_crumb_head, 1, __ATOMIC_ACQ_REL);
    mds_crumb_slot *s = &mds_crumbs[n % MDS_CRUMB_MAX];
    __atomic_store_n(&s->seq, 2 * (n / MDS_CRUMB_MAX) + 1, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    s->time_ns = (int64_t)mds_realtime_ns();
    size_t len = mds_strlcpy(s->msg, msg, MDS_CRUMB_MSG);
    s->cut = len >= MDS_CRUMB_MSG;
    __atomic_store_n(&s->seq, 2 * (n / MDS_CRUMB_MAX + 1), __ATOMIC_RELEASE);
}
