/*
 * text_contents.c - the text rendering of issue 11's report contents:
 * per thread its system call and /proc state, the crashed thread's
 * registers with the mapping each points into, its FP/SIMD registers, a
 * hex+ASCII dump of its stack around sp (a short window, or everything
 * with MAYDAY_FORMAT_FULL_MEMORY) and the memory near its pointers; at
 * report level the fault address described, the memory map with stacks
 * and guard pages named, and each attachment's tail.
 *
 * Context: normal (stdio). Bytes from the report never reach the terminal
 * raw: the ASCII column shows only printable ASCII, attachment text goes
 * through the same \xNN escaping as every other string.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "normal/reader/reader.h"

#define LABEL "%-15s "
#define DUMP_BEFORE 64  /* default stack window: bytes below sp */
#define DUMP_AFTER 256  /* ... and from sp up */
#define TAIL_BYTES 2048 /* attachment text shown by default */
#define TAIL_LINES 20

static void hexdump(FILE *f, const uint8_t *p, size_t n, uint64_t base,
                    uint64_t from, uint64_t to, uint64_t mark)
{
    if (from < base)
        from = base;
    if (to > base + n)
        to = base + n;
    from &= ~(uint64_t)15;
    for (uint64_t row = from; row < to; row += 16) {
        fprintf(f, "    0x%016" PRIx64 "  ", row);
        char ascii[17];
        for (int i = 0; i < 16; i++) {
            uint64_t a = row + (uint64_t)i;
            if (a < base || a >= base + n) {
                fputs(i == 7 ? "    " : "   ", f);
                ascii[i] = ' ';
                continue;
            }
            uint8_t b = p[a - base];
            fprintf(f, "%02x%s", b, i == 7 ? "  " : " ");
            ascii[i] = b >= 0x20 && b < 0x7f ? (char)b : '.';
        }
        ascii[16] = 0;
        fprintf(f, " |%s|", ascii);
        if (mark >= row && mark < row + 16)
            fputs(" <- sp", f);
        fputc('\n', f);
    }
}

static const char *limit_text(int limit)
{
    switch (limit) {
    case MAYDAY__STACK_LIMIT__STACK_LIMIT_NONE:
        return "up to the top of its mapping";
    case MAYDAY__STACK_LIMIT__STACK_LIMIT_THREAD_CAP:
        return "cut by the per-thread cap";
    case MAYDAY__STACK_LIMIT__STACK_LIMIT_BUDGET:
        return "cut by the report's stack budget";
    case MAYDAY__STACK_LIMIT__STACK_LIMIT_REPORT_SIZE:
        return "cut by the report size cap";
    case MAYDAY__STACK_LIMIT__STACK_LIMIT_UNREADABLE:
        return "stack pointer not in readable memory";
    default:
        return "?";
    }
}

static int reg_index(const Mayday__Report *r, const char *name)
{
    for (size_t i = 0; i < r->n_register_names; i++)
        if (r->register_names[i] && !strcmp(r->register_names[i], name))
            return (int)i;
    return -1;
}

static uint64_t thread_sp(const Mayday__Report *r, const Mayday__Thread *t,
                          int *has)
{
    int k = reg_index(r, "rsp");
    if (k < 0)
        k = reg_index(r, "sp");
    *has = k >= 0 && (size_t)k < t->n_registers;
    return *has ? t->registers[k] : 0;
}

void md_text_state_suffix(FILE *f, const mayday_report *rep,
                          const Mayday__Thread *t)
{
    if (t->mayday_thread)
        fputs(" [mayday]", f);
    if (t->has_syscall && t->syscall == -1)
        fputs(" [running]", f);
    if (t->has_syscall && t->syscall >= 0) {
        const char *nm = md_syscall_name(rep->pb, t->syscall);
        if (nm)
            fprintf(f, " [in %s(", nm);
        else
            fprintf(f, " [in syscall %" PRId64 "(", t->syscall);
        for (size_t i = 0; i < t->n_syscall_args; i++)
            fprintf(f, "%s0x%" PRIx64, i ? ", " : "", t->syscall_args[i]);
        fputs(")]", f);
    }
    if (t->proc_state && t->proc_state[0] >= 'A' && t->proc_state[0] <= 'z')
        fprintf(f, " [/proc state %c]", t->proc_state[0]);
}

