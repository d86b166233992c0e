"""Shared by the launchers in this folder: find the compiled auto-session-manager binary
that belongs to a launcher and replace this Python process with it.

exec (not a subprocess) is what passes arguments, the exit code and signals through
untouched, and what makes the daemon show up as asm_monitor in `ps aux`.
"""
import os
import sys


def _candidates(here, binary):
    yield os.path.join(here, binary)                              # installed skill: next to us
    yield os.path.join(here, "..", "bin", binary)
    for profile in ("release", "debug"):                          # a checkout after cargo build
        yield os.path.join(here, "..", "target", profile, binary)


def exec_tool(launcher_file):
    here = os.path.dirname(os.path.realpath(launcher_file))
    name = os.path.splitext(os.path.basename(launcher_file))[0]
    binary = "asm_" + name
    for path in _candidates(here, binary):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            os.execv(path, [path] + sys.argv[1:])
    sys.stderr.write(
        f"{name}.py: error: cannot find the {binary} binary next to {here} "
        "(run `make install`, or `cargo build --release` in a checkout)\n"
    )
    sys.exit(2)
