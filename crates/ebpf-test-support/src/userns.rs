//! Running a test step as an unprivileged user in a new user namespace, with
//! a bpffs this (privileged) process delegated to it: what BPF tokens need.
//!
//! [`in_delegated_userns`] forks. The child drops to uid and gid 65534
//! (`nobody`), makes a user and a mount namespace in which it is root (its own
//! uid mapped to 0), opens a bpffs context there and passes it to the parent
//! (`SCM_RIGHTS` over a `SOCK_SEQPACKET` pair); the parent sets the
//! delegation options, makes the mount and passes it back; the child runs
//! the body with it and reports. What the host refuses (unprivileged user
//! namespaces, bpffs in one before 6.9, delegation) comes back as a
//! [`UsernsOutcome::Refused`] with the reason.
//!
//! # Safety
//!
//! `fork` is unsafe in a multi-threaded process: the child gets a copy of
//! memory with only the forking thread, so a lock another thread held stays
//! held. The harness runs test bodies one at a time (so no other test body
//! holds a library lock), and glibc's `fork` makes `malloc` safe in the child.
//! The child runs the body and leaves with `_exit`, never returning into the
//! test harness.
#![allow(unsafe_code, reason = "audited: see the module's # Safety section")]

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use ebpf_syscall::bpffs::{self, Delegation};
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Gid, Uid};

/// How a step in a delegated user namespace went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernsOutcome {
    /// The body returned `Ok`.
    Passed,
    /// The host refused a step of the set-up (the reason says which).
    Refused(String),
    /// The body returned this error, or the child died.
    Failed(String),
}

/// The unprivileged user the child becomes (outside its namespace).
const NOBODY: u32 = 65534;

fn send(sock: &OwnedFd, text: &str, fd: Option<RawFd>) -> nix::Result<()> {
    let fds = fd.map(|f| [f]);
    let cmsgs: Vec<ControlMessage<'_>> = fds
        .as_ref()
        .map(|f| vec![ControlMessage::ScmRights(f)])
        .unwrap_or_default();
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(text.as_bytes())],
        &cmsgs,
        MsgFlags::empty(),
        None,
    )
    .map(drop)
}

fn receive(sock: &OwnedFd) -> nix::Result<(String, Option<OwnedFd>)> {
    let mut buf = vec![0u8; 4096];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [IoSliceMut::new(&mut buf)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut fd = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for raw in fds {
                // SAFETY: SCM_RIGHTS gives this process new fds that nothing
                // else owns.
                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                fd.get_or_insert(owned);
            }
        }
    }
    let n = msg.bytes;
    Ok((String::from_utf8_lossy(&buf[..n]).into_owned(), fd))
}

/// The child: becomes nobody in its own user and mount namespaces, gets a
/// delegated bpffs from the parent and runs `body` on it. Returns the report.
fn child(sock: &OwnedFd, body: impl FnOnce(OwnedFd) -> Result<(), String>) -> String {
    let step = |what: &str, r: nix::Result<()>| r.map_err(|e| format!("refused: {what}: {e}"));
    let setup = || -> Result<(), String> {
        step("setgroups", nix::unistd::setgroups(&[]))?;
        let (gid, uid) = (Gid::from_raw(NOBODY), Uid::from_raw(NOBODY));
        step("setresgid", nix::unistd::setresgid(gid, gid, gid))?;
        step("setresuid", nix::unistd::setresuid(uid, uid, uid))?;
        // setuid made /proc/self root's; the maps below are written through it.
        step(
            "prctl(PR_SET_DUMPABLE)",
            nix::sys::prctl::set_dumpable(true),
        )?;
        step(
            "unshare(CLONE_NEWUSER | CLONE_NEWNS) as an unprivileged user",
            nix::sched::unshare(
                nix::sched::CloneFlags::CLONE_NEWUSER | nix::sched::CloneFlags::CLONE_NEWNS,
            ),
        )?;
        for (file, text) in [
            ("setgroups", "deny".to_owned()),
            ("uid_map", format!("0 {NOBODY} 1")),
            ("gid_map", format!("0 {NOBODY} 1")),
        ] {
            std::fs::write(format!("/proc/self/{file}"), text)
                .map_err(|e| format!("refused: write /proc/self/{file}: {e}"))?;
        }
        Ok(())
    };
    if let Err(report) = setup() {
        return report;
    }
    let context = match bpffs::open_context() {
        Ok(fd) => fd,
        Err(e) => return format!("refused: a bpffs in a user namespace (6.9): {e}"),
    };
    if let Err(e) = send(sock, "context", Some(context.as_raw_fd())) {
        return format!("failed: send the bpffs context: {e}");
    }
    drop(context);
    let mount = match receive(sock) {
        Ok((_, Some(fd))) => fd,
        Ok((text, None)) => return text,
        Err(e) => return format!("failed: receive the mount: {e}"),
    };
    match body(mount) {
        Ok(()) => "passed".to_owned(),
        Err(e) => format!("failed: {e}"),
    }
}

