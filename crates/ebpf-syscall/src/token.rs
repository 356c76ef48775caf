//! BPF tokens: the privileges of a delegated bpffs, used by map creation,
//! program loads and BTF loads inside a user namespace.
//!
//! A bpffs mounted by a privileged process with delegation options
//! (`delegate_cmds`, `delegate_maps`, `delegate_progs`, `delegate_attachs`;
//! see the `bpffs` module) for a user namespace lets a process of that
//! namespace create a token (`BPF_TOKEN_CREATE`), which then stands in for
//! `CAP_BPF` and friends in `BPF_MAP_CREATE`, `BPF_PROG_LOAD` and
//! `BPF_BTF_LOAD` (`BPF_F_TOKEN_FD`).
//!
//! Every map creation, program load and BTF load of this crate uses the
//! *current* token when its attr names none: the one a [`with_token`] scope
//! set on this thread, else the process's [`default_token`], found as libbpf
//! finds it: the bpffs at `$LIBBPF_BPF_TOKEN_PATH` (an empty value means no
//! token), else `/sys/fs/bpf` if it has delegation (quietly nothing otherwise).
//!
//! ```no_run
//! use ebpf_syscall::token::{self, Token};
//! use ebpf_syscall::{MapCreateAttr, MapType, map_create};
//! let token = Token::from_path("/sys/fs/bpf/delegated")?;
//! // Map creations, program and BTF loads in the closure use the token.
//! let map = token::with_token(&token, || {
//!     map_create(&MapCreateAttr::new(MapType::ARRAY, 4, 8, 1))
//! })?;
//! # Ok::<(), ebpf_syscall::Error>(())
//! ```
//!
//! # Minimum kernel version
//!
//! 6.9.

use std::cell::Cell;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::{Errno, Error, KernelVersion, NotSupported, Result};

/// The environment variable naming the bpffs to create the default token
/// from, as libbpf reads it (empty: no token).
pub const TOKEN_PATH_ENV: &str = "LIBBPF_BPF_TOKEN_PATH";

/// Where the default token is looked for without [`TOKEN_PATH_ENV`].
pub const DEFAULT_BPFFS: &str = "/sys/fs/bpf";

/// A BPF token. Closed when dropped.
///
/// # Minimum kernel version
///
/// 6.9.
#[derive(Debug)]
pub struct Token {
    fd: OwnedFd,
    path: Option<PathBuf>,
}

impl AsFd for Token {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Token {
    /// `BPF_TOKEN_CREATE` from `bpffs`, the root of a bpffs mounted with
    /// delegation options, by a process of the user namespace it was made for.
    ///
    /// A bpffs without delegation is `ENOENT`, the initial user namespace
    /// `EOPNOTSUPP`, another user namespace or a missing `CAP_BPF` in it `EPERM`.
    ///
    /// # Minimum kernel version
    ///
    /// 6.9.
    #[doc(alias = "BPF_TOKEN_CREATE")]
    pub fn create(bpffs: impl AsFd) -> Result<Token> {
        match crate::token_create(bpffs) {
            Ok(fd) => Ok(Token { fd, path: None }),
            // An unknown command before 6.9.
            Err(e)
                if e.errno() == Some(Errno::INVAL)
                    && crate::current_kernel().is_ok_and(|v| v < KernelVersion::new(6, 9, 0)) =>
            {
                Err(NotSupported::new("BPF tokens", KernelVersion::new(6, 9, 0)).into())
            }
            Err(e) => Err(e),
        }
    }

    /// A token from the bpffs mounted at `path`.
    ///
    /// # Minimum kernel version
    ///
    /// 6.9.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Token> {
        let path = path.as_ref();
        let dir = std::fs::File::open(path)
            .map_err(Error::io(format!("open bpffs {}", path.display())))?;
        let mut token = Self::create(&dir).map_err(|e| match e {
            Error::Bpf { cmd, errno } => Error::Io {
                what: format!("{} from {}", crate::error::command(cmd), path.display()),
                source: std::io::Error::from_raw_os_error(errno.0),
            },
            other => other,
        })?;
        token.path = Some(path.to_owned());
        Ok(token)
    }

    /// Wraps a token fd.
    pub fn from_fd(fd: OwnedFd) -> Token {
        Token { fd, path: None }
    }

