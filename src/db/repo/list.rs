//! List pages of cases: the caller's visibility and the filters in SQL, newest first,
//! keyset-paginated, with the plan chosen per backend (docs/ARCHITECTURE.md, "List
//! pages"). One concern, long because SQLite plans without the values and is told here
//! which index serves which filter.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::like_escape;
use crate::db::models::CaseRow;
use crate::db::schema::cases;
use crate::db::{DbBackend, DbConnection, native};

/// Who may see which cases (`workflow::can_see` in SQL): staff see their org subtrees,
/// everyone the cases about them or filed by them; a case not yet disclosed to its subject
/// neither by its subject nor by a unit admin.
#[derive(Clone, Debug, Default)]
pub struct Visibility {
    pub person_id: String,
    /// Where the caller sees every case.
    pub org_subtrees: Vec<String>,
    /// Where the caller sees disclosed cases only (a unit admin).
    pub disclosed_subtrees: Vec<String>,
    /// The caller is the subject of a case of the list's workflow not yet disclosed: such
    /// cases are left out of their `org_subtrees` too ([`subject_of_undisclosed`]).
    pub subject_of_undisclosed: bool,
}

impl Visibility {
    /// What `actor` may see; `subject_of_undisclosed` is for the caller to find out.
    pub fn of(actor: &crate::domain::Actor) -> Visibility {
        Visibility {
            person_id: actor.id.clone(),
            org_subtrees: actor.staff_subtrees(),
            disclosed_subtrees: actor.disclosed_subtrees(),
            subject_of_undisclosed: false,
        }
    }
}

/// Whether `person_id` is the subject of a case of `workflow` not yet disclosed to them
/// (from `cases_subject_created`; almost never true for staff, who then need one more
/// condition on their subtrees).
pub fn subject_of_undisclosed(
    conn: &mut DbConnection,
    workflow: &str,
    person_id: &str,
) -> QueryResult<bool> {
    let query = cases::table
        .filter(cases::subject_id.eq(person_id.to_string()))
        .filter(cases::workflow.eq(workflow.to_string()))
        .filter(cases::disclosed.eq(false))
        .select(cases::id)
        .limit(1);
    Ok(!native!(conn, c => query.load::<String>(c))?.is_empty())
}

#[derive(Clone, Debug)]
pub struct ListFilter {
    pub workflow: String,
    pub visibility: Visibility,
    pub state: Option<String>,
    pub org: Option<String>,
    pub subject: Option<String>,
    pub q: Option<String>,
    pub investigator: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub overdue: Option<bool>,
    pub after: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

impl ListFilter {
    /// No filter but the workflow and who is asking: the newest `limit` cases they may see.
    pub fn new(workflow: &str, visibility: Visibility, limit: i64) -> ListFilter {
        ListFilter {
            workflow: workflow.to_string(),
            visibility,
            state: None,
            org: None,
            subject: None,
            q: None,
            investigator: None,
            created_from: None,
            created_to: None,
            overdue: None,
            after: None,
            limit,
        }
    }
}

type BoxedCond = Box<dyn BoxableExpression<cases::table, DbBackend, SqlType = Bool>>;

/// How a condition on an org subtree is written, which decides how SQLite finds a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subtree {
    /// `subject_org = org OR subject_org LIKE 'org/%'`. PostgreSQL serves the prefix from
    /// its `text_pattern_ops` index (a range would follow the database's collation, which
    /// may ignore `/`). SQLite cannot serve it from an index (its `LIKE` ignores case, its
    /// indexes do not), so it walks the newest cases and keeps those that match: quick
    /// when many cases match, slow when few do.
    Like,
    /// `subject_org >= 'org' AND subject_org < 'org0' AND (subject_org = 'org' OR
    /// subject_org >= 'org/')` (SQLite only). Org paths are lowercase ASCII with `/` between
    /// levels and SQLite compares bytes, so one range of the index holds the org, the orgs
    /// below it (`0` is the byte after `/`) and only siblings like `org-x`, which the last
    /// term drops. SQLite reads the matches from an index, then sorts them: quick when few
    /// cases match.
    Range,
}

