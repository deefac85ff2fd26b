/*
 * failure.c - the failure records and Report.failure (see failure.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. mds_fail_record_set runs in the
 * thread that declares a failure (normal context, or a signal handler);
 * mds_put_failure runs on the crash path (exception thread or signal
 * fallback) and in live reports. Memory that may be bad (the pc's
 * instruction bytes) is read through mds_safe_read.
 *
 * Hand-over: a record goes FREE -> WRITING (CAS, by the declaring thread)
 * -> READY (release store, then the thread raises its signal). The crash
 * path only reads a READY record of the crashed thread, for the signal it
 * announced, recorded less than MDS_FAIL_MAX_AGE_NS before the fault.
 */
#include "crash/handler/failure.h"

#include <signal.h>
#include <string.h>

#include "crash/core/fmt.h"
#include "crash/core/regs.h"
#include "crash/core/saferead.h"
#include "crash/core/sys.h"
#include "crash/handler/fields.h"
#include "crash/core/poison.h"

mds_fail_record mds_fail_rec;
mds_fail_hang mds_hang_info;

/* Copies at most cap-1 bytes of src; returns 1 if src was longer. */
static int copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    if (src) {
        for (; i + 1 < cap && src[i]; i++)
            dst[i] = src[i];
    }
    dst[i] = 0;
    return src && src[i] != 0;
}

