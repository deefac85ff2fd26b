#!/usr/bin/env python3
"""check_report.py - checks crash reports of consumer/crash_app against
independent sources (Tests/install/test_install.sh runs it).

  check_report.py CLI BINARY MODE REPORT...

CLI is the installed `mayday` (its JSON output is what is checked), BINARY
the crash_app that wrote the REPORTs, MODE segv or assert. Expected values come
from `nm -S` (function ranges) and `readelf -n` (build-id) of BINARY.
Exit 0 if the report is complete: the crashed thread's frames walk by CFI
from crash_level2 through crash_level1 to main, the main image has the
binary's build-id, the worker thread is listed; for assert, the message.
"""
import json
import subprocess
import sys

cli, binary, mode = sys.argv[1:4]
reports = sys.argv[4:]
errors = []
report = None


def fail(msg):
    errors.append("%s: %s" % (report, msg))


def symbols(path):
    out = subprocess.run(["nm", "-S", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            syms[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return syms


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    return None


SYMS = symbols(binary)
BUILD_ID = build_id(binary)


def check(j):
    if not j["report"]["complete"]:
        fail("report incomplete: %s" % j["report"]["incomplete"])
    sig = j["signal"]["name"] if j["signal"] else None
    want_sig = "SIGSEGV" if mode == "segv" else "SIGABRT"
    if sig != want_sig:
        fail("signal %s, expected %s" % (sig, want_sig))
    main_img = [m for m in j["images"] if m["main_program"]]
    if len(main_img) != 1:
        fail("%d main images" % len(main_img))
    else:
        main_img = main_img[0]
        if main_img["build_id"] != BUILD_ID:
            fail("main image build-id %s, readelf says %s" %
                 (main_img["build_id"], BUILD_ID))
        bias = int(main_img["load_bias"], 16)
        syms = SYMS
        t = j["threads"][j["crashed_thread"]]
        pcs = [(int(f["pc"], 16), f["trust"]) for f in t["frames"]]

        def where(pc):
            for name in ("crash_level2", "crash_level1", "main"):
                lo, size = syms[name]
                if bias + lo <= pc < bias + lo + size:
                    return name
            return None

        # A return address may point just past its function (a call to a
        # noreturn function such as __assert_fail ends it): look at pc - 1,
        # as addr2line users do, except for the context frame.
        chain = [(where(pc if trust == "context" else pc - 1), trust)
                 for pc, trust in pcs]
        names = [n for n, _ in chain if n]
        if names[:3] != ["crash_level2", "crash_level1", "main"]:
            fail("frames in crash_level2, crash_level1, main expected; got %s"
                 % chain)
        for n, trust in chain:
            if n in ("crash_level1", "main") and trust != "cfi":
                fail("frame in %s found by %s, not CFI" % (n, trust))
        if not any(th["name"] == "worker" for th in j["threads"]):
            fail("thread 'worker' missing: %s" %
                 [th["name"] for th in j["threads"]])
    if mode == "assert" and "crash_app assert" not in (j["abort_message"] or ""):
        fail("abort message %r" % j["abort_message"])


out = subprocess.run([cli, "decode", "--format", "jsonl"] + reports,
                     check=True, capture_output=True, text=True).stdout
decoded = [json.loads(line) for line in out.splitlines() if line.strip()]
if len(decoded) != len(reports):
    errors.append("%d reports, %d decoded" % (len(reports), len(decoded)))
for report, j in zip(reports, decoded):
    check(j)
for e in errors:
    print("FAIL: %s" % e)
sys.exit(1 if errors else 0)
