// auto-session-manager (ASM) for OpenCode, installed by
// `session_manager --install-hooks --platform opencode` and removed by `--remove-hooks`.
//
// - A new session in a project with a pending handoff receives it, once, in the system prompt
//   of its first main request (not the title request, not a compaction).
// - Before OpenCode compacts a session, ASM extracts the session's key information; after the
//   compaction, that key information goes into the compacted session's next request.
//
// Each of these asks ASM's hook command (the JSON array below) with a JSON line on stdin, the
// same protocol as ASM's Claude Code hooks. Nothing here ever stops OpenCode: a failing or
// slow command (60 s at most) is ignored. ASM_HOOKS_OFF=1 in the environment turns it off.
import { spawnSync } from "node:child_process";

const ASM_COMMAND = __ASM_COMMAND__;
const TIMEOUT_MS = 60000;
const TITLE_PROMPT = "You are a title generator";
const SUMMARY_PROMPT = "You are a context summarization agent";

function ask(event, sessionID, directory, source) {
  if (process.env.ASM_HOOKS_OFF === "1") return "";
  try {
    const input = JSON.stringify({ hook_event_name: event, session_id: sessionID, cwd: directory, source });
    const run = spawnSync(ASM_COMMAND[0], ASM_COMMAND.slice(1), { input, encoding: "utf8", timeout: TIMEOUT_MS });
    if (run.status !== 0 || !run.stdout || !run.stdout.trim()) return "";
    const out = JSON.parse(run.stdout);
    return (out.hookSpecificOutput && out.hookSpecificOutput.additionalContext) || "";
  } catch (e) {
    return "";
  }
}

export const AutoSessionManager = async ({ directory }) => {
  const firstTurn = new Map(); // sessionID -> no assistant message yet
  const looked = new Set(); // sessions whose pending handoff was already looked up
  const compacted = new Set(); // sessions compacted since their last main request
  return {
    "experimental.chat.messages.transform": async (_input, output) => {
      const messages = output.messages || [];
      const sessionID = messages[0] && messages[0].info && messages[0].info.sessionID;
      if (sessionID) firstTurn.set(sessionID, !messages.some((m) => m.info && m.info.role === "assistant"));
    },
    "experimental.chat.system.transform": async (input, output) => {
      const sessionID = input.sessionID;
      const head = (output.system && output.system[0]) || "";
      if (!sessionID || head.startsWith(TITLE_PROMPT) || head.startsWith(SUMMARY_PROMPT)) return;
      if (compacted.delete(sessionID)) {
        const keyInformation = ask("SessionStart", sessionID, directory, "compact");
        if (keyInformation) output.system.push(keyInformation);
        return;
      }
      if (looked.has(sessionID)) return;
      looked.add(sessionID);
      if (firstTurn.get(sessionID) !== true) return;
      const handoff = ask("SessionStart", sessionID, directory, "startup");
      if (handoff) output.system.push(handoff);
    },
    "experimental.session.compacting": async (input) => {
      ask("PreCompact", input.sessionID, directory, undefined);
    },
    event: async ({ event }) => {
      if (event && event.type === "session.compacted" && event.properties) compacted.add(event.properties.sessionID);
    },
  };
};
