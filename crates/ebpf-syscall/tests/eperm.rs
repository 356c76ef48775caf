//! An unprivileged process gets a clear EPERM that names the capability.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::io::Read;

use ebpf_syscall::{Errno, MapCreateAttr, MapType, map_create};
use ebpf_test_support::kernel_test;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Uid, fork, pipe, setgid, setgroups, setuid};

const NOBODY: u32 = 65534;

#[test]
fn unprivileged_map_create_mentions_cap_bpf() {
    kernel_test(|| {
        let (read_end, write_end) = pipe().unwrap();
        // SAFETY: the child only drops privileges, makes one system call,
        // formats a message (glibc's malloc is fork-safe), writes it to the
        // pipe and leaves with _exit, never returning into the test harness.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                drop(read_end);
                let msg = (|| {
                    setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
                    setgid(Gid::from_raw(NOBODY)).map_err(|e| format!("setgid: {e}"))?;
                    setuid(Uid::from_raw(NOBODY)).map_err(|e| format!("setuid: {e}"))?;
                    match map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 4, 1)) {
                        Ok(_) => Err("map_create succeeded as nobody".to_owned()),
                        Err(e) if e.errno() == Some(Errno::PERM) => Ok(e.to_string()),
                        Err(e) => Err(format!("unexpected error: {e}")),
                    }
                })();
                let (code, text) = match msg {
                    Ok(t) => (0, t),
                    Err(t) => (1, t),
                };
                let _ = nix::unistd::write(&write_end, text.as_bytes());
                // SAFETY: _exit ends the forked child without running the
                // parent's atexit handlers or unwinding into the harness.
                unsafe { nix::libc::_exit(code) };
            }
            ForkResult::Parent { child } => {
                drop(write_end);
                let mut text = String::new();
                std::fs::File::from(read_end)
                    .read_to_string(&mut text)
                    .unwrap();
                let status = waitpid(child, None).unwrap();
                assert_eq!(status, WaitStatus::Exited(child, 0), "child said: {text}");
                assert!(
                    text.starts_with("BPF_MAP_CREATE: Operation not permitted (EPERM)"),
                    "{text}"
                );
                assert!(text.contains("CAP_BPF"), "{text}");
            }
        }
        Ok(())
    });
}
