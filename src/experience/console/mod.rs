//! The web console at `/console`: a page and its scripts and styles, compiled into the binary
//! (no CDN, works offline), using only the public API — the same REST routes and agent
//! socket as any client, with the same scoping.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, ApiPath};

/// Every file the console serves: its name under `/console/`, its type and its bytes.
const ASSETS: [(&str, &str, &str); 15] = [
    ("index.html", HTML, include_str!("assets/index.html")),
    ("console.css", CSS, include_str!("assets/console.css")),
    ("app.js", JS, include_str!("assets/app.js")),
    ("api.js", JS, include_str!("assets/api.js")),
    ("dom.js", JS, include_str!("assets/dom.js")),
    ("chart.js", JS, include_str!("assets/chart.js")),
    ("artifacts.js", JS, include_str!("assets/artifacts.js")),
    ("timeline.js", JS, include_str!("assets/timeline.js")),
    (
        "views/signin.js",
        JS,
        include_str!("assets/views/signin.js"),
    ),
    (
        "views/sessions.js",
        JS,
        include_str!("assets/views/sessions.js"),
    ),
    (
        "views/session.js",
        JS,
        include_str!("assets/views/session.js"),
    ),
    ("views/chat.js", JS, include_str!("assets/views/chat.js")),
    ("views/files.js", JS, include_str!("assets/views/files.js")),
    (
        "views/execution.js",
        JS,
        include_str!("assets/views/execution.js"),
    ),
    (
        "views/approvals.js",
        JS,
        include_str!("assets/views/approvals.js"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Only this origin's scripts, styles, images and sockets; no framing.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// The names of every file the console serves (for the test that they are all there).
pub fn asset_names() -> Vec<&'static str> {
    ASSETS.iter().map(|(n, _, _)| *n).collect()
}

fn serve(name: &str) -> Response {
    let Some((_, kind, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::not_found("file").into_response();
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Assets change with the binary: revalidate each load.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        *body,
    )
        .into_response()
}

#[utoipa::path(
    get, path = "/console", tag = "console",
    responses((status = 200, description = "The web console's page", content_type = "text/html", body = String))
)]
pub async fn page() -> Response {
    serve("index.html")
}

#[utoipa::path(
    get, path = "/console/{file}", tag = "console",
    params(("file" = String, Path, description = "A script, the style sheet or the page of the console")),
    responses(
        (status = 200, description = "The file (JavaScript, CSS or HTML, as its name says)", body = String),
        (status = 404, description = "No such file", body = crate::http::openapi::ErrorBody),
    )
)]
pub async fn asset(ApiPath(file): ApiPath<String>) -> Response {
    serve(&file)
}

#[utoipa::path(
    get, path = "/console/views/{file}", tag = "console",
    params(("file" = String, Path, description = "A page's script")),
    responses(
        (status = 200, description = "The file", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file", body = crate::http::openapi::ErrorBody),
    )
)]
pub async fn view_asset(ApiPath(file): ApiPath<String>) -> Response {
    serve(&format!("views/{file}"))
}
