//! The working-day calendar: China's public holidays and make-up working days (调休),
//! kept as data per year in `workflows/calendar/<year>.toml`, and the periods computed
//! from it. Explicit `due_at` values in requests never pass through here: they are kept
//! exactly as given.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    holidays: Vec<Day>,
    workdays: Vec<Day>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Day {
    date: NaiveDate,
    name: String,
}

#[derive(Clone, Debug, Default)]
pub struct Calendar {
    years: BTreeSet<i32>,
    holidays: HashMap<NaiveDate, String>,
    workdays: HashMap<NaiveDate, String>,
}

impl Calendar {
    /// No holidays known: Monday to Friday are working days.
    pub fn weekdays_only() -> Calendar {
        Calendar::default()
    }

    /// Reads every `<year>.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Calendar, String> {
        let mut cal = Calendar::default();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let file: YearFile =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            for d in file.holidays.iter().chain(&file.workdays) {
                if d.date.year() != file.year {
                    return Err(format!(
                        "{}: {} is not in {}",
                        path.display(),
                        d.date,
                        file.year
                    ));
                }
            }
            cal.years.insert(file.year);
            cal.holidays
                .extend(file.holidays.into_iter().map(|d| (d.date, d.name)));
            cal.workdays
                .extend(file.workdays.into_iter().map(|d| (d.date, d.name)));
        }
        if cal.years.is_empty() {
            return Err(format!("{}: no <year>.toml calendar files", dir.display()));
        }
        Ok(cal)
    }

    pub fn years(&self) -> Vec<i32> {
        self.years.iter().copied().collect()
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains_key(&d) {
            return true;
        }
        if self.holidays.contains_key(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// `d` if it is a working day, else the next one.
    pub fn next_working_day(&self, mut d: NaiveDate) -> NaiveDate {
        while !self.is_working_day(d) {
            d = d + Days::new(1);
        }
        d
    }

    /// The `n`-th working day after `d`.
    pub fn add_working_days(&self, mut d: NaiveDate, n: u32) -> NaiveDate {
        for _ in 0..n {
            d = self.next_working_day(d + Days::new(1));
        }
        d
    }
}

/// How a period counts its days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    Calendar,
    Working,
}

/// A computed deadline: `days` after a start, counted in calendar or working days, in
/// Beijing time; a calendar-day period ending on a day off runs to the next working day.
#[derive(Clone, Debug)]
pub struct Period {
    pub days: u32,
    pub count: DayCount,
    calendar: Arc<Calendar>,
}

pub use crate::time::beijing;

impl Period {
    pub fn new(days: u32, count: DayCount, calendar: Arc<Calendar>) -> Period {
        Period {
            days,
            count,
            calendar,
        }
    }

    /// The last day of the period started at `from` (Beijing dates).
    pub fn last_day(&self, from: DateTime<Utc>) -> NaiveDate {
        let start = from.with_timezone(&beijing()).date_naive();
        match self.count {
            DayCount::Calendar => self
                .calendar
                .next_working_day(start + Days::new(self.days as u64)),
            DayCount::Working => self.calendar.add_working_days(start, self.days),
        }
    }

    /// The first instant after the period: midnight, Beijing time, after its last day.
    pub fn end(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        let next = self.last_day(from) + Days::new(1);
        beijing()
            .from_local_datetime(&next.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        Calendar::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows/calendar")).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn knows_holidays_and_make_up_working_days_of_2025_and_2026() {
        let c = cal();
        assert_eq!(c.years(), [2025, 2026]);
        for off in [
            "2026-10-01",
            "2026-10-07",
            "2026-02-17",
            "2025-01-28",
            "2025-10-08",
            "2026-10-11",
        ] {
            assert!(!c.is_working_day(d(off)), "{off} is a day off");
        }
        for on in [
            "2026-10-08",
            "2026-10-10",
            "2026-09-20",
            "2025-01-26",
            "2025-09-28",
            "2026-11-23",
        ] {
            assert!(c.is_working_day(d(on)), "{on} is a working day");
        }
    }

    #[test]
    fn counts_working_days_across_national_day() {
        let c = cal();
        assert_eq!(c.add_working_days(d("2026-09-30"), 1), d("2026-10-08"));
        // 8 Oct (Thu), 9 Oct (Fri), 10 Oct (a make-up Saturday), 12 Oct, 13 Oct.
        assert_eq!(c.add_working_days(d("2026-09-30"), 5), d("2026-10-13"));
        assert_eq!(c.next_working_day(d("2026-10-03")), d("2026-10-08"));
    }

    #[test]
    fn a_calendar_period_ending_on_a_holiday_moves_to_the_next_working_day() {
        let c = Arc::new(cal());
        let from = DateTime::parse_from_rfc3339("2026-09-01T10:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let p = Period::new(30, DayCount::Calendar, c.clone());
        assert_eq!(p.last_day(from), d("2026-10-08"), "1 Oct is National Day");
        assert_eq!(
            p.end(from),
            DateTime::parse_from_rfc3339("2026-10-09T00:00:00+08:00").unwrap()
        );
        let p = Period::new(5, DayCount::Working, c);
        let from = DateTime::parse_from_rfc3339("2026-09-30T18:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(p.last_day(from), d("2026-10-13"));
        // Late evening UTC is already the next day in Beijing.
        let late = DateTime::parse_from_rfc3339("2026-09-29T17:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(p.last_day(late), d("2026-10-13"));
    }

    #[test]
    fn bad_calendar_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Calendar::load(dir.path()).is_err(), "no files");
        std::fs::write(
            dir.path().join("2026.toml"),
            "year = 2026\nholidays = [{ date = \"2025-10-01\", name = \"x\" }]\nworkdays = []\n",
        )
        .unwrap();
        assert!(
            Calendar::load(dir.path())
                .unwrap_err()
                .contains("not in 2026")
        );
    }
}
