//! The OpenAPI 3.1 document's parts: [`Doc`] collects the schemas of the types the
//! workflows parse their bodies into and the handlers answer with, `ops` describes each
//! operation of the route table. The response shapes are the handlers' own body types,
//! beside each handler (`http::cases::view`, `http::ledger`…). The document itself is
//! assembled from the route table in `http::docs`, served at `/openapi.json`, browsed at
//! `/docs`; the API tests validate real responses against it.

pub mod ops;

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::registry::Registry;
use crate::error::ErrorKind;
use crate::http::cases::view::CaseBody;
use crate::http::problem::Problem;

const PROBLEM_JSON: &str = "application/problem+json";
const JSON: &str = "application/json";
const CSV: &str = "text/csv";
pub const BEARER: &str = "bearer";

/// What the document is built from, and the schemas collected on the way.
pub struct Doc<'a> {
    registry: &'a Registry,
    schemas: BTreeMap<String, RefOr<Schema>>,
    /// What may be uploaded (the bodies of uploads and downloads).
    media_types: &'a [String],
}

impl<'a> Doc<'a> {
    pub fn new(registry: &'a Registry, media_types: &'a [String]) -> Doc<'a> {
        Doc {
            registry,
            schemas: BTreeMap::new(),
            media_types,
        }
    }

    /// A schema collected so far, to amend.
    pub fn schema_mut(&mut self, name: &str) -> Option<&mut RefOr<Schema>> {
        self.schemas.get_mut(name)
    }

    /// Every schema collected, for the document's components.
    pub fn into_schemas(self) -> BTreeMap<String, RefOr<Schema>> {
        self.schemas
    }

    /// A reference to `T`, registered with what it refers to.
    fn schema<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut deps = Vec::new();
        T::schemas(&mut deps);
        self.schemas.extend(deps);
        let name = T::name().into_owned();
        self.schemas.insert(name.clone(), T::schema());
        Ref::from_schema_name(name).into()
    }

    fn named(&mut self, name: String, schema: RefOr<Schema>) -> RefOr<Schema> {
        self.schemas.insert(name.clone(), schema);
        Ref::from_schema_name(name).into()
    }

    fn workflow(&self, name: Option<&'static str>) -> &'a dyn crate::domain::workflow::Workflow {
        let registry: &'a Registry = self.registry;
        registry
            .get(name.expect("a workflow route carries its workflow"))
            .expect("the route table names registered workflows")
    }

    /// `ExonerationCase`: the common fields, the workflow's states and events, its records.
    fn case(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let w = self.workflow(wf);
        let def = w.def();
        let name = format!("{}Case", title_case(def.name));
        if self.schemas.contains_key(&name) {
            return Ref::from_schema_name(name).into();
        }
        let api = w.api();
        self.schemas.extend(api.components);
        let records = self.named(api.records.0, api.records.1);
        let base = self.schema::<CaseBody>();
        let narrowed = ObjectBuilder::new()
            .property(
                "workflow",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([def.name])),
            )
            .property(
                "state",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(def.states.iter().copied())),
            )
            .property(
                "available_events",
                ArrayBuilder::new().items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(def.events())),
                ),
            );
        let schema = AllOfBuilder::new()
            .item(base)
            .item(narrowed)
            .item(records)
            .description(Some(format!(
                "A case of {} ({}): the common fields and the workflow's records as they come \
                 into being.",
                def.name, def.title
            )))
            .into();
        self.named(name, schema)
    }

    /// The transition body: one of the events, told apart by `event`.
    fn transition(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let w = self.workflow(wf);
        let prefix = title_case(w.def().name);
        let api = w.api();
        self.schemas.extend(api.components);
        let mut one_of = OneOfBuilder::new();
        let mut discriminator = Discriminator::new("event");
        for (event, fields) in api.events {
            let RefOr::T(Schema::Object(mut object)) = fields else {
                panic!("the fields of `{event}` are an object");
            };
            object.properties.insert(
                "event".into(),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([event]))
                    .into(),
            );
            object.required.insert(0, "event".into());
            if crate::domain::material::CITING_EVENTS.contains(&event) {
                object.properties.insert(
                    "attachments".into(),
                    ArrayBuilder::new()
                        .items(ObjectBuilder::new().schema_type(Type::String))
                        .max_items(Some(100))
                        .description(Some(
                            "ids of files of this case (`POST …/attachments`) the event cites",
                        ))
                        .into(),
                );
            }
            let name = format!("{prefix}{}", title_case(event));
            let r = self.named(name.clone(), Schema::Object(object).into());
            discriminator
                .mapping
                .insert(event.to_string(), format!("#/components/schemas/{name}"));
            one_of = one_of.item(r);
        }
        let schema = one_of
            .discriminator(Some(discriminator))
            .description(Some(
                "`{\"event\": \"<name>\", ...fields}`; the event decides the fields.",
            ))
            .into();
        self.named(format!("{prefix}Transition"), schema)
    }

    fn filing(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let api = self.workflow(wf).api();
        self.schemas.extend(api.components);
        self.named(api.filing.0, api.filing.1)
    }

    fn page(&mut self, wf: Option<&'static str>) -> RefOr<Schema> {
        let case = self.case(wf);
        let name = format!("{}Page", title_case(self.workflow(wf).def().name));
        let schema = ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(case))
            .required("items")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                        Type::String,
                        Type::Null,
                    ]))
                    .description(Some("pass as `cursor` for the next page; null on the last")),
            )
            .required("next_cursor")
            .into();
        self.named(name, schema)
    }

    /// Responses for the error statuses of docs/API.md; each names its `code`.
    fn problems(&mut self, mut op: OperationBuilder, kinds: &[ErrorKind]) -> OperationBuilder {
        let problem = self.schema::<Problem>();
        let mut by_status: BTreeMap<u16, Vec<ErrorKind>> = BTreeMap::new();
        // Every authenticated operation may also meet the caller's rate limit.
        let limited = kinds
            .contains(&ErrorKind::Unauthorized)
            .then_some(ErrorKind::TooManyRequests);
        for k in kinds.iter().chain(limited.iter()).chain(
            [
                ErrorKind::HeadersTooLarge,
                ErrorKind::Unavailable,
                ErrorKind::Internal,
            ]
            .iter(),
        ) {
            by_status.entry(k.status()).or_default().push(*k);
        }
        for (status, kinds) in by_status {
            let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
            let titles: Vec<&str> = kinds.iter().map(|k| k.title()).collect();
            let schema = AllOfBuilder::new().item(problem.clone()).item(
                ObjectBuilder::new().property(
                    "code",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(codes)),
                ),
            );
            let mut response = ResponseBuilder::new()
                .description(titles.join("; "))
                .content(PROBLEM_JSON, Content::new(Some(schema)));
            match status {
                401 => {
                    response = response.header(
                        "WWW-Authenticate",
                        utoipa::openapi::header::Header::new(String::schema()),
                    )
                }
                429 | 503 => {
                    response = response.header(
                        "Retry-After",
                        utoipa::openapi::header::Header::new(String::schema()),
                    )
                }
                _ => {}
            }
            op = op.response(status.to_string(), response.build());
        }
        op
    }
}

