/*
 * contents_v1.c - the exporters with the v1 report schema, which has no
 * stack memory, FP state, memory windows, memory map or attachments:
 * threads get no stack memory in the minidump (lldb and other processors
 * can then show only frame 0), contexts no FP state, no MD_LINUX_MAPS
 * stream, no extra envelope attachments. sources.cmake builds contents.c
 * instead as soon as Protobuf/mayday.proto has issue 11's fields.
 *
 * Context: normal.
 */
#include "normal/export/export.h"

uint32_t md_mdw_stack(md_mdw *w, const Mayday__Thread *t, uint64_t *start,
                      uint32_t *len)
{
    (void)w;
    (void)t;
    *start = 0;
    *len = 0;
    return 0;
}

int md_mdw_put_fpu(md_mdw *w, const Mayday__Thread *t, size_t ctx)
{
    (void)w;
    (void)t;
    (void)ctx;
    return 0;
}

int md_mdw_put_fpu_arm64(md_mdw *w, const Mayday__Thread *t, size_t ctx)
{
    (void)w;
    (void)t;
    (void)ctx;
    return 0;
}

void md_mdw_maps(md_mdw *w) { (void)w; }

void md_sentry_attachments(md_buf *b, const Mayday__Report *r)
{
    (void)b;
    (void)r;
}
