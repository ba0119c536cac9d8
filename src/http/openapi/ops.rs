//! One function per operation of the route table: long because there are twenty-odd, each a
//! few lines of parameters and responses; one is found by its route's name.

use utoipa::PartialSchema;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, Required, ResponseBuilder};

use super::*;
use crate::http::directory::Person;
use crate::http::health::{Health, Readiness};
use crate::http::ledger::Ledger;
use crate::http::outbox::{OutboxItem, OutboxList};
use crate::http::workflows::{WorkflowDescription, WorkflowList};
use ErrorKind::*;

/// What any body-carrying request may meet.
const WRITE_PROBLEMS: [ErrorKind; 6] = [
    Malformed,
    Unauthorized,
    Forbidden,
    TooLarge,
    UnsupportedMediaType,
    Validation,
];

pub fn healthz(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    op("healthz".into(), "operations", "The process is up", false)
        .response("200", json_response("ok", d.schema::<Health>()).build())
        .build()
}

pub fn readyz(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let r = d.schema::<Readiness>();
    op(
        "readyz".into(),
        "operations",
        "Database reachable, migrations applied, mail backlog",
        false,
    )
    .response("200", json_response("ready", r.clone()).build())
    .response("503", json_response("not ready", r).build())
    .build()
}

pub fn metrics(_: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    op("metrics".into(), "operations", "Prometheus metrics", false)
        .response(
            "200",
            text_response("the Prometheus text format", "text/plain"),
        )
        .build()
}

pub fn openapi_json(_: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    op("openapi".into(), "operations", "This document", false)
        .response(
            "200",
            json_response("OpenAPI 3.1", ObjectBuilder::new().into()).build(),
        )
        .build()
}

pub fn docs(_: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    op(
        "docs".into(),
        "operations",
        "Interactive documentation (served from the binary)",
        false,
    )
    .response(
        "308",
        ResponseBuilder::new()
            .description("to `/docs/`")
            .header(
                "Location",
                utoipa::openapi::header::Header::new(String::schema()),
            )
            .build(),
    )
    .build()
}

pub fn docs_file(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "docs_file".into(),
        "operations",
        "A file of the interactive documentation",
        false,
    )
    .parameter(path_param("file", "`` or `index.html` for the page"))
    .response("200", text_response("the file", "text/html"));
    d.problems(b, &[NotFound]).build()
}

pub fn list_workflows(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "list_workflows".into(),
        "workflows",
        "The workflows the service runs",
        false,
    )
    .response(
        "200",
        json_response("the workflows", d.schema::<WorkflowList>()).build(),
    );
    d.problems(b, &[]).build()
}

pub fn get_workflow(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "get_workflow".into(),
        "workflows",
        "States, events, transitions, roles and catalogues of a workflow",
        false,
    )
    .parameter(workflow_param(d))
    .response(
        "200",
        json_response("the workflow", d.schema::<WorkflowDescription>()).build(),
    );
    d.problems(b, &[NotFound]).build()
}

pub fn get_diagram(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "get_workflow_diagram".into(),
        "workflows",
        "The machine as a Mermaid state diagram",
        false,
    )
    .parameter(workflow_param(d))
    .response("200", text_response("Mermaid text", "text/vnd.mermaid"));
    d.problems(b, &[NotFound]).build()
}

pub fn statistics(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "statistics".into(),
        "reports",
        "Counts per state and outcome, stage durations, overdue counts (staff)",
        true,
    )
    .parameter(query(
        "org",
        "an org subtree inside the caller's (default: the caller's org)",
        crate::domain::OrgPath::schema(),
    ))
    .parameter(query(
        "from",
        "cases filed at or after (default: 1970)",
        date_or_time(),
    ))
    .parameter(query(
        "to",
        "cases filed before (default: now)",
        date_or_time(),
    ))
    .response(
        "200",
        json_response(
            "the numbers",
            d.schema::<crate::http::statistics::Statistics>(),
        )
        .build(),
    );
    d.problems(b, &[Unauthorized, Forbidden, Validation])
        .build()
}

