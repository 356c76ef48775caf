//! Support for the code `ebpf-gen` generates: bitfield accessors, union
//! members, C strings and the data sections of skeletons. The generated code
//! calls these; they are public so that it can, and are not meant to be
//! called directly.
//!
//! ```
//! use ebpf::codegen::{bitfield_get_le, bitfield_set_le};
//! let mut storage = [0u8; 2];
//! bitfield_set_le(&mut storage, 3, 5, 0b10110);
//! assert_eq!(storage, [0b1011_0000, 0]);
//! assert_eq!(bitfield_get_le(&storage, 3, 5), 0b10110);
//! ```

use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::error::{Error, Result};
use crate::maps::Pod;
use crate::{Collection, CollectionSpec, GlobalData, Map};

/// The bytes holding bits `bit..bit + width` and the value they form read as
/// a little- or big-endian integer, with the field's shift in it.
fn window(bytes: &[u8], bit: u64, width: u32, big_endian: bool) -> (usize, usize, u128, u32) {
    let first = (bit / 8) as usize;
    let last = ((bit + u64::from(width.max(1)) - 1) / 8) as usize;
    let n = last + 1 - first;
    let mut v: u128 = 0;
    for i in 0..n {
        let b = u128::from(bytes.get(first + i).copied().unwrap_or(0));
        if big_endian {
            v = (v << 8) | b;
        } else {
            v |= b << (8 * i);
        }
    }
    let within = (bit % 8) as u32;
    let shift = if big_endian {
        n as u32 * 8 - within - width
    } else {
        within
    };
    (first, n, v, shift)
}

fn mask(width: u32) -> u128 {
    if width >= 64 {
        u128::from(u64::MAX)
    } else {
        (1u128 << width) - 1
    }
}

fn get(bytes: &[u8], bit: u64, width: u32, big_endian: bool) -> u64 {
    if width == 0 {
        return 0;
    }
    let (_, _, v, shift) = window(bytes, bit, width, big_endian);
    ((v >> shift) & mask(width)) as u64
}

fn set(bytes: &mut [u8], bit: u64, width: u32, value: u64, big_endian: bool) {
    if width == 0 {
        return;
    }
    let (first, n, v, shift) = window(bytes, bit, width, big_endian);
    let m = mask(width) << shift;
    let v = (v & !m) | ((u128::from(value) << shift) & m);
    for i in 0..n {
        let b = if big_endian {
            (v >> (8 * (n - 1 - i))) as u8
        } else {
            (v >> (8 * i)) as u8
        };
        if let Some(slot) = bytes.get_mut(first + i) {
            *slot = b;
        }
    }
}

fn sign_extend(v: u64, width: u32) -> i64 {
    if width == 0 || width >= 64 {
        return v as i64;
    }
    let s = 64 - width;
    ((v << s) as i64) >> s
}

/// Bits `bit..bit + width` of `bytes`, numbered as a little-endian object
/// numbers them (bit 0 is the lowest bit of byte 0).
pub fn bitfield_get_le(bytes: &[u8], bit: u64, width: u32) -> u64 {
    get(bytes, bit, width, false)
}

/// Like [`bitfield_get_le`], sign-extended.
pub fn bitfield_get_signed_le(bytes: &[u8], bit: u64, width: u32) -> i64 {
    sign_extend(get(bytes, bit, width, false), width)
}

/// Bits `bit..bit + width` of `bytes`, numbered as a big-endian object
/// numbers them (bit 0 is the highest bit of byte 0).
pub fn bitfield_get_be(bytes: &[u8], bit: u64, width: u32) -> u64 {
    get(bytes, bit, width, true)
}

/// Like [`bitfield_get_be`], sign-extended.
pub fn bitfield_get_signed_be(bytes: &[u8], bit: u64, width: u32) -> i64 {
    sign_extend(get(bytes, bit, width, true), width)
}

/// Sets bits `bit..bit + width` (little-endian numbering) to the low bits of `value`.
pub fn bitfield_set_le(bytes: &mut [u8], bit: u64, width: u32, value: u64) {
    set(bytes, bit, width, value, false);
}

/// Sets bits `bit..bit + width` (big-endian numbering) to the low bits of `value`.
pub fn bitfield_set_be(bytes: &mut [u8], bit: u64, width: u32, value: u64) {
    set(bytes, bit, width, value, true);
}

