//! The program tag, computed as the kernel does in `bpf_prog_calc_tag`.
//!
//! The kernel hashes the program's instructions (in host byte order) after zeroing the
//! immediates of `ld_imm64` with a map fd (`BPF_PSEUDO_MAP_FD`) or map value
//! (`BPF_PSEUDO_MAP_VALUE`) source, both halves, because fds differ between loads. The tag
//! is the first 8 bytes of the digest: SHA-1 before Linux 6.18, SHA-256 from 6.18 on
//! (commit "bpf: Update the bpf_prog_calc_tag to use SHA256").
//!
//! ```
//! use ebpf_asm::{Instructions, TagAlgorithm, exit, mov64, Register::R0};
//!
//! let prog = Instructions::from(vec![mov64(R0, 0), exit()]);
//! let tag = prog.tag(TagAlgorithm::for_kernel(6, 18))?;
//! assert_eq!(tag.to_string().len(), 16);
//! # Ok::<(), ebpf_asm::Error>(())
//! ```

use std::fmt;

use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::{Endianness, Instructions, Result, SLOT_SIZE};

/// The hash the kernel uses for the program tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagAlgorithm {
    /// SHA-1: kernels before 6.18.
    Sha1,
    /// SHA-256: kernels 6.18 and later.
    Sha256,
}

impl TagAlgorithm {
    /// The algorithm of the kernel version `major.minor` (`ebpf::info::tag_algorithm` gives
    /// the running kernel's).
    pub const fn for_kernel(major: u32, minor: u32) -> TagAlgorithm {
        if major > 6 || (major == 6 && minor >= 18) {
            TagAlgorithm::Sha256
        } else {
            TagAlgorithm::Sha1
        }
    }
}

/// An 8-byte program tag, as the kernel reports it (`bpf_prog_info.tag`, `ebpf::ProgramInfo::tag`)
/// and as computed here; `Display` writes 16 lowercase hex digits as bpftool does.
///
/// ```
/// use ebpf_asm::{Instructions, ProgramTag, TagAlgorithm, exit, mov64, Register::R0};
///
/// let prog = Instructions::from(vec![mov64(R0, 0), exit()]);
/// // What Linux 6.18 reports for this program (bpftool: 59f4a931744dcdc6 on x86-64):
/// let reported = ProgramTag::of(&prog, TagAlgorithm::Sha256)?;
/// assert!(reported.matches(&prog));
/// assert_eq!(reported.algorithm_for(&prog), Some(TagAlgorithm::Sha256));
/// assert!(!ProgramTag::from([0; 8]).matches(&prog));
/// # Ok::<(), ebpf_asm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ProgramTag(pub [u8; 8]);

impl ProgramTag {
    /// The tag of `insns` with `algorithm`: the same as [`Instructions::tag`].
    pub fn of(insns: &Instructions, algorithm: TagAlgorithm) -> Result<ProgramTag> {
        insns.tag(algorithm)
    }

    /// Whether this tag, as a kernel reported it, is the tag of `insns` (in host byte
    /// order), whichever hash that kernel uses: SHA-1 before 6.18, SHA-256 from 6.18 on.
    /// Trying both needs no kernel version and is right on kernels that backport the
    /// change; an 8-byte prefix of one digest equal to the other's is as unlikely as any
    /// other collision. `false` when `insns` cannot be encoded.
    pub fn matches(&self, insns: &Instructions) -> bool {
        self.algorithm_for(insns).is_some()
    }

    /// The hash with which `insns` give this tag, if either does (see
    /// [`matches`](ProgramTag::matches)).
    pub fn algorithm_for(&self, insns: &Instructions) -> Option<TagAlgorithm> {
        let bytes = insns.marshal(Endianness::NATIVE).ok()?;
        [TagAlgorithm::Sha256, TagAlgorithm::Sha1]
            .into_iter()
            .find(|&alg| tag_of_bytes(&bytes, Endianness::NATIVE, alg) == *self)
    }

    /// The 8 bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }
}

impl From<[u8; 8]> for ProgramTag {
    fn from(bytes: [u8; 8]) -> ProgramTag {
        ProgramTag(bytes)
    }
}

impl PartialEq<[u8; 8]> for ProgramTag {
    fn eq(&self, other: &[u8; 8]) -> bool {
        self.0 == *other
    }
}

impl From<ProgramTag> for [u8; 8] {
    fn from(tag: ProgramTag) -> [u8; 8] {
        tag.0
    }
}

