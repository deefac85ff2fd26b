/*
 * capture.h - the "why" of a report (issue 11): stack memory, FP/SIMD
 * registers, memory near pointers, the memory map, attachments, thread
 * states. The reporter (crash/handler/report.c) calls these through a
 * few one-line hooks; install (Source/normal/install/capture_init.c)
 * maps every buffer they use.
 *
 * Context: everything declared here is async-signal-safe unless it says
 * "normal context". No malloc, stdio, locks or dynamic linker; memory is
 * the mds_capture of the reporter's work area (mapped at install, guard
 * pages around it) or small stack buffers.
 */
#ifndef MDS_CAPTURE_H
#define MDS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "crash/core/arena.h"
#include "crash/core/pbenc.h"
#include "crash/core/regs.h"

struct mds_slot;
struct mds_request;
struct mds_stopset;

/* ------------------------------------------------------------ mappings */

enum { MDS_MAP_R = 4, MDS_MAP_W = 2, MDS_MAP_X = 1, MDS_MAP_SHARED = 8 };
#define MDS_MAP_NOPATH 0xffffffffu

/* One line of /proc/self/maps. */
typedef struct mds_mapping {
    uint64_t start, end, offset, inode;
    uint32_t dev_major, dev_minor;
    uint32_t flags;    /* MDS_MAP_* */
    uint32_t path_off; /* into mds_capture.paths, or MDS_MAP_NOPATH */
} mds_mapping;

/* ------------------------------------------------------ per-work state */

/* One per reporter work area (two reports may overlap in time). */
typedef struct mds_capture {
    mds_arena arena;
    struct mds_stopset *stop; /* the work area's stop set (other threads) */
    /* Memory map of the current report (mds_maps_capture). */
    mds_mapping *maps;
    uint32_t nmaps, maps_cap;
    char *paths; /* NUL-terminated paths, consecutive duplicates once */
    uint32_t paths_used, paths_cap;
    int maps_ok;     /* the table describes this report's process */
    int maps_capped; /* the table or the path pool was full */
    char *readbuf;   /* MDS_MAPS_READBUF, for /proc/self/maps */
    /* Stack memory. */
    unsigned char *stackbuf;
    uint32_t stackbuf_cap; /* max(stack_bytes, crashed_stack_bytes) */
    uint64_t budget_left;
    int budget_exhausted;
    /* Bytes kept for what must follow (the remaining threads' frames and
     * registers) when sizing bulky fields; see mds_capture_fit. */
    uint64_t reserve;
    /* Memory windows of the crashed thread. */
    unsigned char *winbuf;
    uint32_t winbuf_cap;
} mds_capture;

#define MDS_MAPS_READBUF (16 * 1024)
#define MDS_WIN_MAX 24  /* windows per report (registers + fault) */
#define MDS_REDZONE 128 /* x86_64 System V red zone below sp */

/* ------------------------------------------------------- FP registers */

#define MDS_XSAVE_COMPONENTS 19
/* Where the crashed thread's FP state is kept from its signal frame until
 * the report is written (one crash owner at a time). Mapped at install. */
typedef struct mds_crash_fp {
    unsigned char *buf;
    uint32_t cap;
    volatile uint32_t len; /* bytes valid, 0: none */
    uint32_t format;       /* MDS_FP_FORMAT_* */
    uint32_t tid;          /* whose */
    /* XSAVE layout of this CPU (CPUID leaf 0xD), filled at install. */
    uint32_t ncomp;
    uint32_t xsave_off[MDS_XSAVE_COMPONENTS];
    uint32_t xsave_size[MDS_XSAVE_COMPONENTS];
} mds_crash_fp;
extern mds_crash_fp mds_crash_fp_g;

/* In the crashed thread's handler, right after its registers: copies the
 * FP/SIMD state of the signal frame (XSAVE area if the kernel wrote one,
 * else FXSAVE) into mds_crash_fp_g. */
void mds_fp_save_crashed(const void *ucontext, uint32_t tid);

/* --------------------------------------------------------- attachments */

#define MDS_ATTACH_MAX 16
#define MDS_ATTACH_NAME 128
#define MDS_ATTACH_PATH 1024
enum {
    MDS_ATT_FREE = 0,
    MDS_ATT_SETUP = 1,
    MDS_ATT_READY = 2,
    MDS_ATT_READING = 3
};

typedef struct mds_attachment {
    volatile uint32_t state; /* MDS_ATT_*; READY entries are read */
    uint32_t kind;           /* MDS_ATTACHMENT_FILE / _MEMORY */
    int fd;                  /* file: opened at registration */
    int from_config;         /* registered by install: released by uninstall */
    uint32_t max_bytes;      /* file: the tail kept; memory: length */
    uintptr_t mem;           /* memory: the application's buffer */
    mds_arena arena;         /* the copy buffer, max_bytes */
    char name[MDS_ATTACH_NAME];
    char path[MDS_ATTACH_PATH];
} mds_attachment;
extern mds_attachment mds_attachments[MDS_ATTACH_MAX];