fn in_subtree_cond(org: &str, how: Subtree) -> BoxedCond {
    match how {
        Subtree::Range => Box::new(
            cases::subject_org
                .ge(org.to_string())
                .and(cases::subject_org.lt(format!("{org}0")))
                .and(
                    cases::subject_org
                        .eq(org.to_string())
                        .or(cases::subject_org.ge(format!("{org}/"))),
                ),
        ),
        Subtree::Like => Box::new(
            cases::subject_org.eq(org.to_string()).or(cases::subject_org
                .like(format!("{}/%", like_escape(org)))
                .escape('\\')),
        ),
    }
}

/// Up to this many cases of a list's workflow, state and org filter, SQLite sorts their
/// index entries to find the page; past it, it walks the newest cases instead. Either way
/// a page costs at most a few milliseconds: sorting 16 k index entries takes about 3 ms,
/// and with more matches than that the walk meets one often enough.
pub const SQLITE_SORT_AT_MOST: i64 = 16_384;

/// Whether the org filter of `f` matches few enough cases (of its workflow and state) to
/// sort them: counted from an index alone, stopping at `at_most` (the few siblings like
/// `org-x` that share the range count too: this only chooses a way).
fn few_in_subtree(
    conn: &mut DbConnection,
    f: &ListFilter,
    org: &str,
    at_most: i64,
) -> QueryResult<bool> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let state = if f.state.is_some() {
        "AND state = ?"
    } else {
        "AND ? IS NOT NULL"
    };
    let sql = format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM cases WHERE workflow = ? {state}
             AND subject_org >= ? AND subject_org < ? LIMIT ?)"
    );
    let n = diesel::sql_query(sql)
        .bind::<Text, _>(&f.workflow)
        .bind::<Text, _>(f.state.as_deref().unwrap_or(""))
        .bind::<Text, _>(org)
        .bind::<Text, _>(format!("{org}0"))
        .bind::<BigInt, _>(at_most)
        .get_result::<Count>(conn)?
        .n;
    Ok(n < at_most)
}

/// A page of visible cases, newest first, keyset-paginated on (created_at, id).
pub fn list(conn: &mut DbConnection, f: &ListFilter) -> QueryResult<Vec<CaseRow>> {
    list_sorting_at_most(conn, f, SQLITE_SORT_AT_MOST)
}

/// How a list's text search (`q`) is written.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Search {
    /// No `q`.
    None,
    /// The cases the trigram index found, when few cases hold the text: those are
    /// fetched by key, filtered and sorted.
    Matches(Vec<String>),
    /// Each case of the page's walk tests its own text (`EXISTS`, by the case's key): for
    /// a search of one or two characters, which no trigram finds, and for a text that
    /// many cases hold, where the walk meets a match often.
    Walk,
}

/// The trigram index finds texts of three characters or more.
fn indexable(q: &str) -> bool {
    q.chars().count() >= 3
}

/// `q` as an FTS5 phrase: the whole text, quotes doubled (the trigram tokenizer matches a
/// phrase as a substring).
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.to_lowercase().replace('"', "\"\""))
}

/// The ids of the cases that hold `q`, if fewer than `at_most` do (`None`: too many to
/// fetch them all), from the trigram index: FTS5's on SQLite, `pg_trgm`'s on PostgreSQL
/// (whose planner may rather read the table until it has `at_most`, when it expects most
/// texts to match).
fn few_matching(
    conn: &mut DbConnection,
    q: &str,
    at_most: i64,
) -> QueryResult<Option<Vec<String>>> {
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        case_id: String,
    }
    let ids: Vec<Id> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT s.case_id FROM case_search_fts CROSS JOIN case_search s \
             ON s.n = case_search_fts.rowid WHERE case_search_fts MATCH ? LIMIT ?",
        )
        .bind::<Text, _>(fts_phrase(q))
        .bind::<BigInt, _>(at_most)
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(
            "SELECT case_id FROM case_search WHERE text LIKE $1 ESCAPE '\\' LIMIT $2",
        )
        .bind::<Text, _>(format!("%{}%", like_escape(&q.to_lowercase())))
        .bind::<BigInt, _>(at_most)
        .load(c)?,
    };
    Ok((ids.len() < at_most as usize).then(|| ids.into_iter().map(|i| i.case_id).collect()))
}

