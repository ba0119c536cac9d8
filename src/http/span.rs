//! The log span each request runs in.

/// The root span of each request: method, path and request id, then the status. Lighter
/// than tracing-actix-web's default, which at every request also matches the path against
/// every route's regex, reads the forwarding headers and the user agent and formats an
/// OpenTelemetry name (about 5 % of the service's CPU on a transition). The path leaves the
/// query out: it may carry search text. Metrics label requests by route (`http::health`).
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .copied();
        let empty = tracing::field::Empty;
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %request.path(),
            request_id = request_id.map(tracing::field::display),
            http.status_code = empty,
            otel.status_code = empty,
            exception.message = empty,
            exception.details = empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