impl Doc<'_> {
    /// A file's bytes in each media type that may be uploaded.
    fn file_content(&self, mut b: ResponseBuilder) -> ResponseBuilder {
        for t in self.media_types {
            b = b.content(t.as_str(), Content::new(Some(binary())));
        }
        b
    }

    /// An upload: the raw body in an allowed media type, or a browser's form.
    fn upload_body(&self) -> utoipa::openapi::request_body::RequestBody {
        let mut b = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .description(Some(
                "the file itself, sent as its own media type (one the service accepts), named by \
                 `Content-Disposition`; or `multipart/form-data` with a `visibility` field and \
                 then one `file` part",
            ));
        for t in self.media_types {
            b = b.content(t.as_str(), Content::new(Some(binary())));
        }
        let form = ObjectBuilder::new()
            .property("visibility", string_enum(["parties", "staff", "sealed"]))
            .property("file", binary())
            .required("file");
        b.content("multipart/form-data", Content::new(Some(form)))
            .build()
    }
}

/// Bytes.
fn binary() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::Custom("binary".into())))
        .into()
}

pub(crate) fn title_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn json_response(description: &str, schema: RefOr<Schema>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(JSON, Content::new(Some(schema)))
}

fn json_body(schema: RefOr<Schema>) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content(JSON, Content::new(Some(schema)))
        .build()
}

fn text_response(description: &str, content_type: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(content_type, Content::new(Some(String::schema())))
        .build()
}

fn etag() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(String::schema()))
        .description(Some("the case's version, quoted: `\"3\"`"))
        .build()
}

fn query(name: &str, description: &str, schema: RefOr<Schema>) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn header_param(name: &str, description: &str, pattern: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        ))
        .build()
}

/// `Idempotency-Key`: 1–200 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = "^[!-~]{1,200}$";
/// `If-Match`: a version as an entity tag, `"3"` (or `W/"3"`).
const IF_MATCH: &str = "^(\\*|(W/)?\"?[0-9]{1,18}\"?)$";

fn string_enum<I: IntoIterator<Item = S>, S: Into<Value>>(values: I) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
}

fn date_or_time() -> RefOr<Schema> {
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    let of = |f: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(f)))
    };
    OneOfBuilder::new()
        .item(of(KnownFormat::Date))
        .item(of(KnownFormat::DateTime))
        .description(Some("a date (YYYY-MM-DD) or an RFC 3339 time"))
        .into()
}

/// A non-empty query value.
fn word() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .into()
}

fn op(id: String, tag: &str, summary: &str, authenticated: bool) -> OperationBuilder {
    let mut b = OperationBuilder::new()
        .operation_id(Some(id))
        .tag(tag)
        .summary(Some(summary));
    if authenticated {
        b = b.security(SecurityRequirement::new::<_, [&str; 0], &str>(BEARER, []));
    }
    b
}

fn wf_id(prefix: &str, wf: Option<&'static str>) -> String {
    format!("{prefix}_{}", wf.unwrap_or_default())
}

fn wf_tag(wf: Option<&'static str>) -> &'static str {
    wf.unwrap_or("cases")
}

fn path_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(String::schema()))
        .build()
}
