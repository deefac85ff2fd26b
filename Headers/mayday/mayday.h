/*
 * mayday.h - the public API of libmayday, an in-process crash reporter.
 *
 * Context: every function here is called from normal (non-signal) context
 * unless its comment says "async-signal-safe".
 *
 * ABI rules (never broken):
 *   - struct mayday_config starts with its own size; fields are only appended.
 *   - error codes are never renumbered; new ones get new numbers.
 *   - functions are never removed; symbols not declared here are hidden.
 *
 * Typical use:
 *
 *     mayday_config cfg;
 *     mayday_config_init(&cfg);
 *     cfg.report_dir = "/var/lib/myapp/crashes";
 *     cfg.app_id = "myapp";
 *     cfg.app_version = "1.2.3";
 *     int rc = mayday_install(&cfg);
 *     if (rc < 0) fprintf(stderr, "mayday: %s\n", mayday_strerror(rc));
 *
 * and at the next launch:
 *
 *     char **paths; size_t n;
 *     if (mayday_reports_list(dir, &paths, &n) == 0) {
 *         for (size_t i = 0; i < n; i++) { ...load, upload, purge... }
 *         mayday_reports_list_free(paths, n);
 *     }
 */
#ifndef MAYDAY_H
#define MAYDAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MAYDAY_EXPORT __attribute__((visibility("default")))
#else
#define MAYDAY_EXPORT
#endif

/* ---------------------------------------------------------------- version */

#define MAYDAY_VERSION_MAJOR 0
#define MAYDAY_VERSION_MINOR 1
#define MAYDAY_VERSION_PATCH 0
#define MAYDAY_VERSION_STRING "0.1.0"
/* 0xMMmmpp: compare with >= in preprocessor checks. */
#define MAYDAY_VERSION_HEX                                                     \
    ((MAYDAY_VERSION_MAJOR << 16) | (MAYDAY_VERSION_MINOR << 8) |              \
     MAYDAY_VERSION_PATCH)

/* The version of the library actually linked, e.g. "0.1.0". */
MAYDAY_EXPORT const char *mayday_version(void);

/* ---------------------------------------------------------------- errors */

/*
 * Every function that can fail returns 0 (or a count) on success and one of
 * these negative codes on failure. The numbers are part of the ABI.
 * XX(name, value, message)
 */
#define MAYDAY_ERRNO_MAP(XX)                                                   \
    XX(EINVAL, -1, "invalid argument")                                         \
    XX(ENOMEM, -2, "out of memory")                                            \
    XX(EIO, -3, "input/output error")                                          \
    XX(ENOENT, -4, "no such file or directory")                                \
    XX(EACCES, -5, "permission denied")                                        \
    XX(EALREADY, -6, "mayday is already installed")                            \
    XX(ENOTINSTALLED, -7, "mayday is not installed")                           \
    XX(ENOTSUP, -8, "operation not supported")                                 \
    XX(ECORRUPT, -9, "report is corrupt or truncated")                         \
    XX(EVERSION, -10, "unsupported report format version")                     \
    XX(EFOREIGN, -11, "not a mayday report")                                   \
    XX(ENOSPC, -12, "no space left on device")                                 \
    XX(ETOOBIG, -13, "size limit reached")                                     \
    XX(EFAULT, -14, "bad address")                                             \
    XX(ETIMEDOUT, -15, "timed out")                                            \
    XX(ENOTDIR, -16, "not a directory")                                        \
    XX(EISDIR, -17, "is a directory")                                          \
    XX(ESYS, -18, "system call failed")                                        \
    XX(EBUSY, -19, "resource busy")                                            \
    XX(ENOTFOUND, -20, "not found")

typedef enum mayday_errno {
#define MAYDAY__ERR_ENUM(name, value, msg) MAYDAY_##name = (value),
    MAYDAY_ERRNO_MAP(MAYDAY__ERR_ENUM)
#undef MAYDAY__ERR_ENUM
    MAYDAY_OK = 0
} mayday_errno;

/* A static English message for a code; "unknown error" for unknown codes.
 * async-signal-safe. */
MAYDAY_EXPORT const char *mayday_strerror(int err);
/* The code's name without prefix, e.g. "EINVAL". async-signal-safe. */
MAYDAY_EXPORT const char *mayday_err_name(int err);

/* ---------------------------------------------------------------- config */

typedef enum mayday_handler_mode {
    /* Exception thread; direct signal fallback under a debugger or when the
     * exception thread cannot answer. The default. */
    MAYDAY_HANDLER_AUTO = 0,
    /* Always hand off to the exception thread (fallback only if it fails). */
    MAYDAY_HANDLER_THREAD = 1,
    /* Always write the report from the signal handler on the altstack. */
    MAYDAY_HANDLER_SIGNAL = 2
} mayday_handler_mode;

/* How the other threads are stopped while a report is written
 * (mayday_config.stop_method; docs/thread-control.md). */
