/*
 * install.h - internal interface of Source/normal/install/.
 *
 * Context: normal.
 */
#ifndef MD_INSTALL_H
#define MD_INSTALL_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

/* The real pthread_create, bypassing our interposer. */
int md_real_pthread_create(pthread_t *t, const pthread_attr_t *a,
                           void *(*fn)(void *), void *arg);
/* Deletes the oldest reports in dir beyond keep, and stale temp files. */
int md_prune_reports(const char *dir, unsigned keep);
/* mayday_write_live_report() that also returns the report's path (cap
 * bytes at path, "" if none; path may be NULL). The watchdog's hang
 * report goes through here (issue 12). */
int md_write_live_report_ex(const char *reason, char *path, size_t cap);
/* Fills mds_g.info (uname, libc, boot id, ...). */
void md_collect_static_info(void);
/* Resolves the real pthread_sigmask/sigprocmask (sigmask.c). */
void md_sigmask_warm(void);
/* The reserved descriptors (fds.c). */
int md_fds_open(const char *dir);
void md_fds_close(void);
void md_fds_after_fork(void);
/* Gives every thread that exists now an altstack without interrupting it
 * (prepare.c, ptrace); 0, or a negative code when it could not
 * (MAYDAY_ENOSYS_ARCH: this architecture has no injection). */
#define MAYDAY_ENOSYS_ARCH MAYDAY_ENOTSUP
int md_prepare_existing_threads(void);
typedef struct md_prepare_stats {
    int ran; /* 1 ran, 0 not yet, -1 skipped (seccomp or debugger) */
    unsigned done, skipped, failed;
} md_prepare_stats;
extern md_prepare_stats md_prepare_last; /* of the last install (tests) */
/* Address of a data symbol of the executable from its .symtab (for a
 * static executable, where dlsym finds nothing), or 0 (exesym.c). */
uintptr_t md_exe_symbol(const char *name);
/* Binds every PLT slot the crash path can go through (prebind.c).
 * Returns the number of slots it bound. */
int md_prebind(void);
/* The same by a signal to each thread, where the injection cannot run
 * (prepare_signal.c: aarch64, qemu-user, seccomp); not under a debugger.
 * 0 or a negative code. */
int md_prepare_by_signal(void);

#endif
