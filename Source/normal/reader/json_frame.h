/*
 * json_frame.h - the JSON of one stack frame, fast (see json_frame.c).
 *
 * Context: normal (stdio through jsonw.h).
 */
#ifndef MD_JSON_FRAME_H
#define MD_JSON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "normal/reader/jsonw.h"

#define MD_JF_NKEYS 15
#define MD_JF_PAD 96      /* a prefix: ",\n", 62 spaces, the key, ": " */
#define MD_JF_MAX_STR 512 /* longer strings take the general path */
#define MD_JF_ROOM (MD_JF_NKEYS * (MD_JF_PAD + 24) + 6 * (MD_JF_MAX_STR + 2))

/* The member prefixes of a frame's keys at one depth. */
typedef struct md_jf {
    int ok, depth;
    int short_keys; /* every prefix is at most 32 bytes */
    uint8_t len[MD_JF_NKEYS];
    char prefix[MD_JF_NKEYS][MD_JF_PAD];
    /* The frame object's own opening (",\n    {", the first without the
     * comma) and closing ("\n    }"). */
    uint8_t open_len, close_len;
    char open[MD_JF_PAD], close[MD_JF_PAD];
    const char *last_trust, *last_status; /* and their name lengths */
    size_t last_trust_len, last_status_len;
} md_jf;

/* What a frame's JSON holds (docs/report-format.md, "frames"). NULL
 * strings are null; has_* 0 and line/column 0 are null. */
typedef struct md_jf_frame {
    uint64_t index, pc, sp, image, image_offset, offset;
    int has_pc, has_sp, has_image, has_image_offset, has_offset, inlined;
    uint32_t line, column;
    const char *trust, *image_name, *symbol, *file, *elf_symbol,
        *symbolicated;
    size_t image_name_len; /* strlen(image_name) */
    int image_name_plain;  /* image_name needs no escaping */
} md_jf_frame;

/* Builds the prefixes for frames written into the array j has open. */
void md_jf_init(md_jf *k, const md_jw *j);
/* One frame object, as md_jf_emit_slow writes it. */
void md_jf_emit(md_jw *j, md_jf *k, const md_jf_frame *x);
/* The same through the general md_jw_* calls. */
void md_jf_emit_slow(md_jw *j, const md_jf_frame *x);

#endif
