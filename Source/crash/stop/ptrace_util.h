/*
 * ptrace_util.h - what the ptrace stopper (stop_ptrace.c) and the install
 * time altstack injection (inject.c) share: ptrace request numbers, the
 * raw register layout per architecture, the helper task's start, set-up
 * and reaping.
 *
 * Context: async-signal-safe. Functions named mds_pt_helper_setup run in
 * the helper task (clone(CLONE_VM), no libc of its own).
 */
#ifndef MDS_PTRACE_UTIL_H
#define MDS_PTRACE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#include "crash/stop/stop.h"

/* <sys/ptrace.h> and <linux/ptrace.h> clash; the numbers are ABI. */
#define MDS_PTRACE_CONT 7
#define MDS_PTRACE_DETACH 17
#define MDS_PTRACE_GETREGSET 0x4204
#define MDS_PTRACE_SETREGSET 0x4205
#define MDS_PTRACE_SEIZE 0x4206
#define MDS_PTRACE_INTERRUPT 0x4207
#define MDS_NT_PRSTATUS 1
#define MDS_NT_PRFPREG 2
#define MDS_PR_SET_PDEATHSIG 1
#define MDS_PR_SET_PTRACER 0x59616d61
#define MDS_WALL 0x40000000
#define MDS_WNOHANG 1
#define MDS_ERESTARTNOHAND 514

/* Clone flags: our memory, descriptors and cwd; not traced if we are;
 * exit signal 0 (no SIGCHLD to the application, and invisible to its
 * wait(): only __WALL/__WCLONE waits see such a child). The helper's pid
 * goes into the CLEARTID word before clone returns (PARENT_SETTID: the
 * child may not have run yet) and is cleared when it exits. */
#define MDS_HELPER_CLONE_FLAGS                                                 \
    (0x00000100 /* CLONE_VM */ | 0x00000200 /* CLONE_FS */ |                   \
     0x00000400 /* CLONE_FILES */ | 0x00800000 /* CLONE_UNTRACED */ |          \
     0x00100000 /* CLONE_PARENT_SETTID */ |                                    \
     0x00200000 /* CLONE_CHILD_CLEARTID */)

#if defined(__x86_64__)
typedef struct user_regs_struct mds_raw_regs;
#elif defined(__aarch64__)
typedef struct {
    uint64_t regs[31], sp, pc, pstate;
} mds_raw_regs;
#endif

/* NT_PRSTATUS registers to the slot (mds_regs, syscall number/args). */
void mds_pt_raw_to_slot(mds_slot *sl, const mds_raw_regs *r);
/* A system call the stop ended with EINTR restarts on resume (x86_64;
 * see stop_ptrace.c). Returns 1 if r changed. */
int mds_pt_fix_restart(mds_raw_regs *r);
/* PTRACE_GETREGSET/SETREGSET of one register set; *got = bytes. */
long mds_pt_regset(long req, uint32_t tid, int type, void *buf, size_t len,
                   size_t *got);
/* Reporter side: clone the helper on s's stack running fn(arg), name it
 * as our ptracer where Yama wants that, and let it go. Returns its pid or
 * -errno. */
long mds_pt_helper_start(mds_stopset *s, int (*fn)(void *), void *arg);
/* Helper side, first thing: own signal dispositions, parent check, wait for
 * the go. Returns 0, or -1 when the helper must exit at once. */
int mds_pt_helper_setup(mds_stopset *s);
/* Reporter side: waits until the helper exited (wait_ns, then SIGKILL),
 * and reaps it. */
void mds_pt_helper_reap(mds_stopset *s, uint64_t wait_ns);

#endif
