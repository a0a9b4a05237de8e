//! One error type for the whole crate. Every message says what was wrong and what to do,
//! because it reaches a mini-program developer as the text of a JavaScript `Error`.

use std::fmt;

/// What went wrong, by area. The text is meant for a developer reading a console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The caller passed something mpchat cannot use (a missing `to`, an unknown type, …).
    Input(String),
    /// The key-value storage refused a call (quota, size, or a throw from `wx`).
    Storage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Error::Storage(message.into())
    }

    pub fn message(&self) -> &str {
        match self {
            Error::Input(m) | Error::Storage(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) => write!(f, "mpchat: {m}"),
            Error::Storage(m) => write!(f, "mpchat storage: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A number as JavaScript's `String(n)` writes it (`-5`, `0.5`, `9007199254740992`, `1e+300`, `1e-7`), for
/// messages that quote a number back to the developer who passed it.
pub fn number_text(n: f64) -> String {
    if !n.is_finite() {
        return String::from(if n.is_nan() {
            "NaN"
        } else if n > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
    }
    if n == 0.0 {
        return String::from("0");
    }
    // Rust writes the shortest digits that read back as `n`, as JavaScript does; only the layout differs.
    let scientific = format!("{:e}", n.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let count = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    // n = 0.<digits> × 10^point
    let point = exponent.parse::<i32>().unwrap_or(0).saturating_add(1);
    let zeros = |k: i32| "0".repeat(usize::try_from(k).unwrap_or(0));
    let split = |at: i32| digits.split_at(usize::try_from(at).unwrap_or(0).min(digits.len()));
    let mut out = String::with_capacity(digits.len() + 8);
    if n < 0.0 {
        out.push('-');
    }
    if count <= point && point <= 21 {
        out.push_str(&digits);
        out.push_str(&zeros(point - count));
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = split(point);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.push_str(&zeros(-point));
        out.push_str(&digits);
    } else {
        let (first, rest) = split(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if point > 0 { '+' } else { '-' });
        out.push_str(&(point - 1).unsigned_abs().to_string());
    }
    out
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_javascript_writes_them() {
        let table = [
            (0.0, "0"),
            (-0.0, "0"),
            (-5.0, "-5"),
            (1.5, "1.5"),
            (-0.5, "-0.5"),
            (91.0, "91"),
            (-180.5, "-180.5"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.2345678901234567e23, "1.2345678901234567e+23"),
            (1e300, "1e+300"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (-1.5e-7, "-1.5e-7"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (n, want) in table {
            assert_eq!(number_text(n), want, "{n:e}");
        }
    }
}