pub fn ledger(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let ledger = d.schema::<Ledger>();
    let b = op(
        "ledger".into(),
        "reports",
        "台账: outcomes, influence periods and open rectifications per cadre (staff)",
        true,
    )
    .parameter(query(
        "org",
        "an org subtree inside the caller's (default: the caller's org)",
        crate::domain::OrgPath::schema(),
    ))
    .parameter(query(
        "limit",
        "cadres on a page: 1 to 500 (default 100)",
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(500))
            .into(),
    ))
    .parameter(query(
        "cursor",
        "`next_cursor` of the page before",
        String::schema(),
    ))
    .response(
        "200",
        ResponseBuilder::new()
            .description("a page of the ledger; `Accept: text/csv` for the whole ledger as a spreadsheet (UTF-8, BOM), streamed")
            .content(JSON, Content::new(Some(ledger)))
            .content(CSV, Content::new(Some(String::schema())))
            .build(),
    );
    d.problems(b, &[Unauthorized, Forbidden, Validation])
        .build()
}

pub fn cadre_record(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let record = d.schema::<super::super::cadres::CadreRecord>();
    let b = op(
        "cadre_record".into(),
        "reports",
        "A cadre's record: every case about them the caller may see, with its outcome, sanction, influence period, promotion bar, effects and follow-up talk (the cadre, and staff whose subtree holds the cadre's org)",
        true,
    )
    .parameter(path_param("id", "the cadre's id"))
    .response("200", json_response("the record", record).build());
    d.problems(b, &[Unauthorized, NotFound]).build()
}

pub fn list_outbox(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "list_outbox".into(),
        "mail",
        "Mails of the admin's jurisdiction by state (default: dead)",
        true,
    )
    .parameter(query(
        "state",
        "pending, sending, sent or dead",
        string_enum(super::super::outbox::STATES),
    ))
    .parameter(query(
        "limit",
        "1 to 500 (default 100)",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(500))
            .into(),
    ))
    .response(
        "200",
        json_response("the mails", d.schema::<OutboxList>()).build(),
    );
    d.problems(b, &[Unauthorized, Forbidden, Validation])
        .build()
}

pub fn retry_outbox(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let b = op(
        "retry_outbox".into(),
        "mail",
        "Queue a dead mail again (admin)",
        true,
    )
    .parameter(path_param("id", "the mail's id"))
    .response(
        "200",
        json_response("the mail, pending again", d.schema::<OutboxItem>()).build(),
    );
    d.problems(b, &[Unauthorized, Forbidden, NotFound, InvalidTransition])
        .build()
}

pub fn put_person(d: &mut Doc<'_>, _: Option<&'static str>) -> Operation {
    let body = d.schema::<super::super::directory::PersonBody>();
    let b = op(
        "put_person".into(),
        "directory",
        "Register or update a person (admin)",
        true,
    )
    .parameter(path_param(
        "person_id",
        "the person's id (the token's `sub`)",
    ))
    .request_body(Some(json_body(body)))
    .response(
        "200",
        json_response("the person", d.schema::<Person>()).build(),
    );
    d.problems(b, &WRITE_PROBLEMS).build()
}

pub fn create_case(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let body = d.filing(wf);
    let case = d.case(wf);
    let b = op(
        wf_id("create", wf),
        wf_tag(wf),
        "File a case: a cadre about themselves (subject from the token), staff about a cadre of their jurisdiction (the org the directory holds for a known cadre)",
        true,
    )
    .parameter(header_param(
        "Idempotency-Key",
        "a replay returns the first answer; the same key with another body is 422",
        IDEMPOTENCY_KEY,
    ))
    .request_body(Some(json_body(body)))
    .response(
        "201",
        json_response("the case", case)
            .header("ETag", etag())
            .header(
                "Location",
                utoipa::openapi::header::Header::new(String::schema()),
            )
            .build(),
    );
    d.problems(b, &WRITE_PROBLEMS).build()
}

