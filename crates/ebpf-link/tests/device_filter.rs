//! A program built in code, the way runc and containerd make their device
//! filters: instructions from the `ebpf_asm` builder, loaded as
//! `BPF_PROG_TYPE_CGROUP_DEVICE` with no object file, attached to a fresh
//! cgroup without naming an attach type, and checked from a process inside it.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::process::{Command, Stdio};

use ebpf::{AttachType, Program, ProgramOptions, ProgramSpec, ProgramType};
use ebpf_asm::Register::*;
use ebpf_asm::{AluOp, Builder, Instructions, JumpOp, Size, exit, load_mem, mov64};
use ebpf_link::{Link, LinkInfoData, cgroup};
use ebpf_test_support::{TempCgroup, TestResult, kernel_test};

/// Set in the environment of the child that [`open_in`] starts: the devices
/// to open, `path:mode,...`.
const CHILD_ENV: &str = "EBPF_TEST_DEVICE_FILTER_OPENS";

/// `BPF_DEVCG_DEV_CHAR`.
const DEV_CHAR: i32 = 2;
/// `BPF_DEVCG_ACC_MKNOD`, `_READ`, `_WRITE`.
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

/// A character device a filter allows, and how.
struct Allow {
    major: i32,
    minor: i32,
    access: i32,
}

/// An allow-list device filter, one block per rule as runc generates it: a
/// device that no rule allows is refused (`EPERM`).
fn device_filter(rules: &[Allow]) -> Result<Instructions, ebpf_asm::Error> {
    let mut b = Builder::new();
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
    b.push(load_mem(R2, R1, 0, Size::W))
        .push(AluOp::And.imm32(R2, 0xffff)) // device type
        .push(load_mem(R3, R1, 0, Size::W))
        .push(AluOp::Rsh.imm32(R3, 16)) // access asked for
        .push(load_mem(R4, R1, 4, Size::W))
        .push(load_mem(R5, R1, 8, Size::W));
    for (i, rule) in rules.iter().enumerate() {
        let next = format!("rule-{}", i + 1);
        b.label(format!("rule-{i}"))
            .push(JumpOp::Ne.imm(R2, DEV_CHAR, &next))
            .push(JumpOp::Ne.imm(R4, rule.major, &next))
            .push(JumpOp::Ne.imm(R5, rule.minor, &next))
            // Any access the rule does not allow: not this rule.
            .push(JumpOp::Set.imm(R3, !rule.access & 7, &next))
            .push(mov64(R0, 1))
            .push(exit());
    }
    b.label(format!("rule-{}", rules.len()))
        .push(mov64(R0, 0))
        .push(exit());
    b.build()
}

/// `/dev/zero` for reading and writing, `/dev/full` for reading; not `/dev/null`.
fn rules() -> Vec<Allow> {
    vec![
        Allow {
            major: 1,
            minor: 5,
            access: ACC_READ | ACC_WRITE | ACC_MKNOD,
        },
        Allow {
            major: 1,
            minor: 7,
            access: ACC_READ,
        },
    ]
}

/// Opens each `path:mode` of `opens` (mode `r`, `w` or `rw`) in a child
/// process moved into `cg` (when given) before it opens anything; one line
/// per open: `ok` or the errno.
fn open_in(
    cg: Option<&TempCgroup>,
    opens: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "child_opens_devices",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, opens)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(cg) = cg {
        cg.add_process(child.id())?;
    }
    // The child waits for this line before opening anything.
    child.stdin.take().ok_or("no stdin")?.write_all(b"go\n")?;
    let out = child.wait_with_output()?;
    assert!(out.status.success(), "child failed: {out:?}");
    Ok(String::from_utf8(out.stdout)?
        .lines()
        // libtest may have written "test child_opens_devices ... " on the same line.
        .filter_map(|l| l.split_once("@open ").map(|(_, r)| r.to_owned()))
        .collect())
}

/// The child side of [`open_in`]; does nothing as a test of its own.
#[test]
fn child_opens_devices() {
    let Ok(opens) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).unwrap();
    for open in opens.split(',') {
        let (path, mode) = open.split_once(':').unwrap();
        let res = OpenOptions::new()
            .read(mode.contains('r'))
            .write(mode.contains('w'))
            .open(path);
        match res {
            Ok(_) => println!("@open {open} ok"),
            Err(e) => println!("@open {open} errno {}", e.raw_os_error().unwrap_or(-1)),
        }
    }
}

const OPENS: &str = "/dev/zero:rw,/dev/full:r,/dev/full:w,/dev/null:r";

#[test]
fn device_filter_built_in_code() {
    kernel_test(|| -> TestResult {
        let insns = device_filter(&rules())?;
        let spec = ProgramSpec::with_type("dev_filter", ProgramType::CGROUP_DEVICE, insns.clone())
            .license("Apache-2.0");
        let prog = Program::load(&spec, &ProgramOptions::default())?;
        assert_eq!(prog.attach_type(), Some(AttachType::CGROUP_DEVICE));

        // The kernel hashed what was built here (SHA-256 from 6.18, SHA-1 before).
        let info = prog.info()?;
        assert!(info.tag.matches(&insns), "kernel tag {}", info.tag);
        assert_eq!(info.tag, ebpf::info::kernel_tag(&insns)?);

        let cg = TempCgroup::new()?;
        let link = cgroup::attach(&prog, &cg)?; // no attach type given
        let eperm = format!("errno {}", nix::errno::Errno::EPERM as i32);
        let want = [
            "/dev/zero:rw ok".to_owned(),
            "/dev/full:r ok".to_owned(),
            format!("/dev/full:w {eperm}"),
            format!("/dev/null:r {eperm}"),
        ];
        assert_eq!(open_in(Some(&cg), OPENS)?, want);
        // Only that cgroup is filtered.
        assert!(open_in(None, OPENS)?.iter().all(|l| l.ends_with(" ok")));
        // Dropping the link detaches the filter.
        drop(link);
        assert!(
            open_in(Some(&cg), OPENS)?
                .iter()
                .all(|l| l.ends_with(" ok"))
        );
        Ok(())
    });
}

#[test]
fn struct_literal_and_load_raw_attach_without_an_attach_type() {
    kernel_test(|| -> TestResult {
        let insns = device_filter(&rules())?;
        // cilium's `ProgramSpec{Type: CGroupDevice, ...}`: no expected attach type at
        // load; the cgroup attach takes the program type's only one.
        let spec = ProgramSpec {
            name: "dev_literal".into(),
            program_type: ProgramType::CGROUP_DEVICE,
            instructions: insns.clone(),
            license: "Apache-2.0".into(),
            ..Default::default()
        };
        let literal = Program::load(&spec, &ProgramOptions::default())?;
        assert_eq!(literal.attach_type(), None);
        let raw = Program::load_raw(ProgramType::CGROUP_DEVICE, insns, "Apache-2.0")?;
        assert_eq!(raw.attach_type(), Some(AttachType::CGROUP_DEVICE));

        let cg = TempCgroup::new()?;
        for prog in [&literal, &raw] {
            let link = cgroup::attach(prog, &cg)?;
            if link.is_bpf_link() {
                match link.info()?.data {
                    LinkInfoData::Cgroup { attach_type, .. } => {
                        assert_eq!(attach_type, ebpf_syscall::AttachType::CGROUP_DEVICE);
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        Ok(())
    });
}
