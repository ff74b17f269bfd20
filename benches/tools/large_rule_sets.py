#!/usr/bin/env python3
"""Writes the two largest rule sets RuleSet::from_toml accepts (just under its 16 MiB limit),
for measuring the memory a rule set takes to load (BENCHMARKS.md, "Loading the largest rule
set"): many.toml, 90 867 criteria of one course each; long.toml, one criteria over 603 149
courses. Usage: python3 large_rule_sets.py DIR"""
import os
import sys

LIMIT = 16 << 20


def write(path, head, item, tail):
    with open(path, "w") as f:
        size = len(head) + len(tail)
        f.write(head)
        i = 0
        while True:
            chunk = item(i)
            if size + len(chunk) > LIMIT:
                break
            f.write(chunk)
            size += len(chunk)
            i += 1
        f.write(tail)
    print(path, size, "bytes,", i, "items")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write(
        os.path.join(out, "many.toml"),
        "",
        lambda i: (
            f'[[badge_class]]\nslug = "b{i}"\n[[criteria]]\nbadge = "b{i}"\nrequire = "all"\n'
            f'[[criteria.requirement]]\ntype = "courses"\n'
            f'courses = [{{ course = "course-v1:O+C{i}+1", min_grade = 0.5 }}]\n'
        ),
        "",
    )
    write(
        os.path.join(out, "long.toml"),
        '[[badge_class]]\nslug = "big"\n[[criteria]]\nbadge = "big"\nrequire = "any"\n'
        '[[criteria.requirement]]\ntype = "courses"\ncourses = [\n',
        lambda i: f'{{ course = "O/C{i}/R" }},\n',
        "]\n",
    )
    with open(os.path.join(out, "event.jsonl"), "w") as f:
        f.write('{"event":"enrolled","learner":"a","course":"course-v1:O+C1+1",'
                '"mode":"audit","at":"2026-01-01T00:00:00Z"}\n')


main()
