//! What every binary does the same way: start logging, print one JSON document, and turn a
//! result into one error line on stderr and an exit code (0 ok, 1 problem, 2 usage/config).

use crate::logging::{self, LogTarget};
use crate::{Error, Runtime};
use serde::Serialize;
use std::io::Write;

pub const EXIT_OK: i32 = 0;
pub const EXIT_PROBLEM: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// Starts logging for `tool` (file `logs/asm_<tool>.log`, plus stderr when attended).
pub fn start_logging(tool: &str, target: LogTarget, rt: &Runtime) {
    logging::init(tool, target, &rt.paths, &rt.config);
}

/// Ends the process: the exit code of `Ok`, or one redacted error line and the error's code.
pub fn exit(tool: &str, result: crate::Result<i32>) -> ! {
    let code = match result {
        Ok(code) => code,
        Err(e) => report(tool, &e),
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

/// The one error printer: `asm_<tool>: error: <message>` on a single line.
pub fn report(tool: &str, e: &Error) -> i32 {
    let line = crate::redact::redact(&e.to_string()).replace('\n', " ");
    log::error!("{line}");
    eprintln!("asm_{tool}: error: {line}");
    e.exit_code()
}

/// Says in one line on stderr what problem a run found (the reason behind exit 1), so a
/// caller that only sees stderr, such as the monitor, can tell why.
pub fn report_problem(tool: &str, line: &str) {
    eprintln!("asm_{tool}: problem: {}", crate::redact::redact(line).replace('\n', " "));
}

/// Prints exactly one JSON document on stdout, with every string redacted.
pub fn print_json<T: Serialize>(doc: &T) -> crate::Result<()> {
    let mut value = serde_json::to_value(doc).map_err(|e| Error::Failed(format!("cannot encode output: {e}")))?;
    crate::redact::redact_json(&mut value);
    let text = serde_json::to_string_pretty(&value).map_err(|e| Error::Failed(format!("cannot encode output: {e}")))?;
    let mut out = std::io::stdout().lock();
    // A closed stdout (`| head`) is not an error worth a panic.
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// Prints a session list, whose strings were redacted where they were read
/// ([`crate::session::SessionList::redact`]): streamed straight to stdout, because a list of
/// ten thousand sessions through [`print_json`]'s generic JSON tree costs more than finding
/// them did.
pub fn print_session_list(list: &crate::session::SessionList) -> crate::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    // A closed stdout (`| head`) is not an error worth reporting.
    if serde_json::to_writer_pretty(&mut out, list).is_ok() {
        let _ = writeln!(out);
    }
    let _ = out.flush();
    Ok(())
}

/// One JSON document with `json`, else the text for people.
pub fn print_either<T: Serialize>(doc: &T, text: &str, json: bool) -> crate::Result<()> {
    if json {
        print_json(doc)
    } else {
        print_text(text);
        Ok(())
    }
}

/// Prints human text on stdout, redacted.
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", crate::redact::redact(text));
}
