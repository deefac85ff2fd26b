/*
 * annot.h - storage for annotations and breadcrumbs, in .bss, written by the
 * public API (Source/normal/install/annotate.c) and read on the crash path.
 *
 * Context: the mds_* readers are async-signal-safe. Every slot is guarded by
 * a sequence counter (odd while being written): a reader that sees an odd
 * or changing count retries a few times and then skips the slot, so a
 * thread that crashed in the middle of mayday_annotate() never blocks the
 * report.
 */
#ifndef MDS_ANNOT_H
#define MDS_ANNOT_H

#include <stdint.h>

#define MDS_ANNOT_MAX 64
#define MDS_ANNOT_KEY 64
#define MDS_ANNOT_VAL 256
#define MDS_CRUMB_MAX 32
#define MDS_CRUMB_MSG 128

typedef struct mds_annot_slot {
    volatile uint32_t seq;
    char key[MDS_ANNOT_KEY]; /* "" = free */
    char val[MDS_ANNOT_VAL];
    uint8_t cut;             /* val was cut to MDS_ANNOT_VAL - 1 bytes */
} mds_annot_slot;

typedef struct mds_crumb_slot {
    volatile uint32_t seq;
    int64_t time_ns;
    char msg[MDS_CRUMB_MSG];
    uint8_t cut;             /* msg was cut to MDS_CRUMB_MSG - 1 bytes */
} mds_crumb_slot;

extern mds_annot_slot mds_annots[MDS_ANNOT_MAX];
extern mds_crumb_slot mds_crumbs[MDS_CRUMB_MAX];
extern volatile uint32_t mds_crumb_head;  /* total ever written */
extern volatile uint32_t mds_annot_wlock; /* writers only (normal ctx) */

/* Consistent copy of slot i; returns 1 if it holds an annotation. */
int mds_annot_read(int i, char *key, char *val);
/* Consistent copy of the breadcrumb with sequence number n (0 = oldest
 * ever); returns 1 if still in the ring and consistent. */
int mds_crumb_read(uint32_t n, int64_t *time_ns, char *msg);
/* Appends a breadcrumb (async-signal-safe; used by mayday_breadcrumb). */
void mds_crumb_add(const char *msg);

#endif
