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

/// What the operation `what` works on, read before the RSS child's first reading so that
/// it is not counted (the bytes of a corpus object).
pub fn rss_input(what: &str) -> Option<Vec<u8>> {
    corpus::rss_input(what)
}

/// Performs the operation `what` with implementation `imp` on `input` (see
/// [`rss_input`]) and returns something that keeps its memory alive (for the RSS child).
pub fn rss_op(what: &str, imp: &str, input: Option<&[u8]>) -> Option<Box<dyn std::any::Any>> {
    match (what, input) {
        ("btf_vmlinux", _) => btf::rss_op(imp),
        (_, Some(data)) if corpus::is_rss_op(what) => corpus::rss_op(imp, data),
        _ => None,
    }
}
