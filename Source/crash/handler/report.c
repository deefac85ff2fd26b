/*
 * report.c - gathers one report and writes it to disk.
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here; all memory is the caller's mds_work
 * (mapped at install) or small stack buffers (this may run on a 64 KiB
 * altstack: keep frames small).
 *
 * Order inside the report, so that the size cap cuts the least useful
 * part: header, system, process, app, signal, cause, abort message,
 * register names, the crashed thread, images, annotations, breadcrumbs,
 * the other threads; completeness flags last (from the encoder's reserve).
 */
#include "crash/handler/report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "crash/core/fmt.h"
#include "crash/core/framing.h"
#include "crash/core/pbenc.h"
#include "crash/core/saferead.h"
#include "crash/core/sys.h"
#include "crash/core/writer.h"
#include "crash/handler/annot.h"
#include "crash/handler/cause.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/handler/suspend.h"
#include "crash/core/poison.h"

#define RESERVE 64 /* bytes kept for the completeness fields */

typedef struct rctx {
    mds_work *w;
    mds_request *req;
    mds_pb pb;
    int frames_capped;
} rctx;

static void put_regs(mds_pb *pb, const mds_regs *r)
{
    if (r->valid != (1ull << MDS_NREGS) - 1)
        return; /* partial sets are described by the frames and the note */
    mds_pb_packed_uint64(pb, F_THREAD_REGISTERS, r->v, MDS_NREGS);
}

/* Returns 1 if the thread's message was (at least partly) written. */
static int put_thread(rctx *c, uint32_t tid, int crashed, int state,
                      const mds_regs *regs, const char *note)
{
    mds_pb *pb = &c->pb;
    char name[32];
    if (mds_pb_begin(pb, F_REPORT_THREADS) < 0) {
        mds_pb_end(pb);
        return 0;
    }
    mds_pb_uint64(pb, F_THREAD_TID, tid);
    if (mds_thread_name(tid, name, sizeof name) > 0)
        mds_pb_string(pb, F_THREAD_NAME, name);
    if (crashed)
        mds_pb_bool(pb, F_THREAD_CRASHED, 1);
    mds_pb_uint64(pb, F_THREAD_STATE, (uint64_t)state);
    if (note)
        mds_pb_string(pb, F_THREAD_NOTE, note);
    put_regs(pb, regs);
    if (regs->valid & (1ull << MDS_REG_PC)) {
        int capped = 0;
        int n = mds_walk(c->w->walker, &c->w->images, regs, c->w->frames,
                         mds_g.cfg.max_frames, &capped);
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
        if (capped) {
            mds_pb_bool(pb, F_THREAD_FRAMES_CAPPED, 1);
            c->frames_capped = 1;
        }
    }
    mds_pb_end(pb);
    return 1;
}

static void put_images(rctx *c)
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

static void put_system(rctx *c)
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

static void put_process(rctx *c, long tracer)
{
    mds_pb *pb = &c->pb;
    char *buf = c->w->scratch;
    if (mds_pb_begin(pb, F_REPORT_PROCESS) == 0) {
        mds_pb_uint64(pb, F_PROCESS_PID, (uint64_t)mds_getpid());
        mds_pb_uint64(pb, F_PROCESS_PPID, (uint64_t)mds_getppid());
        char comm[32];
        if (mds_read_file("/proc/self/comm", comm, sizeof comm) > 0) {
            size_t n = mds_strlen(comm);
            if (n && comm[n - 1] == '\n')
                comm[n - 1] = 0;
            mds_pb_string(pb, F_PROCESS_NAME, comm);
        }
        mds_pb_string(pb, F_PROCESS_PATH, mds_g.info.exe_path);
        long n = mds_read_file("/proc/self/cmdline", buf, MDS_PATH_MAX);
        for (long i = 0; i < n;) {
            size_t k = mds_strlen(buf + i);
            mds_pb_bytes(pb, F_PROCESS_ARGV, buf + i, k);
            i += (long)k + 1;
        }
        mds_pb_int64(pb, F_PROCESS_START_TIME, mds_g.info.start_time_ns);
        mds_pb_uint64(pb, F_PROCESS_UID, (uint64_t)mds_getuid());
        mds_pb_uint64(pb, F_PROCESS_EUID, (uint64_t)mds_geteuid());
        mds_pb_uint64(pb, F_PROCESS_GID, (uint64_t)mds_getgid());
        n = mds_readlinkat(AT_FDCWD, "/proc/self/cwd", buf, MDS_PATH_MAX - 1);
        if (n > 0) {
            buf[n] = 0;
            mds_pb_string(pb, F_PROCESS_CWD, buf);
        }
        if (tracer >= 0)
            mds_pb_uint64(pb, F_PROCESS_TRACER_PID, (uint64_t)tracer);
    }
    mds_pb_end(pb);
}

