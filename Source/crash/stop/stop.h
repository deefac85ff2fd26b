/*
 * stop.h - stopping every other thread for the time of a report, and
 * keeping them stopped until the process dies (docs/thread-control.md).
 *
 * One mds_stopset per reporter (each work area has its own), so that two
 * reports in flight never share or resume each other's threads.
 *
 * Mechanisms, tried in order (the report says which one ran):
 *   ptrace  a helper task made with clone(CLONE_VM) seizes and interrupts
 *           each thread (PTRACE_SEIZE + PTRACE_INTERRUPT), reads its
 *           registers (PTRACE_GETREGSET) and holds it; no handler runs in
 *           the stopped thread, its signal mask does not matter, and on
 *           release interrupted system calls restart (stop_ptrace.c);
 *   signal  the reserved real-time signal: each thread's handler saves its
 *           registers and parks on a futex (stop_signal.c); crash reports
 *           only, since a handler makes pause/nanosleep/... return EINTR;
 *   none    nothing is stopped: pc/sp of threads blocked in a system call
 *           come from /proc/PID/task/TID/syscall (under a debugger, or
 *           when neither mechanism is available).
 *
 * Context: md_stopset_* normal (install); everything else async-signal-safe.
 */
#ifndef MDS_STOP_H
#define MDS_STOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "crash/core/arena.h"
#include "crash/core/regs.h"
#include "crash/core/sys.h"

/* Values match mayday.StopMethod in the schema. */
enum {
    MDS_STOP_NONE = 0,
    MDS_STOP_PTRACE = 1,
    MDS_STOP_SIGNAL = 2,
    MDS_STOP_PROC = 3 /* not stopped; /proc only */
};

/* Per-thread slot states. */
enum {
    MDS_SLOT_FREE = 0,
    MDS_SLOT_REQUESTED = 1, /* being stopped, no answer yet */
    MDS_SLOT_PARKED = 2,    /* stopped, registers saved */
    MDS_SLOT_CRASHED = 3,   /* a second crashing thread, waiting */
    MDS_SLOT_GONE = 4,      /* could not be stopped (see why) */
    MDS_SLOT_WRITING = 5,   /* answering: saving its registers */
    MDS_SLOT_REPORTER = 6   /* mayday's own thread writing the report */
};

/* Why a listed thread is not stopped (MDS_SLOT_GONE). */
enum {
    MDS_WHY_NONE = 0,
    MDS_WHY_TIMEOUT = 1,   /* did not stop within the budget */
    MDS_WHY_TRACED = 2,    /* traced by another process (a debugger) */
    MDS_WHY_BLOCKED = 3,   /* blocks the reserved signal */
    MDS_WHY_NO_METHOD = 4, /* no mechanism available (see the set's note) */
    MDS_WHY_EXITED = 5     /* exited while being stopped */
};

#define MDS_FP_MAX 528 /* x86_64 FXSAVE area (512); aarch64 fpsimd (528) */
#define MDS_RAW_REGS_MAX 288 /* user_regs_struct / user_pt_regs */

typedef struct mds_slot {
    volatile uint32_t tid;
    volatile uint32_t state;
    int32_t signo; /* MDS_SLOT_CRASHED: its signal; ptrace: pending one */
    uint32_t why;  /* MDS_WHY_* */
    mds_regs regs;
    /* Filled by the stopper when it can (ptrace: from the stop;
     * signals: from the parked thread's own context). */
    int64_t syscall_nr; /* system call it was in; -1 none, -2 unknown */
    uint64_t syscall_args[6];
    uint32_t fp_len;        /* bytes valid in fp, 0: none */
    uint8_t fp[MDS_FP_MAX]; /* FP/SIMD registers in the kernel's layout */
    /* ptrace only: the raw registers (NT_PRSTATUS), put back on release. */
    uint8_t raw[MDS_RAW_REGS_MAX];
    uint32_t raw_len;
    /* Its name (comm), read while it is held: by the ptrace helper after
     * the stop, in parallel with the reporter's walks (issue 15: 10 us a
     * thread in /proc), or by the parked thread itself (prctl). name_ok
     * (release) publishes name[]; 0: the reporter reads /proc itself. */
    char name[16];
    volatile uint32_t name_ok; /* 0 none, 2 being written, 1 ready */
} mds_slot;

