//! What wraps every request: the header size limit and the request metrics by route.

use actix_web::web;

use super::AppState;

/// Middleware: a request whose target and headers together exceed `server.max_header_bytes`
/// is refused (431) before any handler reads it.
pub async fn limit_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let max = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.server.max_header_bytes)
        .unwrap_or(16 * 1024);
    let size = req.uri().to_string().len()
        + req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if size > max {
        let err = crate::error::AppError::new(
            crate::error::ErrorKind::HeadersTooLarge,
            format!("the request target and headers take {size} bytes; at most {max} are read"),
        );
        let resp = actix_web::ResponseError::error_response(&err);
        return Ok(req.into_response(resp));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Middleware: counts requests by route pattern, method and status, and times them.
pub async fn track(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let start = std::time::Instant::now();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(m) = crate::metrics::get() {
        let route = res
            .request()
            .app_data::<super::routes::RoutePattern>()
            .map_or("unmatched", |p| &*p.0);
        let status = res.status().as_u16().to_string();
        m.requests
            .with_label_values(&[route, &method, &status])
            .inc();
        m.latency
            .with_label_values(&[route, &method])
            .observe(start.elapsed().as_secs_f64());
    }
    Ok(res)
}
