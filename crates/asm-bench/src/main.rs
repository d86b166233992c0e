//! asm_bench: generates synthetic histories in the real formats and times the tools over them.

mod bench_memory;
mod gen_claude_code;
mod gen_openclaw;
mod gen_opencode;

fn main() {
    let root = std::env::temp_dir().join("asm-bench");
    let _ = gen_claude_code::generate(&root, 0, 0);
    let _ = gen_opencode::generate(&root, 0, 0);
    let _ = gen_openclaw::generate(&root, 0, 0);
    if std::env::args().any(|a| a == "memory") {
        println!("{}", bench_memory::run(&std::env::temp_dir()));
    }
}
