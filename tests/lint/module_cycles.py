#!/usr/bin/env python3
"""Fails when two modules of asm-core import each other, directly or through others.

A module is a top-level concern of `crates/asm-core/src` (`notify`, `gateway`, `platform`, ...)
and, inside a folder, each sibling file (`notify/route.rs` and `notify/deliver.rs`). A module
imports another when its code names it: a `use crate::x` line or a `crate::x::...` path
anywhere in the file (tests included), or `super::x` from a sibling. Items re-exported at the
crate root (`crate::Runtime`) count as imports of the module that defines them.

Run: python3 tests/lint/module_cycles.py [--graph] [crates/asm-core/src]   (exit 1 and the cycle on failure)
"""
import re
import sys
from pathlib import Path

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ROOT = Path(ARGS[0] if ARGS else Path(__file__).resolve().parents[2] / "crates/asm-core/src")

# `pub use runtime::Runtime;` in lib.rs: a root name and the module it comes from.
ROOT_REEXPORT = re.compile(r"^\s*pub use (\w+)::\{?([\w, ]+)\}?;", re.M)
CRATE_PATH = re.compile(r"\bcrate::((?:\w+::)*)(\{[^}]*\}|\w+)")
SUPER_PATH = re.compile(r"\bsuper::(\{[^}]*\}|\w+)")
COMMENT = re.compile(r"//[^\n]*")


def names_in(group):
    """`{a, b::c, d as e}` or `a` -> ['a', 'b', 'd']."""
    group = group.strip("{}")
    return [part.strip().split("::")[0].split(" ")[0] for part in group.split(",") if part.strip()]


def root_reexports():
    lib = (ROOT / "lib.rs").read_text()
    table = {}
    for module, items in ROOT_REEXPORT.findall(lib):
        for item in items.split(","):
            table[item.strip()] = module
    return table


def top_modules():
    return {p.stem for p in ROOT.glob("*.rs") if p.stem not in ("lib", "main")} | {p.name for p in ROOT.iterdir() if p.is_dir()}


def top_of(path):
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".rs")


def sibling_name(path):
    return path.stem if path.name != "mod.rs" else None


def find_cycle(graph):
    """A cycle as a list of nodes, or None (iterative DFS with colours)."""
    colour = {n: 0 for n in graph}
    for start in sorted(graph):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
                continue
            if child not in colour:
                continue
            if colour[child] == 1:
                return path[path.index(child):] + [child]
            if colour[child] == 0:
                colour[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def main():
    reexports = root_reexports()
    tops = top_modules()
    top_graph = {t: set() for t in tops}
    sibling_graphs = {}
    for path in sorted(ROOT.rglob("*.rs")):
        if path.name == "lib.rs":
            continue
        text = COMMENT.sub("", path.read_text())
        me = top_of(path)
        folder = path.parent
        name = sibling_name(path)
        siblings = {p.stem for p in folder.glob("*.rs") if p.name != "mod.rs"} | {p.name for p in folder.iterdir() if p.is_dir()}
        folder_path = list(folder.relative_to(ROOT).parts)
        sibling_targets = set()
        for prefix, group in CRATE_PATH.findall(text):
            segments = [s for s in prefix.split("::") if s]
            heads = [segments[0]] if segments else names_in(group)
            for head in heads:
                target = head if head in tops else reexports.get(head)
                if target and target != me:
                    top_graph[me].add(target)
            # crate::notify::route::X seen from notify/deliver.rs names the sibling `route`.
            full = segments + (names_in(group) if len(segments) == len(folder_path) else [])
            if folder_path and full[: len(folder_path)] == folder_path and len(full) > len(folder_path):
                sibling_targets.add(full[len(folder_path)])
        for group in SUPER_PATH.findall(text):
            sibling_targets.update(names_in(group))
        if name is None:
            continue
        graph = sibling_graphs.setdefault(folder, {s: set() for s in siblings})
        graph[name].update(t for t in sibling_targets if t in siblings and t != name)
    if "--graph" in sys.argv:
        for node in sorted(top_graph):
            print(f"{node} -> {', '.join(sorted(top_graph[node]))}")
    failures = []
    cycle = find_cycle(top_graph)
    if cycle:
        failures.append("asm-core modules import each other: " + " -> ".join(cycle))
    for folder, graph in sorted(sibling_graphs.items()):
        cycle = find_cycle(graph)
        if cycle:
            failures.append(f"{folder.relative_to(ROOT)}/: files import each other: " + " -> ".join(cycle))
    for f in failures:
        print(f"module_cycles: {f}", file=sys.stderr)
    if failures:
        return 1
    print(f"module_cycles: no cycles among {len(top_graph)} modules of {ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
