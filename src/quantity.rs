//! Kubernetes resource quantities (`500m`, `1Gi`, `1e3`, `0.5`), compared exactly.

use std::cmp::Ordering;
use std::fmt;

/// A parsed quantity: its exact value in billionths of a unit (saturating far
/// beyond any real limit), and the text it came from.
#[derive(Debug, Clone)]
pub struct Quantity {
    nanos: i128,
    text: String,
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a Kubernetes quantity (expected a number with an optional suffix such as 500m, 1Gi, 1e3)",
            self.0
        )
    }
}

impl std::error::Error for QuantityError {}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses the Kubernetes quantity grammar: sign, digits with an optional
    /// decimal point, then a binary suffix (Ki..Ei), a decimal suffix (n u m k
    /// M G T P E) or a decimal exponent (e3, E-2).
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let err = || QuantityError(text.to_string());
        let s = text.trim();
        let (negative, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let num_len = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(num_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(err());
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        // (base, exponent): the multiplier is base^exponent.
        let (base, exp): (i128, i32) = match suffix {
            "" => (10, 0),
            "n" => (10, -9),
            "u" => (10, -6),
            "m" => (10, -3),
            "k" => (10, 3),
            "M" => (10, 6),
            "G" => (10, 9),
            "T" => (10, 12),
            "P" => (10, 15),
            "E" => (10, 18),
            "Ki" => (2, 10),
            "Mi" => (2, 20),
            "Gi" => (2, 30),
            "Ti" => (2, 40),
            "Pi" => (2, 50),
            "Ei" => (2, 60),
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..].parse().map_err(|_| err())?;
                if !(-100..=100).contains(&e) {
                    return Err(err());
                }
                (10, e)
            }
            _ => return Err(err()),
        };
        // The exact value is digits * 10^dec_exp * 2^bin_exp nanos. Trailing
        // zeros of the fraction and leading zeros carry no value: dropped
        // before anything is scaled, so `3.000…0` is 3 however many zeros.
        let frac_part = frac_part.trim_end_matches('0');
        let mut digits: Vec<u8> = int_part
            .bytes()
            .chain(frac_part.bytes())
            .skip_while(|&b| b == b'0')
            .map(|b| b - b'0')
            .collect();
        if digits.len() > MAX_SIGNIFICANT_DIGITS {
            return Err(err());
        }
        let mut dec_exp = 9 - i64::try_from(frac_part.len()).unwrap_or(i64::MAX);
        if base == 10 {
            dec_exp += i64::from(exp);
        } else {
            for _ in 0..exp {
                double(&mut digits);
            }
        }
        let value = to_nanos(&digits, dec_exp);
        Ok(Quantity {
            nanos: if negative { -value } else { value },
            text: text.to_string(),
        })
    }

    /// The value rounded down to whole units (bytes for memory, cores for cpu).
    pub fn whole_units(&self) -> i128 {
        self.nanos.div_euclid(NANO)
    }

    /// The value in thousandths of a unit, rounded up (millicores for cpu).
    pub fn milli_units_ceil(&self) -> i128 {
        const MICRO: i128 = NANO / 1000;
        -(-self.nanos).div_euclid(MICRO)
    }

    /// The text the quantity was written as.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for values below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// True for values above zero.
    pub fn is_positive(&self) -> bool {
        self.nanos > 0
    }
}

/// More significant digits than any real quantity has; longer numbers are
/// refused rather than rounded (rounding would make comparisons inexact).
const MAX_SIGNIFICANT_DIGITS: usize = 100;

/// Doubles a decimal number given as its digits, most significant first.
fn double(digits: &mut Vec<u8>) {
    let mut carry = 0;
    for d in digits.iter_mut().rev() {
        let v = *d * 2 + carry;
        *d = v % 10;
        carry = v / 10;
    }
    if carry > 0 {
        digits.insert(0, carry);
    }
}