typedef enum mayday_stop_method {
    /* ptrace from a helper task; the reserved real-time signal when ptrace
     * cannot be used (crash reports only); else nothing. The default. */
    MAYDAY_STOP_AUTO = 0,
    /* ptrace only; threads are not stopped when it cannot be used. */
    MAYDAY_STOP_PTRACE = 1,
    /* The reserved real-time signal only (crash reports only: a handler
     * makes pause, nanosleep, epoll_wait... return EINTR). */
    MAYDAY_STOP_SIGNAL = 2,
    /* Never stop them: pc/sp of blocked threads from /proc only. */
    MAYDAY_STOP_NONE = 3
} mayday_stop_method;

/* Flags for mayday_config.flags. */
enum {
    /* Do not interpose pthread_create (no automatic altstack for new
     * threads; call mayday_thread_prepare() in each thread yourself). */
    MAYDAY_FLAG_NO_THREAD_HOOK = 1u << 0,
    /* Call the previously installed handler first; if it returns (handled
     * the fault, e.g. a runtime using SIGSEGV on purpose) write no report. */
    MAYDAY_FLAG_CHAIN_FIRST = 1u << 1,
    /* Do not fsync the report before renaming it into place. */
    MAYDAY_FLAG_NO_FSYNC = 1u << 2,
    /* Do not give threads that exist at install time an altstack. */
    MAYDAY_FLAG_NO_EXISTING_THREADS = 1u << 3,
    /* Let pthread_sigmask()/sigprocmask() block the fault signals (a
     * thread that blocks SIGSEGV and faults dies without a report; by
     * default mayday keeps them unblocked, docs/fault-path.md). */
    MAYDAY_FLAG_NO_SIGMASK_HOOK = 1u << 4
};

/* --- issue 11: report contents --- */
/* mayday_config.capture_flags: what to leave out (docs/report-format.md). */
enum {
    MAYDAY_CAPTURE_NO_FP = 1u << 0,   /* FP/SIMD registers */
    MAYDAY_CAPTURE_NO_MAPS = 1u << 1, /* the memory map (/proc/PID/maps) */
    /* /proc/PID/task/TID/{stat,syscall} of threads that were not stopped */
    MAYDAY_CAPTURE_NO_PROC_STATE = 1u << 2
};
/* Defaults of the issue 11 config fields. */
#define MAYDAY_DEFAULT_STACK_BYTES 1024u
#define MAYDAY_DEFAULT_CRASHED_STACK_BYTES 8192u
#define MAYDAY_DEFAULT_STACK_BUDGET_BYTES (256u * 1024u)
#define MAYDAY_DEFAULT_POINTER_WINDOW_BYTES 256u
#define MAYDAY_DEFAULT_ATTACH_MAX_BYTES (64u * 1024u)

/*
 * Called on the crash path after the report was written (or failed to be).
 * Runs in the crashed thread's signal handler or on the exception thread:
 * it MUST be async-signal-safe (no malloc, no stdio, no locks).
 * report_path is the final path, or NULL when no report could be written.
 */
typedef void (*mayday_crash_cb)(int signo, const char *report_path,
                                void *user_data);

/* --- issue 12: the hang watchdog's actions and events --- */
typedef enum mayday_hang_action {
    /* Write a report of the live process (marked as a hang, the silent
     * thread first) and keep running; the thread's recovery is recorded
     * (a breadcrumb and a MAYDAY_HANG_EVENT_RECOVERED event). */
    MAYDAY_HANG_CONTINUE = 0,
    /* Write the report, then end the process with mayday_config.hang_signal
     * (sent to the silent thread, mayday's handler for it removed first so
     * that no second report is written). */
    MAYDAY_HANG_END = 1
} mayday_hang_action;

typedef enum mayday_hang_event_kind {
    MAYDAY_HANG_EVENT_HANG = 1,      /* a deadline was missed (after the report) */
    MAYDAY_HANG_EVENT_RECOVERED = 2  /* the silent thread beat again */
} mayday_hang_event_kind;

typedef struct mayday_hang_event {
    uint32_t size;           /* sizeof(mayday_hang_event) as mayday has it */
    uint32_t kind;           /* a mayday_hang_event_kind */
    int watch;               /* the id mayday_heartbeat_start() returned */
    const char *name;        /* its name */
    uint32_t tid;            /* the watched thread */
    uint64_t silent_ms;      /* silent so far (HANG) or in all (RECOVERED) */
    const char *report_path; /* HANG: the report, NULL if none was written */
} mayday_hang_event;

/* Called on mayday's watchdog thread (normal context: it may use libc,
 * but must not block for long: no other hang is noticed meanwhile). For
 * MAYDAY_HANG_END it runs before the signal is sent. */
typedef void (*mayday_hang_cb)(const mayday_hang_event *event,
                               void *user_data);