impl fmt::Display for ProgramTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The tag of already encoded instructions `insns` (as passed to the kernel).
pub fn tag_of_bytes(insns: &[u8], order: Endianness, algorithm: TagAlgorithm) -> ProgramTag {
    let mut buf = insns.to_vec();
    let mut was_ld_map = false;
    for slot in buf.chunks_exact_mut(SLOT_SIZE) {
        let code = slot[0];
        let regs = slot[1];
        let src = match order {
            Endianness::Little => regs >> 4,
            Endianness::Big => regs & 0x0f,
        };
        let off_zero = slot[2] == 0 && slot[3] == 0;
        if !was_ld_map && code == 0x18 && (src == 1 || src == 2) {
            was_ld_map = true;
            slot[4..8].fill(0);
        } else if was_ld_map && code == 0 && regs == 0 && off_zero {
            was_ld_map = false;
            slot[4..8].fill(0);
        } else {
            was_ld_map = false;
        }
    }
    let mut tag = [0u8; 8];
    match algorithm {
        TagAlgorithm::Sha1 => tag.copy_from_slice(&Sha1::digest(&buf)[..8]),
        TagAlgorithm::Sha256 => tag.copy_from_slice(&Sha256::digest(&buf)[..8]),
    }
    ProgramTag(tag)
}

impl Instructions {
    /// The tag the running kernel reports for this program: marshalled in host byte order.
    pub fn tag(&self, algorithm: TagAlgorithm) -> Result<ProgramTag> {
        self.tag_with_order(Endianness::NATIVE, algorithm)
    }

    /// The tag for a kernel with byte order `order`.
    pub fn tag_with_order(&self, order: Endianness, algorithm: TagAlgorithm) -> Result<ProgramTag> {
        Ok(tag_of_bytes(&self.marshal(order)?, order, algorithm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use Register::*;

    #[test]
    fn map_fds_do_not_change_the_tag() {
        for alg in [TagAlgorithm::Sha1, TagAlgorithm::Sha256] {
            for order in [Endianness::Little, Endianness::Big] {
                let a = Instructions::from(vec![load_map_value_fd(R1, 3, 8), mov64(R0, 0), exit()]);
                let b =
                    Instructions::from(vec![load_map_value_fd(R1, 9, 16), mov64(R0, 0), exit()]);
                let c = Instructions::from(vec![
                    load_imm64_pseudo(R1, PseudoLoad::BtfId, 3),
                    mov64(R0, 0),
                    exit(),
                ]);
                let d = Instructions::from(vec![
                    load_imm64_pseudo(R1, PseudoLoad::BtfId, 9),
                    mov64(R0, 0),
                    exit(),
                ]);
                assert_eq!(a.tag_with_order(order, alg), b.tag_with_order(order, alg));
                assert_ne!(c.tag_with_order(order, alg), d.tag_with_order(order, alg));
            }
        }
        assert_eq!(TagAlgorithm::for_kernel(6, 17), TagAlgorithm::Sha1);
        assert_eq!(TagAlgorithm::for_kernel(7, 0), TagAlgorithm::Sha256);
    }

    #[test]
    fn known_tag() {
        // `r0 = 0; exit` as loaded on Linux 6.18 (x86-64): bpftool reports tag 59f4a931744dcdc6;
        // older kernels report a04f5eef06a7f555.
        let prog = Instructions::from(vec![mov64(R0, 0), exit()]);
        let tag = |alg| {
            prog.tag_with_order(Endianness::Little, alg)
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(tag(TagAlgorithm::Sha256), "59f4a931744dcdc6");
        assert_eq!(tag(TagAlgorithm::Sha1), "a04f5eef06a7f555");
    }

    #[test]
    fn known_tag_with_map() {
        // A map lookup loaded on Linux 6.18 with bpftool: tag 400826cb9081371b, whatever the fd.
        let prog = Instructions::from(vec![
            mov64(R1, 1),
            store_mem(R10, -4, R1, Size::W),
            mov64_reg(R2, R10),
            AluOp::Add.imm(R2, -4),
            load_map_fd(R1, 42),
            call(Helper::MapLookupElem),
            mov64_reg(R1, R0),
            mov64(R0, 0),
            JumpOp::Eq.imm_offset(R1, 0, 1),
            load_mem(R0, R1, 0, Size::DW),
            exit(),
        ]);
        let tag = prog.tag_with_order(Endianness::Little, TagAlgorithm::Sha256);
        assert_eq!(
            tag.map(|t| t.to_string()).ok().as_deref(),
            Some("400826cb9081371b")
        );
    }
}
