/*
 * procfs.h - small /proc readers for the crash path.
 *
 * Context: async-signal-safe (open/read/close/getdents64 syscalls into
 * caller buffers). /proc may be missing (chroot, early boot): every
 * function then fails cleanly with a negative code.
 */
#ifndef MDS_PROCFS_H
#define MDS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* Reads up to cap-1 bytes of a file, NUL-terminates. Returns the length or
 * a negative -errno. */
long mds_read_file(const char *path, char *buf, size_t cap);
/* /proc/self/task/TID/comm, newline stripped. */
long mds_thread_name(uint32_t tid, char *buf, size_t cap);
/* TracerPid from /proc/self/status: >0 traced, 0 not, <0 unknown. */
long mds_tracer_pid(void);
/* pc and sp of a thread from /proc/self/task/TID/syscall (valid only while
 * it is blocked). Returns 0, or -1 if the thread is running / unreadable. */
int mds_thread_pc_sp(uint32_t tid, uint64_t *pc, uint64_t *sp);

/* Calls fn(tid, ctx) for each thread in /proc/self/task; stops early if fn
 * returns non-zero. Returns the number of threads seen or -errno. buf is
 * scratch for getdents64. */
long mds_for_each_thread(char *buf, size_t cap,
                         int (*fn)(uint32_t tid, void *ctx), void *ctx);

#endif
