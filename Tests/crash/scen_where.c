/*
 * scen_where.c - which scenarios cannot run on this architecture or under
 * this emulator, and why (the list is in docs/platforms.md).
 *
 * Context: test program.
 */
#include <string.h>
#include <unistd.h>

#include "emu.h"
#include "scen.h"

/* Why a scenario cannot run on this architecture or under this emulator,
 * or NULL (the list is in docs/platforms.md). */
const char *scen_not_here(const scen *s)
{
#if defined(__aarch64__)
    if (!strcmp(s->name, "fpe"))
        return "aarch64 does not trap integer division by zero (it gives 0)";
    /* Not a qemu limit: inject.c is x86_64 only (docs/platforms.md). */
    if (!strcmp(s->name, "install-sleepers"))
        return "no altstack injection on aarch64 yet: install gives existing "
               "threads theirs by a signal, which ends their waits (EINTR)";
#endif
    if (s->mode && !strcmp(s->mode, "stall-helper")) {
        if (mdt_emulator())
            return "qemu-user has no ptrace: no helper to hold off the CPU";
        if (geteuid() != 0 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
            return "the staller needs root (the proc connector) and two CPUs";
    }
    if (mdt_emulator()) {
        if (!strcmp(s->name, "sigwait-daemon"))
            return "qemu-user: /proc/TID/status and /proc/TID/syscall show "
                   "qemu's host thread (its signal mask, x86_64 syscall "
                   "numbers), so the signal fallback cannot see a thread in "
                   "sigtimedwait; that thread takes mayday's signal";
        if (!strcmp(s->name, "live-sleepers"))
            return "qemu-user has no ptrace, and a live report sends no "
                   "signal to the application's threads: none is stopped";
        if (s->mode && !strcmp(s->mode, "gdb"))
            return "qemu-user has no ptrace: gdb cannot run the program";
        if (!strncmp(s->name, "sys", 3))
            return "qemu-user refuses seccomp filters (PR_SET_SECCOMP)";
        if (!strcmp(s->name, "blocked-suspend") && !s->mode)
            return "qemu-user has no ptrace: the stopper falls back to the "
                   "signal (blocked-suspend/stop-signal runs)";
        if (!strcmp(s->name, "rlimit-fsize") && s->mode &&
            !strcmp(s->mode, "signal"))
            return "under qemu-user the process died of SIGXFSZ after its "
                   "complete report was on disk (1 run of 6; cause not "
                   "found, see docs/platforms.md)";
        if (!strncmp(s->name, "live-vs-crash", 13))
            return "under qemu-user the worker's SIGSEGV killed the process "
                   "without mayday's handler running (\"qemu: uncaught "
                   "target signal 11\", marker untouched) in 1 run of 3 "
                   "and 1 of 10 while live reports ran; see "
                   "docs/platforms.md";
        if (!strcmp(s->name, "handoff-timeout"))
            return "qemu-user runs vfork as fork: no thread is held in the "
                   "vfork wait this scenario needs to make the exception "
                   "thread late";
        if (!strncmp(s->name, "callback-", 9))
            return "qemu-user 7.2 aborts (assertion cpu == current_cpu in "
                   "cpu_exec) on a fault inside the handler of the same "
                   "signal";
        if (s->mode && !strcmp(s->mode, "pid1"))
            return "qemu-user as PID 1 waits forever for the signal it "
                   "re-sends itself to die (its default action)";
    }
    return NULL;
}
