//! `ebpf-tool`: inspect, disassemble, load and run eBPF objects with the
//! ebpf-rs crates, using only their public API.

/// `writeln!` into a `String`, which cannot fail.
macro_rules! outln {
    ($out:expr) => {{
        $out.push('\n');
    }};
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// `write!` into a `String`, which cannot fail.
macro_rules! outw {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($out, $($arg)*);
    }};
}

mod cmd;
mod privileges;
mod value;

use std::io::Write as _;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Errors are printed as one line, each cause once (`{:#}`), and give exit code 1.
pub type Result<T> = anyhow::Result<T>;

/// The number of instructions of a program that carry a CO-RE relocation.
pub fn core_relo_count(p: &ebpf_spec::ProgramSpec) -> usize {
    p.instructions
        .iter()
        .filter(|ins| ins.metadata.get::<ebpf_btf::CoreRelo>().is_some())
        .count()
}

#[derive(Debug, Parser)]
#[command(
    name = "ebpf-tool",
    version,
    about = "Inspect, disassemble, load and run eBPF objects"
)]
struct Cli {
    /// More log output on stderr: -v for info, -vv for debug, -vvv for trace
    /// (warnings are always shown; RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Sends the library's `log` records to stderr: warnings (a dropped section,
/// an unknown program type, ...) by default, more with each `-v`; `RUST_LOG`,
/// when set, replaces the default filter.
fn init_logger(verbose: u8) {
    let level = match verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    let mut builder = env_logger::Builder::new();
    builder
        .filter_level(level)
        // One line like the tool's errors: `ebpf-tool: warning: ...`.
        .format(|out, record| {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            writeln!(out, "ebpf-tool: {level}: {}", record.args())
        })
        .parse_default_env();
    // Only fails if a logger is already installed, which nothing else does.
    let _ = builder.try_init();
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the programs, maps, variables and BTF of an object file.
    Inspect {
        /// The BPF object (ELF) to read.
        object: String,
        /// Print JSON with the keys `programs`, `maps` and `variables`.
        #[arg(long)]
        json: bool,
    },
    /// Disassemble the programs of an object file (llvm-objdump syntax).
    Disasm {
        /// The BPF object (ELF) to read.
        object: String,
        /// Only this program.
        #[arg(long)]
        program: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load an object into the kernel and report what was created, or the verifier error.
    Load {
        /// The BPF object (ELF) to load.
        object: String,
        /// Pin maps and programs under this bpffs directory (they then outlive the tool).
        #[arg(long)]
        pin: Option<String>,
        /// Apply CO-RE against this BTF (raw BTF or ELF) instead of the running kernel's
        /// (attach targets, ksyms and struct_ops types still come from the running kernel).
        #[arg(long = "core-btf", visible_alias = "target", value_name = "BTF")]
        target: Option<String>,
        /// `PROGRAM=TARGET`: load freplace program PROGRAM against the loaded program
        /// TARGET (an id or a pinned path), whose function it replaces. Repeatable.
        #[arg(long = "attach-prog", value_name = "PROGRAM=TARGET")]
        attach_prog: Vec<String>,
        /// Print the whole verifier log: of a rejected program instead of its
        /// last lines, and of each program that loaded. (`--verbose` is the
        /// tool's own log level.)
        #[arg(long)]
        log: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Loaded programs.
    Prog {
        #[command(subcommand)]
        command: ObjCommand,
    },
    /// Maps.
    Map {
        #[command(subcommand)]
        command: MapCommand,
    },
    /// BPF links.
    Link {
        #[command(subcommand)]
        command: ListCommand,
    },
    /// Probe what the running kernel supports (map/program types, links, BTF kinds, misc).
    Feature {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the CO-RE fixups loading would apply (against the running kernel or a BTF file).
    Core {
        /// The BPF object (ELF) to read.
        object: String,
        /// Relocate against this BTF (raw BTF file or ELF object) instead of the running kernel.
        #[arg(long)]
        target: Option<String>,
    },
    /// Load an object, attach its programs and show its maps live.
    ///
    /// Without OBJECT, runs the embedded default object: a per-process syscall
    /// counter shown as a top table. Ctrl-C detaches and exits.
    Run {
        /// The BPF object (ELF) to run.
        object: Option<String>,
        /// Stop after this many seconds (default: until Ctrl-C).
        #[arg(long)]
        duration: Option<f64>,
        /// Seconds between refreshes of the map tables.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Rows shown per map.
        #[arg(long, default_value_t = 20)]
        top: usize,
    },
    /// Work with BTF.
    Btf {
        #[command(subcommand)]
        command: BtfCommand,
    },
    /// Generate Rust code: a skeleton for an object, or types from BTF.
    Gen {
        #[command(subcommand)]
        command: GenCommand,
    },
    /// What is pinned in a BPF filesystem.
    Pin {
        #[command(subcommand)]
        command: PinCommand,
    },
    /// USDT probes of executables and shared libraries.
    Usdt {
        #[command(subcommand)]
        command: UsdtCommand,
    },
}

#[derive(Debug, Subcommand)]
enum GenCommand {
    /// The skeleton of a prebuilt object: its types, the object embedded
    /// (include_bytes!), typed programs, maps and global variables.
    Skeleton {
        /// The BPF object (ELF).
        object: String,
        /// The object's name (default: the file name up to its first dot).
        #[arg(long)]
        name: Option<String>,
        /// Also generate this type (struct, union, enum or typedef name). Repeatable.
        #[arg(long = "type", value_name = "T")]
        types: Vec<String>,
        /// Write to FILE (the object is embedded by its path relative to FILE).
        #[arg(short, long, value_name = "FILE")]
        output: Option<String>,
    },
    /// Rust types for the types of a BTF file (e.g. /sys/kernel/btf/vmlinux).
    Types {
        /// A raw BTF file or a BPF object (ELF).
        file: String,
        /// Only these types (and what they contain). Repeatable; default: all.
        #[arg(long = "type", value_name = "T")]
        types: Vec<String>,
        /// Write to FILE.
        #[arg(short, long, value_name = "FILE")]
        output: Option<String>,
    },
    /// Minimal BTF for shipping (like bpftool's `gen min_core_btf`): only the
    /// types and members the objects' CO-RE relocations read of SOURCE_BTF.
    MinCoreBtf {
        /// The full BTF (e.g. a kernel's vmlinux BTF, raw or in an ELF file).
        source: String,
        /// Where to write the minimal BTF (raw, in the source's byte order).
        output: String,
        /// The BPF objects whose relocations must keep working.
        #[arg(required = true)]
        objects: Vec<String>,
    },
}

/// `pin tree [DIR]`.
#[derive(Debug, Subcommand)]
enum PinCommand {
    /// The tree of pinned maps, programs and links under DIR, each with its kind and id.
    Tree {
        /// A directory on a bpffs.
        #[arg(default_value = "/sys/fs/bpf")]
        dir: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `usdt list BINARY`.
#[derive(Debug, Subcommand)]
enum UsdtCommand {
    /// Every USDT call site of BINARY (.note.stapsdt), with its arguments.
    List {
        /// An executable or shared library: a path, or a name looked up like
        /// a uprobe's (`libc.so.6` in the library directories, else in PATH).
        binary: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `list` / `show ID|PATH`.
#[derive(Debug, Subcommand)]
enum ObjCommand {
    /// Every loaded object of this kind.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One object, by id or pinned path.
    Show {
        /// Id or bpffs path.
        what: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `list` / `show ID|PATH` / `dump ID|PATH`.
#[derive(Debug, Subcommand)]
enum MapCommand {
    /// Every map.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One map, by id or pinned path.
    Show {
        /// Id or bpffs path.
        what: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The entries of one map.
    Dump {
        /// Id or bpffs path.
        what: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `list`.
#[derive(Debug, Subcommand)]
enum ListCommand {
    /// Every object of this kind.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BtfCommand {
    /// Every BTF object loaded in the kernel (vmlinux, modules, programs').
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the types of a raw BTF file (e.g. /sys/kernel/btf/vmlinux) or an ELF object.
    Dump {
        /// A raw BTF file or a BPF object (ELF).
        file: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "raw")]
        format: cmd::btf::Format,
        /// Only the types named NAME and what they depend on (for C: the
        /// definitions they need first, a forward declaration where a pointer
        /// suffices). Repeatable.
        #[arg(long = "type", value_name = "NAME")]
        types: Vec<String>,
    },
}

/// A positive number of seconds from the command line.
fn seconds(v: f64, flag: &str) -> Result<std::time::Duration> {
    if v.is_finite() && v > 0.0 {
        Ok(std::time::Duration::from_secs_f64(v))
    } else {
        anyhow::bail!("{flag} must be a positive number of seconds, not {v}")
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logger(cli.verbose);
    let result = match &cli.command {
        Command::Inspect { object, json } => cmd::inspect::run(object, *json),
        Command::Disasm {
            object,
            program,
            json,
        } => cmd::disasm::run(object, program.as_deref(), *json),
        Command::Load {
            object,
            pin,
            target,
            attach_prog,
            log,
            json,
        } => cmd::load::run(
            object,
            &cmd::load::LoadOptions {
                pin: pin.as_deref(),
                target: target.as_deref(),
                attach_progs: attach_prog,
                log: *log,
                json: *json,
            },
        ),
        Command::Prog {
            command: ObjCommand::List { json },
        } => cmd::objects::prog_list(*json),
        Command::Prog {
            command: ObjCommand::Show { what, json },
        } => cmd::objects::prog_show(what, *json),
        Command::Map {
            command: MapCommand::List { json },
        } => cmd::objects::map_list(*json),
        Command::Map {
            command: MapCommand::Show { what, json },
        } => cmd::objects::map_show(what, *json),
        Command::Map {
            command: MapCommand::Dump { what, json },
        } => cmd::objects::map_dump(what, *json),
        Command::Link {
            command: ListCommand::List { json },
        } => cmd::objects::link_list(*json),
        Command::Btf {
            command: BtfCommand::List { json },
        } => cmd::objects::btf_list(*json),
        Command::Feature { json } => cmd::feature::run(*json),
        Command::Core { object, target } => cmd::core::run(object, target.as_deref()),
        Command::Run {
            object,
            duration,
            interval,
            top,
        } => seconds(*interval, "--interval").and_then(|interval| {
            let duration = duration.map(|d| seconds(d, "--duration")).transpose()?;
            cmd::run::run(&cmd::run::RunOptions {
                object: object.clone(),
                duration,
                interval,
                top: *top,
            })
        }),
        Command::Btf {
            command:
                BtfCommand::Dump {
                    file,
                    format,
                    types,
                },
        } => cmd::btf::dump(file, *format, types),
        Command::Gen {
            command:
                GenCommand::Skeleton {
                    object,
                    name,
                    types,
                    output,
                },
        } => cmd::codegen::skeleton(object, name.as_deref(), types, output.as_deref()),
        Command::Gen {
            command:
                GenCommand::Types {
                    file,
                    types,
                    output,
                },
        } => cmd::codegen::types(file, types, output.as_deref()),
        Command::Gen {
            command:
                GenCommand::MinCoreBtf {
                    source,
                    output,
                    objects,
                },
        } => cmd::codegen::min_core_btf(source, output, objects),
        Command::Usdt {
            command: UsdtCommand::List { binary, json },
        } => cmd::usdt::list(binary, *json),
        Command::Pin {
            command: PinCommand::Tree { dir, json },
        } => cmd::pin::tree(dir, *json),
    };
    match result {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                // A reader that went away (`| head`) is not an error.
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ebpf-tool: write output: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            // `{:#}`: the context and each cause once, joined with ": ".
            eprintln!("ebpf-tool: {}", privileges::hint(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