typedef struct mayday_config {
    /* sizeof(mayday_config) as the caller was compiled; set by
     * mayday_config_init(). Lets the struct grow without breaking ABI. */
    uint32_t size;
    /* Directory for reports; created 0700 if missing. Required. */
    const char *report_dir;
    /* Free-form identifiers copied into every report. Optional. */
    const char *app_id;
    const char *app_version;
    /* A mayday_handler_mode. Default MAYDAY_HANDLER_AUTO. */
    uint32_t handler_mode;
    /* Reports kept in report_dir; the oldest beyond this are deleted at
     * install. 1..10000, default 16. */
    uint32_t max_reports;
    /* Cap on a report's size in bytes. 4096..256 MiB: that hard cap.
     * 0 (the default): automatic, so that every thread of a process with
     * many fits: 1 MiB, or when the threads listed at the crash need
     * more, 256 KiB + 2 KiB per thread + the stack memory asked for
     * (stack_bytes per thread up to stack_budget_bytes, plus
     * crashed_stack_bytes), at most 256 MiB (docs/fault-path.md). */
    uint32_t max_report_bytes;
    /* MAYDAY_FLAG_* bits. Default 0. */
    uint32_t flags;
    /* Optional async-signal-safe callback, see mayday_crash_cb. */
    mayday_crash_cb on_crash;
    void *on_crash_data;
    /* How long a crashed thread waits for the exception thread, in ms.
     * 100..600000, default 5000. After it, the signal fallback runs. */
    uint32_t reply_timeout_ms;
    /* Total budget to suspend the other threads, in ms. 1..10000,
     * default 200. Counted from the ptrace helper's start, without the
     * time the machine held it off the CPU (at most 1 s more,
     * docs/thread-control.md). */
    uint32_t suspend_timeout_ms;
    /* Frames kept per thread. 1..4096, default 512. A deeper stack keeps
     * its innermost and its outermost max_frames / 4 frames, and the
     * report counts the ones between (docs/fault-path.md, limits). */
    uint32_t max_frames;
    /* Threads recorded in a report. 1..100000, default 4096. */
    uint32_t max_threads;
    /* --- issue 9: thread control (0.2) --- */
    /* A mayday_stop_method. Default MAYDAY_STOP_AUTO. */
    uint32_t stop_method;
    /* --- issue 12: fatal errors and hangs --- */
    /* The signal mayday_fatal() ends the process with, after its report:
     * one of the crash signals (SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE,
     * SIGTRAP, SIGSYS). 0 (the default) means SIGABRT. */
    int32_t fatal_signal;
    /* What the watchdog does when a watched thread misses its heartbeat
     * deadline (mayday_heartbeat_start): a mayday_hang_action. Default
     * MAYDAY_HANG_CONTINUE. */
    uint32_t hang_action;
    /* The signal MAYDAY_HANG_END ends the process with; any signal whose
     * default action ends a process. 0 (the default) means SIGABRT. */
    int32_t hang_signal;
    /* Optional, see mayday_hang_cb. */
    mayday_hang_cb on_hang;
    void *on_hang_data;

    /* --- issue 11: report contents (defaults MAYDAY_DEFAULT_*) --- */
    /* Stack memory per thread other than the crashed one: bytes from its
     * stack pointer (minus the red zone) upwards. 0: none. 0..16 MiB. */
    uint32_t stack_bytes;
    /* The same for the crashed thread (and the live-report caller). */
    uint32_t crashed_stack_bytes;
    /* All threads' stack memory per report, the crashed thread's first,
     * then in report order until spent (flagged). 0..256 MiB. */
    uint32_t stack_budget_bytes;
    /* Memory kept around each register of the crashed thread that points
     * into readable memory, and around the fault address. 0..4096. */
    uint32_t pointer_window_bytes;
    uint32_t capture_flags; /* MAYDAY_CAPTURE_* bits, default 0 */
    /* Files attached to every report: NULL-terminated paths opened by
     * mayday_install() (which fails if one cannot be opened); the last
     * attach_max_bytes (1..16 MiB) of each are copied at crash time. */
    const char *const *attach_files;
    uint32_t attach_max_bytes;
} mayday_config;

/* Fills cfg with defaults (and cfg->size). Always call it first. */
MAYDAY_EXPORT void mayday_config_init(mayday_config *cfg);

/* ---------------------------------------------------------------- install */

/*
 * Installs the crash handler. Validates cfg (MAYDAY_EINVAL for nonsense),
 * creates the report directory, prunes old reports, preallocates all crash
 * time memory, starts the exception thread and installs the signal handlers.
 * Returns MAYDAY_EALREADY if already installed.
 */
MAYDAY_EXPORT int mayday_install(const mayday_config *cfg);

/* Restores the previous signal handlers exactly and releases resources.
 * MAYDAY_ENOTINSTALLED if not installed. */
MAYDAY_EXPORT int mayday_uninstall(void);

