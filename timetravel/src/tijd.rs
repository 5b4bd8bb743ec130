//! Dates and moments as the engine keeps them: numbers that order exactly as STOP's strings do.
//!
//! STOP compares `YYYY-MM-DD` dates and `YYYY-MM-DDTHH:MM:SSZ` moments as strings. A
//! [`Datum`] is the number `YYYYMMDD` and a [`Tijdstip`] the number `YYYYMMDDHHMMSS`: for
//! strings of those shapes ([`is_datum`], [`is_tijdstip`]) the numbers compare as the strings
//! do and give the same strings back, so the engine compares and copies integers and makes
//! strings only for its output. Both (de)serialise as the strings.
//!
//! [`is_datum`]: crate::uitwisseling::is_datum
//! [`is_tijdstip`]: crate::uitwisseling::is_tijdstip

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};


/// A `YYYY-MM-DD` date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Datum(u32);

/// A `YYYY-MM-DDTHH:MM:SSZ` moment (STOP `gemaaktOp`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tijdstip(u64);

/// The number the ASCII digits `b` spell (`None` if one is not a digit).
fn getal(b: &[u8]) -> Option<u64> {
    b.iter().try_fold(0u64, |n, &c| c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0')))
}

impl Datum {
    /// `None` unless `s` is a `YYYY-MM-DD` date ([`is_datum`](crate::uitwisseling::is_datum)).
    pub fn parse(s: &str) -> Option<Datum> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !(b'1'..=b'9').contains(&b[0]) {
            return None;
        }
        let n = getal(&b[0..4])? * 10_000 + getal(&b[5..7])? * 100 + getal(&b[8..10])?;
        Some(Datum(n as u32))
    }

    fn delen(self) -> (u32, u32, u32) {
        (self.0 / 10_000, self.0 / 100 % 100, self.0 % 100)
    }

    /// The day number of this date, as [`dag`](crate::tijdreis::dag) gives it for the string.
    pub fn dag(self) -> i32 {
        let (y, m, d) = self.delen();
        crate::tijdreis::dag_van(y as i32, m as i32, d as i32)
    }

    /// The date of a day number (the inverse of [`Datum::dag`] for real dates).
    pub fn van_dag(dag: i32) -> Datum {
        let (y, m, d) = crate::tijdreis::ymd_van(dag);
        Datum((y.clamp(0, 9999) as u32) * 10_000 + m as u32 * 100 + d as u32)
    }
}

impl Tijdstip {
    /// `None` unless `s` is a `YYYY-MM-DDTHH:MM:SSZ` moment.
    pub fn parse(s: &str) -> Option<Tijdstip> {
        let b = s.as_bytes();
        if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
            return None;
        }
        let datum = Datum::parse(&s[..10])?;
        let tijd = getal(&b[11..13])? * 10_000 + getal(&b[14..16])? * 100 + getal(&b[17..19])?;
        Some(Tijdstip(u64::from(datum.0) * 1_000_000 + tijd))
    }

    /// The date part (`YYYY-MM-DD`).
    pub fn datum(self) -> Datum {
        Datum((self.0 / 1_000_000) as u32)
    }
}

/// Write the last `uit.len()` digits of `n` into `uit`.
fn schrijf(uit: &mut [u8], n: u64) {
    let mut n = n;
    for c in uit.iter_mut().rev() {
        *c = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

impl Datum {
    fn tekens(self) -> [u8; 10] {
        let (y, m, d) = self.delen();
        let mut b = *b"0000-00-00";
        schrijf(&mut b[0..4], u64::from(y));
        schrijf(&mut b[5..7], u64::from(m));
        schrijf(&mut b[8..10], u64::from(d));
        b
    }
}

impl Tijdstip {
    fn tekens(self) -> [u8; 20] {
        let mut b = *b"0000-00-00T00:00:00Z";
        b[..10].copy_from_slice(&self.datum().tekens());
        let t = self.0 % 1_000_000;
        schrijf(&mut b[11..13], t / 10_000);
        schrijf(&mut b[14..16], t / 100 % 100);
        schrijf(&mut b[17..19], t % 100);
        b
    }
}

fn als_tekst(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    s.extend(b.iter().map(|&c| char::from(c)));
    s
}

impl Datum {
    /// As a string (what `to_string` gives, without the formatting machinery).
    pub fn tekst(self) -> String {
        als_tekst(&self.tekens())
    }
}

impl Tijdstip {
    /// As a string (what `to_string` gives, without the formatting machinery).
    pub fn tekst(self) -> String {
        als_tekst(&self.tekens())
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.tekens()).unwrap_or("?"))
    }
}