    /// The bpffs it was created from, when made by [`Token::from_path`].
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// What [`with_token`] and [`without_token`] set on this thread: `None` to
/// fall back to the default, `Some(None)` for no token, `Some(Some(fd))`.
type Scope = Option<Option<i32>>;

thread_local! {
    static SCOPE: Cell<Scope> = const { Cell::new(None) };
}

/// Restores the previous scope when a [`with_token`] call ends (also on panic).
struct Restore(Scope);

impl Drop for Restore {
    fn drop(&mut self) {
        SCOPE.with(|s| s.set(self.0));
    }
}

fn scoped<R>(scope: Option<i32>, f: impl FnOnce() -> R) -> R {
    let _restore = Restore(SCOPE.with(|s| s.replace(Some(scope))));
    f()
}

/// Runs `f` with `token` as this thread's current token: the map creations,
/// program and BTF loads `f` makes use it.
pub fn with_token<R>(token: &Token, f: impl FnOnce() -> R) -> R {
    scoped(Some(token.fd.as_raw_fd()), f)
}

/// Runs `f` without a token on this thread, whatever the default.
pub fn without_token<R>(f: impl FnOnce() -> R) -> R {
    scoped(None, f)
}

/// What `$LIBBPF_BPF_TOKEN_PATH` asks for: [`env_token`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvToken {
    /// The variable is unset: use the default (a delegated `/sys/fs/bpf`, else none).
    Unset,
    /// The variable is empty: no token at all.
    Disabled,
    /// A token from the bpffs at this path (failing to make it is an error).
    Path(PathBuf),
}

/// Reads `$LIBBPF_BPF_TOKEN_PATH` now, as libbpf does at each object load. The one place
/// the variable is read: [`default_token`] asks once per process, `ebpf`'s collection
/// loader at each load.
pub fn env_token() -> EnvToken {
    match std::env::var_os(TOKEN_PATH_ENV) {
        None => EnvToken::Unset,
        Some(p) if p.is_empty() => EnvToken::Disabled,
        Some(p) => EnvToken::Path(PathBuf::from(p)),
    }
}

/// The process's default token, made once: from the bpffs at
/// `$LIBBPF_BPF_TOKEN_PATH` (any failure is an error; an empty value means
/// none), else from `/sys/fs/bpf` when that has delegation (any failure
/// means none, as in libbpf).
pub fn default_token() -> Result<Option<&'static Token>> {
    static DEFAULT: OnceLock<core::result::Result<Option<Token>, String>> = OnceLock::new();
    let found = DEFAULT.get_or_init(|| match env_token() {
        EnvToken::Disabled => Ok(None),
        EnvToken::Path(p) => Token::from_path(&p).map(Some).map_err(|e| {
            format!(
                "{TOKEN_PATH_ENV}={}: {}",
                p.display(),
                crate::ErrorChain(&e)
            )
        }),
        EnvToken::Unset => Ok(Token::from_path(DEFAULT_BPFFS).ok()),
    });
    match found {
        Ok(t) => Ok(t.as_ref()),
        Err(msg) => Err(Error::InvalidArgument(msg.clone())),
    }
}

/// The raw fd of this thread's current token, if any (the [`with_token`]
/// scope's, else the [`default_token`]'s): what the next map creation,
/// program or BTF load uses.
pub fn current() -> Option<i32> {
    match SCOPE.with(Cell::get) {
        Some(scope) => scope,
        None => default_token().ok().flatten().map(|t| t.fd.as_raw_fd()),
    }
}

/// `(fd, flags)` of an attr with the current token applied: unchanged if the
/// attr already names one (`BPF_F_TOKEN_FD` in `flags`) or there is none.
pub(crate) fn apply(fd: i32, flags: u32) -> (i32, u32) {
    if flags & crate::BPF_F_TOKEN_FD != 0 {
        return (fd, flags);
    }
    match current() {
        Some(token) => (token, flags | crate::BPF_F_TOKEN_FD),
        None => (fd, flags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        let fake = |fd| Token {
            fd: std::fs::File::open("/dev/null")
                .map(OwnedFd::from)
                .unwrap_or_else(|_| panic!("open /dev/null for fd {fd}")),
            path: None,
        };
        let (a, b) = (fake(1), fake(2));
        let (ra, rb) = (a.fd.as_raw_fd(), b.fd.as_raw_fd());
        with_token(&a, || {
            assert_eq!(current(), Some(ra));
            assert_eq!(apply(0, 0), (ra, crate::BPF_F_TOKEN_FD));
            // An attr that names its own token keeps it.
            assert_eq!(
                apply(77, crate::BPF_F_TOKEN_FD),
                (77, crate::BPF_F_TOKEN_FD)
            );
            with_token(&b, || assert_eq!(current(), Some(rb)));
            without_token(|| assert_eq!(apply(0, 4), (0, 4)));
            assert_eq!(current(), Some(ra));
        });
        assert_eq!(SCOPE.with(Cell::get), None);
    }
}
