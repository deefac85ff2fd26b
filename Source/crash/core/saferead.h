/*
 * saferead.h - read process memory that may be unmapped or unreadable
 * without faulting, through process_vm_readv on our own pid.
 *
 * Context: async-signal-safe, any thread.
 *
 * Every read of memory the crash may have damaged (stack words, link_map
 * entries, ELF headers in memory, unwind tables) goes through here.
 */
#ifndef MDS_SAFEREAD_H
#define MDS_SAFEREAD_H

#include <stddef.h>
#include <stdint.h>

/* Copies len bytes at address src into dst. Returns 0, or -EFAULT if any
 * byte of [src, src+len) is unreadable (dst contents are then undefined),
 * or another -errno (e.g. -EPERM under a seccomp policy). */
int mds_safe_read(void *dst, uintptr_t src, size_t len);
/* Reads one machine word. */
int mds_safe_read_word(uintptr_t src, uintptr_t *out);
/* Copies a NUL-terminated string of at most cap-1 bytes (always
 * terminates dst when cap > 0). Returns its length or -EFAULT. Reads page
 * by page so a string that ends just before an unmapped page is fine. */
long mds_safe_read_str(char *dst, size_t cap, uintptr_t src);

#endif
