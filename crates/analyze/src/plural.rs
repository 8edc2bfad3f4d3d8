//! Counts in report text: `1 time`, `2 times`.

use std::fmt::Display;

/// `n` followed by `one` when `n` is 1, else by `many`: `plural(1, "time", "times")` is
/// `1 time`. Any integer (it is judged by how it is written).
pub(crate) fn plural(n: impl Display, one: &str, many: &str) -> String {
    let n = n.to_string();
    let word = if n == "1" { one } else { many };
    format!("{n} {word}")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1_u64, "time", "times"), "1 time");
        assert_eq!(plural(1_usize, "input", "inputs"), "1 input");
        assert_eq!(plural(0_u32, "time", "times"), "0 times");
        assert_eq!(plural(2_i64, "agent", "agents"), "2 agents");
        assert_eq!(plural(11_u64, "time", "times"), "11 times");
    }
}
