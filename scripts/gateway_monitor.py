#!/usr/bin/env python3
"""gateway_monitor: launcher for the compiled asm_gateway_monitor binary (auto-session-manager)."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from _launcher import exec_tool  # noqa: E402

exec_tool(__file__)
