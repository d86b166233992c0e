//! Key-information extraction from transcripts and the session memory store
//! (`<state>/.session_memory/<session_id>.json`).
