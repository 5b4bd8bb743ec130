//! Working days: the LVBB publishes only on working days (LVBB1519). Not a working day:
//! Saturday, Sunday, and the algemeen erkende feestdagen of the Algemene termijnenwet (art. 3):
//! Nieuwjaarsdag, tweede Paasdag, Hemelvaartsdag, tweede Pinksterdag, Koningsdag, 5 mei and
//! both Kerstdagen. (Goede Vrijdag is not in that list.)

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Easter Sunday (Gregorian, anonymous algorithm).
pub fn pasen(jaar: i32) -> NaiveDate {
    let a = jaar % 19;
    let b = jaar / 100;
    let c = jaar % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let maand = (h + l - 7 * m + 114) / 31;
    let dag = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(jaar, maand as u32, dag as u32).expect("valid Easter date")
}

/// The name of the feestdag on `d`, if it is one.
pub fn feestdag(d: NaiveDate) -> Option<&'static str> {
    let y = d.year();
    let p = pasen(y);
    let plus = |n: u64| p.checked_add_days(Days::new(n));
    let koningsdag = {
        let k = NaiveDate::from_ymd_opt(y, 4, 27).expect("27 april");
        if k.weekday() == Weekday::Sun { NaiveDate::from_ymd_opt(y, 4, 26).expect("26 april") } else { k }
    };
    match (d.month(), d.day()) {
        (1, 1) => return Some("Nieuwjaarsdag"),
        (5, 5) => return Some("Bevrijdingsdag (5 mei)"),
        (12, 25) => return Some("eerste Kerstdag"),
        (12, 26) => return Some("tweede Kerstdag"),
        _ => {}
    }
    if d == koningsdag {
        return Some("Koningsdag");
    }
    if Some(d) == plus(1) {
        return Some("tweede Paasdag");
    }
    if Some(d) == plus(39) {
        return Some("Hemelvaartsdag");
    }
    if Some(d) == plus(50) {
        return Some("tweede Pinksterdag");
    }
    None
}

/// Why `d` is not a working day, or `None` when it is one.
pub fn geen_werkdag(d: NaiveDate) -> Option<&'static str> {
    match d.weekday() {
        Weekday::Sat => Some("een zaterdag"),
        Weekday::Sun => Some("een zondag"),
        _ => feestdag(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_dates() {
        assert_eq!(pasen(2024), d("2024-03-31"));
        assert_eq!(pasen(2025), d("2025-04-20"));
        assert_eq!(pasen(2027), d("2027-03-28"));
        assert_eq!(pasen(2038), d("2038-04-25"));
    }

    #[test]
    fn holidays_2027() {
        assert_eq!(feestdag(d("2027-03-29")), Some("tweede Paasdag"));
        assert_eq!(feestdag(d("2027-05-06")), Some("Hemelvaartsdag"));
        assert_eq!(feestdag(d("2027-05-17")), Some("tweede Pinksterdag"));
        assert_eq!(feestdag(d("2027-04-27")), Some("Koningsdag"));
        assert_eq!(feestdag(d("2027-05-05")), Some("Bevrijdingsdag (5 mei)"));
        assert_eq!(feestdag(d("2027-03-26")), None, "Goede Vrijdag is a working day");
        assert_eq!(geen_werkdag(d("2027-03-03")), None);
        assert_eq!(geen_werkdag(d("2027-03-06")), Some("een zaterdag"));
    }

    #[test]
    fn koningsdag_moves_to_saturday_when_27_april_is_a_sunday() {
        // 27 April 2025 was a Sunday.
        assert_eq!(feestdag(d("2025-04-26")), Some("Koningsdag"));
        assert_eq!(feestdag(d("2025-04-27")), None);
    }
}
