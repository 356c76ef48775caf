//! aya-obj, aya's object and BTF parser.

use aya_obj::btf::{Btf, BtfKind};

/// `Btf::parse` of raw BTF bytes.
pub fn parse_btf(data: &[u8]) -> Option<Btf> {
    Btf::parse(data, object::Endianness::default()).ok()
}

/// `Btf::from_sys_fs`: reads and parses `/sys/kernel/btf/vmlinux`.
pub fn parse_vmlinux() -> Option<Btf> {
    Btf::from_sys_fs().ok()
}

/// `Btf::id_by_type_name_kind(name, Struct)`.
pub fn find_struct(btf: &Btf, name: &str) -> Option<u32> {
    btf.id_by_type_name_kind(name, BtfKind::Struct).ok()
}

/// `Object::parse` of an ELF object.
pub fn open_object(data: &[u8]) -> bool {
    aya_obj::Object::parse(data).is_ok()
}

/// The aya-obj version this runner was built with.
pub const VERSION: &str = "0.2";

/// `Object::parse` of an ELF object, kept.
pub fn parse_object(data: &[u8]) -> Option<aya_obj::Object> {
    aya_obj::Object::parse(data).ok()
}

/// `Object::relocate_btf`: applies the object's CO-RE relocations against `target`.
pub fn relocate(obj: &mut aya_obj::Object, target: &Btf) -> bool {
    obj.relocate_btf(target).is_ok()
}
