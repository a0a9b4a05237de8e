//! Time labels for the message list and the conversation list.
//!
//! Labels depend only on the message time, `now`, the locale and a UTC offset passed in by the
//! caller, never on the machine's clock or time zone, so a label is the same on every phone and in
//! every test. Dates are computed by hand (proleptic Gregorian calendar) to keep the wasm small.

use crate::error::{Error, Result};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;
/// Times beyond this many milliseconds from the epoch (about 31,700 years) are rejected as absurd.
const MAX_ABS_MS: f64 = 1e15;
/// UTC offsets beyond ±18 hours do not exist anywhere.
const MAX_ABS_OFFSET_MINUTES: i32 = 18 * 60;
/// Messages further apart than this get a time separator between them in the message list.
pub const SEPARATOR_GAP_MS: i64 = 5 * 60 * 1000;
/// China Standard Time, the offset used when the caller gives none.
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = 8 * 60;

/// The language of the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// Simplified Chinese: `昨天 09:05`, `星期一`, `3月5日`, `2023年3月5日`.
    #[default]
    ZhCn,
    /// English: `Yesterday 09:05`, `Monday`, `Mar 5`, `Mar 5, 2023`.
    En,
}

impl Locale {
    /// Reads a locale tag case-insensitively, with `-` or `_`: `zh`, `zh-CN`, `zh-Hans`, `zh-Hans-CN`
    /// for Chinese, `en` or `en-<region>` (`en-US`, `en_GB`, …) for English. Anything else is an error
    /// rather than a silent fallback, so a typo shows up at once.
    pub fn parse(tag: &str) -> Result<Locale> {
        let normal = tag.trim().to_ascii_lowercase().replace('_', "-");
        let is_region =
            |s: &str| !s.is_empty() && s.len() <= 8 && s.chars().all(|c| c.is_ascii_alphanumeric());
        match normal.split_once('-') {
            None if normal == "zh" => Ok(Locale::ZhCn),
            None if normal == "en" => Ok(Locale::En),
            Some(("zh", "cn" | "hans" | "hans-cn")) => Ok(Locale::ZhCn),
            Some(("en", region)) if is_region(region) => Ok(Locale::En),
            _ => Err(Error::input(format!(
                "unknown locale {tag:?}; use 'zh-CN' (also 'zh', 'zh_cn', 'zh-Hans') or 'en' (also 'en-US', 'en-GB', …)"
            ))),
        }
    }

    /// The canonical tag: `zh-CN` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }
}

/// What a label is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOptions {
    /// The current time, milliseconds since the epoch.
    pub now: i64,
    pub locale: Locale,
    /// The reader's offset from UTC in minutes (UTC+8 is 480, UTC-5 is -300, Nepal's +5:45 is 345).
    pub utc_offset_minutes: i32,
}

impl TimeOptions {
    /// Options for `now` in Chinese at UTC+8.
    pub fn new(now: i64) -> Self {
        TimeOptions {
            now,
            locale: Locale::ZhCn,
            utc_offset_minutes: DEFAULT_UTC_OFFSET_MINUTES,
        }
    }
}

