//! Time as the service stores and shows it: microseconds (what both databases keep),
//! RFC 3339 in UTC on the wire, 北京时间 in mail.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Timelike, Utc};

/// Now, truncated to what the databases store.
pub fn now_micros() -> NaiveDateTime {
    truncate_micros(Utc::now().naive_utc())
}

pub fn truncate_micros(t: NaiveDateTime) -> NaiveDateTime {
    let nanos = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(nanos).unwrap_or(t)
}

/// A stored time on the wire and in the audit hash: `2026-12-02T08:00:00.000000Z`.
pub fn format_at(at: NaiveDateTime) -> String {
    at.and_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// [`format_at`] of a UTC time.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    format_at(t.naive_utc())
}

/// Serde: a time on the wire, as [`rfc3339`] writes it.
pub fn wire<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// Serde: [`wire`], or `null`.
pub fn wire_opt<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => wire(t, s),
        None => s.serialize_none(),
    }
}

/// 北京时间 (UTC+8): the day deadlines are counted in and mails show.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// `2026年12月02日 16:00（北京时间）`.
pub fn at_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing())
        .format("%Y年%m月%d日 %H:%M（北京时间）")
        .to_string()
}

/// `2026年12月02日`.
pub fn date_local(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing())
        .format("%Y年%m月%d日")
        .to_string()
}

/// [`at_local`] of an RFC 3339 text (a due date in a case's records).
pub fn at_local_of(text: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| at_local(t.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_keep_microseconds_and_show_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2026-12-02T08:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            format_at(truncate_micros(t.naive_utc())),
            "2026-12-02T08:00:00.123456Z"
        );
        assert_eq!(at_local(t), "2026年12月02日 16:00（北京时间）");
        assert_eq!(date_local(t), "2026年12月02日");
        assert_eq!(
            at_local_of("2026-12-31T20:00:00Z").as_deref(),
            Some("2027年01月01日 04:00（北京时间）")
        );
        assert_eq!(at_local_of("not a time"), None);
    }
}
