/*
 * failure.h - what kind of failure a report is about when the signal alone
 * does not say it (issue 12): mayday_fatal(), an uncaught C++ exception
 * (recorded by libmayday-cxx's terminate handler), a hang found by the
 * watchdog, glibc's abort messages (assert, malloc checks,
 * _FORTIFY_SOURCE, stack protector) and __builtin_trap.
 *
 * Context: the records are written in normal context (or any context:
 * mds_fail_record_set is async-signal-safe) just BEFORE the signal or the
 * live report that uses them, and read on the crash path by
 * mds_put_failure(), which report.c calls once per report. All memory is
 * static (.bss); nothing is allocated.
 */
#ifndef MDS_FAILURE_H
#define MDS_FAILURE_H

#include <stdint.h>

#include "crash/core/pbenc.h"
#include "crash/handler/state.h"

#define MDS_FAIL_MSG_MAX 1024 /* bytes kept of a message, with its NUL */
#define MDS_FAIL_TYPE_MAX 256 /* bytes kept of an exception type name */
#define MDS_FAIL_NAME_MAX 32  /* bytes kept of a watch name */
/* A record older than this when the signal arrives is stale. */
#define MDS_FAIL_MAX_AGE_NS (60ull * 1000000000ull)

/* A failure declared by the thread that is about to raise a signal. */
typedef struct mds_fail_record {
    volatile uint32_t state; /* MDS_REC_FREE / _WRITING / _READY */
    uint32_t tid;            /* the declaring thread */
    int signo;               /* the signal that will follow */
    uint32_t kind;           /* mayday.FailureKind */
    uint32_t reason;         /* mayday.TerminateReason (C++) */
    uint32_t std_exception;
    uint32_t message_truncated;
    uint64_t set_ns; /* CLOCK_MONOTONIC when recorded */
    uint64_t throw_pc;
    char type[MDS_FAIL_TYPE_MAX];
    char message[MDS_FAIL_MSG_MAX];
} mds_fail_record;

enum { MDS_REC_FREE = 0, MDS_REC_WRITING = 1, MDS_REC_READY = 2 };

/* The hang being reported: filled by the watchdog (normal context) right
 * before it writes the live report, cleared after. */
typedef struct mds_fail_hang {
    volatile uint32_t active;
    uint32_t reporter_tid; /* the watchdog thread, writing the report */
    uint32_t tid;          /* the silent thread: listed first */
    uint32_t watch;
    uint32_t action; /* mayday.HangAction */
    uint32_t signo;  /* for HANG_ACTION_END */
    uint64_t silent_ns;
    uint64_t deadline_ns;
    char name[MDS_FAIL_NAME_MAX];
} mds_fail_hang;

extern mds_fail_record mds_fail_rec;
extern mds_fail_hang mds_hang_info;

/* Records a failure for the calling thread, to be attached to its next
 * report of signal signo. Strings are copied, bounded (NULL: none).
 * Returns 0, or MAYDAY_EBUSY when another thread's record is being
 * written or is pending (a failure already on its way wins). */
int mds_fail_record_set(uint32_t kind, int signo, const char *type,
                        const char *message, uint32_t reason, int std_exception,
                        uint64_t throw_pc);

/* The thread to list first in this report (the silent one of a hang
 * report), 0 for the usual order. */
uint32_t mds_failure_first_tid(const mds_request *req);

/* Writes Report.failure for this report, when there is one to write.
 * abort_msg: glibc's abort message read for this report, or NULL. */
void mds_put_failure(mds_pb *pb, const mds_request *req, const char *abort_msg);

/* The FailureKind that glibc's abort message msg stands for (assert,
 * malloc check, fortify, stack protector, other). Exposed for tests. */
uint32_t mds_fail_classify_abort_msg(const char *msg);

#endif