static void print_targets(FILE *f, const Mayday__Report *r,
                          const Mayday__Thread *t)
{
    if (r->n_mappings == 0 || t->n_registers == 0)
        return;
    int any = 0;
    for (size_t i = 0; i < t->n_registers && i < r->n_register_names; i++) {
        const char *nm = r->register_names[i];
        if (!nm || !strcmp(nm, "eflags") || !strcmp(nm, "csgsfs") ||
            !strcmp(nm, "err") || !strcmp(nm, "trapno"))
            continue;
        int mi = md_mapping_of(r, t->registers[i]);
        if (mi < 0)
            continue;
        if (!any++)
            fputs("\nRegisters pointing into mappings:\n", f);
        char d[300];
        md_describe_address(r, t->registers[i], d, sizeof(d));
        fprintf(f, "  %6s 0x%016" PRIx64 "  ", nm, t->registers[i]);
        /* Mapping paths come from the report: escape like other strings. */
        for (const char *c = d; *c; c++) {
            unsigned char b = (unsigned char)*c;
            if (b < 0x20 || b == 0x7f)
                fprintf(f, "\\x%02x", b);
            else
                fputc(b, f);
        }
        fputc('\n', f);
    }
}

static void print_hex_reg(FILE *f, const char *name, int idx,
                          const uint8_t *lo16, const uint8_t *hi16,
                          const uint8_t *hi32)
{
    fprintf(f, "  %s%-2d ", name, idx);
    const uint8_t *parts[3] = {hi32, hi16, lo16};
    int sizes[3] = {32, 16, 16};
    for (int k = 0; k < 3; k++) {
        if (!parts[k])
            continue;
        for (int i = sizes[k] - 1; i >= 0; i--)
            fprintf(f, "%02x", parts[k][i]);
    }
    fputc('\n', f);
}

static void print_fp(FILE *f, const Mayday__FpState *fp)
{
    md_fp_view v;
    if (md_fp_layout(fp, &v) < 0) {
        fputs("\nFP registers: (format not known to this reader)\n", f);
        return;
    }
    const uint8_t *a = v.area;
    uint16_t fcw, fsw;
    uint32_t mxcsr;
    memcpy(&fcw, a, 2);
    memcpy(&fsw, a + 2, 2);
    memcpy(&mxcsr, a + 24, 4);
    int zmm = v.zmm_hi256 && v.hi16_zmm && v.avx;
    fprintf(f, "\nFP registers (%s%s%s):\n",
            fp->format == MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE ? "XSAVE"
                                                             : "FXSAVE",
            v.avx ? ", AVX" : "", zmm ? ", AVX-512" : "");
    fprintf(f, "  fcw 0x%04x  fsw 0x%04x  ftw 0x%02x  mxcsr 0x%08x\n", fcw, fsw,
            a[4], mxcsr);
    for (int i = 0; i < 8; i++) {
        fprintf(f, "  st%d ", i);
        for (int k = 9; k >= 0; k--)
            fprintf(f, "%02x", a[32 + 16 * i + k]);
        fputc(i % 2 ? '\n' : ' ', f);
    }
    for (int i = 0; i < 16; i++) {
        const uint8_t *x = a + 160 + 16 * i;
        const uint8_t *y = v.avx ? v.avx + 16 * i : NULL;
        const uint8_t *z = zmm ? v.zmm_hi256 + 32 * i : NULL;
        print_hex_reg(f, zmm ? "zmm" : y ? "ymm" : "xmm", i, x, y, z);
    }
    for (int i = 0; zmm && i < 16; i++)
        print_hex_reg(f, "zmm", 16 + i, v.hi16_zmm + 64 * i,
                      v.hi16_zmm + 64 * i + 16, v.hi16_zmm + 64 * i + 32);
    if (v.opmask) {
        fputs(" ", f);
        for (int i = 0; i < 8; i++) {
            uint64_t k;
            memcpy(&k, v.opmask + 8 * i, 8);
            fprintf(f, " k%d 0x%" PRIx64, i, k);
        }
        fputc('\n', f);
    }
    md_fp_view_free(&v);
}

