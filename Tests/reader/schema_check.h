/*
 * schema_check.h - every JSON output a test makes is collected and, at
 * the end of the test program, validated against docs/report.schema.json
 * with Tests/common/validate_json.py (Debian's python3-jsonschema): one
 * python process per test program, not one per output.
 *
 * Context: tests only. Needs MAYDAY_SOURCE_DIR (set by mayday_add_test).
 */
#ifndef MD_SCHEMA_CHECK_H
#define MD_SCHEMA_CHECK_H

#include <stddef.h>

/* Keeps a copy of one JSON output (an object, or JSON Lines). */
void jm_schema_collect(const char *json, size_t len);
/* Validates everything collected so far and forgets it: 0 if every value
 * is valid (or nothing was collected), -1 otherwise (errors printed). */
int jm_schema_validate(void);

#endif