/// Runs `body` in a forked child with a bpffs mount delegating `delegation`,
/// and reports how it went. The child drops to uid and gid 65534, makes a
/// user and a mount namespace in which it is root, and opens a bpffs context
/// there; this process sets the delegation options, makes the mount and
/// passes it back; the child runs `body` with it. What the host refuses
/// (unprivileged user namespaces, bpffs in one before 6.9, delegation) is
/// [`UsernsOutcome::Refused`] with the reason.
pub fn in_delegated_userns(
    delegation: &Delegation,
    body: impl FnOnce(OwnedFd) -> Result<(), String>,
) -> UsernsOutcome {
    let (parent_sock, child_sock) = match socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    ) {
        Ok(p) => p,
        Err(e) => return UsernsOutcome::Failed(format!("socketpair: {e}")),
    };
    // SAFETY: see the module's # Safety section; the child only runs `child`
    // and `_exit`s.
    match unsafe { nix::unistd::fork() } {
        Err(e) => UsernsOutcome::Failed(format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            drop(parent_sock);
            let report = child(&child_sock, body);
            let _ = send(&child_sock, &report, None);
            // SAFETY: `_exit` ends the child at once, without running the
            // parent's atexit handlers or unwinding into the test harness.
            unsafe { nix::libc::_exit(0) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(child_sock);
            let outcome = parent(&parent_sock, delegation);
            let _ = waitpid(child, None);
            outcome
        }
    }
}

fn parent(sock: &OwnedFd, delegation: &Delegation) -> UsernsOutcome {
    let report = |text: String| match text.split_once(": ") {
        _ if text == "passed" => UsernsOutcome::Passed,
        Some(("refused", why)) => UsernsOutcome::Refused(why.to_owned()),
        Some(("failed", why)) => UsernsOutcome::Failed(why.to_owned()),
        _ => UsernsOutcome::Failed(format!("unexpected report '{text}'")),
    };
    let context = match receive(sock) {
        Ok((_, Some(fd))) => fd,
        Ok((text, None)) => return report(text),
        Err(e) => return UsernsOutcome::Failed(format!("receive the bpffs context: {e}")),
    };
    let mount = match bpffs::delegate(&context, delegation) {
        Ok(m) => m,
        Err(e) => {
            let why = format!("refused: delegating a bpffs: {e}");
            let _ = send(sock, &why, None);
            // Wait for the child to finish.
            let _ = receive(sock);
            return report(why);
        }
    };
    if let Err(e) = send(sock, "mount", Some(mount.as_raw_fd())) {
        return UsernsOutcome::Failed(format!("send the mount: {e}"));
    }
    drop(mount);
    match receive(sock) {
        Ok((text, _)) => report(text),
        Err(e) => UsernsOutcome::Failed(format!("receive the report: {e}")),
    }
}
