/*
 * cause.h - names of signals and si_codes, and the probable cause of a
 * crash.
 *
 * Context: async-signal-safe (static tables, no I/O).
 */
#ifndef MDS_CAUSE_H
#define MDS_CAUSE_H

#include <signal.h>
#include <stdint.h>

#include "crash/core/regs.h"

/* "SIGSEGV"; "SIG?" for numbers without a name (real-time signals). */
const char *mds_signal_name(int signo);
/* "SEGV_MAPERR", "SI_USER", ...; "" when the code has no name. */
const char *mds_signal_code_name(int signo, int code);
/* 1 if the kernel raised it for a faulting instruction (si_code > 0 and
 * a fault signal), 0 if it was sent (kill, tgkill, abort, ...). */
int mds_signal_is_fault(int signo, int code);
/* mayday.Cause value. has_abort_msg: glibc's __abort_msg was set. */
int mds_probable_cause(const siginfo_t *info, const mds_regs *regs,
                       int exec_at_pc, int has_abort_msg);

#endif
