//! Quantities of stock: exact decimals (thousandths of the item's unit), never floats, so
//! that counts from several people add up exactly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount in thousandths of the item's unit (`2.5` kg is 2500). May be negative as a
/// difference (variance, adjustment); counts and movements are checked where they are made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(i64);

const SCALE: i64 = 1000;

/// A quantity that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {value:?}: write a number with at most 3 decimals, like 12 or 2.5")]
pub struct InvalidQuantity {
    pub value: String,
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    /// Whole units.
    pub const fn units(units: i64) -> Quantity {
        Quantity(units.saturating_mul(SCALE))
    }

    pub const fn from_thousandths(thousandths: i64) -> Quantity {
        Quantity(thousandths)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub const fn saturating_add(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(other.0))
    }

    /// To the nearest whole unit, halves away from zero: totals as a dashboard shows them.
    pub const fn whole(self) -> Quantity {
        let half = if self.0 < 0 { -SCALE / 2 } else { SCALE / 2 };
        Quantity(self.0.saturating_add(half) / SCALE * SCALE)
    }

    pub const fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::ZERO, Quantity::saturating_add)
    }
}

impl FromStr for Quantity {
    type Err = InvalidQuantity;

    fn from_str(text: &str) -> Result<Quantity, InvalidQuantity> {
        let error = || InvalidQuantity { value: text.to_owned() };
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || whole.len() > 15 || fraction.len() > 3 || !all_digits(whole) || !all_digits(fraction) {
            return Err(error());
        }
        let whole: i64 = whole.parse().map_err(|_| error())?;
        let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| error())?;
        let magnitude = whole * SCALE + fraction;
        Ok(Quantity(if negative { -magnitude } else { magnitude }))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let whole = magnitude / SCALE as u64;
        let fraction = magnitude % SCALE as u64;
        if fraction == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let fraction = format!("{fraction:03}");
            write!(f, "{sign}{whole}.{}", fraction.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_and_print_exactly() {
        for (text, thousandths, printed) in
            [("12", 12_000, "12"), ("2.5", 2_500, "2.5"), ("0.125", 125, "0.125"), ("-3.04", -3_040, "-3.04"), (" 7 ", 7_000, "7")]
        {
            let quantity: Quantity = text.parse().unwrap();
            assert_eq!(quantity.thousandths(), thousandths, "{text}");
            assert_eq!(quantity.to_string(), printed);
        }
        for bad in ["", "-", "1.2345", "1,5", "abc", ".5", "1e3", "9999999999999999"] {
            assert_eq!(bad.parse::<Quantity>(), Err(InvalidQuantity { value: bad.to_owned() }), "{bad:?}");
        }
    }

    #[test]
    fn whole_rounds_halves_away_from_zero() {
        for (text, whole) in [("2.4", "2"), ("2.5", "3"), ("-2.5", "-3"), ("-2.4", "-2"), ("0.499", "0"), ("7", "7")] {
            assert_eq!(text.parse::<Quantity>().unwrap().whole().to_string(), whole, "{text}");
        }
    }

    #[test]
    fn sums_are_exact() {
        let total: Quantity = ["0.1", "0.2", "0.7"].iter().map(|text| text.parse::<Quantity>().unwrap()).sum();
        assert_eq!(total, Quantity::units(1));
    }
}