/// A `T` read from `bytes` at `offset` (zero where `bytes` ends early).
pub fn read_at<T: FromBytes>(bytes: &[u8], offset: usize) -> T {
    let src = bytes.get(offset..).unwrap_or(&[]);
    match T::read_from_prefix(src) {
        Ok((v, _)) => v,
        Err(_) => {
            let mut buf = vec![0u8; size_of::<T>()];
            let n = buf.len().min(src.len());
            buf[..n].copy_from_slice(&src[..n]);
            T::read_from_bytes(&buf).unwrap_or_else(|_| T::new_zeroed())
        }
    }
}

/// Writes `value` into `bytes` at `offset` (as much of it as fits).
pub fn write_at<T: IntoBytes + Immutable>(bytes: &mut [u8], offset: usize, value: &T) {
    let src = value.as_bytes();
    if let Some(dst) = bytes.get_mut(offset..) {
        let n = dst.len().min(src.len());
        dst[..n].copy_from_slice(&src[..n]);
    }
}

/// `bytes` up to its first NUL byte (all of it if there is none).
pub fn c_str(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

fn no_section(section: &str) -> Error {
    Error::NotFound {
        kind: "data section",
        name: section.to_owned(),
    }
}

/// The value of data section `section` of `spec` as a `T` (before load).
pub fn section_value<T: FromBytes>(spec: &CollectionSpec, section: &str) -> Result<T> {
    let map = spec.maps.get(section).ok_or_else(|| no_section(section))?;
    Ok(read_at(map.data().unwrap_or(&[]), 0))
}

/// Writes `value` as the contents of data section `section` of `spec` (before load).
pub fn set_section_value<T: IntoBytes + Immutable>(
    spec: &mut CollectionSpec,
    section: &str,
    value: &T,
) -> Result<()> {
    let map = spec
        .maps
        .get_mut(section)
        .ok_or_else(|| no_section(section))?;
    let data = map
        .data_mut()
        .ok_or_else(|| Error::InvalidArgument(format!("map '{section}' is not a data section")))?;
    let bytes = value.as_bytes();
    if bytes.len() != data.len() {
        return Err(Error::InvalidArgument(format!(
            "data section '{section}' has {} bytes, its type {}",
            data.len(),
            bytes.len()
        )));
    }
    data.copy_from_slice(bytes);
    Ok(())
}

/// Data section `section` of a loaded collection, typed.
pub fn global_data<T: Pod>(collection: &Collection, section: &str) -> Result<GlobalData<T>> {
    let map: &Map = collection
        .maps
        .get(section)
        .ok_or_else(|| no_section(section))?;
    GlobalData::new(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitfields_both_orders() {
        // struct { unsigned a:3, b:5, c:12; } in a little-endian object: a is
        // bits 0..3 of byte 0; in a big-endian one the top 3 bits of byte 0.
        let mut le = [0u8; 4];
        bitfield_set_le(&mut le, 0, 3, 5);
        bitfield_set_le(&mut le, 3, 5, 17);
        bitfield_set_le(&mut le, 8, 12, 0xabc);
        assert_eq!(le, [0b1000_1101, 0xbc, 0x0a, 0]);
        assert_eq!(bitfield_get_le(&le, 0, 3), 5);
        assert_eq!(bitfield_get_le(&le, 3, 5), 17);
        assert_eq!(bitfield_get_le(&le, 8, 12), 0xabc);
        let mut be = [0u8; 4];
        bitfield_set_be(&mut be, 0, 3, 5);
        bitfield_set_be(&mut be, 3, 5, 17);
        bitfield_set_be(&mut be, 8, 12, 0xabc);
        assert_eq!(be, [0b1011_0001, 0xab, 0xc0, 0]);
        assert_eq!(bitfield_get_be(&be, 3, 5), 17);
        assert_eq!(bitfield_get_be(&be, 8, 12), 0xabc);
        bitfield_set_le(&mut le, 3, 5, 0b11111);
        assert_eq!(bitfield_get_signed_le(&le, 3, 5), -1);
        // A 64-bit field straddling 9 bytes.
        let mut wide = [0u8; 9];
        bitfield_set_le(&mut wide, 4, 64, u64::MAX - 1);
        assert_eq!(bitfield_get_le(&wide, 4, 64), u64::MAX - 1);
        assert_eq!(wide[0] & 0xf, 0);
        assert_eq!(c_str(b"ab\0c"), b"ab");
        assert_eq!(read_at::<u32>(&[1, 0, 0, 0, 2], 1), 0x0200_0000);
    }
}
