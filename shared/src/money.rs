//! Sums of money: whole fen (分, hundredths of a yuan), never floats, so that costs added
//! up order by order equal the totals the dashboard shows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::quantity::Quantity;

/// An amount in fen. Negative only as a difference (a change against the period before).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

/// An amount that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount {value:?}: write yuan with at most 2 decimals, like 120 or 35.5")]
pub struct InvalidMoney {
    pub value: String,
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// The most any one amount the documents hold may be (¥100,000,000 — a price, a rate,
    /// an invoice): more is a typing mistake or an attack on the totals, and does not read.
    pub const MAX: Money = Money(10_000_000_000);

    /// Whether this is an amount a document may hold: zero to [`Money::MAX`].
    pub const fn is_plausible(self) -> bool {
        self.0 >= 0 && self.0 <= Money::MAX.0
    }

    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    pub const fn yuan(yuan: i64) -> Money {
        Money(yuan.saturating_mul(100))
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub const fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    pub const fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }

    /// `quantity` units at this price per unit, to the nearest fen (halves away from zero).
    pub fn times(self, quantity: Quantity) -> Money {
        Money(ratio(i128::from(self.0) * i128::from(quantity.thousandths()), 1000))
    }

    /// `minutes` of work at this price per hour, to the nearest fen.
    pub fn per_hour_for(self, minutes: i64) -> Money {
        Money(ratio(i128::from(self.0) * i128::from(minutes), 60))
    }

    /// This amount's share `part / whole`, to the nearest fen; zero of nothing.
    pub fn share(self, part: Quantity, whole: Quantity) -> Money {
        if whole.thousandths() == 0 {
            return Money::ZERO;
        }
        Money(ratio(i128::from(self.0) * i128::from(part.thousandths()), i128::from(whole.thousandths())))
    }
}

/// `numerator / denominator` rounded to the nearest whole, halves away from zero, clamped
/// to `i64`.
fn ratio(numerator: i128, denominator: i128) -> i64 {
    let (numerator, denominator) = if denominator < 0 { (-numerator, -denominator) } else { (numerator, denominator) };
    let half = denominator / 2;
    let rounded = if numerator >= 0 { (numerator + half) / denominator } else { (numerator - half) / denominator };
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Money::saturating_add)
    }
}

impl FromStr for Money {
    type Err = InvalidMoney;

    /// Yuan as people write them: `120`, `35.5`, `0.05`, with an optional `¥` and
    /// thousands commas.
    fn from_str(text: &str) -> Result<Money, InvalidMoney> {
        let error = || InvalidMoney { value: text.to_owned() };
        let cleaned: String = text.trim().trim_start_matches(['¥', '￥']).trim().chars().filter(|c| *c != ',').collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || whole.len() > 13 || fraction.len() > 2 || !all_digits(whole) || !all_digits(fraction) {
            return Err(error());
        }
        let whole: i64 = whole.parse().map_err(|_| error())?;
        let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| error())?;
        let fen = whole * 100 + fraction;
        Ok(Money(if negative { -fen } else { fen }))
    }
}

/// `¥1,234.50`: yuan with two decimals and thousands commas, as a price list prints them.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let whole = (magnitude / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (index, digit) in whole.chars().enumerate() {
            if index > 0 && (whole.len() - index).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "{sign}¥{grouped}.{:02}", magnitude % 100)
    }
}

impl Money {
    /// Yuan with two decimals and nothing else (`1234.50`), as a spreadsheet reads them.
    pub fn decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
    }

    /// To the nearest yuan, as a chart labels a bar: `¥1,235`.
    pub fn yuan_rounded(self) -> String {
        let whole = Money(ratio(i128::from(self.0), 100) * 100).to_string();
        whole.strip_suffix(".00").map_or_else(|| whole.clone(), str::to_owned)
    }

    /// The amount as a form shows it to edit: `35.5` for ¥35.50, no sign of currency.
    pub fn to_input(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        match magnitude % 100 {
            0 => format!("{sign}{}", magnitude / 100),
            cents if cents % 10 == 0 => format!("{sign}{}.{}", magnitude / 100, cents / 10),
            cents => format!("{sign}{}.{cents:02}", magnitude / 100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_and_print_exactly() {
        for (text, fen, printed) in [
            ("120", 12_000, "¥120.00"),
            ("35.5", 3_550, "¥35.50"),
            ("0.05", 5, "¥0.05"),
            ("¥1,234.5", 123_450, "¥1,234.50"),
            ("-3", -300, "-¥3.00"),
            (" 1000000 ", 100_000_000, "¥1,000,000.00"),
        ] {
            let money: Money = text.parse().unwrap();
            assert_eq!(money.fen(), fen, "{text}");
            assert_eq!(money.to_string(), printed);
            assert_eq!(money.to_input().parse::<Money>(), Ok(money));
        }
        for bad in ["", "-", "1.234", "1e3", "abc", ".5", "12 yuan", "99999999999999"] {
            assert_eq!(bad.parse::<Money>(), Err(InvalidMoney { value: bad.to_owned() }), "{bad:?}");
        }
    }

    #[test]
    fn prices_times_quantities_round_to_the_nearest_fen() {
        let price = Money::from_fen(333);
        assert_eq!(price.times(Quantity::units(3)), Money::from_fen(999));
        assert_eq!(price.times(Quantity::from_thousandths(1_500)), Money::from_fen(500)); // 499.5 → 500
        assert_eq!(Money::yuan(60).per_hour_for(90), Money::yuan(90));
        assert_eq!(Money::yuan(100).share(Quantity::units(1), Quantity::units(3)), Money::from_fen(3_333));
        assert_eq!(Money::yuan(100).share(Quantity::units(1), Quantity::ZERO), Money::ZERO);
        assert_eq!(Money::from_fen(-5).times(Quantity::from_thousandths(500)), Money::from_fen(-3));
        assert_eq!(Money::from_fen(-123_450).decimal(), "-1234.50");
        assert_eq!(Money::from_fen(7).decimal(), "0.07");
        assert_eq!(Money::from_fen(123_450).yuan_rounded(), "¥1,235");
        assert_eq!(Money::from_fen(-149).yuan_rounded(), "-¥1");
    }
}
