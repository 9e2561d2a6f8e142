//! The calendar the CJG works in. Ages (a youth of 12 or 16), due dates and report periods count
//! in Dutch days: between midnight and 01:00 (02:00 in summer) the UTC date is still yesterday.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;

/// The date in the Netherlands at moment `t`.
pub fn dutch_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Amsterdam).date_naive()
}

/// The first moment of a Dutch calendar day.
pub fn start_of_dutch_day(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    // Midnight always exists in Amsterdam (the clocks change at 02:00 and 03:00).
    Amsterdam
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&midnight), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_dutch_day_starts_at_dutch_midnight_in_winter_and_summer() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        // Winter (UTC+1): 23:30 UTC on 1 December is 00:30 on 2 December in Amsterdam.
        assert_eq!(dutch_date(Utc.with_ymd_and_hms(2026, 12, 1, 23, 30, 0).unwrap()), d(2026, 12, 2));
        assert_eq!(dutch_date(Utc.with_ymd_and_hms(2026, 12, 1, 22, 59, 0).unwrap()), d(2026, 12, 1));
        // Summer (UTC+2): 22:30 UTC on 30 June is 00:30 on 1 July.
        assert_eq!(dutch_date(Utc.with_ymd_and_hms(2026, 6, 30, 22, 30, 0).unwrap()), d(2026, 7, 1));
        assert_eq!(dutch_date(Utc.with_ymd_and_hms(2026, 6, 30, 21, 59, 0).unwrap()), d(2026, 6, 30));
    }
}