int mds_fail_record_set(uint32_t kind, int signo, const char *type,
                        const char *message, uint32_t reason, int std_exception,
                        uint64_t throw_pc)
{
    mds_fail_record *r = &mds_fail_rec;
    uint32_t tid = (uint32_t)mds_gettid();
    uint32_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
    /* A pending record of another thread wins unless it is stale. */
    if (st == MDS_REC_WRITING ||
        (st == MDS_REC_READY && r->tid != tid &&
         mds_now_ns() - r->set_ns < MDS_FAIL_MAX_AGE_NS))
        return MAYDAY_EBUSY;
    if (!__atomic_compare_exchange_n(&r->state, &st, MDS_REC_WRITING, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    r->tid = tid;
    r->signo = signo;
    r->kind = kind;
    r->reason = reason;
    r->std_exception = std_exception != 0;
    r->throw_pc = throw_pc;
    r->message_truncated = copy_bounded(r->message, sizeof r->message, message);
    copy_bounded(r->type, sizeof r->type, type);
    r->set_ns = mds_now_ns();
    __atomic_store_n(&r->state, MDS_REC_READY, __ATOMIC_RELEASE);
    return 0;
}

/* glibc 2.36's own wording (assert.c, malloc.c, fortify_fail.c,
 * libc_fatal.c): see docs/report-format.md, "Failure". */
static const char *const k_malloc_prefixes[] = {
    "malloc",        "free(",          "realloc(",      "calloc(",
    "memalign(",     "_int_",          "munmap_chunk(", "mremap_chunk(",
    "tcache",        "double free",    "corrupted ",    "break adjusted",
    "aligned_alloc", "posix_memalign", "pvalloc",       "valloc"};

static int contains(const char *s, const char *needle)
{
    size_t n = mds_strlen(needle);
    for (; *s; s++) {
        if (mds_strncmp(s, needle, n) == 0)
            return 1;
    }
    return 0;
}

uint32_t mds_fail_classify_abort_msg(const char *msg)
{
    if (!msg || !msg[0])
        return MDS_FAIL_ABORT;
    if (contains(msg, "Assertion `") && contains(msg, "' failed"))
        return MDS_FAIL_ASSERT;
    if (mds_str_has_prefix(msg, "*** stack smashing detected ***"))
        return MDS_FAIL_STACK_PROTECTOR;
    if (mds_str_has_prefix(msg, "*** ") && contains(msg, " ***: terminated"))
        return MDS_FAIL_FORTIFY;
    for (size_t i = 0; i < sizeof k_malloc_prefixes / sizeof(char *); i++) {
        if (mds_str_has_prefix(msg, k_malloc_prefixes[i]))
            return MDS_FAIL_MALLOC_CHECK;
    }
    return MDS_FAIL_LIBC_FATAL;
}

/* __builtin_trap(): gcc and clang emit ud2 (0f 0b) on x86_64 (SIGILL);
 * on aarch64 a brk, SIGTRAP TRAP_BRKPT with the pc at it: gcc's is
 * brk #0x3e8, clang's brk #0x1 (other immediates are breakpoints a
 * program or a debugger put there, not a trap). */
static int is_trap(const mds_request *req)
{
#if defined(__x86_64__)
    unsigned char b[2];
    return req->signo == SIGILL && req->info.si_code == ILL_ILLOPN &&
           mds_safe_read(b, req->regs.v[MDS_REG_PC], 2) == 0 && b[0] == 0x0f &&
           b[1] == 0x0b;
#elif defined(__aarch64__)
    uint32_t insn;
    return req->signo == SIGTRAP && req->info.si_code == TRAP_BRKPT &&
           mds_safe_read(&insn, req->regs.v[MDS_REG_PC], 4) == 0 &&
           (insn == 0xd4207d00u /* brk #0x3e8 */ ||
            insn == 0xd4200020u /* brk #0x1 */);
#else
    (void)req; /* not recognised on this architecture yet */
    return 0;
#endif
}

static const mds_fail_record *record_for(const mds_request *req)
{
    const mds_fail_record *r = &mds_fail_rec;
    if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != MDS_REC_READY ||
        r->tid != req->tid || r->signo != req->signo)
        return 0;
    uint64_t at = req->fault_ns ? req->fault_ns : mds_now_ns();
    if (at < r->set_ns || at - r->set_ns > MDS_FAIL_MAX_AGE_NS)
        return 0;
    return r;
}

static int hang_for(const mds_request *req)
{
    return req->live &&
           __atomic_load_n(&mds_hang_info.active, __ATOMIC_ACQUIRE) &&
           mds_hang_info.reporter_tid == req->tid;
}

uint32_t mds_failure_first_tid(const mds_request *req)
{
    return hang_for(req) ? mds_hang_info.tid : 0;
}

static void put_record(mds_pb *pb, const mds_fail_record *r)
{
    mds_pb_uint64(pb, F_FAILURE_KIND, r->kind);
    if (r->message[0] || r->message_truncated)
        mds_pb_string(pb, F_FAILURE_MESSAGE, r->message);
    if (r->message_truncated)
        mds_pb_bool(pb, F_FAILURE_MESSAGE_TRUNCATED, 1);
    if (r->kind != MDS_FAIL_CXX_TERMINATE)
        return;
    if (mds_pb_begin(pb, F_FAILURE_EXCEPTION) == 0) {
        if (r->type[0])
            mds_pb_string(pb, F_CXX_TYPE, r->type);
        mds_pb_uint64(pb, F_CXX_REASON, r->reason);
        if (r->throw_pc)
            mds_pb_uint64(pb, F_CXX_THROW_PC, r->throw_pc);
        if (r->std_exception)
            mds_pb_bool(pb, F_CXX_STD_EXCEPTION, 1);
    }
    mds_pb_end(pb);
}

static void put_hang(mds_pb *pb, const mds_fail_hang *h)
{
    mds_pb_uint64(pb, F_FAILURE_KIND, MDS_FAIL_HANG);
    if (mds_pb_begin(pb, F_FAILURE_HANG) == 0) {
        mds_pb_uint64(pb, F_HANG_TID, h->tid);
        if (h->name[0])
            mds_pb_string(pb, F_HANG_NAME, h->name);
        mds_pb_uint64(pb, F_HANG_SILENT_NS, h->silent_ns);
        mds_pb_uint64(pb, F_HANG_DEADLINE_NS, h->deadline_ns);
        mds_pb_uint64(pb, F_HANG_ACTION, h->action);
        if (h->action == MDS_HANG_END)
            mds_pb_uint64(pb, F_HANG_SIGNAL, h->signo);
        mds_pb_uint64(pb, F_HANG_WATCH, h->watch);
    }
    mds_pb_end(pb);
}

void mds_put_failure(mds_pb *pb, const mds_request *req, const char *abort_msg)
{
    const mds_fail_record *rec = req->live ? 0 : record_for(req);
    uint32_t kind = MDS_FAIL_NONE;
    if (req->live) {
        if (!hang_for(req))
            return;
    } else if (!rec) {
        /* abort() sends SIGABRT to itself (SI_TKILL from our pid); a kill
         * from elsewhere is no abort. */
        if (req->signo == SIGABRT &&
            (abort_msg || (req->info.si_code <= 0 &&
                           (long)req->info.si_pid == mds_getpid())))
            kind = mds_fail_classify_abort_msg(abort_msg);
        else if (is_trap(req))
            kind = MDS_FAIL_TRAP;
        if (kind == MDS_FAIL_NONE)
            return;
    }
    if (mds_pb_begin(pb, F_REPORT_FAILURE) == 0) {
        if (rec)
            put_record(pb, rec);
        else if (req->live)
            put_hang(pb, &mds_hang_info);
        else
            mds_pb_uint64(pb, F_FAILURE_KIND, kind);
    }
    mds_pb_end(pb);
}
