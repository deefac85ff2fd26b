/*
 * reader.h - internals of the next-launch reader (Source/normal/reader/):
 * the loaded report, enum/signal name tables, and the formatters' shared
 * helpers (symbol lookup through the caller's callback, time, UUID, escaping).
 *
 * Context: normal (malloc, stdio). Never called on the crash path.
 */
#ifndef MD_READER_H
#define MD_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mayday.pb-c.h"
#include "mayday/mayday.h"

/* Largest file the loader accepts: the config's maximum report size plus
 * the framing header. Anything bigger was not written by mayday. */
#define MD_READER_MAX_FILE ((size_t)(256u << 20) + 16u)

/* ---- pbarena.c: protobuf-c unpacks a report into a few large chunks */
typedef struct md_pb_arena {
    struct md_chunk *head;
    size_t next_size;
    ProtobufCAllocator allocator; /* pass &allocator to unpack */
} md_pb_arena;
/* first: size of the first chunk (e.g. a few times the message size). */
void md_pb_arena_init(md_pb_arena *a, size_t first);
/* Frees everything allocated from a (the unpacked message included). */
void md_pb_arena_release(md_pb_arena *a);

struct mayday_report {
    Mayday__Report *pb;      /* owned: allocated in `arena` */
    md_pb_arena arena;
    char uuid[40];           /* formatted header.uuid, "" if absent */
    const char *signal_name; /* recorded or derived; "" if none */
    char signame[16];        /* storage for a derived "SIGRTn" */
    /* --- issue 14: mayday_report_encoded()'s copy, made on demand */
    uint8_t *encoded;
    size_t encoded_len;
};

/* The decoded message (the in-tree replacement of the deprecated
 * mayday_report_message()). */
static inline const Mayday__Report *md_report_pb(const mayday_report *r)
{
    return r->pb;
}

/* ---- names.c: enum values and signal numbers as strings */
/* "SIGSEGV", "SIGRTMIN+3"...; NULL for numbers that are no signal. */
const char *md_signal_name(uint32_t signo, char *buf, size_t n);
/* "SEGV_MAPERR", "SI_USER"...; NULL if unknown. */
const char *md_signal_code_name(uint32_t signo, int32_t code);
/* Stable identifier for JSON ("null_dereference"); NULL for unknown. */
const char *md_cause_id(int cause);
/* Words for people ("null dereference"); NULL for unknown. */
const char *md_cause_text(int cause);
const char *md_trust_name(int trust); /* "cfi"...; "unknown" */
const char *md_state_name(int state); /* "suspended"...; "unknown" */
const char *md_handler_name(int h);   /* "exception_thread"...; "unknown" */
const char *md_stop_method_name(int m);  /* "ptrace"...; "unknown" */
const char *md_stop_failure_name(int f); /* "traced"...; "unknown" */

/* ---- format.c: shared by text.c and json.c */
/* Writes "2026-11-22T00:21:25.123456789Z" (UTC); a raw number when the
 * time is out of range. */
void md_format_time(int64_t ns, char *buf, size_t n);
/* Lowercase hex of bytes; truncated to fit n (always terminated). */
void md_format_hex(const uint8_t *p, size_t len, char *buf, size_t n);
/* The name shown for an image: basename of its path, "[vdso]", or "???". */
const char *md_image_short_name(const Mayday__Image *img);
/* pc relative to the image's load bias (its ELF virtual address). */
uint64_t md_image_rel(const Mayday__Image *img, uint64_t pc);
/* 1 when the frame's pc is the exact instruction (register context). */
int md_frame_is_context(const Mayday__Frame *f, size_t index);
/* "signal name" for the report: the recorded one, or derived. */
const char *md_report_signal_name(const Mayday__Report *r, char *buf, size_t n);
/* Number of completeness problems; names them (comma separated) in buf. */
int md_incomplete_reasons(const Mayday__Report *r, char *buf, size_t n);

#define MD_MAX_SYMBOLS 16
/* Symbols for frame fi of thread t through opt->symbolize; 0 if none (no
 * callback, no image, nothing known). Entries are validated (count capped,
 * size set). */
int md_frame_symbols(const mayday_report *rep, const mayday_format_options *o,
                     const Mayday__Thread *t, size_t fi,
                     mayday_symbol out[MD_MAX_SYMBOLS]);

/* ---- failure_names.c (issue 12): Report.failure */
const char *md_failure_kind_id(int kind);       /* "fatal"...; NULL */
const char *md_failure_kind_text(int kind);     /* words; NULL */
const char *md_terminate_reason_id(int reason); /* "uncaught"...; NULL */
const char *md_terminate_reason_text(int reason);
const char *md_hang_action_id(int action);      /* "continue"/"end"; NULL */
/* "std::runtime_error" for "St13runtime_error" (malloc'ed), NULL if it
 * cannot be demangled (no libstdc++, not a mangled type). */