static void print_stack(FILE *f, const Mayday__Report *r,
                        const Mayday__Thread *t, size_t ti, int dump, int full)
{
    const Mayday__Memory *m = t->stack;
    if (!m && !t->has_stack_limit)
        return;
    if (!m || !m->has_data || m->data.len == 0) {
        fprintf(f, "%sStack memory of thread %zu: none (%s)\n",
                dump ? "\n" : "    ", ti, limit_text(t->stack_limit));
        return;
    }
    fprintf(f,
            "%sStack memory of thread %zu: 0x%016" PRIx64 " - 0x%016" PRIx64
            ", %zu bytes (%s)%s\n",
            dump ? "\n" : "    ", ti, m->address, m->address + m->data.len,
            m->data.len, limit_text(t->stack_limit),
            dump && !full ? ", around sp:" : "");
    if (!dump && !full)
        return;
    int has;
    uint64_t sp = thread_sp(r, t, &has);
    uint64_t from = m->address, to = m->address + m->data.len;
    if (!full && has) {
        from = sp > DUMP_BEFORE ? sp - DUMP_BEFORE : 0;
        to = sp + DUMP_AFTER;
    } else if (!full) {
        to = from + DUMP_BEFORE + DUMP_AFTER;
    }
    hexdump(f, m->data.data, m->data.len, m->address, from, to,
            has ? sp : UINT64_MAX);
}

static void print_windows(FILE *f, const Mayday__Thread *t, size_t ti)
{
    if (t->n_memory == 0)
        return;
    fprintf(f, "\nMemory near pointers of thread %zu:\n", ti);
    for (size_t i = 0; i < t->n_memory; i++) {
        const Mayday__Memory *m = t->memory[i];
        size_t len = m->has_data ? m->data.len : 0;
        fprintf(f, "  0x%016" PRIx64 ", %zu bytes (", m->address, len);
        for (size_t k = 0; k < m->n_labels; k++) {
            fputs(k ? ", " : "", f);
            for (const char *c = m->labels[k]; *c; c++)
                fputc((unsigned char)*c >= 0x20 && *c != 0x7f ? *c : '?', f);
        }
        fputs("):\n", f);
        if (len)
            hexdump(f, m->data.data, len, m->address, m->address,
                    m->address + len, UINT64_MAX);
    }
}

void md_text_contents_thread(FILE *f, const mayday_report *rep, size_t ti,
                             int crashed, int full)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Thread *t = r->threads[ti];
    if (!crashed) {
        print_stack(f, r, t, ti, 0, full);
        return;
    }
    print_targets(f, r, t);
    if (t->fp)
        print_fp(f, t->fp);
    print_stack(f, r, t, ti, 1, full);
    print_windows(f, t, ti);
}

void md_text_fault(FILE *f, const mayday_report *rep)
{
    const Mayday__Report *r = rep->pb;
    if (!r->signal || !r->signal->has_address || r->n_mappings == 0)
        return;
    char d[300];
    md_describe_address(r, r->signal->address, d, sizeof(d));
    fprintf(f, LABEL, "Fault address:");
    for (const char *c = d; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (b < 0x20 || b == 0x7f)
            fprintf(f, "\\x%02x", b);
        else
            fputc(b, f);
    }
    fputc('\n', f);
}

