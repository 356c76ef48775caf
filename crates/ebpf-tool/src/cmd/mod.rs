//! One module per subcommand.

pub mod btf;
pub mod core;
pub mod disasm;
pub mod feature;
pub mod inspect;
pub mod load;
pub mod objects;
pub mod pin;
pub mod run;
pub mod usdt;
