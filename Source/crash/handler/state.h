/*
 * state.h - everything the crash path needs, preallocated at install time.
 *
 * Context: the structs are filled in normal context by install
 * (Source/normal/install/) and only read or written through atomics and
 * async-signal-safe code on the crash path.
 *
 * Memory: mds_g lives in .bss; the big tables (thread slots, the two work
 * areas) are mds_arena mappings with guard pages. Nothing is allocated
 * after install.
 */
#ifndef MDS_STATE_H
#define MDS_STATE_H

#include <signal.h>
#include <stdint.h>

#include "crash/core/arena.h"
#include "crash/core/regs.h"
#include "crash/walk/images.h"
#include "crash/walk/unwind.h"
#include "mayday/mayday.h"

#define MDS_NSIGNALS 7
#define MDS_PATH_MAX 4096
#define MDS_MAX_IMAGES 1024
#define MDS_IMAGE_POOL (256 * 1024)
#define MDS_WRITE_BUF (64 * 1024)
#define MDS_NOTE_MAX 160

/* Per-thread suspension slot. */
enum {
    MDS_SLOT_FREE = 0,
    MDS_SLOT_REQUESTED = 1,     /* signal sent, no answer yet */
    MDS_SLOT_PARKED = 2,        /* regs saved, waiting for resume */
    MDS_SLOT_CRASHED = 3,       /* a second crashing thread, waiting */
    MDS_SLOT_GONE = 4,          /* the reporter gave up on it */
    MDS_SLOT_WRITING = 5        /* answering: saving its registers */
};

#define MDS_FP_MAX 512 /* x86_64 FXSAVE area; aarch64 user_fpsimd_state */

typedef struct mds_slot {
    volatile uint32_t tid;
    volatile uint32_t state;
    int32_t signo;              /* for MDS_SLOT_CRASHED */
    mds_regs regs;
    /* Filled by the thread stopper when it can (ptrace: from the stop;
     * signals: from the parked thread's own context). */
    int64_t syscall_nr;         /* system call it was in; -1 none, -2 unknown */
    uint64_t syscall_args[6];
    uint32_t fp_len;            /* bytes valid in fp, 0: none */
    uint8_t fp[MDS_FP_MAX];     /* FP/SIMD registers in the kernel's layout */
} mds_slot;

/* Facts gathered at install that are not async-safe to gather later. */
typedef struct mds_static_info {
    char exe_path[MDS_PATH_MAX];
    char os[65], release[65], version[65], machine[65], hostname[65];
    char libc[64];
    char boot_id[40];
    uint32_t cpu_count;
    uint32_t page_size;
    uint64_t mem_total;
    int64_t start_time_ns;      /* process start, ns since the epoch */
    char app_id[256];
    char app_version[256];
    char report_dir[MDS_PATH_MAX];
    uintptr_t abort_msg_addr;   /* &__abort_msg (glibc), or 0 */
} mds_static_info;

/* A reporter's private working memory: one for the exception thread, one
 * for the signal-handler fallback (they may overlap in time if the
 * exception thread overruns its deadline). */
typedef struct mds_work {
    mds_arena arena;
    mds_image_table images;
    mds_walker *walker;
    mds_frame *frames;          /* max_frames entries */
    unsigned char *wbuf;        /* MDS_WRITE_BUF */
    char *scratch;              /* MDS_PATH_MAX, for /proc reads */
    volatile uint32_t busy;
    /* Out, per reporter (two may overlap in time): */
    int result;                 /* 0 or a negative MAYDAY_E* code */
    char path[MDS_PATH_MAX];    /* the final report path, "" if none */
    char tmp[MDS_PATH_MAX];     /* the temp name while writing */
} mds_work;

/* What the crashed thread hands to the reporter. */
typedef struct mds_request {
    int signo;
    siginfo_t info;
    mds_regs regs;
    uint32_t tid;
    uint64_t fault_ns;          /* CLOCK_MONOTONIC at handler entry */
    int live;                   /* mayday_write_live_report */
    const char *reason;
    uint32_t handler;           /* mayday.Handler value */
} mds_request;

typedef struct mds_state {
    volatile uint32_t installed;
    mayday_config cfg;
    mds_static_info info;
    int dir_fd;                 /* report directory, O_DIRECTORY */
    int self_pid;

    /* Signals we handle and what was there before. */
    int signals[MDS_NSIGNALS];
    struct sigaction prev[MDS_NSIGNALS];
    int suspend_signo;          /* reserved real-time signal */
    struct sigaction prev_suspend;

    /* The crash slot: tid of the thread being reported, 0 if none. */
    volatile uint32_t crash_owner;
    volatile uint32_t crash_depth;  /* recursion guard for the owner */

    /* Exception thread hand-off. */
    volatile uint32_t exc_tid;      /* 0: not running */
    volatile uint32_t exc_dead;     /* it crashed or was stopped */
    volatile uint32_t req_seq;      /* futex: number of the last request */
    volatile uint32_t served_seq;   /* futex: last request answered */
    volatile uint32_t abandoned_seq;/* request whose requester gave up */
    volatile uint32_t exc_stop;     /* uninstall asks it to exit */
    mds_request req;

    /* Suspension of the other threads. */
    mds_arena slot_arena;
    mds_slot *slots;
    uint32_t nslots;            /* capacity (cfg.max_threads) */
    uint32_t nused;             /* filled by the last suspension */
    /* Threads that crashed while another crash was being reported: they
     * publish their registers here and wait. */
    mds_slot waiting[16];
    volatile uint32_t nwaiting;
    volatile uint32_t parked;       /* futex: count of answers */
    volatile uint32_t resume_gen;   /* futex: bumped to resume */
    volatile uint32_t suspend_mode; /* MDS_SUSPEND_* */
    volatile uint32_t altstack_acks;

    mds_work work_exc;
    mds_work work_sig;
} mds_state;

enum { MDS_SUSPEND_NONE = 0, MDS_SUSPEND_PARK = 1, MDS_SUSPEND_ALTSTACK = 2 };

extern mds_state mds_g;

#endif
