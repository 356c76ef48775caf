//! Network interfaces named by name or index.

use std::fmt;

use crate::error::{Error, Result};

/// A network interface of the calling thread's network namespace, by name
/// or by index. Functions taking `impl Into<Interface>` accept both
/// (`"eth0"`, `3u32`).
///
/// ```
/// use ebpf_link::Interface;
/// assert_eq!(Interface::from("eth0"), Interface::Name("eth0"));
/// assert_eq!(Interface::from(3), Interface::Index(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface<'a> {
    /// By name (`eth0`).
    Name(&'a str),
    /// By index.
    Index(u32),
}

impl<'a> From<&'a str> for Interface<'a> {
    fn from(name: &'a str) -> Self {
        Interface::Name(name)
    }
}

impl<'a> From<&'a String> for Interface<'a> {
    fn from(name: &'a String) -> Self {
        Interface::Name(name)
    }
}

impl From<u32> for Interface<'_> {
    fn from(index: u32) -> Self {
        Interface::Index(index)
    }
}

impl fmt::Display for Interface<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interface::Name(n) => write!(f, "'{n}'"),
            Interface::Index(i) => write!(f, "with index {i}"),
        }
    }
}

impl Interface<'_> {
    /// Looks the interface up in the calling thread's network namespace.
    pub(crate) fn resolve(self) -> Result<Iface> {
        let missing = || Error::NoSuchInterface {
            interface: self.to_string(),
        };
        let gone = |e: nix::Error| {
            if e == nix::Error::ENODEV || e == nix::Error::ENXIO {
                missing()
            } else {
                Error::Io {
                    what: format!("look up network interface {self}"),
                    source: e.into(),
                }
            }
        };
        match self {
            Interface::Name(name) => {
                if name.is_empty() || name.contains(['\0', '/']) || name.len() >= 16 {
                    return Err(missing());
                }
                let index = nix::net::if_::if_nametoindex(name).map_err(gone)?;
                Ok(Iface {
                    name: name.to_owned(),
                    index,
                })
            }
            Interface::Index(index) => {
                let name = nix::net::if_::if_indextoname(index).map_err(gone)?;
                Ok(Iface {
                    name: name.to_string_lossy().into_owned(),
                    index,
                })
            }
        }
    }
}

/// A resolved interface: its name and index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Iface {
    pub(crate) name: String,
    pub(crate) index: u32,
}

impl Iface {
    /// `ifindex` as the `i32` rtnetlink headers carry.
    pub(crate) fn index_i32(&self) -> i32 {
        i32::try_from(self.index).unwrap_or(i32::MAX)
    }
}

impl fmt::Display for Iface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (ifindex {})", self.name, self.index)
    }
}
