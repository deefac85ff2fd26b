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
#include "crash/core/sys.h"
#include "crash/stop/stop.h"
#include "crash/walk/images.h"
#include "crash/walk/unwind.h"
#include "mayday/mayday.h"

#define MDS_NSIGNALS 7
#define MDS_PATH_MAX 4096
#define MDS_MAX_IMAGES 1024
#define MDS_IMAGE_POOL (256 * 1024)
#define MDS_WRITE_BUF (64 * 1024)
#define MDS_NOTE_MAX 160
#define MDS_WAITING_MAX 16

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

/* Phases of one reporter's work (mds_work.phase), for the other thread
 * that waits on it: a reporter stuck in file I/O is never joined there. */
enum {
    MDS_PH_IDLE = 0,
    MDS_PH_STOPPING = 1, /* stopping the other threads */
    MDS_PH_WALKING = 2,  /* images, stacks, encoding into memory */
    MDS_PH_IO = 3        /* creating, writing, syncing, renaming files */
};

/* A reporter's private working memory and state: one for the exception
 * thread, one for the signal-handler fallback (they may overlap in time if
 * the exception thread overruns its deadline). Each has its own stop set:
 * no reporter resumes or reuses threads another one stopped. */
typedef struct mds_work {
    mds_arena arena;
    mds_image_table images;
    mds_walker *walker;
    mds_frame *frames;          /* max_frames entries */
    struct mds_capture *capture;/* issue 11: crash/capture/ (may be NULL) */
    unsigned char *wbuf;        /* MDS_WRITE_BUF */
    char *scratch;              /* MDS_PATH_MAX, for /proc reads */
    mds_stopset stop;
    volatile uint32_t busy;
    volatile uint32_t phase;    /* MDS_PH_* */
    volatile uint32_t io;       /* 1 while in a report-file syscall */
    /* Out, per reporter (two may overlap in time): */
    int result;                 /* 0 or a negative MAYDAY_E* code */
    char path[MDS_PATH_MAX];    /* the final report path, "" if none */
    char tmp[MDS_PATH_MAX];     /* the temp name while writing */
} mds_work;

/* States of the one hand-off request (mds_request.rstate), advanced by
 * compare-and-swap: exactly one of the exception thread (PUBLISHING) and
 * the crashed thread giving up (ABANDONED) wins. */
enum {
    MDS_RQ_NONE = 0,
    MDS_RQ_PENDING = 1,    /* posted, not yet taken */
    MDS_RQ_TAKEN = 2,      /* the exception thread works on it */
    MDS_RQ_PUBLISHING = 3, /* it is renaming its report into place */
    MDS_RQ_DONE = 4,       /* answered */
    MDS_RQ_ABANDONED = 5   /* the crashed thread gave up on it */
};

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
    long tracer;                /* TracerPid of the crashed thread, -1 unknown */
    int seccomp;                /* seccomp mode of the reporting side */
    volatile uint32_t rstate;   /* MDS_RQ_* */
    /* tid's name, from the thread itself when it made the request
     * (prctl: no /proc on the crash path); "" and name_ok 0 if unknown. */
    char name[16];
    int name_ok;
} mds_request;

/* Descriptors opened at install so that a process with no free
 * descriptor still gets its report (docs/fault-path.md, "Reserved"). */
typedef struct mds_fds {
    int dir;             /* the report directory (O_RDONLY|O_DIRECTORY) */
    uint64_t dir_dev, dir_ino; /* its identity at install */
    int proc;            /* /proc/PID (O_PATH|O_DIRECTORY), or -1 */
    uint32_t proc_pid;   /* the PID it names */
    int marker;          /* the last-crash marker file; MDS_MARKER_REOPEN:
                          * it exists, open it to write (on a network or
                          * FUSE file system, see fds.c); -1: none */
    int spare[2];        /* closed to make room when an open gets EMFILE */
} mds_fds;

typedef struct mds_state {
    volatile uint32_t installed;
    mayday_config cfg;
    mds_static_info info;
    mds_fds fd;
    volatile uint32_t pid;      /* this process (updated after fork) */
    /* Set at install under valgrind: its emulated signal state is shared
     * by a clone(CLONE_VM) task (the helper's SIG_DFL would become the
     * process's), so the ptrace helper is never started there. */
    int no_clone_vm;

    /* Signals we handle and what was there before. */
    int signals[MDS_NSIGNALS];
    struct sigaction prev[MDS_NSIGNALS];
    int suspend_signo;          /* reserved real-time signal */
    struct sigaction prev_suspend;
    struct mds_ksigaction suspend_kact; /* our disposition for it, raw */
    /* The stop set using the signal mechanism right now, or NULL. */
    mds_stopset *volatile sig_set;

    /* The crash slot: tid of the thread being reported, 0 if none. */
    volatile uint32_t crash_owner;
    volatile uint32_t crash_depth;  /* recursion guard for the owner */

    /* Exception thread hand-off. */
    volatile uint32_t exc_tid;      /* 0: not running */
    volatile uint32_t exc_pid;      /* the process it runs in */
    volatile uint32_t exc_dead;     /* it crashed or was stopped */
    volatile uint32_t req_seq;      /* futex: number of the last request */
    volatile uint32_t served_seq;   /* futex: last request answered */
    volatile uint32_t exc_stop;     /* uninstall asks it to exit */
    mds_request req;

    /* Threads that crashed while another crash was being reported: they
     * publish their registers here and wait. */
    mds_slot waiting[MDS_WAITING_MAX];
    volatile uint32_t nwaiting;
    volatile uint32_t waiting_dropped; /* crashers that found no slot */

    mds_work work_exc;
    mds_work work_sig;
} mds_state;

extern mds_state mds_g;

#endif