/* Gives the calling thread an alternate signal stack so that its stack
 * overflow can be reported. Threads made by pthread_create get one
 * automatically (unless MAYDAY_FLAG_NO_THREAD_HOOK); call this in threads
 * made otherwise (raw clone, created before mayday was dlopen'ed). Idempotent. */
MAYDAY_EXPORT int mayday_thread_prepare(void);

/* Sets (or, with value NULL, removes) an annotation copied into every report.
 * Keys up to 63 bytes, values up to 255 bytes (longer ones are cut, and
 * the report says so), at most 64 keys (MAYDAY_ETOOBIG beyond).
 * Thread-safe; lock-free so that a crash in the middle never deadlocks the
 * reporter. */
MAYDAY_EXPORT int mayday_annotate(const char *key, const char *value);

/* Appends a message (up to 127 bytes; longer ones are cut, and the report
 * says so) to a ring of the 32 most recent breadcrumbs, with a timestamp.
 * Thread-safe and async-signal-safe. */
MAYDAY_EXPORT int mayday_breadcrumb(const char *message);

/* Writes a report of the running process (all threads, no crash), marked
 * live, with the given reason. Returns 0 and the process keeps running;
 * MAYDAY_EBUSY while a crash is being reported or a crashed thread waits
 * to report (the crash comes first). */
MAYDAY_EXPORT int mayday_write_live_report(const char *reason);

/* ------------------------------ issue 12: failures that are not a signal */

#if defined(__GNUC__)
#define MAYDAY_NORETURN __attribute__((noreturn))
#define MAYDAY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MAYDAY_NORETURN
#define MAYDAY_PRINTF(f, a)
#endif

/*
 * Ends the process because of an error the application declares: writes
 * message (up to 1023 bytes) to stderr, then raises mayday_config.
 * fatal_signal (SIGABRT by default) on the calling thread, so that the crash
 * path writes a report with the message (Failure.kind FAILURE_FATAL) and
 * this thread's stack, and the process then ends with that signal exactly
 * as abort() would end it (a previous handler runs; if it returns, the
 * default action is forced). Without mayday installed: the message, then
 * the signal. Never returns. async-signal-safe.
 */
MAYDAY_EXPORT MAYDAY_NORETURN void mayday_fatal(const char *message);
/* mayday_fatal() with a printf-style message, formatted here (normal
 * context, before anything of the crash path runs) into a 1024-byte buffer
 * on the caller's stack. */
MAYDAY_EXPORT MAYDAY_NORETURN MAYDAY_PRINTF(1, 2) void
mayday_fatalf(const char *format, ...);

/* Why std::terminate was called (CxxException.reason in the report). */
typedef enum mayday_terminate_reason {
    MAYDAY_TERMINATE_UNKNOWN = 0,
    MAYDAY_TERMINATE_UNCAUGHT = 1,
    MAYDAY_TERMINATE_UNCAUGHT_RETHROW = 2,
    MAYDAY_TERMINATE_NOEXCEPT = 3,
    MAYDAY_TERMINATE_DURING_UNWINDING = 4,
    MAYDAY_TERMINATE_RETHROW_NO_EXCEPTION = 5,
    MAYDAY_TERMINATE_PURE_VIRTUAL = 6,
    MAYDAY_TERMINATE_CALLED = 7
} mayday_terminate_reason;

typedef struct mayday_exception_info {
    uint32_t size;        /* sizeof(mayday_exception_info) */
    const char *type;     /* type name (mangled for C++), NULL if none */
    const char *message;  /* e.g. what(), NULL if none */
    uint32_t reason;      /* a mayday_terminate_reason */
    int std_exception;    /* 1: derives from std::exception */
    uint64_t throw_pc;    /* return address into the thrower, 0 if unknown */
} mayday_exception_info;

/*
 * Records an exception that is about to end the process through abort()
 * on the calling thread: the report of that SIGABRT carries it
 * (Failure.kind FAILURE_CXX_TERMINATE). Strings are copied (type up to 255,
 * message up to 1023 bytes). libmayday-cxx's terminate handler calls it;
 * other language runtimes may too. async-signal-safe, lock-free.
 * MAYDAY_EBUSY if another thread's record is pending.
 */
MAYDAY_EXPORT int mayday_record_exception(const mayday_exception_info *info);

/*
 * C++ programs only, defined in the separate library libmayday-cxx
 * (CMake mayday::mayday_cxx, pkg-config mayday-cxx): installs a
 * std::terminate handler that records the exception (type, what(), why
 * terminate was called, where it was thrown) and then calls the handler
 * that was installed before it (libstdc++'s default prints the exception
 * and calls abort(), which writes the report). Call it after
 * mayday_install(); idempotent. mayday_cxx_uninstall() puts the previous
 * handler back if ours is still the current one.
 */
