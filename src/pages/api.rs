//! Calling the JSON API in process, as the signed-in viewer.
//!
//! The request goes through the same routes, extractors and handlers as one from outside
//! (without the outer middleware), with the viewer's session token as bearer: so a page
//! can neither see more than the API would show that viewer, nor compute a figure
//! differently, and every audit read it makes is logged like any other.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use tower::ServiceExt;

use super::session::Viewer;
use super::{Ctx, PageError};

/// Largest API answer a page reads whole.
const MAX_ANSWER: usize = 64 << 20;

/// `GET path_and_query` on the API as `viewer`; the raw answer.
pub async fn get(
    ctx: &Ctx,
    viewer: Option<&Viewer>,
    path_and_query: &str,
) -> Result<Response, PageError> {
    let mut request = Request::get(path_and_query);
    if let Some(viewer) = viewer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", viewer.token));
    }
    let request = request
        .body(Body::empty())
        .map_err(|_| ctx.error(StatusCode::BAD_REQUEST, "malformed request"))?;
    let app = crate::http::api_routes().with_state(ctx.state.clone());
    match app.oneshot(request).await {
        Ok(response) => Ok(response),
        Err(never) => match never {},
    }
}

/// An answer's body as text.
pub async fn text(ctx: &Ctx, response: Response) -> Result<String, PageError> {
    let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
        .await
        .map_err(|_| {
            ctx.error(
                StatusCode::BAD_GATEWAY,
                "the API's answer could not be read",
            )
        })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `GET` a JSON answer; an error answer becomes an error page with the problem's detail.
pub async fn json(
    ctx: &Ctx,
    viewer: Option<&Viewer>,
    path_and_query: &str,
) -> Result<Value, PageError> {
    match json_or_problem(ctx, viewer, path_and_query).await? {
        Ok(value) => Ok(value),
        Err((status, detail)) => Err(ctx.error(status, &detail)),
    }
}

/// `GET` a JSON answer, or the error's status and detail (for a page that shows the
/// refusal in place, e.g. "for the committee only").
pub async fn json_or_problem(
    ctx: &Ctx,
    viewer: Option<&Viewer>,
    path_and_query: &str,
) -> Result<Result<Value, (StatusCode, String)>, PageError> {
    let response = get(ctx, viewer, path_and_query).await?;
    let status = response.status();
    let body = text(ctx, response).await?;
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(Ok(value));
    }
    let detail = value
        .get("detail")
        .or_else(|| value.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("the request failed")
        .to_owned();
    Ok(Err((status, detail)))
}

/// Pass an API answer (a download: CSV, XML, bundle) through, or show its error as a page.
pub async fn download(
    ctx: &Ctx,
    viewer: &Viewer,
    path_and_query: &str,
) -> Result<Response, PageError> {
    let response = get(ctx, Some(viewer), path_and_query).await?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body = text(ctx, response).await?;
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let detail = value
        .get("detail")
        .and_then(Value::as_str)
        .unwrap_or("the request failed");
    Err(ctx.error(status, detail))
}
