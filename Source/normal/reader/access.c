/*
 * access.c - the reader's accessors (issue 14): images, threads and
 * frames of a loaded report as size-prefixed structs, and the report as
 * one encoded protobuf message; the replacement of the deprecated
 * mayday_report_message(), whose protobuf-c struct is not part of the
 * installed API.
 *
 * Context: normal (malloc). The loader already checked every index.
 */
#include <stdlib.h>
#include <string.h>

#include "normal/reader/reader.h"

#define COPY_OUT(out, x)                                                       \
    memcpy((out), &(x), (out)->size < sizeof(x) ? (out)->size : sizeof(x))

int mayday_report_get_image(const mayday_report *report, uint32_t index,
                            mayday_image_info *out)
{
    if (!report || !out || out->size < sizeof(uint32_t) ||
        index >= report->pb->n_images)
        return MAYDAY_EINVAL;
    const Mayday__Image *m = report->pb->images[index];
    mayday_image_info x;
    memset(&x, 0, sizeof(x));
    x.size = out->size;
    x.path = m->path ? m->path : "";
    x.name = md_image_short_name(m);
    x.base = m->address;
    x.bytes = m->size;
    x.load_bias = m->has_load_bias ? m->load_bias : m->address;
    if (m->has_build_id && m->build_id.len) {
        x.build_id = m->build_id.data;
        x.build_id_len = m->build_id.len;
    }
    x.main_program = m->main_program ? 1 : 0;
    x.vdso = m->vdso ? 1 : 0;
    COPY_OUT(out, x);
    return 0;
}

int mayday_report_get_thread(const mayday_report *report, uint32_t index,
                             mayday_thread_info *out)
{
    if (!report || !out || out->size < sizeof(uint32_t) ||
        index >= report->pb->n_threads)
        return MAYDAY_EINVAL;
    const Mayday__Thread *t = report->pb->threads[index];
    mayday_thread_info x;
    memset(&x, 0, sizeof(x));
    x.size = out->size;
    x.tid = t->has_tid ? t->tid : 0;
    x.name = t->name ? t->name : "";
    x.crashed = t->crashed ? 1 : 0;
    x.state = t->has_state ? md_state_name(t->state) : "";
    x.frame_count = (uint32_t)t->n_frames;
    COPY_OUT(out, x);
    return 0;
}

int mayday_report_get_frame(const mayday_report *report, uint32_t thread,
                            uint32_t frame, mayday_frame_info *out)
{
    if (!report || !out || out->size < sizeof(uint32_t) ||
        thread >= report->pb->n_threads ||
        frame >= report->pb->threads[thread]->n_frames)
        return MAYDAY_EINVAL;
    const Mayday__Frame *f = report->pb->threads[thread]->frames[frame];
    mayday_frame_info x;
    memset(&x, 0, sizeof(x));
    x.size = out->size;
    x.pc = f->pc;
    x.sp = f->sp;
    x.trust = md_trust_name(f->has_trust ? f->trust : 0);
    x.image = f->has_image ? (int32_t)f->image : -1;
    x.context = md_frame_is_context(f, frame);
    COPY_OUT(out, x);
    return 0;
}

int mayday_report_encoded(const mayday_report *report, const void **data,
                          size_t *len)
{
    if (!report || !data || !len)
        return MAYDAY_EINVAL;
    /* The copy is a cache inside the (otherwise read-only) report. */
    mayday_report *r = (mayday_report *)report;
    if (!r->encoded) {
        size_t n = mayday__report__get_packed_size(r->pb);
        r->encoded = malloc(n ? n : 1);
        if (!r->encoded)
            return MAYDAY_ENOMEM;
        r->encoded_len = mayday__report__pack(r->pb, r->encoded);
    }
    *data = r->encoded;
    *len = r->encoded_len;
    return 0;
}
