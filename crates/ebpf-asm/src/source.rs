//! [`Source`]: where an instruction came from in the source code.

use std::fmt;
use std::sync::Arc;

/// Where an instruction came from in the source code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Source {
    /// The source file name.
    pub file_name: Option<Arc<str>>,
    /// The text of the line (or a free-form comment).
    pub line: Option<Arc<str>>,
    /// 1-based line number, 0 if unknown.
    pub line_number: u32,
    /// 1-based column number, 0 if unknown.
    pub column: u32,
}

impl Source {
    /// A source annotation holding only a line of text (or a comment).
    pub fn text(line: impl Into<Arc<str>>) -> Source {
        Source {
            line: Some(line.into()),
            ..Source::default()
        }
    }
}

impl fmt::Display for Source {
    /// `file:line:column: text`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(file) = &self.file_name {
            write!(f, "{file}")?;
            if self.line_number != 0 {
                write!(f, ":{}", self.line_number)?;
                if self.column != 0 {
                    write!(f, ":{}", self.column)?;
                }
            }
            sep = ": ";
        }
        if let Some(line) = &self.line {
            // One line, so that listings stay line-oriented.
            write!(f, "{sep}{}", line.trim().replace(['\n', '\r'], " "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_display() {
        let s = Source {
            file_name: Some("a.c".into()),
            line: Some("  x++;".into()),
            line_number: 3,
            column: 2,
        };
        assert_eq!(s.to_string(), "a.c:3:2: x++;");
        assert_eq!(Source::text("hi").to_string(), "hi");
        assert_eq!(Source::text("a\nb").to_string(), "a b");
    }
}