/* ------------------------------------------------------ report hooks */

/* Start of a report, threads stopped: reads the memory map, resets the
 * stack budget. c may be NULL. */
void mds_capture_begin(mds_capture *c, const struct mds_request *req);
/* Reads the memory map again (its message is already written): for the
 * stacks of threads created while the report was being written, which
 * the first read did not see (issue 15). The capped flag is kept. */
void mds_capture_refresh_maps(mds_capture *c);
/* Inside a Thread message, after its frames: FP registers, system call,
 * /proc state, mayday's own, stack memory, and (crashed thread) memory
 * windows. slot is NULL for the crashed / live-calling thread. */
void mds_capture_put_thread(mds_pb *pb, mds_capture *c,
                            const struct mds_request *req, uint32_t tid,
                            int crashed, const mds_regs *regs,
                            const struct mds_slot *slot);
/* Report level, after the breadcrumbs: the memory map and attachments. */
void mds_capture_put_report(mds_pb *pb, mds_capture *c);
/* Completeness flags, written after the encoder's reserve is released. */
void mds_capture_put_flags(mds_pb *pb, const mds_capture *c);

/* ------------------------------------------- pieces (one file each) */

/* maps.c */
int mds_maps_capture(mds_capture *c);
const mds_mapping *mds_maps_find(const mds_capture *c, uint64_t addr);
/* The first mapping starting above addr, or NULL. */
const mds_mapping *mds_maps_next(const mds_capture *c, uint64_t addr);
void mds_put_mappings(mds_pb *pb, const mds_capture *c);
/* Parses one maps line (no newline needed; len bytes). 0 or -1. */
int mds_maps_parse_line(const char *line, size_t len, mds_mapping *m,
                        const char **path, size_t *path_len);

/* stackmem.c: writes Thread.stack / stack_limit; *lo, *hi get the range
 * written (lo == hi: none). */
void mds_put_stack(mds_pb *pb, mds_capture *c, const mds_regs *regs,
                   uint32_t cap, uint64_t *lo, uint64_t *hi);
/* Copies the readable prefix of [src, src + len) page by page; returns
 * the bytes copied (0 if the first page is unreadable). */
size_t mds_read_prefix(void *dst, uintptr_t src, size_t len);

/* ptrwin.c: Thread.memory for the crashed thread. */
void mds_put_windows(mds_pb *pb, mds_capture *c, const mds_regs *regs,
                     int has_fault, uint64_t fault, uint64_t stack_lo,
                     uint64_t stack_hi);

/* fpregs.c: Thread.fp. */
void mds_put_fp(mds_pb *pb, uint32_t format, const void *data, size_t len,
                uint64_t reserve);
void mds_put_crashed_fp(mds_pb *pb, uint32_t tid, uint64_t reserve);

/* thstate.c: Thread.syscall, syscall_args, proc_state, mayday_thread. */
void mds_put_thread_state(mds_pb *pb, uint32_t tid,
                          const struct mds_slot *slot);
/* The system call of a thread from its interrupted context: *nr >= 0 in
 * a system call (args filled), -1 running user code, -2 unknown. */
void mds_syscall_from_regs(const mds_regs *r, int64_t *nr, uint64_t args[6]);
/* 1 if tid is one of mayday's own threads. */
int mds_is_own_thread(uint32_t tid);

/* attach.c: Report.attachments. */
void mds_put_attachments(mds_pb *pb, uint64_t reserve);

/* Bytes left for fields below the size cap (0 when dropping). */
uint64_t mds_pb_room(const mds_pb *pb);
/* The most one bulky field (stack, FP area, window, attachment) may take
 * now: half of the room above a 2 KiB margin plus `reserve` (at most half
 * the room), so that what follows it (images, the remaining threads'
 * frames) still fits under the size cap. */
uint64_t mds_capture_fit(const mds_pb *pb, uint64_t reserve);
/* What one thread still to be written is assumed to need (its frames,
 * registers and notes), kept free by the bulky fields before it. */
#define MDS_THREAD_RESERVE 2048

/* The layout of a stopped thread's slot->fp: what ptrace's NT_PRFPREG
 * gives, and what the signal stopper copies from its frame in the same
 * layout (FXSAVE on x86_64, struct user_fpsimd_state on aarch64). */
#if defined(__aarch64__)
#define MDS_FP_FORMAT_SLOT MDS_FP_FORMAT_AARCH64_FPSIMD
#else
#define MDS_FP_FORMAT_SLOT MDS_FP_FORMAT_FXSAVE
#endif

#endif
