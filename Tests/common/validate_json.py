#!/usr/bin/env python3
# validate_json.py - validates every JSON value in the given files (one
# value, several concatenated, or JSON Lines) against a JSON Schema, with
# Debian's python3-jsonschema; prints each error with the value's number
# and path, exits 1 if any value fails, 2 on usage or unreadable input.
#
#   validate_json.py SCHEMA FILE...
#
# Context: test tool (run by the tests, Tests/reader/schema_check.c).
import json
import sys

import jsonschema


def values(text):
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return
        v, i = dec.raw_decode(text, i)
        yield v


def main():
    if len(sys.argv) < 3:
        print("usage: validate_json.py SCHEMA FILE...", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    bad = total = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for n, v in enumerate(values(text)):
            total += 1
            errs = sorted(validator.iter_errors(v), key=lambda e: list(e.path))
            for e in errs[:5]:
                where = "/".join(str(p) for p in e.path)
                print(f"{path}: value {n}: /{where}: {e.message[:300]}")
            bad += bool(errs)
    print(f"validate_json: {total} values, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