impl fmt::Display for Tijdstip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.tekens()).unwrap_or("?"))
    }
}

impl fmt::Debug for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Debug for Tijdstip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl PartialEq<str> for Datum {
    fn eq(&self, other: &str) -> bool {
        Datum::parse(other) == Some(*self)
    }
}

impl PartialEq<str> for Tijdstip {
    fn eq(&self, other: &str) -> bool {
        Tijdstip::parse(other) == Some(*self)
    }
}

impl Serialize for Datum {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Tijdstip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Datum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Datum, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Datum::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {s:?}")))
    }
}

impl<'de> Deserialize<'de> for Tijdstip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tijdstip, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Tijdstip::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DDTHH:MM:SSZ moment: {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uitwisseling::{is_datum, is_tijdstip};
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        for s in ["2022-01-01", "1999-12-31", "9999-99-99", "1000-00-00"] {
            assert_eq!(Datum::parse(s).map(|d| d.to_string()).as_deref(), Some(s));
            assert_eq!(Datum::parse(s).map(Datum::tekst).as_deref(), Some(s));
        }
        for s in ["2022-01-01T07:00:00Z", "2022-12-31T23:59:59Z", "1000-00-00T00:00:00Z"] {
            assert_eq!(Tijdstip::parse(s).map(|d| d.to_string()).as_deref(), Some(s));
            assert_eq!(Tijdstip::parse(s).map(Tijdstip::tekst).as_deref(), Some(s));
        }
        assert_eq!(Tijdstip::parse("2022-03-04T05:06:07Z").map(Tijdstip::datum), Datum::parse("2022-03-04"));
        assert_eq!(Datum::parse("2022-1-01"), None);
        for s in ["2022-01-01", "0022-01-01", "2022-1-01", "2022-01-0a", "2022/01/01", "2022-01-011"] {
            assert_eq!(Datum::parse(s).is_some(), is_datum(s), "{s}");
        }
        for s in ["2022-01-01T07:00:00Z", "2022-01-01T07:00:00", "2022-01-01 07:00:00Z", "2022-01-01T07:0a:00Z"] {
            assert_eq!(Tijdstip::parse(s).is_some(), is_tijdstip(s), "{s}");
        }
        assert_eq!(Tijdstip::parse("2022-01-01"), None);
        assert_eq!(Datum::parse("2024-02-29").map(Datum::dag), Some(crate::tijdreis::dag("2024-02-29")));
        assert_eq!(Datum::van_dag(crate::tijdreis::dag("2024-02-29")).to_string(), "2024-02-29");
    }

    #[test]
    fn serde_as_strings() {
        let d = Datum::parse("2022-01-01").expect("date");
        assert_eq!(serde_json::to_string(&d).expect("json"), "\"2022-01-01\"");
        assert_eq!(serde_json::from_str::<Datum>("\"2022-01-01\"").expect("json"), d);
        assert!(serde_json::from_str::<Datum>("\"2022-1-1\"").is_err());
        let t = Tijdstip::parse("2022-01-01T07:00:00Z").expect("moment");
        assert_eq!(serde_json::from_str::<Tijdstip>(&serde_json::to_string(&t).expect("json")).expect("json"), t);
    }

    fn datum_string() -> impl Strategy<Value = String> {
        "[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
    }

    proptest! {
        #[test]
        fn parse_accepts_what_the_checks_accept(s in "[0-9a-]{4}-[0-9]{2}[-/][0-9 ]{2}", t in "[0-9T:Z]{9}") {
            prop_assert_eq!(Datum::parse(&s).is_some(), is_datum(&s));
            let m = format!("{s}{t}Z");
            prop_assert_eq!(Tijdstip::parse(&m).is_some(), is_tijdstip(&m));
        }

        #[test]
        fn dates_order_as_their_strings(a in datum_string(), b in datum_string()) {
            let (x, y) = (Datum::parse(&a).expect("date"), Datum::parse(&b).expect("date"));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x.to_string(), a);
        }

        #[test]
        fn moments_order_as_their_strings(a in datum_string(), b in datum_string(), ta in "[0-9]{2}:[0-9]{2}:[0-9]{2}", tb in "[0-9]{2}:[0-9]{2}:[0-9]{2}") {
            let (sa, sb) = (format!("{a}T{ta}Z"), format!("{b}T{tb}Z"));
            let (x, y) = (Tijdstip::parse(&sa).expect("moment"), Tijdstip::parse(&sb).expect("moment"));
            prop_assert_eq!(x.cmp(&y), sa.cmp(&sb));
            prop_assert_eq!(x.to_string(), sa);
            prop_assert_eq!(x.datum().to_string(), a);
        }
    }
}
