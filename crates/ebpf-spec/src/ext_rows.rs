//! The `.BTF.ext` records of one code section as a single [`ExtensionRows`] table: every
//! instruction with a func info, line info or CO-RE relocation refers to its row, so
//! attaching them allocates once per section instead of several times per instruction.

use std::any::{Any, TypeId};
use std::sync::Arc;

use ebpf_asm::{ExtensionRows, Source};
use ebpf_btf::{CoreRelo, FuncInfo, LineInfo};

/// The records of one instruction.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub func: Option<FuncInfo>,
    /// The line info and the source line made from it.
    pub line: Option<(LineInfo, Source)>,
    pub core: Option<CoreRelo>,
}

/// The rows of one code section.
#[derive(Debug, Default)]
pub(crate) struct SectionRows(pub Vec<Row>);

impl SectionRows {
    fn row(&self, row: u32) -> Option<&Row> {
        self.0.get(row as usize)
    }
}

impl ExtensionRows for SectionRows {
    fn source(&self, row: u32) -> Option<&Source> {
        self.row(row)?.line.as_ref().map(|(_, s)| s)
    }

    fn get(&self, row: u32, id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        let r = self.row(row)?;
        if id == TypeId::of::<FuncInfo>() {
            r.func.as_ref().map(|v| v as _)
        } else if id == TypeId::of::<LineInfo>() {
            r.line.as_ref().map(|(v, _)| v as _)
        } else if id == TypeId::of::<CoreRelo>() {
            r.core.as_ref().map(|v| v as _)
        } else {
            None
        }
    }

    fn extensions(&self, row: u32) -> Vec<(TypeId, &(dyn Any + Send + Sync))> {
        let Some(r) = self.row(row) else {
            return Vec::new();
        };
        let mut out: Vec<(TypeId, &(dyn Any + Send + Sync))> = Vec::with_capacity(3);
        if let Some(v) = &r.func {
            out.push((TypeId::of::<FuncInfo>(), v));
        }
        if let Some((v, _)) = &r.line {
            out.push((TypeId::of::<LineInfo>(), v));
        }
        if let Some(v) = &r.core {
            out.push((TypeId::of::<CoreRelo>(), v));
        }
        out
    }

    fn owned_extensions(&self, row: u32) -> Vec<(TypeId, Arc<dyn Any + Send + Sync>)> {
        let Some(r) = self.row(row) else {
            return Vec::new();
        };
        let mut out: Vec<(TypeId, Arc<dyn Any + Send + Sync>)> = Vec::with_capacity(3);
        if let Some(v) = &r.func {
            out.push((TypeId::of::<FuncInfo>(), Arc::new(v.clone())));
        }
        if let Some((v, _)) = &r.line {
            out.push((TypeId::of::<LineInfo>(), Arc::new(v.clone())));
        }
        if let Some(v) = &r.core {
            out.push((TypeId::of::<CoreRelo>(), Arc::new(v.clone())));
        }
        out
    }
}
