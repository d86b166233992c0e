//! OpenClaw gateway watch: probes, the incident state machine, restart and repair.