/// [`list`], with the choices between sorting the matches of a filter and walking the
/// newest cases made at `at_most` matches (tests try both ways).
///
/// A text search that few cases match is answered from the trigram index: those cases
/// are fetched by key, filtered and sorted; one that many match walks the newest cases.
/// On SQLite, an org filter that few cases match is answered in two steps within one read
/// transaction: the ids of the page from an index (the org as a range; an org filter
/// inside one of the caller's subtrees makes the visibility condition redundant, and
/// leaving it out keeps the index sufficient), then those rows. PostgreSQL's planner makes
/// that choice itself, from the state-and-org index.
pub fn list_sorting_at_most(
    conn: &mut DbConnection,
    f: &ListFilter,
    at_most: i64,
) -> QueryResult<Vec<CaseRow>> {
    list_within(conn, f, at_most, SQLITE_WALK_AT_MOST)
}

/// [`list_sorting_at_most`], walking at most `walk` of the newest cases before sorting
/// (tests try small walks).
pub fn list_within(
    conn: &mut DbConnection,
    f: &ListFilter,
    at_most: i64,
    walk: i64,
) -> QueryResult<Vec<CaseRow>> {
    match conn {
        DbConnection::Pg(_) => list_in(conn, f, at_most, walk),
        DbConnection::Sqlite(_) => conn.transaction(|conn| list_in(conn, f, at_most, walk)),
    }
}

fn list_in(
    conn: &mut DbConnection,
    f: &ListFilter,
    at_most: i64,
    walk: i64,
) -> QueryResult<Vec<CaseRow>> {
    if let Some(q) = f.q.as_deref().filter(|q| indexable(q))
        && let Some(ids) = few_matching(conn, q, at_most)?
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        return filtered(f, Subtree::Like, Search::Matches(ids)).load::<CaseRow>(conn);
    }
    let search = match f.q {
        None => Search::None,
        Some(_) => Search::Walk,
    };
    if matches!(conn, DbConnection::Pg(_)) {
        return filtered(f, Subtree::Like, search).load::<CaseRow>(conn);
    }
    let Some(org) = f.org.as_deref() else {
        return filtered(f, Subtree::Like, search).load::<CaseRow>(conn);
    };
    if !few_in_subtree(conn, f, org, at_most)? {
        // Many matches, most often met at once by walking the newest cases. The walk is
        // bounded: among the newest `SQLITE_WALK_AT_MOST` cases of the workflow and state
        // (after the cursor), a full page is the page, as any match outside them is older
        // than all of them. Fewer, and the matches lie further back (another province filed
        // everything since): walking on read every newer case (a province's page took
        // ~90 ms of CPU behind 40 000 cases filed elsewhere); the matches are sorted instead.
        let page = filtered(f, Subtree::Like, search.clone())
            .filter(among_newest(f, walk))
            .load::<CaseRow>(conn)?;
        if page.len() as i64 >= f.limit {
            return Ok(page);
        }
    }
    let ids: Vec<String> = filtered(f, Subtree::Range, search)
        .select(cases::id)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    cases::table
        .filter(cases::id.eq_any(ids))
        .order((cases::created_at.desc(), cases::id.desc()))
        .load::<CaseRow>(conn)
}

type BoxedCases<'a> = cases::BoxedQuery<'a, DbBackend>;

/// How many of the newest cases a SQLite list page with many matches walks before it sorts
/// the matches instead: about a millisecond of reading.
pub const SQLITE_WALK_AT_MOST: i64 = 2_048;

