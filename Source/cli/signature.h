/*
 * signature.h - a crash signature: a stable key that groups reports of
 * the same crash, made of the signal name and the crashed thread's top
 * frames after normalisation (docs/report-format.md, "Crash signature"):
 *
 *   - frames of mayday itself are dropped (the libmayday image, functions
 *     named mayday_*, mds_*, md_*);
 *   - for SIGABRT, the leading frames in libc, libstdc++ and libgcc_s
 *     (raise, abort, __assert_fail, std::terminate...) are dropped;
 *   - a frame in a system library (under /lib, /usr/lib, /lib64,
 *     /usr/lib64, or the vdso) is named by the exported (.dynsym) symbol
 *     that contains it, its first alias in a fixed order, else by the
 *     library's file name: the same with and without debug packages
 *     ("raise" with libc6-dbg is also "__GI_raise" there);
 *   - other frames give one name per entry of their inline chain (the
 *     functions as eu-addr2line names them), with compiler clone suffixes
 *     removed (.constprop.N, .isra.N, .part.N, .cold, .lto_priv.N); a
 *     frame without a name gives "FILE+0xOFFSET";
 *   - repeats of one name in a row (recursion) count once;
 *   - the first MDC_SIG_FRAMES names are kept.
 *
 * The text is "SIGSEGV: a | b | c"; the id is the 64-bit FNV-1a hash of
 * the text, in 16 hex digits.
 *
 * Context: normal (CLI only).
 */
#ifndef MDC_SIGNATURE_H
#define MDC_SIGNATURE_H

#include <stddef.h>

#include "cli/symbolize.h"

#define MDC_SIG_FRAMES 5

typedef struct mdc_signature {
    char id[17];
    char text[1024];
} mdc_signature;

/* Computes the signature of the report loaded in s (mdc_sym_load). */
void mdc_signature_of(mdc_sym *s, const mayday_report *rep, mdc_signature *out);

#endif