MAYDAY_EXPORT int mayday_cxx_install(void);
MAYDAY_EXPORT int mayday_cxx_uninstall(void);

/*
 * The hang watchdog. mayday_heartbeat_start() starts watching the calling
 * thread (name: up to 31 bytes, shown in reports): from then on it must
 * call mayday_heartbeat(watch) at least every deadline_ms (10..3600000),
 * or mayday_config.hang_action happens. Returns the watch id (>= 0), or
 * MAYDAY_ENOTINSTALLED, MAYDAY_EINVAL, MAYDAY_ETOOBIG (64 watches at most).
 * The watchdog thread ("mayday-watch") is started by the first call and
 * sleeps until the earliest deadline: beats never wake it.
 */
MAYDAY_EXPORT int mayday_heartbeat_start(const char *name,
                                         uint32_t deadline_ms);
/* One heartbeat: a clock read and a store. async-signal-safe, lock-free.
 * MAYDAY_EINVAL for an id that is not being watched. */
MAYDAY_EXPORT int mayday_heartbeat(int watch);
/* Stops watching (e.g. before the thread waits for work with no deadline,
 * or exits). MAYDAY_EINVAL for an id that is not being watched. */
MAYDAY_EXPORT int mayday_heartbeat_stop(int watch);

/* ------------------------------- attachments (issue 11: report contents) */

/*
 * Attaches a file to every report from now on: it is opened now
 * (read-only, so a later rename or delete does not matter) and at crash
 * time its last max_bytes (1..16 MiB) are copied into the report, with no
 * path lookup and no allocation. Regular files only. Returns an id (>= 0)
 * for mayday_detach(), MAYDAY_ETOOBIG when 16 attachments exist, or an
 * error (MAYDAY_ENOENT, MAYDAY_EACCES, MAYDAY_EINVAL, ...). May be called
 * before or after mayday_install(); stays registered until detached.
 */
MAYDAY_EXPORT int mayday_attach_file(const char *path, uint32_t max_bytes);

/*
 * Attaches an application buffer: at crash time its `size` bytes
 * (1..16 MiB) at `data` are copied into the report (a safe read: memory
 * that is unmapped by then is reported as unreadable, never faulted on).
 * The buffer must stay valid until mayday_detach(), or its contents will
 * be whatever is mapped there. Returns an id (>= 0) or an error, like
 * mayday_attach_file().
 */
MAYDAY_EXPORT int mayday_attach_memory(const char *name, const void *data,
                                       size_t size);

/* Removes an attachment (and closes its file). MAYDAY_EINVAL for an
 * unknown id, MAYDAY_EBUSY while a report is being written. */
MAYDAY_EXPORT int mayday_detach(int id);

/* ---------------------------------------------------------------- reader */

/* An opaque, loaded and validated report. */
typedef struct mayday_report mayday_report;

typedef enum mayday_format {
    MAYDAY_FORMAT_TEXT = 0,
    MAYDAY_FORMAT_JSON = 1
} mayday_format;

/*
 * Lists the complete reports ("*.mayday") in dir, oldest first. Temporary
 * and foreign files are ignored. *paths is a malloc'ed array of malloc'ed
 * absolute-or-dir-relative paths; free with mayday_reports_list_free().
 * Returns 0, or a negative code (MAYDAY_ENOENT, MAYDAY_ENOTDIR, ...).
 */
MAYDAY_EXPORT int mayday_reports_list(const char *dir, char ***paths,
                                      size_t *count);
MAYDAY_EXPORT void mayday_reports_list_free(char **paths, size_t count);

/* Loads and validates the report at path. Corrupt, truncated or foreign
 * files give MAYDAY_ECORRUPT / MAYDAY_EFOREIGN / MAYDAY_EVERSION and are
 * never modified or deleted. */
MAYDAY_EXPORT int mayday_report_load(const char *path, mayday_report **out);
/* The same for a report already in memory (e.g. received by a server). */
MAYDAY_EXPORT int mayday_report_parse(const void *data, size_t len,
                                      mayday_report **out);
MAYDAY_EXPORT void mayday_report_free(mayday_report *report);

/* Writes report as text or JSON to out. */
MAYDAY_EXPORT int mayday_report_format(const mayday_report *report,
                                       mayday_format format, FILE *out);

/* Deletes the report file at path (only if it is a mayday report file). */
MAYDAY_EXPORT int mayday_report_purge(const char *path);

/* A summary of a loaded report. Pointers stay valid until
 * mayday_report_free(). Starts with its own size, like mayday_config. */
typedef struct mayday_report_info {
    uint32_t size;         /* set by the caller: sizeof(mayday_report_info) */
    const char *uuid;      /* "xxxxxxxx-xxxx-..." */
    int64_t time_unix_ns;  /* when the report was written */
    int live;              /* 1 for mayday_write_live_report() reports */
    int complete;          /* 0 if anything was left out */
    int signo;             /* 0 for live reports */
    const char *signal_name;
    const char *cause;     /* e.g. "null dereference", or "" */
    uint64_t fault_address;
    const char *app_id;
    const char *app_version;
    uint32_t pid;
    const char *process_name;
    uint32_t thread_count;
    uint32_t image_count;
    int32_t crashed_thread; /* index into threads, -1 if none */
} mayday_report_info;