pub fn list_cases(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let page = d.page(wf);
    let def = d.workflow(wf).def();
    let b = op(
        wf_id("list", wf),
        wf_tag(wf),
        "Visible cases, newest first, keyset-paginated",
        true,
    )
    .parameter(query(
        "state",
        "in this state",
        string_enum(def.states.iter().copied()),
    ))
    .parameter(query(
        "org",
        "subject's org in this subtree",
        crate::domain::OrgPath::schema(),
    ))
    .parameter(query("subject", "about this person", word()))
    .parameter(query(
        "investigator",
        "assigned to this investigator",
        word(),
    ))
    .parameter(query("created_from", "filed at or after", date_or_time()))
    .parameter(query("created_to", "filed before", date_or_time()))
    .parameter(query("overdue", "a deadline has passed", bool::schema()))
    .parameter(query(
        "q",
        "words in the title or description (at most 200 characters)",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(200))
            .into(),
    ))
    .parameter(query(
        "limit",
        "1 to 100 (default 20)",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(super::super::cases::MAX_LIMIT))
            .into(),
    ))
    .parameter(query(
        "cursor",
        "`next_cursor` of the previous page",
        word(),
    ))
    .response(
        "200",
        ResponseBuilder::new()
            .description("a page; `Accept: text/csv` for the page as a spreadsheet")
            .content(JSON, Content::new(Some(page)))
            .content(CSV, Content::new(Some(String::schema())))
            .build(),
    );
    d.problems(b, &[Unauthorized, Validation]).build()
}

pub fn get_case(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let case = d.case(wf);
    let b = op(wf_id("get", wf), wf_tag(wf), "One case", true)
        .parameter(path_param("id", "the case's id"))
        .response(
            "200",
            json_response("the case", case)
                .header("ETag", etag())
                .build(),
        );
    d.problems(b, &[Unauthorized, NotFound]).build()
}

pub fn apply_transition(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let body = d.transition(wf);
    let case = d.case(wf);
    let b = op(wf_id("transition", wf), wf_tag(wf), "Apply one event", true)
        .parameter(path_param("id", "the case's id"))
        .parameter(header_param(
            "If-Match",
            "the version the caller saw, quoted: 412 if the case moved on",
            IF_MATCH,
        ))
        .parameter(header_param(
            "Idempotency-Key",
            "a replay returns the first answer; the same key with another body is 422",
            IDEMPOTENCY_KEY,
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(JSON, Content::new(Some(body)))
                .build(),
        ))
        .response(
            "200",
            json_response("the updated case", case)
                .header("ETag", etag())
                .build(),
        );
    d.problems(
        b,
        &[
            Malformed,
            Unauthorized,
            Forbidden,
            NotFound,
            InvalidTransition,
            VersionConflict,
            TooLarge,
            UnsupportedMediaType,
            Validation,
        ],
    )
    .build()
}

pub fn list_transitions(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let b = op(
        wf_id("timeline", wf),
        wf_tag(wf),
        "The audit timeline, oldest first",
        true,
    )
    .parameter(path_param("id", "the case's id"))
    .response(
        "200",
        json_response(
            "the timeline",
            d.schema::<crate::http::cases::view::TimelineBody>(),
        )
        .build(),
    );
    d.problems(b, &[Unauthorized, NotFound]).build()
}

fn case_id() -> utoipa::openapi::path::Parameter {
    path_param("id", "the case's id")
}

fn page_params(
    b: utoipa::openapi::path::OperationBuilder,
) -> utoipa::openapi::path::OperationBuilder {
    b.parameter(query(
        "limit",
        "1 to 100 (default 50)",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(100))
            .into(),
    ))
    .parameter(query(
        "cursor",
        "`next_cursor` of the previous page",
        word(),
    ))
}

/// What adding a file or a note to a case may meet.
const MATERIAL_PROBLEMS: [ErrorKind; 8] = [
    Malformed,
    Unauthorized,
    Forbidden,
    NotFound,
    InvalidTransition,
    TooLarge,
    UnsupportedMediaType,
    Validation,
];

