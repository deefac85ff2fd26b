/*
 * json_mini.h - a small strict JSON parser for tests (RFC 8259: rejects
 * trailing commas, raw control characters, invalid UTF-8, lone surrogates),
 * used to parse the reader's JSON output back and compare it with the
 * report it came from.
 *
 * Context: tests only.
 */
#ifndef MD_JSON_MINI_H
#define MD_JSON_MINI_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JM_NULL, JM_BOOL, JM_NUM, JM_STR, JM_ARR, JM_OBJ } jm_type;

typedef struct jm_node {
    jm_type type;
    int b;
    double num;
    char *numtext; /* JM_NUM: as written */
    char *s;       /* JM_STR: decoded UTF-8; JM_OBJ member: its key in keys */
    size_t slen;
    size_t n;
    struct jm_node **kids;
    char **keys; /* JM_OBJ */
} jm_node;

/* NULL on any syntax error (err, if given, gets the offset). */
jm_node *jm_parse(const char *text, size_t len, size_t *err);
void jm_free(jm_node *n);
/* Member of an object (first with that key), NULL if absent. */
jm_node *jm_get(const jm_node *obj, const char *key);
/* Path lookup: "threads.0.frames.2.pc". */
jm_node *jm_path(const jm_node *root, const char *path);
/* Value helpers: the string (NULL unless JM_STR), a "0x.." string as a
 * number (sets *ok), an integer number. */
const char *jm_str(const jm_node *n);
uint64_t jm_hex(const jm_node *n, int *ok);
int64_t jm_int(const jm_node *n, int *ok);

#endif
