//! CPU lists of `/sys/devices/system/cpu/{online,possible}`.

use crate::ringbuf::ReaderError;

/// Parses a kernel CPU list such as `0-3,5,7-8` (a trailing newline allowed).
pub(crate) fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let text = text.trim();
    if text.is_empty() {
        return Some(out);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().ok()?),
        }
    }
    Some(out)
}

/// Reads and parses `/sys/devices/system/cpu/<which>`.
pub(crate) fn read_cpu_list(which: &str) -> Result<Vec<u32>, ReaderError> {
    let path = format!("/sys/devices/system/cpu/{which}");
    let text = std::fs::read_to_string(&path).map_err(|source| ReaderError::Io {
        what: format!("read {path}"),
        source,
    })?;
    parse_cpu_list(&text).ok_or_else(|| ReaderError::Io {
        what: format!("parse {path}"),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("'{}' is not a CPU list", text.trim()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0\n"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-3"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpu_list("0-1,4,6-7\n"), Some(vec![0, 1, 4, 6, 7]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
        assert_eq!(parse_cpu_list("1,,2"), None);
    }
}