/* glibc's `struct abort_msg_s { unsigned int size; char msg[]; }`,
 * pointed to by __abort_msg (set by assert and abort-with-message). */
static long read_abort_msg(char *out, size_t cap)
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

static void put_signal(rctx *c, int has_abort_msg)
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

static void put_annotations(rctx *c)
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

static void put_header(rctx *c, const uint8_t uuid[16], uint64_t now_rt,
                       const mds_suspend_result *sr)
{
    mds_pb *pb = &c->pb;
    if (mds_pb_begin(pb, F_REPORT_HEADER) == 0) {
        mds_pb_bytes(pb, F_HEADER_UUID, uuid, 16);
        mds_pb_int64(pb, F_HEADER_TIME, (int64_t)now_rt);
        mds_pb_string(pb, F_HEADER_REPORTER_VERSION, MAYDAY_VERSION_STRING);
        if (c->req->live) {
            mds_pb_bool(pb, F_HEADER_LIVE, 1);
            mds_pb_string(pb, F_HEADER_REASON, c->req->reason);
        }
        mds_pb_uint64(pb, F_HEADER_HANDLER, c->req->handler);
        if (c->req->fault_ns) {
            uint64_t now = mds_now_ns();
            mds_pb_uint64(pb, F_HEADER_HANDOFF_NS,
                          now > c->req->fault_ns ? now - c->req->fault_ns : 0);
        }
        if (sr->elapsed_ns)
            mds_pb_uint64(pb, F_HEADER_SUSPEND_NS, sr->elapsed_ns);
    }
    mds_pb_end(pb);
}

/* "<dir>/<epoch ms>-<uuid hex>.mayday[.tmp]" */
static void report_names(char *final, char *tmp, uint64_t now_rt,
                         const uint8_t uuid[16])
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, final, MDS_PATH_MAX);
    mds_sbuf_str(&sb, mds_g.info.report_dir);
    mds_sbuf_char(&sb, '/');
    mds_sbuf_u64(&sb, now_rt / 1000000ull);
    mds_sbuf_char(&sb, '-');
    for (int i = 0; i < 16; i++)
        mds_sbuf_hex(&sb, uuid[i], 2);
    mds_sbuf_str(&sb, MDS_FILE_SUFFIX);
    mds_strlcpy(tmp, final, MDS_PATH_MAX);
    mds_strlcpy(tmp + sb.len, ".tmp", MDS_PATH_MAX - sb.len);
}

