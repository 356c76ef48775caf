//! An owned epoll instance and an eventfd for wake-ups, for the perf and ring buffer readers.
//!
//! ```
//! use std::time::Duration;
//! use ebpf_syscall::{Epoll, EventFd};
//! let epoll = Epoll::new()?;
//! let wake = EventFd::new()?;
//! epoll.add(&wake, 7)?;
//! wake.wake()?;
//! let mut ready = [0u64; 4];
//! assert_eq!(epoll.wait(&mut ready, Some(Duration::from_secs(1)))?, 1);
//! assert_eq!(ready[0], 7);
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::sys::epoll::{Epoll as NixEpoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd as NixEventFd};

use crate::{Errno, Error, Result};

/// The most events one [`Epoll::wait`] reports.
pub const EVENTS_PER_WAIT: usize = 64;

bitflags::bitflags! {
    /// What [`Epoll::add_with`] watches a file descriptor for (`EPOLL*` bits); combine
    /// with `|`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct EpollInterest: u32 {
        /// `EPOLLIN`: readable (a ring buffer with records, a perf ring past its
        /// wake-up threshold, a signalled eventfd).
        #[doc(alias = "EPOLLIN")]
        const READABLE = EpollFlags::EPOLLIN.bits() as u32;
        /// `EPOLLOUT`: writable (a `BPF_MAP_TYPE_USER_RINGBUF` with free space).
        #[doc(alias = "EPOLLOUT")]
        const WRITABLE = EpollFlags::EPOLLOUT.bits() as u32;
    }
}

impl EpollInterest {
    fn flags(self) -> EpollFlags {
        EpollFlags::from_bits_retain(self.bits() as i32)
    }
}

/// An epoll instance (closed on drop).
#[derive(Debug)]
pub struct Epoll {
    inner: NixEpoll,
}

impl Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn new() -> Result<Self> {
        let inner = NixEpoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
            .map_err(Error::syscall("epoll_create1"))?;
        Ok(Self { inner })
    }

    /// Watches `fd` for readability; `wait` reports it as `token`.
    ///
    /// The same as [`add_with`](Self::add_with) and [`EpollInterest::READABLE`].
    pub fn add(&self, fd: impl AsFd, token: u64) -> Result<()> {
        self.add_with(fd, token, EpollInterest::READABLE)
    }

    /// Watches `fd` for `interest` (level-triggered); `wait` reports it as
    /// `token` when any of it holds (or on an error or hang-up of `fd`, which
    /// epoll always reports).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ebpf_syscall::{Epoll, EpollInterest, EventFd};
    /// let epoll = Epoll::new()?;
    /// let fd = EventFd::new()?; // writable while its counter is below the maximum
    /// epoll.add_with(&fd, 3, EpollInterest::WRITABLE)?;
    /// let mut ready = [0u64; 1];
    /// assert_eq!(epoll.wait(&mut ready, Some(Duration::ZERO))?, 1);
    /// # Ok::<(), ebpf_syscall::Error>(())
    /// ```
    pub fn add_with(&self, fd: impl AsFd, token: u64, interest: EpollInterest) -> Result<()> {
        self.inner
            .add(fd, EpollEvent::new(interest.flags(), token))
            .map_err(Error::syscall("epoll_ctl(EPOLL_CTL_ADD)"))
    }

    /// Stops watching `fd`.
    pub fn delete(&self, fd: impl AsFd) -> Result<()> {
        self.inner
            .delete(fd)
            .map_err(Error::syscall("epoll_ctl(EPOLL_CTL_DEL)"))
    }

    /// Waits until a watched fd is ready (see [`add_with`](Self::add_with))
    /// or `timeout` passes (`None`: forever; zero: poll). Writes the ready
    /// tokens to `tokens` (at most [`EVENTS_PER_WAIT`]) and returns how many;
    /// 0 on timeout. `EINTR` is reported as 0 ready.
    pub fn wait(&self, tokens: &mut [u64], timeout: Option<Duration>) -> Result<usize> {
        let timeout = match timeout {
            None => EpollTimeout::NONE,
            Some(d) => EpollTimeout::try_from(d).unwrap_or(EpollTimeout::MAX),
        };
        // No allocation per wait: at most EVENTS_PER_WAIT events are reported at once.
        let mut events = [EpollEvent::empty(); EVENTS_PER_WAIT];
        let want = tokens.len().clamp(1, EVENTS_PER_WAIT);
        match self.inner.wait(&mut events[..want], timeout) {
            Ok(n) => {
                let n = n.min(tokens.len());
                for (t, e) in tokens.iter_mut().zip(&events[..n]) {
                    *t = e.data();
                }
                Ok(n)
            }
            Err(nix::errno::Errno::EINTR) => Ok(0),
            Err(e) => Err(Error::Syscall {
                call: "epoll_wait",
                errno: Errno::from(e),
            }),
        }
    }
}

impl AsFd for Epoll {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.0.as_fd()
    }
}

/// An eventfd used to wake a thread blocked in [`Epoll::wait`].
#[derive(Debug)]
pub struct EventFd {
    inner: NixEventFd,
}

impl EventFd {
    /// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`.
    pub fn new() -> Result<Self> {
        let inner = NixEventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(Error::syscall("eventfd"))?;
        Ok(Self { inner })
    }

    /// Makes the eventfd readable (wakes the waiter).
    pub fn wake(&self) -> Result<()> {
        self.inner
            .write(1)
            .map(drop)
            .map_err(Error::syscall("write(eventfd)"))
    }

    /// Resets the eventfd after a wake-up; returns how many wakes were pending.
    pub fn clear(&self) -> Result<u64> {
        match self.inner.read() {
            Ok(n) => Ok(n),
            Err(nix::errno::Errno::EAGAIN) => Ok(0),
            Err(e) => Err(Error::Syscall {
                call: "read(eventfd)",
                errno: Errno::from(e),
            }),
        }
    }
}

impl AsFd for EventFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}