/// The case is among the newest `n` of the list's workflow and state after its cursor: the
/// page's order over a superset of its matches, as one subquery (read into a list of keys,
/// then each case fetched by key).
fn among_newest(f: &ListFilter, n: i64) -> BoxedCond {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Text, Timestamp};
    // Without a cursor, one after every case, so that one text serves.
    let (at, id) = f.after.clone().unwrap_or_else(|| {
        // 9999-12-31: the last date both databases write in their usual form (a later
        // one would sort before every other text on SQLite).
        let end = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .unwrap_or_default();
        (end, String::new())
    });
    let (state_is, state, state_end) = match f.state.clone() {
        Some(state) => (" AND n.state = ", state, ""),
        None => (" AND ", String::new(), " IS NOT NULL"),
    };
    Box::new(
        sql::<Bool>("cases.id IN (SELECT n.id FROM cases n WHERE n.workflow = ")
            .bind::<Text, _>(f.workflow.clone())
            .sql(state_is)
            .bind::<Text, _>(state)
            .sql(state_end)
            .sql(" AND n.created_at <= ")
            .bind::<Timestamp, _>(at)
            .sql(" AND (n.created_at < ")
            .bind::<Timestamp, _>(at)
            .sql(" OR (n.created_at = ")
            .bind::<Timestamp, _>(at)
            .sql(" AND n.id < ")
            .bind::<Text, _>(id)
            .sql(")) ORDER BY n.created_at DESC, n.id DESC LIMIT ")
            .bind::<BigInt, _>(n)
            .sql(")"),
    )
}

/// The condition of a text search `q` (`pattern`: `q` lower-cased, as `LIKE '%q%'`).
fn search_cond(pattern: String, search: Search) -> BoxedCond {
    use diesel::dsl::sql;
    use diesel::sql_types::Text;
    match search {
        Search::Matches(ids) => Box::new(cases::id.eq_any(ids)),
        Search::Walk | Search::None => Box::new(
            sql::<Bool>(
                "EXISTS (SELECT 1 FROM case_search s WHERE s.case_id = cases.id AND s.text LIKE ",
            )
            .bind::<Text, _>(pattern)
            .sql(" ESCAPE '\\')"),
        ),
    }
}

/// The page's query: every filter of `f`, the caller's visibility, newest first.
fn filtered(f: &ListFilter, org_filter: Subtree, search: Search) -> BoxedCases<'static> {
    let mut q = cases::table
        .filter(cases::workflow.eq(f.workflow.clone()))
        .into_boxed();
    let v = &f.visibility;
    let org_implies_visibility = !v.subject_of_undisclosed
        && f.org.as_deref().is_some_and(|org| {
            v.org_subtrees
                .iter()
                .any(|subtree| crate::domain::org::covers(subtree, org))
        });
    if !org_implies_visibility {
        let me = v.person_id.clone();
        let mut visible: BoxedCond = Box::new(
            cases::subject_id
                .eq(me.clone())
                .and(cases::disclosed)
                .or(cases::applicant_id.eq(me.clone())),
        );
        for org in &v.org_subtrees {
            let sub = in_subtree_cond(org, Subtree::Like);
            visible = if v.subject_of_undisclosed {
                Box::new(visible.or(sub.and(cases::disclosed.or(cases::subject_id.ne(me.clone())))))
            } else {
                Box::new(visible.or(sub))
            };
        }
        for org in &v.disclosed_subtrees {
            let sub = in_subtree_cond(org, Subtree::Like);
            visible = Box::new(visible.or(sub.and(cases::disclosed)));
        }
        q = q.filter(visible);
    }
    if let Some(state) = &f.state {
        q = q.filter(cases::state.eq(state.clone()));
    }
    if let Some(org) = &f.org {
        q = q.filter(in_subtree_cond(org, org_filter));
    }
    if let Some(subject) = &f.subject {
        q = q.filter(cases::subject_id.eq(subject.clone()));
    }
    if let Some(text) = &f.q {
        let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
        q = q.filter(search_cond(pattern, search.clone()));
    }
    if let Some(inv) = &f.investigator {
        q = q.filter(cases::investigator_id.eq(inv.clone()));
    }
    if let Some(from) = f.created_from {
        q = q.filter(cases::created_at.ge(from));
    }
    if let Some(to) = f.created_to {
        q = q.filter(cases::created_at.lt(to));
    }
    if let Some(overdue) = f.overdue {
        q = q.filter(cases::overdue.eq(overdue));
    }
    if let Some((at, id)) = &f.after {
        // The first term is implied by the second; it is the one an index range can seek
        // to (the second, an OR, is not), so a page after a cursor starts at the cursor
        // instead of walking every newer case.
        q = q.filter(cases::created_at.le(*at)).filter(
            cases::created_at
                .lt(*at)
                .or(cases::created_at.eq(*at).and(cases::id.lt(id.clone()))),
        );
    }
    q.order((cases::created_at.desc(), cases::id.desc()))
        .limit(f.limit)
}
