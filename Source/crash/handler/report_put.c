/*
 * report_put.c - the parts of a report, encoded (see report_put.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here; all memory is the caller's mds_work
 * (mapped at install) or small stack buffers (this may run on a 64 KiB
 * altstack: keep frames small).
 */
#include "crash/handler/report_put.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "crash/capture/capture.h"
#include "crash/core/fmt.h"
#include "crash/core/saferead.h"
#include "crash/core/sys.h"
#include "crash/handler/annot.h"
#include "crash/handler/cause.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/handler/report.h"
#include "crash/core/poison.h"

_Static_assert(MDS_ARGV_MAX <= MDS_PATH_MAX, "argv is read into scratch");

static void put_regs(mds_pb *pb, const mds_regs *r)
{
    if (r->valid != (1ull << MDS_NREGS) - 1)
        return; /* partial sets are described by the frames and the note */
    mds_pb_packed_uint64(pb, F_THREAD_REGISTERS, r->v, MDS_NREGS);
}

/* The name the thread or the stopper gave us, else /proc (issue 15). */
static long thread_name(const mds_rctx *c, uint32_t tid, const mds_slot *slot,
                        char *out, size_t cap)
{
    long n = mds_stop_name(slot, out, cap);
    if (n >= 0)
        return n;
    if (!slot && tid == c->req->tid && c->req->name_ok) {
        size_t k = 0;
        while (k + 1 < cap && k < sizeof c->req->name && c->req->name[k]) {
            out[k] = c->req->name[k];
            k++;
        }
        out[k] = 0;
        return (long)k;
    }
    return mds_thread_name(tid, out, cap);
}

int mds_put_thread(mds_rctx *c, uint32_t tid, int crashed, int state,
                   const mds_regs *regs, const char *note, uint32_t why,
                   const mds_slot *slot)
{
    mds_pb *pb = &c->pb;
    char name[32];
    if (mds_pb_begin(pb, F_REPORT_THREADS) < 0) {
        mds_pb_end(pb);
        return 0;
    }
    mds_pb_uint64(pb, F_THREAD_TID, tid);
    if (thread_name(c, tid, slot, name, sizeof name) > 0)
        mds_pb_string(pb, F_THREAD_NAME, name);
    if (crashed)
        mds_pb_bool(pb, F_THREAD_CRASHED, 1);
    mds_pb_uint64(pb, F_THREAD_STATE, (uint64_t)state);
    if (note)
        mds_pb_string(pb, F_THREAD_NOTE, note);
    if (why)
        mds_pb_uint64(pb, F_THREAD_STOP_FAILURE, why);
    put_regs(pb, regs);
    if (regs->valid & (1ull << MDS_REG_PC)) {
        mds_walk_result wr;
        int n = mds_walk_ends(c->w->walker, &c->w->images, regs, c->w->frames,
                              mds_g.cfg.max_frames,
                              mds_outer_frames(mds_g.cfg.max_frames), &wr);
        for (int i = 0; i < n; i++) {
            const mds_frame *f = &c->w->frames[i];
            if (mds_pb_begin(pb, F_THREAD_FRAMES) == 0) {
                mds_pb_uint64(pb, F_FRAME_PC, f->pc);
                mds_pb_uint64(pb, F_FRAME_SP, f->sp);
                mds_pb_uint64(pb, F_FRAME_TRUST, f->trust);
                if (f->image >= 0)
                    mds_pb_uint64(pb, F_FRAME_IMAGE, (uint64_t)f->image);
            }
            mds_pb_end(pb);
        }
        if (n > 0 && wr.omitted) {
            mds_pb_uint64(pb, F_THREAD_FRAMES_OMITTED, wr.omitted);
            mds_pb_uint64(pb, F_THREAD_FRAMES_OMITTED_AT, wr.gap_at);
            c->frames_capped = 1;
        }
        if (n > 0 && wr.stopped) {
            mds_pb_bool(pb, F_THREAD_FRAMES_CAPPED, 1);
            c->frames_capped = 1;
        }
    }
    mds_capture_put_thread(pb, c->w->capture, c->req, tid, crashed, regs,
                           slot); /* issue 11 */
    mds_pb_end(pb);
    return 1;
}

