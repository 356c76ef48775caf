//! A profiler's SIGPROF storm does not make BPF_PROG_LOAD fail, and the
//! thread's signal mask is restored afterwards.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::insn;
use ebpf_syscall::{ProgLoadAttr, ProgramType, prog_load};
use ebpf_test_support::kernel_test;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction};

static DELIVERED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigprof(_: nix::libc::c_int) {
    DELIVERED.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn prog_load_survives_sigprof() {
    kernel_test(|| {
        let action = SigAction::new(
            SigHandler::Handler(on_sigprof),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        // SAFETY: the handler only touches an atomic counter, which is async-signal-safe.
        let old = unsafe { sigaction(Signal::SIGPROF, &action) }.unwrap();

        // A long program: verification takes a while, during which SIGPROF keeps coming.
        let mut insns = Vec::new();
        for _ in 0..200_000 {
            insns.extend_from_slice(&insn(0xb7, 0, 0, 0, 0));
        }
        insns.extend_from_slice(&insn(0x95, 0, 0, 0, 0));
        let mut attr = ProgLoadAttr::new(ProgramType::SOCKET_FILTER, c"GPL");
        attr.set_insns(&insns).unwrap();

        // SAFETY: pthread_self has no preconditions.
        let target = unsafe { nix::libc::pthread_self() };
        let done = AtomicBool::new(false);
        let res = std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    // SAFETY: `target` is the test thread, alive until `done` is set
                    // (the scope joins this thread before the test thread returns).
                    let _ = unsafe { nix::libc::pthread_kill(target, nix::libc::SIGPROF) };
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            });
            let res = prog_load(&attr);
            done.store(true, Ordering::Relaxed);
            res
        });
        let prog = res.unwrap();
        drop(prog);

        // The mask is as before: SIGPROF is not left blocked.
        let mut mask = SigSet::empty();
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, None, Some(&mut mask)).unwrap();
        assert!(!mask.contains(Signal::SIGPROF));
        assert!(
            DELIVERED.load(Ordering::Relaxed) > 0,
            "the signals were delivered after the load"
        );

        // SAFETY: restores the previous disposition.
        unsafe { sigaction(Signal::SIGPROF, &old) }.unwrap();
        Ok(())
    });
}
