/*
 * saferead.h - read process memory that may be unmapped or unreadable
 * without faulting.
 *
 * Context: mds_* are async-signal-safe, any thread; md_saferead_init/fini
 * are normal context (install, uninstall, tests).
 *
 * Every read of memory the crash may have damaged (stack words, link_map
 * entries, ELF headers in memory, unwind tables) goes through here.
 *
 * Two methods, chosen once by a self-test at install (md_saferead_init);
 * the crash path uses the chosen one and never probes:
 *   - process_vm_readv on our own pid: one system call per read. Not
 *     available under qemu-user (ENOSYS) nor under some seccomp policies.
 *   - a pipe: write() the range into a pipe we own, read it back. The
 *     kernel (and qemu-user) copies from the source with a fault-checked
 *     copy and returns EFAULT for a bad address instead of faulting.
 *     Several pipes, each claimed by one reader at a time; re-created in
 *     a forked child (the parent's pipe is shared with it); every read
 *     first checks that both fds are still our pipe (fstat), so a closed
 *     and reused fd number never gets process memory written into it.
 */
#ifndef MDS_SAFEREAD_H
#define MDS_SAFEREAD_H

#include <stddef.h>
#include <stdint.h>

enum {
    MDS_SAFEREAD_NONE = 0, /* nothing works: every read fails (-ENOSYS) */
    MDS_SAFEREAD_VM = 1,   /* process_vm_readv */
    MDS_SAFEREAD_PIPE = 2  /* write into a pipe, read back */
};

/* Copies len bytes at address src into dst. Returns 0, or -EFAULT if any
 * byte of [src, src+len) is unreadable (dst contents are then undefined),
 * or another -errno (e.g. -EPERM under a seccomp policy, -ENOSYS when no
 * method was found). */
int mds_safe_read(void *dst, uintptr_t src, size_t len);
/* Reads one machine word. */
int mds_safe_read_word(uintptr_t src, uintptr_t *out);
/* Copies a NUL-terminated string of at most cap-1 bytes (always
 * terminates dst when cap > 0). Returns its length or -EFAULT. Reads page
 * by page so a string that ends just before an unmapped page is fine. */
long mds_safe_read_str(char *dst, size_t cap, uintptr_t src);
/* The method in use (MDS_SAFEREAD_*). */
int mds_safe_read_method(void);

/* Normal context. Chooses the method by self-test: process_vm_readv if
 * it reads good memory exactly and fails with EFAULT on bad memory, else
 * the pipe if it does, else none. want: MDS_SAFEREAD_VM or _PIPE to try
 * that one first (tests, benchmarks; also the environment variable
 * MAYDAY_SAFE_READ=vm|pipe), 0 for the default order. Idempotent unless
 * want differs from the current choice. Returns the method chosen. */
int md_saferead_init(int want);
/* Normal context: closes the pipes; the method falls back to the
 * default (process_vm_readv, untested) until the next init. */
void md_saferead_fini(void);

#endif
