//! The benchmark suites, one per layer.

use crate::Ctx;
use crate::report::Row;

mod asm;
mod btf;
pub mod co_re;
mod corpus;
mod elf;
mod events;
mod load;
mod maps;

/// Every suite, in the order the table shows them.
pub const ALL: &[fn(&Ctx) -> Vec<Row>] = &[
    asm::run,
    btf::run,
    elf::run,
    corpus::run,
    co_re::run,
    load::run,
    maps::run,
    events::run,
];

/// Performs the operation `what` with implementation `imp` and returns
/// something that keeps its memory alive (for the RSS child).
pub fn rss_op(what: &str, imp: &str) -> Option<Box<dyn std::any::Any>> {
    match what {
        "btf_vmlinux" => btf::rss_op(imp),
        _ => None,
    }
}
