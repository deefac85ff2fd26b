/*
 * procfs.h - /proc readers and reserved descriptors for the crash path.
 *
 * Context: async-signal-safe (openat/read/close syscalls into caller
 * buffers). Files of the process are opened relative to the /proc/PID
 * descriptor reserved at install (mds_g.fd.proc), so that neither a full
 * descriptor table nor an exited main thread (whose /proc/PID/cmdline is
 * empty) loses them; in a forked child, which inherited its parent's
 * descriptor, "/proc/self" is used instead. /proc may be missing (chroot,
 * early boot): every function then fails cleanly with a negative code.
 */
#ifndef MDS_PROCFS_H
#define MDS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* openat() that, on EMFILE/ENFILE, closes one of the spare descriptors
 * reserved at install and tries once more. Returns an fd or -errno. */
long mds_open_reserved(int dirfd, const char *path, int flags, int mode);

/* Opens rel (e.g. "task/123/comm") under this process's /proc directory.
 * Returns an fd or -errno. */
long mds_proc_open(const char *rel, int flags);
/* The same under /proc/<pid> (the ptrace helper, a task of its own, reads
 * its parent's files this way). */
long mds_proc_open_pid(uint32_t pid, const char *rel, int flags);
/* Reads up to cap-1 bytes of a /proc file of this process,
 * NUL-terminated. Returns the length or -errno. */
long mds_proc_read(const char *rel, char *buf, size_t cap);
/* readlink of rel under this process's /proc directory (not
 * NUL-terminated). Returns the length or -errno. */
long mds_proc_readlink(const char *rel, char *buf, size_t cap);
/* The same for any path (relative to dirfd). */
long mds_read_file_at(int dirfd, const char *path, char *buf, size_t cap);

/* "task/TID/leaf" into out. */
void mds_task_path(char *out, size_t cap, uint32_t tid, const char *leaf);

/* /proc/PID/task/TID/comm, newline stripped: of this process, or of pid
 * (the ptrace helper is a process of its own). Length or -errno. */
long mds_thread_name(uint32_t tid, char *buf, size_t cap);
long mds_thread_name_of(uint32_t pid, uint32_t tid, char *buf, size_t cap);
/* The calling thread's own name (prctl PR_GET_NAME: no /proc, 0.2 us). */
long mds_self_name(char *buf, size_t cap);

/* What task/TID/status says (-1: unknown). */
typedef struct mds_task_status {
    long tracer_pid;  /* TracerPid */
    long seccomp;     /* Seccomp: 0 off, 1 strict, 2 filter */
    uint64_t sig_blk; /* SigBlk, signals 1..64 as bits (sig - 1) */
    int has_sig_blk;
} mds_task_status;
/* task/TID/status of process pid. */
int mds_task_status_read(uint32_t pid, uint32_t tid, mds_task_status *st);

/* pc and sp of a thread from task/TID/syscall (valid only while it is
 * blocked), and the system call number (-1 when not in one). Returns 0,
 * or -1 if the thread is running / unreadable. */
int mds_thread_syscall(uint32_t tid, uint64_t *pc, uint64_t *sp, int64_t *nr);

#endif
