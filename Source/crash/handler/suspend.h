/*
 * suspend.h - stopping every other thread for the time of a report.
 *
 * Each thread is sent the reserved real-time signal; its handler saves its
 * registers into a slot and parks on a futex until resumed (with a
 * deadline, so a dead reporter never leaves threads stuck). Threads that
 * do not answer within the budget (they block the signal, or are stopped)
 * are still listed, with pc/sp from /proc/self/task/TID/syscall.
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_SUSPEND_H
#define MDS_SUSPEND_H

#include <signal.h>
#include <stdint.h>

typedef struct mds_suspend_result {
    uint32_t count;         /* threads listed in mds_g.slots */
    uint32_t not_answered;
    int capped;             /* more threads than slots */
    uint64_t elapsed_ns;    /* time spent suspending */
} mds_suspend_result;

/* Lists and suspends all threads but self_tid and skip_tid (the crashed
 * thread, whose registers the reporter has). */
void mds_suspend_others(uint32_t self_tid, uint32_t skip_tid, char *scratch,
                        size_t cap, mds_suspend_result *out);
void mds_resume_others(void);

/* The handler of the reserved signal (installed with SA_ONSTACK). */
void mds_suspend_handler(int sig, siginfo_t *info, void *uc);

/* Gives the calling thread a guard-paged altstack if it has none.
 * uc (may be NULL) is the current signal frame's ucontext: its uc_stack is
 * updated too, or sigreturn would undo the change. Returns 0 or -errno. */
int mds_altstack_ensure(void *uc, void **map_out, size_t *map_len_out);
/* Size of the usable altstack area, set at install. */
extern size_t mds_altstack_size;

#endif