static int write_report(rctx *c, const mds_suspend_result *sr, int flags,
                        uint32_t seq)
{
    mds_work *w = c->w;
    mds_request *req = c->req;
    uint8_t uuid[16];
    char *tmp = w->tmp;
    mds_random(uuid, sizeof uuid);
    uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* v4 */
    uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
    uint64_t now_rt = mds_realtime_ns();
    report_names(w->path, tmp, now_rt, uuid);

    long fd = mds_openat(AT_FDCWD, tmp,
                         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0600);
    if (fd < 0)
        return fd == -ENOSPC ? MAYDAY_ENOSPC
               : (fd == -EACCES || fd == -EROFS || fd == -EPERM)
                   ? MAYDAY_EACCES
                   : MAYDAY_EIO;

    mds_writer wr;
    mds_writer_init(&wr, (int)fd, w->wbuf, MDS_WRITE_BUF,
                    mds_g.cfg.max_report_bytes);
    unsigned char hdr[MDS_FILE_HEADER_LEN] = {0};
    memcpy(hdr, MDS_FILE_MAGIC, MDS_FILE_MAGIC_LEN);
    hdr[6] = MDS_FILE_VERSION;
    mds_writer_put(&wr, hdr, sizeof hdr);
    mds_pb_init(&c->pb, &wr, RESERVE);
    mds_pb *pb = &c->pb;

    char *msg = w->scratch;
    int has_abort = req->signo == SIGABRT &&
                    read_abort_msg(msg, MDS_PATH_MAX) > 0;
    long tracer = mds_tracer_pid();
    put_header(c, uuid, now_rt, sr);
    put_system(c);
    put_process(c, tracer);
    if (mds_pb_begin(pb, F_REPORT_APP) == 0) {
        mds_pb_string(pb, F_APP_ID, mds_g.info.app_id);
        mds_pb_string(pb, F_APP_VERSION, mds_g.info.app_version);
    }
    mds_pb_end(pb);
    if (!req->live)
        put_signal(c, has_abort);
    if (has_abort && read_abort_msg(msg, MDS_PATH_MAX) > 0)
        mds_pb_string(pb, F_REPORT_ABORT_MESSAGE, msg);
    for (int i = 0; i < MDS_NREGS; i++)
        mds_pb_string(pb, F_REPORT_REGISTER_NAMES, mds_reg_names[i]);

    /* Index 0 only if the thread made it into the report (size cap). */
    if (put_thread(c, req->tid, !req->live,
                   req->live ? MDS_TS_CURRENT : MDS_TS_CRASHED, &req->regs,
                   0) &&
        !req->live)
        mds_pb_uint64(pb, F_REPORT_CRASHED_THREAD, 0);
    put_images(c);
    put_annotations(c);
    if (flags & MDS_RUN_SUSPEND) {
        for (uint32_t i = 0; i < mds_g.nused; i++) {
            mds_slot *s = &mds_g.slots[i];
            const char *note = 0;
            int st = MDS_TS_SUSPENDED;
            if (s->tid == mds_g.exc_tid) {
                st = MDS_TS_REPORTER;
                note = "mayday exception thread (not suspended)";
            } else if (s->state == MDS_SLOT_CRASHED) {
                st = MDS_TS_CRASHED;
                note = "crashed too while this report was being written";
            } else if (s->state != MDS_SLOT_PARKED) {
                st = MDS_TS_NOT_SUSPENDED;
                note = "did not answer the suspend signal; pc/sp from "
                       "/proc/self/task/TID/syscall";
            }
            put_thread(c, s->tid, s->state == MDS_SLOT_CRASHED, st, &s->regs,
                       note);
        }
    }

    mds_pb_release_reserve(pb);
    if (pb->truncated)
        mds_pb_bool(pb, F_REPORT_TRUNCATED, 1);
    if (sr->not_answered)
        mds_pb_uint64(pb, F_REPORT_THREADS_NOT_SUSPENDED, sr->not_answered);
    if (sr->capped)
        mds_pb_bool(pb, F_REPORT_THREADS_CAPPED, 1);
    if (w->images.inconsistent)
        mds_pb_bool(pb, F_REPORT_IMAGES_INCONSISTENT, 1);
    if (flags & MDS_RUN_RECURSIVE)
        mds_pb_bool(pb, F_REPORT_RECURSIVE_CRASH, 1);
    if (flags & MDS_RUN_TIMED_OUT)
        mds_pb_bool(pb, F_REPORT_HANDOFF_TIMED_OUT, 1);
    if (c->frames_capped)
        mds_pb_bool(pb, F_REPORT_FRAMES_CAPPED, 1);
    int r = mds_pb_finish(pb);

    /* Header: message length and CRC, then make it durable and visible. */
    uint64_t len = mds_writer_pos(&wr) - MDS_FILE_HEADER_LEN;
    uint32_t crc = 0;
    if (r == 0)
        r = mds_writer_crc32(&wr, MDS_FILE_HEADER_LEN, &crc);
    for (int i = 0; i < 4; i++) {
        hdr[8 + i] = (unsigned char)(len >> (8 * i));
        hdr[12 + i] = (unsigned char)(crc >> (8 * i));
    }
    if (r == 0)
        r = mds_writer_patch(&wr, 0, hdr, sizeof hdr);
    if (r == 0)
        r = mds_writer_flush(&wr);
    if (r == 0 && !(mds_g.cfg.flags & MAYDAY_FLAG_NO_FSYNC))
        mds_fsync((int)fd);
    mds_close((int)fd);
    /* The crashed thread gave up on this hand-off and wrote its own
     * report: do not leave a second one. */
    if (r == 0 && seq && __atomic_load_n(&mds_g.abandoned_seq,
                                         __ATOMIC_ACQUIRE) == seq)
        r = MAYDAY_ETIMEDOUT;
    if (r == 0 && mds_renameat(AT_FDCWD, tmp, AT_FDCWD, w->path) < 0)
        r = MAYDAY_EIO;
    if (r < 0) {
        mds_unlinkat(AT_FDCWD, tmp, 0);
        w->path[0] = 0;
    } else if (!(mds_g.cfg.flags & MAYDAY_FLAG_NO_FSYNC)) {
        /* Make the rename itself durable. */
        long dfd = mds_openat(AT_FDCWD, mds_g.info.report_dir,
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        if (dfd >= 0) {
            mds_fsync((int)dfd);
            mds_close((int)dfd);
        }
    }
    return r;
}

int mds_report_run(mds_work *w, mds_request *req, uint32_t self_tid,
                   int flags, uint32_t seq)
{
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&w->busy, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    w->path[0] = 0;
    mds_suspend_result sr;
    memset(&sr, 0, sizeof sr);
    if (flags & MDS_RUN_SUSPEND)
        mds_suspend_others(self_tid, req->tid, w->scratch, MDS_PATH_MAX, &sr);
    else
        __atomic_store_n(&mds_g.nused, 0, __ATOMIC_RELEASE);
    mds_images_capture(&w->images);
    rctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.req = req;
    int r = write_report(&c, &sr, flags, seq);
    if (flags & MDS_RUN_SUSPEND)
        mds_resume_others();
    w->result = r;
    __atomic_store_n(&w->busy, 0, __ATOMIC_RELEASE);
    return r;
}