/// The label of a message sent at `ms` (milliseconds since the epoch), as seen at `opts.now`:
///
/// | when | zh-CN | en |
/// |---|---|---|
/// | the same calendar day (or up to 24 hours in the future: clock skew) | `09:05` | `09:05` |
/// | the day before | `昨天 09:05` | `Yesterday 09:05` |
/// | 2 to 6 days before | `星期一` | `Monday` |
/// | earlier the same year | `3月5日` | `Mar 5` |
/// | an earlier year, or more than 24 hours in the future | `2023年3月5日` | `Mar 5, 2023` |
///
/// Days are calendar days at `opts.utc_offset_minutes`. Fractions of a millisecond are dropped.
pub fn format_time(ms: f64, opts: &TimeOptions) -> Result<String> {
    let ms = checked_ms(ms, "time")?;
    let now = checked_ms(opts.now as f64, "now")?;
    let offset = opts.utc_offset_minutes;
    if offset.unsigned_abs() > MAX_ABS_OFFSET_MINUTES.unsigned_abs() {
        return Err(Error::input(format!(
            "utcOffsetMinutes {offset} is out of range; use minutes east of UTC between -1080 and 1080 (480 for China)"
        )));
    }
    let offset_ms = i64::from(offset) * 60_000;
    let then = LocalTime::at(ms + offset_ms);
    let today = LocalTime::at(now + offset_ms);
    let days_ago = today.day_number - then.day_number;
    let future_ms = ms - now;

    let locale = opts.locale;
    Ok(if future_ms > DAY_MS {
        then.full_date(locale)
    } else if days_ago <= 0 {
        then.clock()
    } else if days_ago == 1 {
        match locale {
            Locale::ZhCn => format!("昨天 {}", then.clock()),
            Locale::En => format!("Yesterday {}", then.clock()),
        }
    } else if days_ago < 7 {
        then.weekday_name(locale).to_string()
    } else if then.year == today.year {
        then.month_day(locale)
    } else {
        then.full_date(locale)
    })
}

/// True when two messages are more than five minutes apart, so the message list shows a time
/// label between them.
pub fn is_far_apart(a_ms: i64, b_ms: i64) -> bool {
    a_ms.abs_diff(b_ms) > SEPARATOR_GAP_MS.unsigned_abs()
}

/// Whole milliseconds from a JavaScript number, or an error naming the field.
fn checked_ms(ms: f64, field: &str) -> Result<i64> {
    if !ms.is_finite() {
        return Err(Error::input(format!(
            "{field} {ms} is not a time; pass milliseconds since the epoch, e.g. Date.now()"
        )));
    }
    if ms.abs() > MAX_ABS_MS {
        return Err(Error::input(format!(
            "{field} {ms} is out of range; pass milliseconds since the epoch (within ±1e15), not microseconds or nanoseconds"
        )));
    }
    // In range and finite, so the conversion is exact after flooring.
    Ok(ms.floor() as i64)
}

/// A local civil time broken into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LocalTime {
    /// Days since 1970-01-01 in local time.
    day_number: i64,
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
}

impl LocalTime {
    /// Breaks up milliseconds since the local epoch (UTC time shifted by the offset).
    fn at(local_ms: i64) -> LocalTime {
        let day_number = local_ms.div_euclid(DAY_MS);
        let ms_of_day = local_ms.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(day_number);
        LocalTime {
            day_number,
            year,
            month,
            day,
            hour: ms_of_day / 3_600_000,
            minute: ms_of_day / 60_000 % 60,
        }
    }

    fn clock(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    fn month_day(&self, locale: Locale) -> String {
        match locale {
            Locale::ZhCn => format!("{}月{}日", self.month, self.day),
            Locale::En => format!("{} {}", month_abbreviation(self.month), self.day),
        }
    }

    fn full_date(&self, locale: Locale) -> String {
        match locale {
            Locale::ZhCn => format!("{}年{}", self.year, self.month_day(locale)),
            Locale::En => format!("{}, {}", self.month_day(locale), self.year),
        }
    }

    fn weekday_name(&self, locale: Locale) -> &'static str {
        // 1970-01-01 was a Thursday; 0 is Monday here.
        let weekday = (self.day_number + 3).rem_euclid(7);
        let (zh, en) = match weekday {
            0 => ("星期一", "Monday"),
            1 => ("星期二", "Tuesday"),
            2 => ("星期三", "Wednesday"),
            3 => ("星期四", "Thursday"),
            4 => ("星期五", "Friday"),
            5 => ("星期六", "Saturday"),
            _ => ("星期日", "Sunday"),
        };
        match locale {
            Locale::ZhCn => zh,
            Locale::En => en,
        }
    }
}

fn month_abbreviation(month: u32) -> &'static str {
    match month {
        1 => "Jan",
        2 => "Feb",
        3 => "Mar",
        4 => "Apr",
        5 => "May",
        6 => "Jun",
        7 => "Jul",
        8 => "Aug",
        9 => "Sep",
        10 => "Oct",
        11 => "Nov",
        _ => "Dec",
    }
}