MAYDAY_EXPORT int mayday_report_get_info(const mayday_report *report,
                                         mayday_report_info *info);

#if defined(__GNUC__)
#define MAYDAY_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define MAYDAY_DEPRECATED(msg)
#endif

/*
 * DEPRECATED (issue 14): the decoded protobuf-c message behind a loaded
 * report (`Mayday__Report` of a mayday.pb-c.h generated from
 * Protobuf/mayday.proto). That generated header is not installed, and the
 * struct's layout changes whenever the schema grows, so a caller compiled
 * against one version would misread another. Kept (functions are never
 * removed) and still working; use the accessors below
 * (mayday_report_get_image/_thread/_frame), or mayday_report_encoded()
 * with the installed share/mayday/mayday.proto and any protobuf library.
 */
struct Mayday__Report;
MAYDAY_EXPORT MAYDAY_DEPRECATED("use mayday_report_get_image/_thread/_frame "
                                "or mayday_report_encoded")
const struct Mayday__Report *mayday_report_message(const mayday_report *report);

/* ------------------------------------- reader accessors (issue 14) */

/*
 * Each fills only out->size bytes (set it to sizeof(*out)), like
 * mayday_report_get_info(); strings are never NULL ("" when absent) and
 * stay valid until mayday_report_free(). 0, or MAYDAY_EINVAL for a bad
 * argument or an index out of range.
 */
typedef struct mayday_image_info {
    uint32_t size;         /* set by the caller: sizeof(mayday_image_info) */
    const char *path;      /* as recorded, "" if none */
    const char *name;      /* the name shown: basename, "[vdso]" or "???" */
    uint64_t base;         /* lowest mapped address */
    uint64_t bytes;        /* mapped size */
    uint64_t load_bias;    /* pc - load_bias is the ELF address */
    const uint8_t *build_id; /* NULL if none recorded */
    size_t build_id_len;
    int main_program;
    int vdso;
} mayday_image_info;
MAYDAY_EXPORT int mayday_report_get_image(const mayday_report *report,
                                          uint32_t index,
                                          mayday_image_info *out);

typedef struct mayday_thread_info {
    uint32_t size;       /* set by the caller: sizeof(mayday_thread_info) */
    uint32_t tid;        /* 0 if unknown */
    const char *name;
    int crashed;
    const char *state;   /* "suspended", "crashed", ... (the JSON's) */
    uint32_t frame_count;
} mayday_thread_info;
MAYDAY_EXPORT int mayday_report_get_thread(const mayday_report *report,
                                           uint32_t index,
                                           mayday_thread_info *out);

typedef struct mayday_frame_info {
    uint32_t size;     /* set by the caller: sizeof(mayday_frame_info) */
    uint64_t pc, sp;
    const char *trust; /* "context", "cfi", ... (the JSON's) */
    int32_t image;     /* index into the images, -1 if none */
    int context;       /* 1: pc is the faulting instruction itself */
} mayday_frame_info;
MAYDAY_EXPORT int mayday_report_get_frame(const mayday_report *report,
                                          uint32_t thread, uint32_t frame,
                                          mayday_frame_info *out);

/* The report as one protobuf message (mayday.Report, the schema installed
 * as share/mayday/mayday.proto), for readers that want every field with a
 * protobuf library of their own. *data stays valid until
 * mayday_report_free(). 0, MAYDAY_EINVAL or MAYDAY_ENOMEM. */
MAYDAY_EXPORT int mayday_report_encoded(const mayday_report *report,
                                        const void **data, size_t *len);

/* ------------------------------------------------------ the last crash */

/*
 * Even when no report could be written (full disk, unwritable directory,
 * the process killed while writing), the next launch can tell that a run
 * crashed: at crash time mayday updates a small marker file in the report
 * directory ("last-crash.marker", created at install). It holds the last
 * crash of any process that uses the directory, until cleared.
 */
typedef enum mayday_last_crash_state {
    MAYDAY_LAST_CRASH_NONE = 0,        /* no crash recorded */
    MAYDAY_LAST_CRASH_IN_PROGRESS = 1, /* died while writing its report */
    MAYDAY_LAST_CRASH_WRITTEN = 2,     /* its report is report_name */
    MAYDAY_LAST_CRASH_FAILED = 3       /* no report: result, reason */
} mayday_last_crash_state;

