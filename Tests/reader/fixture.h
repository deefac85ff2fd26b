/*
 * fixture.h - test helper: builds realistic mayday.Report messages of the
 * calling process with protobuf-c (images from dl_iterate_phdr with their
 * real load biases, segments and GNU build-ids, threads whose frames point
 * into those images), and frames them exactly as the crash-time writer does
 * (16-byte header + CRC-32).
 *
 * Context: tests only (normal context, malloc). Until the crash handler
 * writes real reports, these are the reader's fixtures. Everything in a
 * built report is malloc'ed so mayday__report__free_unpacked(r, NULL)
 * releases it (fx_free).
 */
#ifndef MD_TEST_FIXTURE_H
#define MD_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "mayday.pb-c.h"

typedef struct fx_opts {
    /* pcs of the crashed thread's frames, innermost first; NULL: a default
     * stack of return addresses inside this program and libc. */
    const uint64_t *pcs;
    size_t npcs;
    /* Trust of frame 0 of the crashed thread (others are CFI). */
    int first_trust;
    /* Strings with quotes, control characters and invalid UTF-8. */
    int tricky_strings;
    /* Set every completeness field (truncated, ...). */
    int incomplete;
    /* A live report: no signal, no crashed thread, a reason. */
    int live;
    /* Time of the report, ns since the epoch; 0: now. */
    int64_t time_ns;
    /* Issue 11's fields (fixture_contents.c): stacks, FP, windows, maps,
     * thread states, attachments. */
    int contents;
} fx_opts;

/* ---- fixture_contents.c: the values it puts in (for expectations) */
#define FX_MAP_FILE 0x7e0000000000ull      /* r-xp /usr/lib/libdemo.so */
#define FX_WINDOW0 0x7f0000050040ull       /* two 64-byte windows */
#define FX_GUARD 0x7f0000100000ull         /* ---p, below thread 0's stack */
#define FX_STACK0_SP (FX_GUARD + 0x80000)  /* in [FX_GUARD + 4K, +1 MiB) */
#define FX_STACK0_LEN 1024u                /* from sp - 128 */
#define FX_STACK1_ADDR 0x7ffd00001080ull   /* thread 1, in "[stack]" */
#define FX_MXCSR 0x1f80u
#define FX_XMM0_BYTE 0xa0                  /* xmm0 byte i = 0xa0 + i */
#define FX_YMM0_HI_BYTE 0xc0               /* ymm0 byte 16 + i = 0xc0 + i */
#define FX_XSAVE_AVX_OFF 576u
#define FX_ATTACH_TAIL "line 99998\nline 99999\nlast line\n"
/* The bytes of every memory region: a function of the address. */
uint8_t fx_stack_byte(uint64_t addr);
void fx_add_contents(Mayday__Report *r);

Mayday__Report *fx_build(const fx_opts *o);
void fx_free(Mayday__Report *r);
/* Index of the image containing addr, or -1. */
int fx_image_of(const Mayday__Report *r, uint64_t addr);

/* Header + message, malloc'ed; *len set. */
unsigned char *fx_frame(const Mayday__Report *r, size_t *len);
/* Writes bytes to path (0644); 0 or -1. */
int fx_write_file(const char *path, const void *data, size_t len);
/* fx_frame + fx_write_file. */
int fx_write_report(const Mayday__Report *r, const char *path);

/* The tricky strings used with tricky_strings (to build expectations). */
extern const char fx_tricky_abort[];
extern const char fx_tricky_key[];
extern const char fx_tricky_value[];

#endif