/// (year, month 1–12, day 1–31) of a day number (days since 1970-01-01), proleptic Gregorian.
/// Counts in 400-year eras of 146,097 days starting on March 1 so that leap days fall at the end
/// of each counted year. Callers keep `days` within ±12 million, far from any overflow.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097); // 0..=146_096
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // 0..=365
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..=31
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are small positive numbers by construction.
    (year, month as u32, day as u32)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// 2024-03-15 12:00 at UTC+8 (a Friday in a leap year), as UTC milliseconds.
    const NOW: i64 = 1_710_475_200_000;
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn label(ms: i64, now: i64, locale: Locale, offset: i32) -> String {
        let opts = TimeOptions {
            now,
            locale,
            utc_offset_minutes: offset,
        };
        format_time(ms as f64, &opts).unwrap()
    }

    #[test]
    fn labels_relative_to_a_friday_noon_in_china() {
        // (time, zh-CN, en)
        let table: [(i64, &str, &str); 20] = [
            (NOW, "12:00", "12:00"),
            (NOW - 12 * HOUR, "00:00", "00:00"),
            (NOW - 12 * HOUR - 1, "昨天 23:59", "Yesterday 23:59"),
            (NOW - 36 * HOUR, "昨天 00:00", "Yesterday 00:00"),
            (NOW - 36 * HOUR - 1, "星期三", "Wednesday"),
            (
                NOW - 2 * DAY_MS - 3 * HOUR - 25 * MIN,
                "星期三",
                "Wednesday",
            ),
            (NOW - 3 * DAY_MS, "星期二", "Tuesday"),
            (NOW - 4 * DAY_MS, "星期一", "Monday"),
            (NOW - 5 * DAY_MS, "星期日", "Sunday"),
            (NOW - 6 * DAY_MS, "星期六", "Saturday"),
            (NOW - 6 * DAY_MS - 12 * HOUR, "星期六", "Saturday"),
            (NOW - 6 * DAY_MS - 12 * HOUR - 1, "3月8日", "Mar 8"),
            (NOW - 7 * DAY_MS, "3月8日", "Mar 8"),
            (NOW - 15 * DAY_MS, "2月29日", "Feb 29"),
            (NOW - 16 * DAY_MS, "2月28日", "Feb 28"),
            // 2024-01-01 00:00 at UTC+8 is 2023-12-31 16:00 UTC.
            (1_704_038_400_000, "1月1日", "Jan 1"),
            (1_704_038_400_000 - 1, "2023年12月31日", "Dec 31, 2023"),
            (NOW - 366 * DAY_MS, "2023年3月15日", "Mar 15, 2023"),
            // Clock skew: up to a day ahead reads as today's clock, beyond that as a full date.
            (NOW + DAY_MS, "12:00", "12:00"),
            (NOW + DAY_MS + 1, "2024年3月16日", "Mar 16, 2024"),
        ];
        for (ms, zh, en) in table {
            assert_eq!(label(ms, NOW, Locale::ZhCn, 480), zh, "zh {ms}");
            assert_eq!(label(ms, NOW, Locale::En, 480), en, "en {ms}");
        }
    }

    #[test]
    fn the_offset_decides_the_calendar_day() {
        // 2024-03-14 20:30 UTC and 2024-03-15 02:00 UTC, seen at several offsets.
        let evening = 1_710_448_200_000;
        let night = 1_710_468_000_000;
        // (time, now, offset, zh-CN)
        let table = [
            (evening, night, 480, "04:30"),    // both on the 15th in Beijing
            (evening, night, 0, "昨天 20:30"), // 14th and 15th in UTC
            (evening, night, -300, "15:30"),   // both on the 14th in New York (UTC-5)
            (evening, night, 345, "02:15"),    // both on the 15th in Kathmandu (UTC+5:45)
            (evening, night, -345, "14:45"),   // minus 5:45: both on the 14th
            (evening, night, 330, "02:00"),    // India, +5:30
            // Local midnight of the 15th at +5:45 is 18:15 UTC on the 14th.
            (night - 7 * HOUR - 45 * MIN - 1, night, 345, "昨天 23:59"),
            (night - 7 * HOUR - 45 * MIN, night, 345, "00:00"),
        ];
        for (ms, now, offset, zh) in table {
            assert_eq!(label(ms, now, Locale::ZhCn, offset), zh, "{ms} at {offset}");
        }
    }

    #[test]
    fn epoch_negative_times_and_leap_days() {
        let far_future = 4_102_444_800_000; // 2100-01-01 00:00 UTC
                                            // (time, zh-CN, en), seen from 2100 at UTC
        let table = [
            (0, "1970年1月1日", "Jan 1, 1970"),
            (-1, "1969年12月31日", "Dec 31, 1969"),
            (-86_400_000 * 365, "1969年1月1日", "Jan 1, 1969"),
            (951_782_400_000, "2000年2月29日", "Feb 29, 2000"), // 400-year leap day
            (951_868_800_000, "2000年3月1日", "Mar 1, 2000"),
            (4_107_456_000_000, "2100年2月28日", "Feb 28, 2100"), // ahead of now: full date
            (4_107_542_400_000, "2100年3月1日", "Mar 1, 2100"),   // 2100 is not a leap year
            (-62_135_596_800_000, "1年1月1日", "Jan 1, 1"),
            (-62_135_596_800_001, "0年12月31日", "Dec 31, 0"),
        ];
        for (ms, zh, en) in table {
            assert_eq!(
                label(ms, far_future - 3 * 365 * DAY_MS, Locale::ZhCn, 0),
                zh,
                "zh {ms}"
            );
            assert_eq!(
                label(ms, far_future - 3 * 365 * DAY_MS, Locale::En, 0),
                en,
                "en {ms}"
            );
        }
        // The epoch seen at the epoch, in Beijing.
        assert_eq!(label(0, 0, Locale::ZhCn, 480), "08:00");
        assert_eq!(label(-8 * HOUR - 1, 0, Locale::En, 480), "Yesterday 23:59");
    }

    #[test]
    fn weekdays_over_a_whole_week_both_locales() {
        // Seen from Monday 2024-01-08 10:00 UTC at UTC: Jan 1 (a Monday) is a week back, Jan 2..6 are 2..6 days back.
        let now = 1_704_708_000_000;
        let table = [
            (6, "星期二", "Tuesday"),
            (5, "星期三", "Wednesday"),
            (4, "星期四", "Thursday"),
            (3, "星期五", "Friday"),
            (2, "星期六", "Saturday"),
            (7, "1月1日", "Jan 1"),
        ];
        for (days, zh, en) in table {
            let ms = now - days * DAY_MS;
            assert_eq!(label(ms, now, Locale::ZhCn, 0), zh, "{days} days");
            assert_eq!(label(ms, now, Locale::En, 0), en, "{days} days");
        }
        // 2..6 days back wins over the year boundary: Saturday 2023-12-30 seen from 2024-01-03.
        assert_eq!(
            label(1_703_894_400_000, 1_704_240_000_000, Locale::En, 0),
            "Saturday"
        );
    }

    #[test]
    fn consecutive_days_are_consecutive_dates() {
        // Walks day by day over ±2,000 years; every step is the next calendar date.
        let mut previous = civil_from_days(-1_100_000);
        for days in -1_099_999..1_100_000 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month = (y, m, d) == (py, pm + 1, 1);
            let next_year = (y, m, d) == (py + 1, 1, 1) && (pm, pd) == (12, 31);
            assert!(
                next_day || next_month || next_year,
                "{previous:?} then {:?}",
                (y, m, d)
            );
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            if m == 3 && d == 1 {
                assert_eq!(pd, if leap { 29 } else { 28 }, "end of February {y}");
            }
            previous = (y, m, d);
        }
    }

    #[test]
    fn bad_times_and_options_are_errors() {
        let opts = TimeOptions::new(NOW);
        // (time, message substring)
        let table = [
            (f64::NAN, "not a time"),
            (f64::INFINITY, "not a time"),
            (f64::NEG_INFINITY, "not a time"),
            (1.000_000_1e15, "out of range"),
            (-1.000_000_1e15, "out of range"),
            (1.7e18, "not microseconds"),
        ];
        for (ms, want) in table {
            let err = format_time(ms, &opts).unwrap_err();
            assert!(matches!(err, Error::Input(_)), "{ms}");
            assert!(err.message().contains(want), "{ms}: {}", err.message());
        }
        assert!(format_time(1e15, &TimeOptions::new(1e15 as i64)).is_ok());
        assert!(format_time(-1e15, &TimeOptions::new(NOW)).is_ok());
        let bad_now = format_time(0.0, &TimeOptions::new(i64::MAX)).unwrap_err();
        assert!(
            bad_now.message().starts_with("now "),
            "{}",
            bad_now.message()
        );
        for offset in [1081, -1081, i32::MIN, i32::MAX] {
            let opts = TimeOptions {
                utc_offset_minutes: offset,
                ..TimeOptions::new(NOW)
            };
            let err = format_time(NOW as f64, &opts).unwrap_err();
            assert!(err.message().contains("utcOffsetMinutes"), "{offset}");
        }
        for offset in [1080, -1080] {
            let opts = TimeOptions {
                utc_offset_minutes: offset,
                ..TimeOptions::new(NOW)
            };
            assert!(format_time(NOW as f64, &opts).is_ok(), "{offset}");
        }
    }

    #[test]
    fn fractional_milliseconds_round_down() {
        let opts = TimeOptions {
            utc_offset_minutes: 0,
            ..TimeOptions::new(NOW)
        };
        // 1 ms before midnight UTC plus a fraction stays before midnight.
        assert_eq!(
            format_time(NOW as f64 - 4.0 * HOUR as f64 - 0.5, &opts).unwrap(),
            "昨天 23:59"
        );
    }

    #[test]
    fn locale_tags() {
        let table = [
            ("zh-CN", Some(Locale::ZhCn)),
            ("zh", Some(Locale::ZhCn)),
            ("zh_cn", Some(Locale::ZhCn)),
            ("ZH-cn", Some(Locale::ZhCn)),
            ("zh-Hans", Some(Locale::ZhCn)),
            ("zh-Hans-CN", Some(Locale::ZhCn)),
            (" zh-CN ", Some(Locale::ZhCn)),
            ("en", Some(Locale::En)),
            ("EN", Some(Locale::En)),
            ("en-US", Some(Locale::En)),
            ("en_gb", Some(Locale::En)),
            ("en-001", Some(Locale::En)),
            ("zh-TW", None),
            ("zh-Hant", None),
            ("fr", None),
            ("english", None),
            ("en-", None),
            ("en-US-x", None),
            ("", None),
        ];
        for (tag, want) in table {
            assert_eq!(Locale::parse(tag).ok(), want, "{tag:?}");
        }
        let err = Locale::parse("fr-FR").unwrap_err();
        assert!(
            err.message().contains("\"fr-FR\"") && err.message().contains("'zh-CN'"),
            "{}",
            err.message()
        );
        assert_eq!(Locale::parse(Locale::En.tag()).ok(), Some(Locale::En));
        assert_eq!(Locale::parse(Locale::ZhCn.tag()).ok(), Some(Locale::ZhCn));
    }

    #[test]
    fn separators_between_messages_more_than_five_minutes_apart() {
        // (a, b, separator?)
        let table = [
            (0, 0, false),
            (0, 5 * MIN, false),
            (0, 5 * MIN + 1, true),
            (5 * MIN + 1, 0, true),
            (NOW, NOW - 5 * MIN, false),
            (NOW, NOW - HOUR, true),
            (i64::MIN, i64::MAX, true),
        ];
        for (a, b, want) in table {
            assert_eq!(is_far_apart(a, b), want, "{a} {b}");
        }
    }
}
