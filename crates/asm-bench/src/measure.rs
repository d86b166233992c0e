//! The floors and the usage of a child: stat every transcript, read the last 64 KiB of every
//! transcript (small loops here, no shell tools), and the peak RSS and CPU of one command,
//! taken by running it under `asm_bench measure` (a fresh process, so `getrusage` of its
//! children is that command's alone).

use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Stats every file: the least any listing must do.
pub fn stat_all(files: &[PathBuf]) {
    for f in files {
        let _ = std::fs::metadata(f);
    }
}

/// Reads the last `tail` bytes of every file: what a listing that reads each transcript's end costs.
pub fn tail_all(files: &[PathBuf], tail: usize) {
    let mut buf = vec![0u8; tail];
    for f in files {
        if let Ok(file) = std::fs::File::open(f) {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let start = len.saturating_sub(tail as u64);
            let _ = file.read_at(&mut buf[..(len - start) as usize], start);
        }
    }
}

/// Peak RSS and CPU of one command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub rss_mib: f64,
    pub cpu_ms: f64,
}

/// Runs `cmd` under `asm_bench measure` and reads what it reported.
pub fn usage_of(cmd: &mut Command) -> Usage {
    let mut wrapper = Command::new(std::env::current_exe().expect("current exe"));
    wrapper.arg("measure").arg(cmd.get_program()).args(cmd.get_args()).env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapper.env(k, v);
        }
    }
    let out = wrapper.stderr(Stdio::null()).output().ok();
    let doc: Option<serde_json::Value> = out.and_then(|o| serde_json::from_slice(&o.stdout).ok());
    let get = |k: &str| doc.as_ref().and_then(|d| d[k].as_f64()).unwrap_or(f64::NAN);
    Usage { rss_mib: get("rss_kib") / 1024.0, cpu_ms: get("cpu_ms") }
}

/// `asm_bench measure <program> <args…>`: runs it (output dropped), prints its peak RSS and CPU.
pub fn child(args: &[String]) -> i32 {
    use nix::sys::resource::{getrusage, UsageWho};
    let Some((program, rest)) = args.split_first() else { return 2 };
    let status = Command::new(program).args(rest).stdout(Stdio::null()).stderr(Stdio::null()).status();
    let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) else { return 1 };
    let ms = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1000.0 + t.tv_usec() as f64 / 1000.0;
    let cpu = ms(usage.user_time()) + ms(usage.system_time());
    println!("{}", serde_json::json!({"rss_kib": usage.max_rss(), "cpu_ms": cpu, "exit": status.ok().and_then(|s| s.code())}));
    0
}