static const char *why_note(uint32_t why)
{
    switch (why) {
    case MDS_WHY_TIMEOUT:
        return "did not stop in time; pc/sp from /proc/PID/task/TID/syscall";
    case MDS_WHY_TRACED:
        return "traced by another process (a debugger): not stopped; pc/sp "
               "from /proc";
    case MDS_WHY_BLOCKED:
        return "blocks mayday's signal: not stopped; pc/sp from /proc";
    case MDS_WHY_NO_METHOD:
        return "not stopped (no stopping mechanism, see stop_note); pc/sp "
               "from /proc";
    case MDS_WHY_EXITED:
        return "exited while the report was being written";
    default:
        return "not stopped";
    }
}

/* One thread of the stop set, with its state. */
static void put_slot(mds_rctx *c, const mds_slot *sl)
{
    const char *note = 0;
    int st = MDS_TS_SUSPENDED;
    uint32_t why = 0;
    switch (sl->state) {
    case MDS_SLOT_PARKED:
        break;
    case MDS_SLOT_REPORTER:
        st = MDS_TS_REPORTER;
        note = "mayday exception thread (not stopped)";
        break;
    case MDS_SLOT_CRASHED:
        st = MDS_TS_CRASHED;
        note = "crashed too while this report was being written";
        break;
    default:
        st = MDS_TS_NOT_SUSPENDED;
        why = sl->why ? sl->why : MDS_WHY_TIMEOUT;
        note = why_note(why);
        break;
    }
    mds_put_thread(c, sl->tid, sl->state == MDS_SLOT_CRASHED, st, &sl->regs,
                   note, why, sl);
}

void mds_put_other_threads(mds_rctx *c)
{
    mds_stopset *s = &c->w->stop;
    const mds_slot *sl;
    int fresh_map = 0;
    for (uint32_t i = 0; (sl = mds_stop_slot(s, i)) != 0; i++) {
        /* A thread the helper found later was created after the memory
         * map was read: read it again for its stack (issue 15). */
        if (i >= s->n0 && !fresh_map) {
            mds_capture_refresh_maps(c->w->capture);
            fresh_map = 1;
        }
        if (!c->first_tid || sl->tid != c->first_tid)
            put_slot(c, sl);
    }
    mds_stop_finish(s);
}

int mds_put_stopped_thread(mds_rctx *c, uint32_t tid)
{
    mds_stopset *s = &c->w->stop;
    mds_stop_finish(s);
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        if (s->slots[i].tid == tid) {
            put_slot(c, &s->slots[i]);
            return 1;
        }
    }
    return 0;
}

void mds_put_images(mds_rctx *c)
{
    mds_pb *pb = &c->pb;
    const mds_image_table *t = &c->w->images;
    for (size_t i = 0; i < t->count; i++) {
        const mds_image *im = &t->images[i];
        if (mds_pb_begin(pb, F_REPORT_IMAGES) == 0) {
            mds_pb_string(pb, F_IMAGE_PATH, im->path);
            mds_pb_uint64(pb, F_IMAGE_LOAD_BIAS, im->load_bias);
            mds_pb_uint64(pb, F_IMAGE_ADDRESS, im->start);
            mds_pb_uint64(pb, F_IMAGE_SIZE, im->end - im->start);
            if (im->build_id_len)
                mds_pb_bytes(pb, F_IMAGE_BUILD_ID, im->build_id,
                             im->build_id_len);
            for (uint32_t k = 0; k < im->nsegs; k++) {
                const mds_segment *s = &im->segs[k];
                if (mds_pb_begin(pb, F_IMAGE_SEGMENTS) == 0) {
                    mds_pb_uint64(pb, F_SEGMENT_ADDRESS, s->addr);
                    mds_pb_uint64(pb, F_SEGMENT_SIZE, s->size);
                    mds_pb_uint64(pb, F_SEGMENT_FLAGS, s->flags);
                    mds_pb_uint64(pb, F_SEGMENT_FILE_OFFSET, s->file_offset);
                }
                mds_pb_end(pb);
            }
            if (im->is_main)
                mds_pb_bool(pb, F_IMAGE_MAIN_PROGRAM, 1);
            if (im->is_vdso)
                mds_pb_bool(pb, F_IMAGE_VDSO, 1);
        }
        mds_pb_end(pb);
    }
}

