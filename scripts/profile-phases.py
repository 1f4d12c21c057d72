#!/usr/bin/env python3
"""Shares of the server's CPU by phase of ingest, from a `perf record --call-graph dwarf` of the
server (the field bench writes one with VERIVALI_BENCH_PROFILE=DIR): each sample goes to the
innermost phase on its stack.

    perf script -i DIR/push-100000.data | scripts/profile-phases.py
"""
import sys
from collections import Counter

# (a piece of a frame's symbol, the phase it marks), innermost match wins.
PHASES = [
    ("zlib_rs", "gzip"),
    ("GzDecoder", "gzip"),
    ("ingest::decode", "decoding pushed visits (JSON, content hash)"),
    ("ingest::answer_known", "answering retries"),
    ("ingest::plan", "planning: checks, lookups"),
    ("households::Stored::read", "planning: reading household states"),
    ("MergeInputs::with_keys_digest", "planning: reading baselines and visits"),
    ("MergeInputs::read", "planning: reading baselines and visits"),
    ("validate::validate_visit", "validation"),
    ("merge::merge_group", "merge"),
    ("canonical::", "canonical text and hash"),
    ("ingest::store", "writer: SQLite writes (visits)"),
    ("Plan::is_current", "writer: checking the plan"),
    ("households::write_merged", "writer: SQLite writes (household states)"),
    ("record_duplicate_keys", "writer: duplicate keys"),
    ("tallies::add", "writer: tallies"),
    ("sqlite3BtreeCommitPhaseOne", "writer: commit (WAL frames)"),
    ("durability::sync_loop", "fsync"),
    ("checkpoint_loop", "checkpoint"),
]


def phase_of(stack, thread):
    for frame in stack:  # leaf first
        for piece, phase in PHASES:
            if piece in frame:
                return phase
    if thread == "db-writer":
        return "writer: other"
    return "HTTP, runtime, other"


def main():
    counts = Counter()
    thread, stack = None, []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            if thread is not None:
                counts[phase_of(stack, thread)] += 1
            thread, stack = None, []
        elif not line.startswith(("\t", " ")):
            thread = line.split()[0]
        else:
            parts = line.split(None, 1)
            stack.append(parts[1] if len(parts) > 1 else "")
    if thread is not None:
        counts[phase_of(stack, thread)] += 1
    total = sum(counts.values()) or 1
    for phase, n in counts.most_common():
        print(f"{100 * n / total:5.1f}%  {phase}")


main()