static void tstr_n(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '\n' || c == '\t')
            fputc(c, f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void print_attachment(FILE *f, const Mayday__Attachment *a, int full)
{
    size_t len = a->has_data ? a->data.len : 0;
    fputs("  ", f);
    tstr_n(f, (const uint8_t *)(a->name ? a->name : "?"),
           strlen(a->name ? a->name : "?"));
    fprintf(f, " (%s",
            a->kind == MAYDAY__ATTACHMENT_KIND__ATTACHMENT_KIND_FILE
                ? "file"
                : "memory");
    if (a->path) {
        fputc(' ', f);
        tstr_n(f, (const uint8_t *)a->path, strlen(a->path));
    }
    fprintf(f, ", bytes %" PRIu64 "-%" PRIu64 " of %" PRIu64 ")", a->offset,
            a->offset + len, a->size);
    if (a->error) {
        fputs(": ", f);
        tstr_n(f, (const uint8_t *)a->error, strlen(a->error));
    }
    fputs(":\n", f);
    if (!len)
        return;
    const uint8_t *p = a->data.data;
    size_t printable = 0;
    for (size_t i = 0; i < len; i++)
        printable += (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' ||
                     p[i] == '\t' || p[i] >= 0x80;
    if (printable < len - len / 8) { /* binary: hex of the end */
        size_t from = full || len <= 256 ? 0 : len - 256;
        hexdump(f, p + from, len - from, a->offset + from, a->offset + from,
                a->offset + len, UINT64_MAX);
        return;
    }
    size_t from = 0;
    if (!full) {
        from = len > TAIL_BYTES ? len - TAIL_BYTES : 0;
        int lines = 0; /* lines starting after position i - 1 */
        for (size_t i = len - 1; i > from; i--)
            if (p[i - 1] == '\n' && ++lines >= TAIL_LINES) {
                from = i;
                break;
            }
        if (from)
            fprintf(f, "    ... (%zu bytes before; all with --full)\n", from);
    }
    tstr_n(f, p + from, len - from);
    if (p[len - 1] != '\n')
        fputc('\n', f);
}

static void print_maps(FILE *f, const Mayday__Report *r)
{
    if (r->n_mappings == 0)
        return;
    fprintf(f, "\nMemory map (%zu mappings%s):\n", r->n_mappings,
            r->mappings_capped ? ", more were not recorded" : "");
    int *owners = md_stack_owners(r);
    for (size_t i = 0; i < r->n_mappings; i++) {
        const Mayday__Mapping *m = r->mappings[i];
        char perms[5], role[256] = "";
        md_mapping_perms(m, perms);
        int owner = owners ? owners[i] : md_stack_owner(r, (int)i);
        if (owner >= 0 || !(m->flags & 7))
            md_mapping_role_ex(r, owners, (int)i, role, sizeof(role));
        if (!strcmp(role, m->path ? m->path : "") ||
            !strcmp(role, "no access (guard or reserve)"))
            role[0] = 0;
        fprintf(f,
                "  0x%016" PRIx64 "-0x%016" PRIx64 " %s %08" PRIx64
                " %02x:%02x %-8" PRIu64 " ",
                m->start, m->start + m->size, perms, m->offset, m->dev_major,
                m->dev_minor, m->inode);
        if (m->path)
            tstr_n(f, (const uint8_t *)m->path, strlen(m->path));
        if (role[0])
            fprintf(f, "%s(%s)", m->path ? "  " : "", role);
        fputc('\n', f);
    }
    free(owners);
}

void md_text_contents_report(FILE *f, const mayday_report *rep, int full)
{
    const Mayday__Report *r = rep->pb;
    print_maps(f, r);
    if (r->n_attachments) {
        fputs("\nAttachments:\n", f);
        for (size_t i = 0; i < r->n_attachments; i++)
            print_attachment(f, r->attachments[i], full);
    }
    if (r->stack_budget_exhausted)
        fputs("\n(The report's stack memory budget ran out: some threads "
              "have less stack memory than their cap.)\n",
              f);
}
