/*
 * json_contents.h - the JSON keys of issue 11's report contents (stack
 * memory, FP registers, windows, thread states, the memory map,
 * attachments), emitted by json_contents.c into json.c's writer.
 *
 * Context: normal (stdio).
 */
#ifndef MD_JSON_CONTENTS_H
#define MD_JSON_CONTENTS_H

#include "mayday.pb-c.h"
#include "normal/reader/jsonw.h"

/* Appended to each thread object, after "frames". rlen: strlen of each
 * of r's register names ("" for a missing one), or NULL. */
void md_json_thread_contents(md_jw *j, const Mayday__Report *r,
                             const Mayday__Thread *t, const size_t *rlen);
/* Appended to the signal object: "address_mapping",
 * "address_description". */
void md_json_fault_place(md_jw *j, const Mayday__Report *r);
/* Top level, after "breadcrumbs": "mappings", "attachments". */
void md_json_report_contents(md_jw *j, const Mayday__Report *r);

#endif
