#!/usr/bin/env python3
"""Licence check: every package cargo would build for AuditPulse (any target, normal, build and
dev dependencies) must be usable in an Apache-2.0 project.

Invariant: a package passes only if its SPDX `license` expression can be satisfied with licences
on the ALLOWED list (an `OR` needs one side, an `AND` needs both, `WITH` exceptions are accepted
only when listed). A package with no `license` field, or a `license_file` only, fails: someone has
to read the file and add it to EXCEPTIONS with the reason. Reads `cargo metadata --locked`,
offline, so it needs nothing beyond cargo and python3.
"""

import json
import re
import subprocess
import sys

# Permissive licences compatible with distributing the service under Apache-2.0.
ALLOWED = {
    "Apache-2.0",
    "MIT",
    "MIT-0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "CC0-1.0",
    "Unlicense",
    "BSL-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "CDLA-Permissive-2.0",
}
ALLOWED_EXCEPTIONS = {"LLVM-exception"}
# Packages whose licence is not an SPDX expression, each with the reason it is accepted.
EXCEPTIONS = {}


def tokens(expression):
    return re.findall(r"\(|\)|[^\s()]+", expression.replace("/", " OR "))


def satisfiable(toks):
    """Parses `a OR b AND (c WITH d)` (AND binds tighter than OR); True if allowed."""
    pos = 0

    def atom():
        nonlocal pos
        if pos >= len(toks):
            raise ValueError("expression ends early")
        tok = toks[pos]
        pos += 1
        if tok == "(":
            value = either()
            if pos >= len(toks) or toks[pos] != ")":
                raise ValueError("unbalanced parenthesis")
            pos += 1
            return value
        ok = tok.rstrip("+") in ALLOWED
        if pos < len(toks) and toks[pos] == "WITH":
            ok = ok and pos + 1 < len(toks) and toks[pos + 1] in ALLOWED_EXCEPTIONS
            pos += 2
        return ok

    def both():
        nonlocal pos
        value = atom()
        while pos < len(toks) and toks[pos] == "AND":
            pos += 1
            value = atom() and value
        return value

    def either():
        nonlocal pos
        value = both()
        while pos < len(toks) and toks[pos] == "OR":
            pos += 1
            value = both() or value
        return value

    value = either()
    if pos != len(toks):
        raise ValueError(f"unexpected {toks[pos]!r}")
    return value


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--locked", "--format-version", "1"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    built = {node["id"] for node in metadata["resolve"]["nodes"]}
    root = metadata["resolve"]["root"]
    refused = []
    counted = 0
    for package in metadata["packages"]:
        if package["id"] not in built or package["id"] == root:
            continue
        counted += 1
        name, licence = package["name"], package.get("license")
        if name in EXCEPTIONS:
            continue
        try:
            ok = bool(licence) and satisfiable(tokens(licence))
        except ValueError as error:
            ok, licence = False, f"{licence} ({error})"
        if not ok:
            refused.append(f"{name} {package['version']}: {licence or 'no licence field'}")
    for line in sorted(refused):
        print(f"licence not allowed: {line}", file=sys.stderr)
    print(f"licences checked: {counted} packages, {len(refused)} refused")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
