//! Writing Rust the way rustfmt lays it out (default configuration), for the
//! few shapes the generator emits, so its output needs no formatter: lines up
//! to 100 columns, and calls, signatures and assertions that do not fit broken
//! the way rustfmt breaks them. A test runs `rustfmt --check` on the goldens.

/// rustfmt's `max_width`.
pub(crate) const MAX_WIDTH: usize = 100;

/// Indentation of `level` steps of four spaces.
pub(crate) fn ind(level: usize) -> String {
    " ".repeat(level * 4)
}

/// `/// text` at `level`, one line per line of `text`.
pub(crate) fn doc(out: &mut String, level: usize, text: &str) {
    for line in text.lines() {
        out.push_str(&ind(level));
        if line.is_empty() {
            out.push_str("///\n");
        } else {
            out.push_str("/// ");
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// `head(args)tail` at `level`: on one line if it fits, else one argument a
/// line (rustfmt's vertical call layout).
pub(crate) fn call(out: &mut String, level: usize, head: &str, args: &[String], tail: &str) {
    let joined = args.join(", ");
    let one = format!("{}{head}({joined}){tail}", ind(level));
    if one.len() <= MAX_WIDTH && joined.len() <= 60 {
        out.push_str(&one);
        out.push('\n');
        return;
    }
    out.push_str(&format!("{}{head}(\n", ind(level)));
    for a in args {
        out.push_str(&format!("{}{a},\n", ind(level + 1)));
    }
    out.push_str(&format!("{}){tail}\n", ind(level)));
}

/// A function signature `{vis}fn name(params) -> ret {` at `level`, broken
/// one parameter a line when it does not fit.
pub(crate) fn fn_sig(out: &mut String, level: usize, head: &str, params: &[&str], ret: &str) {
    let ret = if ret.is_empty() {
        String::new()
    } else {
        format!(" -> {ret}")
    };
    let one = format!("{}{head}({}){ret} {{", ind(level), params.join(", "));
    if one.len() <= MAX_WIDTH {
        out.push_str(&one);
        out.push('\n');
        return;
    }
    out.push_str(&format!("{}{head}(\n", ind(level)));
    for p in params {
        out.push_str(&format!("{}{p},\n", ind(level + 1)));
    }
    out.push_str(&format!("{}){ret} {{\n", ind(level)));
}

/// `assert!(lhs == rhs);` at `level`, where `lhs` is `size_of::<T>()` or
/// `offset_of!(T, field)`.
pub(crate) fn assert_eq_line(out: &mut String, level: usize, lhs: &str, rhs: u64) {
    let one = format!("{}assert!({lhs} == {rhs});", ind(level));
    if one.len() <= MAX_WIDTH {
        out.push_str(&one);
        out.push('\n');
        return;
    }
    out.push_str(&format!("{}assert!(\n", ind(level)));
    let inner = format!("{}{lhs} == {rhs}", ind(level + 1));
    if inner.len() <= MAX_WIDTH {
        out.push_str(&inner);
        out.push('\n');
    } else if let Some(args) = lhs
        .strip_prefix("offset_of!(")
        .and_then(|a| a.strip_suffix(')'))
    {
        out.push_str(&format!("{}offset_of!(\n", ind(level + 1)));
        for a in args.split(", ") {
            out.push_str(&format!("{}{a},\n", ind(level + 2)));
        }
        out.push_str(&format!("{}) == {rhs}\n", ind(level + 1)));
    } else {
        out.push_str(&inner);
        out.push('\n');
    }
    out.push_str(&format!("{});\n", ind(level)));
}

/// `pub const NAME: Self = Self(value);` at `level`.
pub(crate) fn const_self(out: &mut String, level: usize, name: &str, value: &str) {
    let one = format!("{}pub const {name}: Self = Self({value});", ind(level));
    if one.len() <= MAX_WIDTH {
        out.push_str(&one);
    } else {
        out.push_str(&format!(
            "{}pub const {name}: Self =\n{}Self({value});",
            ind(level),
            ind(level + 1)
        ));
    }
    out.push('\n');
}
