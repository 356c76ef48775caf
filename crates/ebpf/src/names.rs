//! Object names: what the kernel accepts as a map or program name.

/// A kernel-acceptable object name: invalid characters dropped, at most 15 bytes.
pub(crate) fn sanitize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .take(15)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            sanitize_name("a-very-long-map-name-here"),
            "averylongmapnam"
        );
        assert_eq!(sanitize_name(".rodata"), ".rodata");
    }
}
