//! `ebpf-tool usdt list BINARY [--json]`: the USDT probes of an executable or
//! shared library, one call site each, with where their arguments are.
//!
//! ```text
//! ebpf_rs:args at 0x1948 (address 0x201948), semaphore at 0x3000 (address 0x203000)
//!   -4@$42 -8@%rax
//!   0: s32 = 42
//!   1: s64 in rax
//! ```

use ebpf_link::usdt::{self, UsdtProbe};

use crate::Result;
use serde_json::{Value, json};

fn probe_json(p: &UsdtProbe) -> Value {
    let args = match p.args() {
        Ok(args) => json!(args.iter().map(ToString::to_string).collect::<Vec<_>>()),
        Err(e) => json!({ "error": ebpf::ErrorChain(&e).to_string() }),
    };
    json!({
        "provider": p.provider,
        "name": p.name,
        "offset": p.offset,
        "address": p.address,
        "base": p.base,
        "semaphore_offset": p.semaphore_offset,
        "semaphore": p.semaphore,
        "arguments": p.arguments,
        "args": args,
    })
}

fn print_text(out: &mut String, probes: &[UsdtProbe]) {
    for p in probes {
        outw!(
            out,
            "{}:{} at {:#x} (address {:#x})",
            p.provider,
            p.name,
            p.offset,
            p.address
        );
        if p.semaphore != 0 {
            outw!(
                out,
                ", semaphore at {:#x} (address {:#x})",
                p.semaphore_offset,
                p.semaphore
            );
        }
        outln!(out);
        if p.arguments.is_empty() {
            outln!(out, "  no arguments");
            continue;
        }
        outln!(out, "  {}", p.arguments);
        match p.args() {
            Ok(args) => {
                for (i, a) in args.iter().enumerate() {
                    outln!(out, "  {i}: {a}");
                }
            }
            Err(e) => outln!(out, "  ({})", ebpf::ErrorChain(&e)),
        }
    }
}

/// `usdt list`.
pub fn list(binary: &str, json: bool) -> Result<String> {
    let probes = usdt::probes(binary)?;
    let mut out = String::new();
    if json {
        outln!(
            out,
            "{}",
            Value::Array(probes.iter().map(probe_json).collect())
        );
    } else if probes.is_empty() {
        outln!(out, "{binary}: no USDT probes");
    } else {
        print_text(&mut out, &probes);
    }
    Ok(out)
}