/* What a report asks of the stopper. */
typedef struct mds_stop_req {
    uint32_t self_tid;   /* the reporting thread (never stopped) */
    uint32_t skip_tid;   /* the crashed thread (its registers are known) */
    int fatal;           /* a crash (1) or a live report (0) */
    int traced;          /* a debugger is attached */
    int seccomp;         /* a seccomp filter is active: no clone/ptrace */
    uint32_t timeout_ms; /* budget for stopping everyone */
} mds_stop_req;

/* Phases of a stop (mds_stopset.phase). */
enum {
    MDS_SP_DONE = 0,  /* nothing in flight: the slots are final */
    MDS_SP_PTRACE = 1 /* the helper is stopping them (mds_stop_slot) */
};

typedef struct mds_stopset {
    mds_slot *slots;
    uint32_t cap;        /* slots available (config max_threads) */
    volatile uint32_t n; /* slots listed by the last stop */
    int capped;          /* more threads than slots */
    uint32_t method;     /* MDS_STOP_* that ran */
    uint32_t stopped;    /* threads stopped and held */
    uint32_t not_stopped;
    uint64_t elapsed_ns;
    char note[160];       /* why a mechanism was skipped, "" if none */
    int task_fd;          /* /proc/PID/task of the process at install, or -1 */
    uint32_t task_fd_pid; /* the PID task_fd lists (a forked child differs) */
    char *buf;            /* getdents/status scratch (MDS_STOP_BUF) */

    /* What to stop. */
    uint32_t pid, self_tid, skip_tid;
    uint64_t deadline_ns;

    /* ptrace helper task (stop_ptrace.c). */
    unsigned char *hstack; /* its stack, mapped at install */
    size_t hstack_len;
    volatile uint32_t hpid;   /* CLONE_CHILD_SETTID/CLEARTID: 0 when gone */
    volatile uint32_t hgo;    /* futex: the tracee allowed it (Yama) */
    volatile uint32_t hstate; /* futex: MDS_H_* progress */
    volatile uint32_t hcmd;   /* futex: MDS_HCMD_* */
    int herr;                 /* first ptrace error, -errno */
    uint32_t hlive;           /* helper pid still to be reaped */
    volatile uint32_t hprog;  /* futex: bumped as each slot settles */
    volatile uint32_t hwait;  /* the reporter sleeps on hprog */
    uint64_t hdone_ns;        /* when the helper had stopped them all */
    volatile uint64_t hdeadline_ns; /* its own deadline, from its start */
    uint64_t hclone_ns;             /* when the reporter started it */
    uint64_t hstart_ns;             /* when it began, 0 if it did not */
    uint64_t hlast_ns;              /* its last look at the clock */
    uint64_t hstall_ns;             /* time it was off the CPU, added to it */

    /* A stop in flight: mds_stop_begin .. mds_stop_finish. */
    volatile uint32_t phase;    /* MDS_SP_*; read by mds_stop_release */
    volatile uint32_t released; /* released meanwhile: no fallback */
    uint32_t n0;                /* slots the first listing gave */
    uint64_t t0_ns;
    mds_stop_req req;

    /* signal mechanism (stop_signal.c). */
    volatile uint32_t parked;           /* futex: answers */
    volatile uint32_t resume_gen;       /* futex: bumped to resume */
    int took_signal;                    /* we re-installed our handler on it */
    struct mds_ksigaction saved_action; /* the app's, which we replaced */

    volatile uint32_t held; /* 1 while this set holds stopped threads */
    mds_arena slot_arena, stack_arena; /* mapped at install */
} mds_stopset;

#define MDS_STOP_BUF 8192
#define MDS_HELPER_STACK (64 * 1024)

/* Lists the other threads into s->slots and stops them with the first
 * mechanism that works (see above). Threads that cannot be stopped are
 * listed anyway (MDS_SLOT_GONE, why) with pc/sp from /proc when blocked.
 * mds_stop_begin + mds_stop_finish. */