/// `digits * 10^exp` as an integer, any fraction rounded up, saturating at
/// `i128::MAX`. `digits` has no leading zeros.
fn to_nanos(digits: &[u8], exp: i64) -> i128 {
    if digits.is_empty() {
        return 0;
    }
    let (whole, fraction) = match usize::try_from(-exp) {
        // the whole value is a fraction of a nano: rounds up to 1
        Ok(k) if k >= digits.len() => return 1,
        Ok(k) => digits.split_at(digits.len() - k),
        Err(_) => (digits, &[][..]),
    };
    let mut value = whole
        .iter()
        .try_fold(0i128, |v, &d| v.checked_mul(10)?.checked_add(i128::from(d)));
    for _ in 0..exp.max(0) {
        value = value.and_then(|v| v.checked_mul(10));
    }
    let round_up = i128::from(fraction.iter().any(|&d| d != 0));
    value
        .and_then(|v| v.checked_add(round_up))
        .unwrap_or(i128::MAX)
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.nanos.cmp(&other.nanos))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            F(f64),
        }
        let text = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::F(f) => f.to_string(),
        };
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Kubernetes quantity such as 500m, 1Gi or 2.",
            "anyOf": [
                {"type": "string", "pattern": "^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)?$"},
                {"type": "number"}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn equal_values_in_different_notations() {
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1E3"), q("1000"));
        assert_eq!(q("1Gi"), q("1073741824"));
        assert_eq!(q("1024Mi"), q("1Gi"));
        assert_eq!(q("2"), q("2000m"));
        assert_eq!(q(".5"), q("500m"));
        assert_eq!(q("5."), q("5"));
        assert_eq!(q("+1"), q("1"));
    }

    /// Trailing zeros of a fraction carry no value, however many there are:
    /// `3.` followed by 31 zeros used to parse as 0.017 (the digits were
    /// saturated before the fraction was divided out), passing any maximum.
    #[test]
    fn long_fractions_keep_their_value() {
        let zeros = |n| "0".repeat(n);
        assert_eq!(q(&format!("3.{}", zeros(31))), q("3"));
        assert_eq!(q(&format!("10000.{}", zeros(35))), q("10000"));
        assert_eq!(q(&format!("8.{}Gi", zeros(40))), q("8Gi"));
        assert_eq!(q(&format!("0{}1", zeros(60))), q("1"));
        assert!(
            q(&format!("4.{}1", zeros(40))) > q("4"),
            "rounded up, not lost"
        );
        assert_eq!(
            q(&format!("0.{}1", zeros(500))).nanos,
            1,
            "a positive value never becomes 0"
        );
        assert_eq!(q("0.1234567890123456789").nanos, 123_456_790);
    }

    #[test]
    fn binary_suffixes_are_exact() {
        assert_eq!(q("1.5Ki"), q("1536"));
        assert_eq!(q("0.001Ki").nanos, 1_024_000_000);
        assert_eq!(q("1Ei").whole_units(), 1 << 60);
        assert_eq!(q("0.5Mi"), q("512Ki"));
    }

    #[test]
    fn huge_values_saturate_and_overlong_numbers_are_refused() {
        assert_eq!(q("1e100").nanos, i128::MAX);
        assert_eq!(q(&"9".repeat(100)).nanos, i128::MAX);
        assert_eq!(q(&format!("{}Ei", "9".repeat(40))).nanos, i128::MAX);
        assert!(Quantity::parse(&"1".repeat(101)).is_err());
        assert_eq!(q("-2.5").nanos, -2_500_000_000);
    }

    #[test]
    fn thousandths_round_up() {
        assert_eq!(q("1500m").milli_units_ceil(), 1500);
        assert_eq!(q("1n").milli_units_ceil(), 1);
        assert_eq!(q("1000001n").milli_units_ceil(), 2);
        assert_eq!(q("1000000n").milli_units_ceil(), 1);
        assert_eq!(q("0").milli_units_ceil(), 0);
        assert_eq!(q("-1500u").milli_units_ceil(), -1, "towards +inf");
    }

    #[test]
    fn orders_exactly_at_the_boundary() {
        assert!(q("4Gi") < q("4294967297"));
        assert!(q("4Gi") > q("4294967295"));
        assert!(q("4G") < q("4Gi"));
        assert!(q("2001m") > q("2"));
        assert!(q("1n") > q("0"));
        assert!(q("10Ei") > q("10Gi"), "saturates instead of overflowing");
        assert!(q("-1").is_negative());
    }

    #[test]
    fn rejects_what_the_api_server_rejects() {
        for bad in [
            "", "1.2.3", "abc", "1Gb", "1K", "1ki", "1e", "m", ".", "1 Gi", "1e999",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
