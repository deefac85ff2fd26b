/*
 * thstate.c - what a thread was doing (Thread.syscall, syscall_args,
 * proc_state) and whether it is one of mayday's own (mayday_thread).
 *
 * The system call comes from the thread-stopping mechanism (the slot's
 * syscall_nr/args: the ptrace stopper, or the thread's own interrupted
 * context on the signal path). For threads that were not stopped (they
 * did not answer, a debugger traces them), the state letter of
 * /proc/PID/task/TID/stat and syscall are read: small /proc reads (~10 us
 * each) that stopped threads, the common case, do not pay.
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker;
 * small stack buffers.
 */
#include <string.h>

#include "crash/capture/capture.h"
#include "crash/core/fmt.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

int mds_is_own_thread(uint32_t tid)
{
    uint32_t exc = __atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE);
    return tid != 0 && tid == exc;
}

/* /proc/self/task/TID/syscall: "nr a1 .. a6 sp pc", "-1 sp pc" or
 * "running". 0 with *nr set (-1: not in a system call), or -1. */
static int proc_syscall(uint32_t tid, int64_t *nr, uint64_t args[6])
{
    char path[64], buf[256];
    mds_task_path(path, sizeof path, tid, "syscall");
    long n = mds_proc_read(path, buf, sizeof buf);
    if (n <= 0 || buf[0] == 'r')
        return -1;
    const char *p = buf;
    int neg = *p == '-';
    uint64_t v;
    if (mds_parse_u64(p + neg, 10, &v, &p) < 0)
        return -1;
    if (neg) {
        *nr = -1;
        return 0;
    }
    for (int i = 0; i < 6; i++)
        if (mds_parse_u64(p, 0, &args[i], &p) < 0)
            return -1;
    *nr = (int64_t)v;
    return 0;
}

/* The state letter of /proc/self/task/TID/stat (after the last ')', as
 * the name in between may hold anything). */
static int proc_state(uint32_t tid, char out[2])
{
    char path[64], buf[512];
    mds_task_path(path, sizeof path, tid, "stat");
    long n = mds_proc_read(path, buf, sizeof buf);
    long close = -1;
    for (long i = 0; i < n; i++)
        if (buf[i] == ')')
            close = i;
    if (close < 0 || close + 2 >= n || buf[close + 1] != ' ')
        return -1;
    out[0] = buf[close + 2];
    out[1] = 0;
    return out[0] >= 'A' && out[0] <= 'z' ? 0 : -1;
}

void mds_put_thread_state(mds_pb *pb, uint32_t tid, const mds_slot *slot)
{
    if (mds_is_own_thread(tid)) {
        mds_pb_bool(pb, F_THREAD_MAYDAY_THREAD, 1);
        return; /* busy writing this report: nothing to learn */
    }
    if (!slot)
        return;
    int stopped = slot->state == MDS_SLOT_PARKED;
    int64_t nr = slot->syscall_nr;
    uint64_t args[6];
    int have_args = stopped; /* the stopper read them with the number */
    memcpy(args, slot->syscall_args, sizeof args);
    /* /proc only speaks for threads that were not stopped: a stopped one
     * shows the stop there (ptrace's "t", or mayday's own futex wait in
     * its signal handler). The stopper's own /proc read of such a thread
     * kept the number, not the arguments. */
    if (!stopped && !(mds_g.cfg.capture_flags & MAYDAY_CAPTURE_NO_PROC_STATE)) {
        char st[2];
        if (proc_state(tid, st) == 0)
            mds_pb_string(pb, F_THREAD_PROC_STATE, st);
        int64_t pnr;
        if (proc_syscall(tid, &pnr, args) == 0) {
            nr = pnr;
            have_args = 1;
        }
    }
    if (nr < -1)
        return;
    mds_pb_int64(pb, F_THREAD_SYSCALL, nr);
    if (nr >= 0 && have_args)
        mds_pb_packed_uint64(pb, F_THREAD_SYSCALL_ARGS, args, 6);
}