typedef struct mayday_last_crash {
    uint32_t size;          /* set by the caller: sizeof(mayday_last_crash) */
    int state;              /* a mayday_last_crash_state */
    uint32_t pid;
    int signo;
    int code;               /* si_code */
    uint64_t fault_address;
    int64_t time_unix_ns;
    int result;             /* 0, or the MAYDAY_E* code of the failure */
    char report_name[208];  /* file name in the directory, "" if none */
    char reason[256];       /* English text, "" if none */
} mayday_last_crash;

/* Reads dir's marker. Returns 1 and fills info when a crash is recorded,
 * 0 when none is, or a negative code (MAYDAY_ENOENT: no marker). */
MAYDAY_EXPORT int mayday_last_crash_read(const char *dir,
                                         mayday_last_crash *info);
/* Forgets the recorded crash (the marker stays, zeroed). */
MAYDAY_EXPORT int mayday_last_crash_clear(const char *dir);

/* ------------------------------------------------ formatting with symbols */

/* One function at a frame's address, as found by a symbolicator. */
typedef struct mayday_symbol {
    uint32_t size;        /* sizeof(mayday_symbol), set by the formatter */
    const char *function; /* demangled if possible; NULL if unknown */
    uint64_t offset;      /* pc - start of `symbol` if set, else of
                             function (valid if function) */
    const char *file;     /* source file, NULL if unknown */
    uint32_t line;        /* 0 if unknown */
    uint32_t column;      /* 0 if unknown */
    int inlined;          /* 1: inlined into the next entry */
    /* --- issue 14: decoder --- */
    /* The ELF symbol `offset` is counted from, as `eu-addr2line -S` names
     * it (e.g. "parse.cold" for the cold part of parse()); NULL if not
     * known. Only on the last (not inlined) entry. */
    const char *symbol;
    /* 1: `symbol` starts where `function` does (so offset is also the
     * offset into function); 0 for split parts such as ".cold". */
    int symbol_at_function;
} mayday_symbol;

/*
 * A symbolicator callback: fills out[0..max) for the frame at pc in image
 * `image` (an index into the report's images) and returns how many entries
 * it filled: innermost first (inlined functions, marked inlined, with the
 * file:line inside them), the real function last. 0: nothing known.
 * `context_frame` is 1 when pc came from a register context (the faulting
 * instruction itself) and 0 for return addresses, whose line is looked up
 * at pc - 1. Strings must stay valid until the next call of the callback
 * (the formatter copies nothing; it prints each frame before the next call).
 */
typedef int (*mayday_symbolize_fn)(void *user_data,
                                   const mayday_report *report,
                                   uint32_t image, uint64_t pc,
                                   int context_frame, mayday_symbol *out,
                                   size_t max);
/* Returns a short note on an image's symbols (e.g. "no file with this
 * build-id found"), or NULL when there is nothing to say. */
typedef const char *(*mayday_image_note_fn)(void *user_data,
                                            const mayday_report *report,
                                            uint32_t image);

/* --- issue 14: decoder --- */
/* How an image was symbolicated, as a symbolicator reports it. */
typedef struct mayday_image_symbols {
    uint32_t size; /* sizeof(mayday_image_symbols), set by the formatter */
    /* "ok" (symbols and file:line), "no_debug_info" (symbols only),
     * "missing" (no file with the build-id), "build_id_mismatch" (the file
     * at the path is another build), "no_build_id", "unverified" (neither
     * report nor file has a build-id), "vdso", "error". */
    const char *status;
    const char *file;     /* the ELF file read, NULL if none */
    const char *found_by; /* "path", "symbols_dir", "debug_dir",
                             "debuginfod"; NULL if none */
    const char *debug_file;     /* separate debug info, NULL if none */
    const char *debug_found_by; /* "symbols_dir", "debug_dir", "debuglink",
                                   "debuginfod", "in_file"; NULL if none */
} mayday_image_symbols;
/* Fills *out for image `image`; 0, or negative when nothing is known. */
typedef int (*mayday_image_symbols_fn)(void *user_data,
                                       const mayday_report *report,
                                       uint32_t image,
                                       mayday_image_symbols *out);

/* Flags for mayday_format_options.flags. */
enum {
    /* --- issue 14: decoder --- */
    /* JSON on a single line (no newlines, no indentation), e.g. one report
     * per line of a JSON Lines stream. No effect on text. */
    MAYDAY_FORMAT_COMPACT = 1u << 0,
    /* Only the crashed thread (or thread 0 when none crashed). */
    MAYDAY_FORMAT_BRIEF = 1u << 1,
    /* Source lines around the crashed thread's first frame that has a
     * file:line, when that file can be read (text and JSON). */
    MAYDAY_FORMAT_SOURCE = 1u << 2
};

/* --- issue 11: text with every stack dumped and attachments whole (not
 * the crashed thread's stack around sp and attachment tails only). */
enum { MAYDAY_FORMAT_FULL_MEMORY = 1u << 8 };