char *md_demangle_type(const char *mangled);
/* Index of the crashed thread's frame at Failure.exception.throw_pc, -1. */
long md_throw_frame(const Mayday__Report *r);
/* --- issue 14: decoder --- */
/* How well a frame was symbolicated (JSON "symbolicated"): "full"
 * (function and file:line), "function" (a name only), "none" (nothing, or
 * no symbolicator), NULL when the frame is in no image. */
const char *md_frame_status(const mayday_report *rep,
                            const mayday_format_options *o,
                            const Mayday__Frame *f, const mayday_symbol *sym,
                            int ns);
/* The image's symbolication status through o->image_symbols; 0, or
 * negative when there is none (no callback, nothing known). */
int md_image_symbols(const mayday_report *rep, const mayday_format_options *o,
                     uint32_t image, mayday_image_symbols *out);

/* ---- extras.c: --brief, source context, register notes */
/* The thread MAYDAY_FORMAT_BRIEF keeps: the crashed one, else 0. */
size_t md_brief_thread(const Mayday__Report *r);
/* 1 if thread ti is rendered (all of them unless BRIEF). */
int md_thread_shown(const Mayday__Report *r, const mayday_format_options *o,
                    size_t ti);

#define MD_SOURCE_CONTEXT 3 /* lines before and after */
#define MD_SOURCE_LINES (2 * MD_SOURCE_CONTEXT + 1)
typedef struct md_source_line {
    uint32_t line;
    char text[240]; /* cut at 239 bytes */
} md_source_line;
typedef struct md_source {
    char file[1024];
    uint32_t line;
    size_t frame; /* index of the frame in the thread */
    size_t n;
    md_source_line lines[MD_SOURCE_LINES];
} md_source;
/* With MAYDAY_FORMAT_SOURCE: the lines around the first frame of the
 * crashed thread whose innermost file:line can be read. 1 if found. */
int md_source_context(const mayday_report *rep, const mayday_format_options *o,
                      md_source *out);
/* What value points into, e.g. "libc.so.6 r-x +0x2724a
 * __libc_start_call_main+0x7a" (an image's segment; the function when it
 * is code and there is a symbolicator). 1 if it points into an image. */
int md_register_note(const mayday_report *rep, const mayday_format_options *o,
                     uint64_t v, char *buf, size_t n);
/* The lowest and the end of the highest image segment address: a value
 * outside [lo, hi) points into no image. */
void md_image_bounds(const Mayday__Report *r, uint64_t *lo, uint64_t *hi);
/* ---- contents.c: issue 11 (stack memory, FP, windows, maps, ...) */
int md_validate_contents(const Mayday__Report *r);
/* Index of the mapping holding addr, or -1. */
int md_mapping_of(const Mayday__Report *r, uint64_t addr);
/* "r-xp" */
void md_mapping_perms(const Mayday__Mapping *m, char out[5]);
/* The thread whose stack is mapping mi, or -1. */
int md_stack_owner(const Mayday__Report *r, int mi);
/* md_stack_owner of every mapping, in one pass over the threads (a
 * malloc'ed array of n_mappings, free() it; NULL if out of memory). */
int *md_stack_owners(const Mayday__Report *r);
/* "stack of thread 3", "guard page below thread 3's stack", a path...
 * owners: md_stack_owners() of r, or NULL (then looked up per call). */
void md_mapping_role(const Mayday__Report *r, int mi, char *buf, size_t n);
void md_mapping_role_ex(const Mayday__Report *r, const int *owners, int mi,
                        char *buf, size_t n);
/* What addr is, for people: "inside the guard page below thread 7's
 * stack (---p)", "in /usr/lib/libc.so.6 (r-xp) +0x1234", "not mapped". */
void md_describe_address(const Mayday__Report *r, uint64_t addr, char *buf,
                         size_t n);
/* An FP area padded to its full size, with the parts a formatter shows. */
typedef struct md_fp_view {
    uint8_t *area; /* malloc'ed, len bytes */
    size_t len;
    uint64_t xstate_bv;                     /* components in use */
    const uint8_t *avx;                     /* ymm0-15 upper halves */
    const uint8_t *opmask, *zmm_hi256, *hi16_zmm; /* AVX-512 */
} md_fp_view;
int md_fp_layout(const Mayday__FpState *f, md_fp_view *v);
void md_fp_view_free(md_fp_view *v);
/* Name of a system call for reports of this machine's architecture. */
const char *md_syscall_name(const Mayday__Report *r, int64_t nr);
/* text_contents.c (the JSON is json_contents.c) */
void md_text_contents_thread(FILE *f, const mayday_report *rep, size_t ti,
                             int crashed, int full);
void md_text_state_suffix(FILE *f, const mayday_report *rep,
                          const Mayday__Thread *t);
void md_text_fault(FILE *f, const mayday_report *rep);
void md_text_contents_report(FILE *f, const mayday_report *rep, int full);

int md_format_text(const mayday_report *rep, const mayday_format_options *o,
                   FILE *out);
int md_format_json(const mayday_report *rep, const mayday_format_options *o,
                   FILE *out);

#endif
