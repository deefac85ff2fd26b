/*
 * fuzz_report.c - libFuzzer target over the reader: mayday_report_parse on
 * arbitrary bytes, then (if accepted) get_info and both formatters, with a
 * symbolicator callback that claims inlined frames so the formatters'
 * symbol paths run too. The JSON output must always parse (strict parser
 * from Tests/reader/json_mini.c): invalid JSON aborts like a crash.
 *
 * Two framings of the input are tried: as a whole file, and as a bare
 * protobuf message framed here with a correct header and CRC, so the fuzzer
 * reaches the protobuf decoding and validation without guessing CRCs.
 *
 * Built by Tests/fuzz/fuzz.sh with clang -fsanitize=fuzzer,address.
 * Context: test harness (normal context).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash/core/writer.h"
#include "json_mini.h"
#include "mayday/mayday.h"

static FILE *g_null;

static int fake_sym(void *ud, const mayday_report *r, uint32_t image,
                    uint64_t pc, int context, mayday_symbol *out, size_t max)
{
    (void)ud, (void)r, (void)image;
    if (max < 2 || (pc & 3) == 0)
        return 0;
    out[0].function = "inl\"ined\x01";
    out[0].file = "/x/\xff.c";
    out[0].line = 3;
    out[1].function = context ? "fn" : NULL;
    out[1].offset = pc & 0xff;
    return 2;
}

static const char *fake_note(void *ud, const mayday_report *r, uint32_t i)
{
    (void)ud, (void)r;
    return (i & 1) ? "note \x1b[31m" : NULL;
}

static void exercise(const uint8_t *data, size_t size)
{
    mayday_report *r = NULL;
    if (mayday_report_parse(data, size, &r) != 0)
        return;
    mayday_report_info info;
    info.size = sizeof(info);
    mayday_report_get_info(r, &info);
    mayday_format_options o;
    mayday_format_options_init(&o);
    o.symbolize = fake_sym;
    o.image_note = fake_note;
    mayday_report_format(r, MAYDAY_FORMAT_TEXT, g_null);
    mayday_report_format(r, MAYDAY_FORMAT_JSON, g_null);
    mayday_report_format_ex(r, MAYDAY_FORMAT_TEXT, &o, g_null);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m) {
        mayday_report_format_ex(r, MAYDAY_FORMAT_JSON, &o, m);
        fclose(m);
        jm_node *j = jm_parse(buf, len, NULL);
        if (!j) {
            fprintf(stderr, "invalid JSON output:\n%s\n", buf);
            abort();
        }
        jm_free(j);
        free(buf);
    }
    mayday_report_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_null)
        g_null = fopen("/dev/null", "w");
    exercise(data, size);
    /* The bytes after a 16-byte header as the message, framed correctly. */
    if (size >= 16) {
        size_t n = size - 16;
        uint8_t *b = malloc(size);
        if (!b)
            return 0;
        memcpy(b, "MAYDAY\x01\x00", 8);
        uint32_t crc = mds_crc32(0, data + 16, n);
        for (int i = 0; i < 4; i++) {
            b[8 + i] = (uint8_t)(n >> (8 * i));
            b[12 + i] = (uint8_t)(crc >> (8 * i));
        }
        memcpy(b + 16, data + 16, n);
        exercise(b, size);
        free(b);
    }
    return 0;
}