typedef struct mayday_format_options {
    uint32_t size;                   /* set by mayday_format_options_init */
    uint32_t flags;                  /* MAYDAY_FORMAT_* bits, default 0 */
    mayday_symbolize_fn symbolize;   /* NULL: no symbols */
    mayday_image_note_fn image_note; /* NULL: no notes */
    void *user_data;                 /* passed to the callbacks */
    /* --- issue 14: decoder --- */
    mayday_image_symbols_fn image_symbols; /* NULL: no per-image status */
    /* A crash signature computed by the caller (e.g. the CLI's), printed
     * as given: an identifier and the normalised frames; NULL: none. */
    const char *signature_id;
    const char *signature;
} mayday_format_options;

MAYDAY_EXPORT void mayday_format_options_init(mayday_format_options *opt);
/* mayday_report_format() with options (opt may be NULL). */
MAYDAY_EXPORT int mayday_report_format_ex(const mayday_report *report,
                                          mayday_format format,
                                          const mayday_format_options *opt,
                                          FILE *out);


/* ------------------------------- export: minidump, Sentry (issue 13) */

/*
 * A loaded report in another format, for the crash-ingestion servers that
 * exist already (docs/integrations.md):
 *   MAYDAY_EXPORT_MINIDUMP         a minidump (MDMP) file, the format of
 *                                  Breakpad/Crashpad (docs/minidump.md)
 *   MAYDAY_EXPORT_SENTRY_ENVELOPE  a Sentry envelope with a native event
 *   MAYDAY_EXPORT_SENTRY_EVENT     the event JSON alone
 */
typedef enum mayday_export_format {
    MAYDAY_EXPORT_MINIDUMP = 1,
    MAYDAY_EXPORT_SENTRY_ENVELOPE = 2,
    MAYDAY_EXPORT_SENTRY_EVENT = 3
} mayday_export_format;

/* Flags for mayday_export_options.flags. */
enum {
    /* Sentry envelope: attach the minidump (event.minidump) and send the
     * event without the walked threads; the server walks the minidump. */
    MAYDAY_EXPORT_SENTRY_MINIDUMP = 1u << 0,
    /* Sentry envelope: attach the .mayday file at report_path
     * (event.attachment, "report.mayday"). */
    MAYDAY_EXPORT_ATTACH_REPORT = 1u << 1
};

typedef struct mayday_export_options {
    uint32_t size;  /* set by mayday_export_options_init */
    uint32_t flags; /* MAYDAY_EXPORT_* bits */
    /* Sentry release; NULL: annotation "release", else "app_id@version". */
    const char *release;
    /* Sentry environment; NULL: annotation "environment", else none. */
    const char *environment;
    /* Extra Sentry tags as "key=value" strings, NULL-terminated; may be
     * NULL. Annotations named "tag.KEY" become tags too. */
    const char *const *tags;
    /* Written into the envelope header when not NULL. */
    const char *dsn;
    /* 16 bytes identifying this installation (Crashpad client_id, Sentry
     * user id); NULL: none. */
    const uint8_t *client_id;
    /* Function names for Sentry frames (e.g. the CLI's DWARF lookup);
     * NULL: instruction addresses only (the server symbolicates). */
    mayday_symbolize_fn symbolize;
    void *user_data;
    /* The report's file, for MAYDAY_EXPORT_ATTACH_REPORT. */
    const char *report_path;
} mayday_export_options;

MAYDAY_EXPORT void mayday_export_options_init(mayday_export_options *opt);
/* Exports report into a malloc'ed buffer (*data, *len; release with
 * free()). opt may be NULL. MAYDAY_ENOTSUP: the report's architecture has
 * no minidump context here (only x86_64 today). */
MAYDAY_EXPORT int mayday_report_export(const mayday_report *report,
                                       int format,
                                       const mayday_export_options *opt,
                                       void **data, size_t *len);
/* The same, written to path (a temporary file renamed into place, 0600). */
MAYDAY_EXPORT int mayday_report_export_file(const mayday_report *report,
                                            int format,
                                            const mayday_export_options *opt,
                                            const char *path);

/* ------------------------------- report memory (issue 11: report contents) */

/* Copies len bytes at process address `address`, as recorded in the report
 * (threads' stack memory and the memory near pointers), into out.
 * MAYDAY_ENOTFOUND if any of those bytes is not in the report. */
MAYDAY_EXPORT int mayday_report_read_memory(const mayday_report *report,
                                            uint64_t address, void *out,
                                            size_t len);
/* Thread `thread`'s stack memory: its start address and bytes (valid until
 * mayday_report_free()). MAYDAY_ENOTFOUND if the report has none for it,
 * MAYDAY_EINVAL for a bad index. */
MAYDAY_EXPORT int mayday_report_stack(const mayday_report *report,
                                      uint32_t thread, uint64_t *address,
                                      const uint8_t **data, size_t *size);

#ifdef __cplusplus
}
#endif
#endif /* MAYDAY_H */
