//! The assembler's lexer: a cursor over one line, reading registers, numbers,
//! identifiers, punctuation and memory operands.

use crate::{Register, Size};

/// A position in the text being assembled.
pub(super) struct Cursor<'a> {
    pub(super) s: &'a str,
    pub(super) pos: usize,
}

/// A parse step's result: the reason as text (the caller adds the line).
pub(super) type P<T> = std::result::Result<T, String>;

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

impl<'a> Cursor<'a> {
    pub(super) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    pub(super) fn ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    pub(super) fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, tok: &str) -> P<()> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(format!("expected {tok:?} at {:?}", self.rest()))
        }
    }

    pub(super) fn at_end(&mut self) -> bool {
        self.ws();
        self.rest().is_empty()
    }

    pub(super) fn ident(&mut self) -> Option<&'a str> {
        self.ws();
        let r = self.rest();
        let first = r.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_' || first == '.' || first == '$') {
            return None;
        }
        let len = r.find(|c: char| !is_ident_char(c)).unwrap_or(r.len());
        self.pos += len;
        r.get(..len)
    }

    pub(super) fn peek_ident(&mut self) -> Option<&'a str> {
        let save = self.pos;
        let id = self.ident();
        self.pos = save;
        id
    }

    pub(super) fn word(&mut self, w: &str) -> bool {
        let save = self.pos;
        if self.ident() == Some(w) {
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// A register `rN` or `wN`; returns it and whether it is the 64-bit spelling.
    pub(super) fn reg(&mut self) -> Option<(Register, bool)> {
        let save = self.pos;
        let id = self.ident()?;
        let parsed = (|| {
            let wide = match id.as_bytes().first()? {
                b'r' => true,
                b'w' => false,
                _ => return None,
            };
            let n: u8 = id.get(1..)?.parse().ok()?;
            if id.len() > 2 && id.as_bytes().get(1) == Some(&b'0') {
                return None;
            }
            Some((Register::from_u8(n)?, wide))
        })();
        if parsed.is_none() {
            self.pos = save;
        }
        parsed
    }

    pub(super) fn expect_reg(&mut self) -> P<(Register, bool)> {
        self.reg()
            .ok_or_else(|| format!("expected a register at {:?}", self.rest()))
    }

    /// A number with optional sign: decimal or `0x` hex.
    pub(super) fn num(&mut self) -> Option<i128> {
        self.ws();
        let save = self.pos;
        let neg = if self.rest().starts_with('-') {
            self.pos += 1;
            true
        } else {
            if self.rest().starts_with('+') {
                self.pos += 1;
            }
            false
        };
        self.ws();
        let r = self.rest();
        let (digits, radix) = match r.strip_prefix("0x").or_else(|| r.strip_prefix("0X")) {
            Some(h) => (h, 16),
            None => (r, 10),
        };
        let len = digits
            .find(|c: char| !c.is_digit(radix))
            .unwrap_or(digits.len());
        let value = digits
            .get(..len)
            .filter(|d| !d.is_empty() && d.len() <= 32)
            .and_then(|d| i128::from_str_radix(d, radix).ok());
        let Some(v) = value else {
            self.pos = save;
            return None;
        };
        let tail = digits.get(len..).unwrap_or("");
        if tail.starts_with(is_ident_char) {
            self.pos = save;
            return None;
        }
        self.pos += r.len() - tail.len();
        Some(if neg { -v } else { v })
    }

    pub(super) fn expect_num(&mut self) -> P<i128> {
        self.num()
            .ok_or_else(|| format!("expected a number at {:?}", self.rest()))
    }

    /// `(u32 *)` or `(s8 *)`: returns whether signed, and the size.
    pub(super) fn ptr_type(&mut self) -> P<(bool, Size)> {
        self.expect("(")?;
        let id = self.ident().ok_or("expected a type")?;
        let signed = id.starts_with('s');
        let size = match id.get(1..) {
            Some("8") => Size::B,
            Some("16") => Size::H,
            Some("32") => Size::W,
            Some("64") if !signed => Size::DW,
            _ => return Err(format!("bad type {id:?}")),
        };
        if !(id.starts_with('u') || signed) {
            return Err(format!("bad type {id:?}"));
        }
        self.expect("*")?;
        self.expect(")")?;
        Ok((signed, size))
    }

    /// `reg + off` or `reg - off` (without parentheses).
    pub(super) fn base_offset(&mut self) -> P<(Register, i16)> {
        let (r, _) = self.expect_reg()?;
        let off = if self.eat("+") {
            self.expect_num()?
        } else if self.eat("-") {
            -self.expect_num()?
        } else {
            0
        };
        Ok((
            r,
            i16::try_from(off).map_err(|_| format!("offset {off} out of range"))?,
        ))
    }

    /// `(reg + off)`.
    pub(super) fn mem(&mut self) -> P<(Register, i16)> {
        self.expect("(")?;
        let m = self.base_offset()?;
        self.expect(")")?;
        Ok(m)
    }
}

impl Cursor<'_> {
    pub(super) fn reg_name(&self, id: &str) -> Option<Register> {
        let mut c = Cursor { s: id, pos: 0 };
        c.reg().filter(|_| c.at_end()).map(|(r, _)| r)
    }
}