void mds_put_system(mds_rctx *c)
{
    mds_pb *pb = &c->pb;
    const mds_static_info *si = &mds_g.info;
    struct timespec ts;
    if (mds_pb_begin(pb, F_REPORT_SYSTEM) == 0) {
        mds_pb_string(pb, F_SYSTEM_OS, si->os);
        mds_pb_string(pb, F_SYSTEM_RELEASE, si->release);
        mds_pb_string(pb, F_SYSTEM_VERSION, si->version);
        mds_pb_string(pb, F_SYSTEM_MACHINE, si->machine);
        mds_pb_string(pb, F_SYSTEM_HOSTNAME, si->hostname);
        mds_pb_string(pb, F_SYSTEM_LIBC, si->libc);
        mds_pb_string(pb, F_SYSTEM_BOOT_ID, si->boot_id);
        if (mds_clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
            mds_pb_uint64(pb, F_SYSTEM_UPTIME_MS,
                          (uint64_t)ts.tv_sec * 1000 +
                              (uint64_t)ts.tv_nsec / 1000000);
        mds_pb_uint64(pb, F_SYSTEM_CPU_COUNT, si->cpu_count);
        mds_pb_uint64(pb, F_SYSTEM_MEMORY_TOTAL, si->mem_total);
        mds_pb_uint64(pb, F_SYSTEM_PAGE_SIZE, si->page_size);
    }
    mds_pb_end(pb);
}

/* A file of the reporting thread's own /proc directory: the process's
 * (/proc/PID/cmdline is empty once the main thread has exited; the
 * reporter is alive). */
static void self_task_path(char *out, size_t cap, const char *leaf)
{
    mds_task_path(out, cap, (uint32_t)mds_gettid(), leaf);
}

void mds_put_process(mds_rctx *c)
{
    mds_pb *pb = &c->pb;
    char *buf = c->w->scratch;
    char path[48];
    if (mds_pb_begin(pb, F_REPORT_PROCESS) == 0) {
        mds_pb_uint64(pb, F_PROCESS_PID, (uint64_t)mds_getpid());
        mds_pb_uint64(pb, F_PROCESS_PPID, (uint64_t)mds_getppid());
        char comm[32];
        if (mds_proc_read("comm", comm, sizeof comm) > 0) {
            size_t n = mds_strlen(comm);
            if (n && comm[n - 1] == '\n')
                comm[n - 1] = 0;
            mds_pb_string(pb, F_PROCESS_NAME, comm);
        }
        mds_pb_string(pb, F_PROCESS_PATH, mds_g.info.exe_path);
        self_task_path(path, sizeof path, "cmdline");
        long n = mds_proc_read_cut(path, buf, MDS_ARGV_MAX, &c->lim.argv_cut);
        for (long i = 0; i < n;) {
            size_t k = mds_strlen(buf + i);
            mds_pb_bytes(pb, F_PROCESS_ARGV, buf + i, k);
            i += (long)k + 1;
        }
        mds_pb_int64(pb, F_PROCESS_START_TIME, mds_g.info.start_time_ns);
        mds_pb_uint64(pb, F_PROCESS_UID, (uint64_t)mds_getuid());
        mds_pb_uint64(pb, F_PROCESS_EUID, (uint64_t)mds_geteuid());
        mds_pb_uint64(pb, F_PROCESS_GID, (uint64_t)mds_getgid());
        self_task_path(path, sizeof path, "cwd");
        n = mds_proc_readlink(path, buf, MDS_PATH_MAX);
        if (n >= MDS_PATH_MAX) {
            c->lim.bits |= MDS_LIMIT_CWD;
            n = MDS_PATH_MAX - 1;
        }
        if (n > 0) {
            buf[n] = 0;
            mds_pb_string(pb, F_PROCESS_CWD, buf);
        }
        if (c->tracer >= 0)
            mds_pb_uint64(pb, F_PROCESS_TRACER_PID, (uint64_t)c->tracer);
    }
    mds_pb_end(pb);
}

void mds_put_app(mds_rctx *c)
{
    mds_pb *pb = &c->pb;
    if (mds_pb_begin(pb, F_REPORT_APP) == 0) {
        mds_pb_string(pb, F_APP_ID, mds_g.info.app_id);
        mds_pb_string(pb, F_APP_VERSION, mds_g.info.app_version);
    }
    mds_pb_end(pb);
}

/* glibc's `struct abort_msg_s { unsigned int size; char msg[]; }`,
 * pointed to by __abort_msg (set by assert and abort-with-message). */
long mds_read_abort_msg(char *out, size_t cap)
{
    uintptr_t p;
    if (!mds_g.info.abort_msg_addr ||
        mds_safe_read_word(mds_g.info.abort_msg_addr, &p) < 0 || !p)
        return -1;
    long n = mds_safe_read_str(out, cap, p + sizeof(unsigned int));
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = 0;
    return n > 0 ? n : -1;
}

void mds_put_signal(mds_rctx *c, int has_abort_msg)
{
    mds_pb *pb = &c->pb;
    const siginfo_t *si = &c->req->info;
    int sig = c->req->signo, code = si->si_code;
    if (mds_pb_begin(pb, F_REPORT_SIGNAL) == 0) {
        mds_pb_uint64(pb, F_SIGNAL_NUMBER, (uint64_t)sig);
        mds_pb_string(pb, F_SIGNAL_NAME, mds_signal_name(sig));
        mds_pb_int64(pb, F_SIGNAL_CODE, code);
        const char *cn = mds_signal_code_name(sig, code);
        if (cn[0])
            mds_pb_string(pb, F_SIGNAL_CODE_NAME, cn);
        if (code > 0 && code != SI_KERNEL && sig != SIGSYS)
            mds_pb_uint64(pb, F_SIGNAL_ADDRESS, (uintptr_t)si->si_addr);
        if (code <= 0) {
            mds_pb_uint64(pb, F_SIGNAL_SENDER_PID, (uint32_t)si->si_pid);
            mds_pb_uint64(pb, F_SIGNAL_SENDER_UID, (uint32_t)si->si_uid);
        }
        if (si->si_errno)
            mds_pb_int64(pb, F_SIGNAL_ERRNO, si->si_errno);
        if (sig == SIGSYS && code > 0)
            mds_pb_int64(pb, F_SIGNAL_SYSCALL, si->si_syscall);
    }
    mds_pb_end(pb);
    const mds_regs *r = &c->req->regs;
    int exec = mds_images_is_exec(&c->w->images, r->v[MDS_REG_PC]);
    mds_pb_uint64(pb, F_REPORT_CAUSE,
                  (uint64_t)mds_probable_cause(si, r, exec, has_abort_msg));
}

void mds_put_register_names(mds_rctx *c)
{
    for (int i = 0; i < MDS_NREGS; i++)
        mds_pb_string(&c->pb, F_REPORT_REGISTER_NAMES, mds_reg_names[i]);
}

void mds_put_annotations(mds_rctx *c)
{
    mds_pb *pb = &c->pb;
    char *key = c->w->scratch, *val = c->w->scratch + MDS_ANNOT_KEY;
    for (int i = 0; i < MDS_ANNOT_MAX; i++) {
        if (!mds_annot_read(i, key, val))
            continue;
        if (mds_pb_begin(pb, F_REPORT_ANNOTATIONS) == 0) {
            mds_pb_string(pb, F_ANNOTATION_KEY, key);
            mds_pb_string(pb, F_ANNOTATION_VALUE, val);
        }
        mds_pb_end(pb);
    }
    uint32_t head = __atomic_load_n(&mds_crumb_head, __ATOMIC_ACQUIRE);
    uint32_t first = head > MDS_CRUMB_MAX ? head - MDS_CRUMB_MAX : 0;
    for (uint32_t n = first; n < head; n++) {
        int64_t t;
        if (!mds_crumb_read(n, &t, val))
            continue;
        if (mds_pb_begin(pb, F_REPORT_BREADCRUMBS) == 0) {
            mds_pb_int64(pb, F_BREADCRUMB_TIME, t);
            mds_pb_string(pb, F_BREADCRUMB_MESSAGE, val);
        }
        mds_pb_end(pb);
    }
}

void mds_put_header(mds_rctx *c, const uint8_t uuid[16], uint64_t now_rt)
{
    mds_pb *pb = &c->pb;
    if (c->req->fault_ns) {
        uint64_t now = mds_now_ns();
        c->handoff_ns = now > c->req->fault_ns ? now - c->req->fault_ns : 0;
    }
    if (mds_pb_begin(pb, F_REPORT_HEADER) == 0) {
        mds_pb_bytes(pb, F_HEADER_UUID, uuid, 16);
        mds_pb_int64(pb, F_HEADER_TIME, (int64_t)now_rt);
        mds_pb_string(pb, F_HEADER_REPORTER_VERSION, MAYDAY_VERSION_STRING);
        if (c->req->live) {
            mds_pb_bool(pb, F_HEADER_LIVE, 1);
            mds_pb_string(pb, F_HEADER_REASON, c->req->reason);
        }
        mds_pb_uint64(pb, F_HEADER_HANDLER, c->req->handler);
    }
    mds_pb_end(pb);
}

/* The header's second part: the hand-off time and what the stop did. */
static void put_stop_header(mds_rctx *c)
{
    mds_pb *pb = &c->pb;
    const mds_stopset *s = &c->w->stop;
    if (!c->req->fault_ns && !s->method)
        return;
    if (mds_pb_begin(pb, F_REPORT_HEADER) == 0) {
        if (c->req->fault_ns)
            mds_pb_uint64(pb, F_HEADER_HANDOFF_NS, c->handoff_ns);
        if (s->method) {
            mds_pb_uint64(pb, F_HEADER_SUSPEND_NS, s->elapsed_ns);
            mds_pb_uint64(pb, F_HEADER_STOP_METHOD, s->method);
            if (s->note[0])
                mds_pb_string(pb, F_HEADER_STOP_NOTE, s->note);
        }
    }
    mds_pb_end(pb);
}

void mds_put_flags(mds_rctx *c, int flags)
{
    mds_pb *pb = &c->pb;
    const mds_stopset *s = &c->w->stop;
    mds_pb_release_reserve(pb);
    put_stop_header(c);
    if (pb->truncated)
        mds_pb_bool(pb, F_REPORT_TRUNCATED, 1);
    if (s->method && s->not_stopped)
        mds_pb_uint64(pb, F_REPORT_THREADS_NOT_SUSPENDED, s->not_stopped);
    if (s->method && s->capped)
        mds_pb_bool(pb, F_REPORT_THREADS_CAPPED, 1);
    if (c->w->images.inconsistent)
        mds_pb_bool(pb, F_REPORT_IMAGES_INCONSISTENT, 1);
    if (flags & MDS_RUN_RECURSIVE)
        mds_pb_bool(pb, F_REPORT_RECURSIVE_CRASH, 1);
    if (flags & MDS_RUN_TIMED_OUT)
        mds_pb_bool(pb, F_REPORT_HANDOFF_TIMED_OUT, 1);
    if (c->frames_capped)
        mds_pb_bool(pb, F_REPORT_FRAMES_CAPPED, 1);
    if (c->fsize_limit)
        mds_pb_uint64(pb, F_REPORT_RLIMIT_FSIZE, c->fsize_limit);
    mds_put_limits(pb, &c->w->images, &c->lim);
}