void mds_stop_others(mds_stopset *s, const mds_stop_req *r);
/* The same in steps, so that the reporter works while the threads are
 * being stopped (issue 15). begin lists the threads and, with ptrace,
 * starts the helper and returns at once; the other mechanisms run to the
 * end in it. mds_stop_slot waits until slot i is settled (stopped, or
 * known not to be) and returns it, or NULL once i is past the last slot
 * and the stop is over; slots settle in order, and the list may grow
 * while the helper looks for threads created meanwhile. While it waits
 * it reads the slot's thread name itself (the thread may not be stopped
 * yet: the name is all it takes). mds_stop_finish waits for the end:
 * fallback mechanisms, /proc for the rest, the counts; after it (or
 * after mds_stop_slot returned NULL) method, stopped, not_stopped, note
 * and elapsed_ns are final. */
void mds_stop_begin(mds_stopset *s, const mds_stop_req *r);
mds_slot *mds_stop_slot(mds_stopset *s, uint32_t i);
void mds_stop_finish(mds_stopset *s);
/* The name the stopper read for sl (NUL-terminated into out, cap >= 16):
 * its length, or -1 when it has none (yet). */
long mds_stop_name(const mds_slot *sl, char *out, size_t cap);
/* Lets every thread this set stopped run again (interrupted system calls
 * restart where the mechanism allows). Idempotent; callable by any thread
 * (e.g. the crashed thread releasing a late reporter's threads). */
void mds_stop_release(mds_stopset *s);
/* Keeps the threads stopped: the process is about to die. The ptrace
 * helper holds them until then (bounded: MDS_HOLD_MAX_NS); parked
 * threads likewise. */
void mds_stop_hold(mds_stopset *s);

#define MDS_HOLD_MAX_NS (30ull * 1000000000ull)

/* The handler of the reserved signal (SA_ONSTACK|SA_RESTART|SA_SIGINFO). */
void mds_suspend_handler(int sig, siginfo_t *info, void *uc);

/* The slot of tid in s, or NULL. */
mds_slot *mds_stop_find(mds_stopset *s, uint32_t tid);

/* Mechanisms (stop_ptrace.c, stop_signal.c, stop.c). Each returns 0 when
 * it ran (individual threads may still be GONE), or a negative code when
 * it could not run at all and the next mechanism should be tried.
 * ptrace in two steps: start the helper (0 or -errno), then wait for
 * slot `want` (1: settled), for the end (0; want past the list: the
 * whole stop), or for its failure before it stopped anyone (-errno: the
 * slots are back to REQUESTED for the next mechanism). */
int mds_stop_ptrace_start(mds_stopset *s);
int mds_stop_ptrace_wait(mds_stopset *s, uint32_t want);
void mds_release_ptrace(mds_stopset *s);
int mds_stop_signal(mds_stopset *s, const mds_stop_req *r);
void mds_release_signal(mds_stopset *s);

/* Listing (stop.c): appends every thread of the process not yet in s
 * (except self and skip) as REQUESTED; returns how many were added. */
uint32_t mds_stop_list(mds_stopset *s);
/* Appends what (and " (errno E)" when err) to the set's note. */
void mds_stop_note(mds_stopset *s, const char *what, long err);
/* pc/sp from /proc for slot (when the thread is blocked in a syscall). */
void mds_stop_proc_regs(mds_stopset *s, mds_slot *slot);

/* Install time (inject.c): an altstack for every thread of the process
 * but s->self_tid and s->skip_tid, given through ptrace without
 * interrupting any of them. */
typedef struct mds_inject_io {
    uint8_t *xbuf; /* FP/xstate save area (xcap bytes) */
    size_t xcap, xlen;
    int held_sig; /* a signal held back while one thread is worked on */
    uint8_t held_info[128];
    uint32_t done, skipped, failed;
} mds_inject_io;
int mds_inject_altstacks(mds_stopset *s, mds_inject_io *io);

/* Set at install when Yama restricts ptrace: the helper is then named
 * with PR_SET_PTRACER before it starts. */
extern int mds_ptrace_yama;

/* Normal context: maps the slots and the helper stack, opens task_fd. */
int md_stopset_init(mds_stopset *s, uint32_t cap, int proc_fd);
void md_stopset_free(mds_stopset *s);

#endif