pub fn upload_attachment(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let file = d.schema::<crate::http::cases::material::AttachmentBody>();
    let body = d.upload_body();
    let b = op(
        wf_id("upload_attachment", wf),
        wf_tag(wf),
        "Upload an evidence file (streamed; recorded in the timeline)",
        true,
    )
    .parameter(case_id())
    .parameter(query(
        "visibility",
        "`parties` (default): everyone who sees the case; `staff`: those who handle it; \
         `sealed`: what identifies a reporter, seen as the reporter is",
        string_enum(["parties", "staff", "sealed"]),
    ))
    .parameter(
        ParameterBuilder::new()
            .name("Content-Disposition")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "the file's name (RFC 6266): `attachment; filename*=UTF-8''%E6%83%85.pdf`; \
                 required for a raw body",
            ))
            .schema(Some(String::schema()))
            .build(),
    )
    .request_body(Some(body))
    .response(
        "201",
        json_response("the file as stored", file)
            .header(
                "Location",
                utoipa::openapi::header::Header::new(String::schema()),
            )
            .build(),
    );
    d.problems(b, &MATERIAL_PROBLEMS).build()
}

pub fn list_attachments(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let page = d.schema::<crate::http::cases::material::AttachmentPage>();
    let b = page_params(
        op(
            wf_id("list_attachments", wf),
            wf_tag(wf),
            "The case's files the caller may see, oldest first",
            true,
        )
        .parameter(case_id()),
    )
    .response("200", json_response("a page of files", page).build());
    d.problems(b, &[Unauthorized, NotFound, Validation]).build()
}

pub fn download_attachment(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let response = d
        .file_content(ResponseBuilder::new().description(
            "the bytes as uploaded, with their media type, `Content-Disposition: attachment`, \
             `X-Content-Type-Options: nosniff` and the SHA-256 as `ETag`",
        ))
        .header(
            "ETag",
            utoipa::openapi::header::HeaderBuilder::new()
                .schema(Some(String::schema()))
                .description(Some("the file's SHA-256 (hex), quoted"))
                .build(),
        )
        .header(
            "Content-Disposition",
            utoipa::openapi::header::Header::new(String::schema()),
        )
        .build();
    let b = op(
        wf_id("download_attachment", wf),
        wf_tag(wf),
        "One file's bytes (streamed)",
        true,
    )
    .parameter(case_id())
    .parameter(path_param("attachment_id", "the file's id"))
    .response("200", response);
    d.problems(b, &[Unauthorized, NotFound]).build()
}

pub fn export_case(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let zip = utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::Custom("binary".into())));
    let b = op(
        wf_id("export", wf),
        wf_tag(wf),
        "The case file (卷宗) as one ZIP: case, timeline, notes, files, manifest",
        true,
    )
    .parameter(case_id())
    .response(
        "200",
        ResponseBuilder::new()
            .description(
                "`case.json`, `timeline.json`, `notes.json`, `files/…` (what the caller may \
                 see) and `manifest.json` (each entry's size and SHA-256, the audit chain); \
                 `rongcuo verify-export FILE` checks it offline",
            )
            .content("application/zip", Content::new(Some(zip)))
            .build(),
    );
    d.problems(b, &[Unauthorized, NotFound, TooLarge]).build()
}

pub fn add_note(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let note = d.schema::<crate::http::cases::material::NoteBody>();
    let body = ObjectBuilder::new()
        .property(
            "body",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(10_000)),
        )
        .required("body")
        .property(
            "visibility",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["parties", "staff"]))
                .description(Some("`parties` (default) or `staff`")),
        )
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ))
        .into();
    let b = op(
        wf_id("add_note", wf),
        wf_tag(wf),
        "Add a note (recorded in the timeline, mailed to the others who may read it)",
        true,
    )
    .parameter(case_id())
    .request_body(Some(json_body(body)))
    .response("201", json_response("the note", note).build());
    d.problems(b, &MATERIAL_PROBLEMS).build()
}

pub fn list_notes(d: &mut Doc<'_>, wf: Option<&'static str>) -> Operation {
    let page = d.schema::<crate::http::cases::material::NotePage>();
    let b = page_params(
        op(
            wf_id("list_notes", wf),
            wf_tag(wf),
            "The case's notes the caller may see, oldest first",
            true,
        )
        .parameter(case_id()),
    )
    .response("200", json_response("a page of notes", page).build());
    d.problems(b, &[Unauthorized, NotFound, Validation]).build()
}

fn workflow_param(d: &Doc<'_>) -> utoipa::openapi::path::Parameter {
    let names: Vec<&str> = d.registry.all().map(|w| w.def().name).collect();
    ParameterBuilder::new()
        .name("name")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string_enum(names)))
        .build()
}
