//! `grader serve`: the book on 127.0.0.1 with live check buttons.
//!
//! Only the loopback address is bound, and every request must name that address in its Host
//! (DNS rebinding: a page on a foreign name that resolves to 127.0.0.1 could otherwise read
//! our pages, token included). The check API also wants the per-process token embedded in the
//! pages this server serves, so no other web page can trigger checks or read results.
//!
//! `POST /api/check/<STEP>` answers the `grader.report/v1` document; asked with
//! `Accept: application/x-ndjson` it streams the run's events instead, one JSON line each as
//! it happens (the last one carries the report), and a client that goes away stops the run.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::mpsc;

use crate::aws::AwsOptions;
use crate::book::BookSource;
use crate::events::{Dispatch, Reporter, RunEvent};
use crate::exit::{Exit, Failure};
use crate::grading::{self, Plan};
use crate::lab::Lab;
use crate::progress::{self, ProgressReporter};
use crate::runner::RunOptions;

/// A button press waits at most this long for slow resources; the terminal can wait longer.
const BUTTON_MAX_WAIT: Duration = Duration::from_secs(45);

struct AppState {
    /// The built book; `None` with `--api-only`.
    site: Option<PathBuf>,
    /// The one other site (`--allow-origin`) whose pages may call the API: a copy of the book
    /// hosted elsewhere, built with `--grader-url`.
    allow_origin: Option<String>,
    /// Set when the book comes from files on disk: pages are rebuilt after an author's edit.
    rebuild: Option<Rebuild>,
    token: String,
    port: u16,
    /// The lab `?lab=` defaults to, with the `--var`s of the command line.
    lab: Lab,
    vars: BTreeMap<String, String>,
    /// Every lab, for `?lab=ID` (each with its own variables).
    labs: Vec<Lab>,
    aws: AwsOptions,
}

impl AppState {
    /// The lab a request names (or the default one) and its variables.
    fn lab(&self, id: Option<&str>) -> Option<(&Lab, BTreeMap<String, String>)> {
        match id {
            None => Some((&self.lab, self.vars.clone())),
            Some(id) if id == self.lab.id => Some((&self.lab, self.vars.clone())),
            Some(id) => self.labs.iter().find(|l| l.id == id).map(|l| (l, l.vars.clone())),
        }
    }
}

/// The query of `POST /api/check/<STEP>`: `?lab=ID` for a step of another lab.
#[derive(Debug, Default, serde::Deserialize)]
struct CheckQuery {
    lab: Option<String>,
}

/// What `grader serve` serves.
pub struct Serving {
    pub lab: Lab,
    pub vars: BTreeMap<String, String>,
    /// Every lab the book's widgets may name.
    pub labs: Vec<Lab>,
    /// The book to build and serve; `None` serves the check API only.
    pub book: Option<BookSource>,
    pub aws: AwsOptions,
    pub port: u16,
    /// A site origin (`https://course.example`) whose pages may call the API.
    pub allow_origin: Option<String>,
}

/// Builds the book (unless API only), binds 127.0.0.1:`port` and serves until Ctrl-C.
pub async fn serve(opts: Serving, ready: impl FnOnce(u16)) -> Result<Exit, Failure> {
    let Serving { lab, vars, labs, book, aws, port, allow_origin } = opts;
    // A fresh private directory with an unguessable name: at a predictable path another local
    // user could plant the pages we serve. tempfile leaves the mode to the umask, so ask for
    // 0700; the book goes in a folder inside it, since mdBook recreates its build folder with
    // default modes. Dropping the directory at return removes it.
    let mut private = tempfile::Builder::new();
    #[cfg(unix)]
    private.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let dir = private.prefix("fargate-grader-book-").tempdir().map_err(|e| Failure::usage(format!("failed to create a directory for the book: {e}")))?;
    let (site, rebuild) = match &book {
        Some(book) => {
            // The book's own pages name their labs; `--lab` only picks the API's default.
            let book_lab = crate::lab::default_lab(&labs).unwrap_or(&lab);
            let (site, rebuild) = build_site(book, book_lab, &labs, dir.path()).await?;
            (Some(site), rebuild)
        }
        None => (None, None),
    };

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        Failure::usage(format!("failed to listen on 127.0.0.1:{port}: {e}; pass another `--port`, or `--port 0` for any free one"))
    })?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let token = format!("{:032x}", rand::random::<u128>());
    let state = Arc::new(AppState { site, allow_origin: allow_origin.clone(), rebuild, token: token.clone(), port, lab, vars, labs, aws });
    let app = Router::new()
        .route("/api/check/{step}", post(check_step).options(preflight))
        .route("/api/progress", get(progress_api).options(preflight))
        .fallback(get(static_file))
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), host_guard))
        .layer(axum::middleware::map_response(hardening_headers))
        .with_state(state);
    match &allow_origin {
        None => println!("Serving the course at http://127.0.0.1:{port}/ — open it in your browser. Press Ctrl-C to stop."),
        Some(origin) => {
            println!("Serving the check API at http://127.0.0.1:{port}/ for pages from {origin}. Press Ctrl-C to stop.");
            println!("Token (paste it once into a check button of the course): {token}");
        }
    }
    ready(port);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Failure::usage(format!("the server stopped: {e}")))?;
    Ok(Exit::Ok)
}

/// Builds the book under `dir`; with sources on disk, also what rebuilds it after an edit.
async fn build_site(book: &BookSource, lab: &Lab, labs: &[Lab], dir: &Path) -> Result<(PathBuf, Option<Rebuild>), Failure> {
    let root = book.root(&dir.join("src")).map_err(|e| Failure::usage(format!("failed to write out the book's sources: {e}")))?;
    eprintln!("Building the course book from {} …", book.describe());
    let started = Instant::now();
    let build_started = SystemTime::now();
    let (sources, dest, book_lab, book_labs) = (root.clone(), dir.join("book"), lab.clone(), labs.to_vec());
    let built = tokio::task::spawn_blocking(move || crate::book::build(&sources, Some(&dest), book_lab, book_labs))
        .await
        .map_err(|e| Failure::usage(format!("failed to build the book: {e}")))?
        .map_err(|e| Failure::usage(format!("failed to build the book: {e:#}")))?;
    eprintln!("Built in {:.1}s.", started.elapsed().as_secs_f64());
    let rebuild = matches!(book, BookSource::Disk(_)).then(|| Rebuild { sources: root, site: built.clone(), built_at: tokio::sync::Mutex::new(build_started) });
    Ok((built, rebuild))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": "refused", "message": message }))).into_response()
}

/// The Host values our own pages send.
fn our_hosts(state: &AppState) -> [String; 2] {
    [format!("127.0.0.1:{}", state.port), format!("localhost:{}", state.port)]
}

/// Refuses every request, pages and API alike, whose Host is not our loopback address.
async fn host_guard(State(state): State<Arc<AppState>>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !our_hosts(&state).iter().any(|o| o == host) {
        return refuse(StatusCode::FORBIDDEN, "refused: the Host header is not this grader's loopback address");
    }
    next.run(request).await
}

/// Headers on every response: no other site may frame our pages (clickjacking the check
/// buttons), and browsers must not guess content types.
async fn hardening_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Whether pages from `origin` may call the API: our own, or the configured hosted copy.
fn origin_allowed(state: &AppState, origin: &str) -> bool {
    our_hosts(state).iter().any(|o| origin == format!("http://{o}")) || state.allow_origin.as_deref() == Some(origin)
}

/// CORS for the configured hosted copy: its pages may read our answers (errors included, so
/// the button can say what went wrong). Other origins get no CORS headers, so a browser keeps
/// their pages from reading anything.
async fn cors_headers(State(state): State<Arc<AppState>>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|h| h.to_str().ok()).map(str::to_string);
    let mut response = next.run(request).await;
    if let (Some(origin), Some(allowed)) = (origin, &state.allow_origin) {
        if &origin == allowed {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_str(allowed).expect("a checked origin is a header value"));
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    response
}

/// The CORS preflight of the hosted copy's API calls (they carry the token header). Chrome
/// also asks before a public site may reach a loopback address (Private Network Access).
async fn preflight(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()).unwrap_or("");
    if state.allow_origin.as_deref() != Some(origin) {
        return refuse(StatusCode::FORBIDDEN, "refused: this origin may not call the grader; start it with `--allow-origin` naming the site");
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("x-grader-token"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    if headers.contains_key("access-control-request-private-network") {
        h.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
    }
    response
}

/// Lets through only API requests from our own pages or the configured hosted copy (Origin,
/// when sent), with the token. [`host_guard`] has already checked Host.
fn guard(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
        if !origin_allowed(state, origin) {
            return Err(refuse(StatusCode::FORBIDDEN, "refused: requests from other sites cannot run checks"));
        }
    }
    let token = headers.get("x-grader-token").and_then(|h| h.to_str().ok()).unwrap_or("");
    if !constant_time_eq(token.as_bytes(), state.token.as_bytes()) {
        return Err(refuse(StatusCode::FORBIDDEN, "refused: missing or wrong grader token; reload the page"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The content type of the event stream (`Accept` asks for it).
const NDJSON: &str = "application/x-ndjson";

async fn check_step(
    State(state): State<Arc<AppState>>,
    UrlPath(step_id): UrlPath<String>,
    query: axum::extract::Query<CheckQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = guard(&state, &headers) {
        return refused;
    }
    let lab_id = query.0.lab;
    let Some((lab, vars)) = state.lab(lab_id.as_deref()) else {
        return refuse(StatusCode::NOT_FOUND, &format!("no lab `{}`", lab_id.unwrap_or_default()));
    };
    if lab.step(&step_id).is_none() {
        return refuse(StatusCode::NOT_FOUND, &format!("lab `{}` has no step `{step_id}`", lab.id));
    }
    let plan = match Plan::with_vars(lab, std::slice::from_ref(&step_id), false, &vars) {
        Ok(plan) => plan,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.0),
    };
    // Signed in first, so that a learner without credentials gets the advice as an answer
    // of its own, before any stream starts.
    let signed_in = match grading::connect(&state.aws).await {
        Ok(aws) => grading::sign_in(&aws, &state.aws).await.map(|account| (aws, account)),
        Err(e) => Err(e),
    };
    let (aws, account) = match signed_in {
        Ok(c) => c,
        Err(e) => {
            let failure = Failure::from(e);
            let body = json!({
                "error": "aws_setup",
                "message": format!("{}\nThen press the button again; `grader serve` does not need a restart.", failure.message),
                "exit_code": failure.exit.code(),
            });
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
    };
    // The book is served on the learner's own machine: its probes are the truth.
    let options = RunOptions { no_wait: false, max_wait: Some(BUTTON_MAX_WAIT), vantage: crate::checks::Vantage::Learner };
    let streaming = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains(NDJSON));
    if !streaming {
        let mut progress = ProgressReporter::default();
        let mut dispatch = Dispatch::new(vec![&mut progress]);
        let end = grading::run(&aws, async { Ok(account) }, &plan, options, &mut dispatch, std::future::pending()).await;
        return match end {
            Ok(end) => axum::Json(end.report).into_response(),
            Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, &e.0),
        };
    }
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    // The run outlives this handler, so it plans again from the state it owns.
    tokio::spawn(async move {
        let (lab, vars) = state.lab(lab_id.as_deref()).expect("found above");
        let plan = Plan::with_vars(lab, std::slice::from_ref(&step_id), false, &vars).expect("planned above");
        // The page closed, or Cancel pressed: the response is dropped, and so the run stops.
        let gone = tx.clone();
        let mut stream = StreamReporter { tx };
        let mut progress = ProgressReporter::default();
        let mut dispatch = Dispatch::new(vec![&mut stream, &mut progress]);
        let _ = grading::run(&aws, async { Ok(account) }, &plan, options, &mut dispatch, async move { gone.closed().await }).await;
    });
    let lines = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|line| (Ok::<_, std::convert::Infallible>(line), rx)) });
    Response::builder()
        .header(header::CONTENT_TYPE, NDJSON)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(lines))
        .unwrap_or_else(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "failed to start the stream"))
}

/// The serve stream: each event as a JSON line to the browser that asked.
struct StreamReporter {
    tx: mpsc::UnboundedSender<String>,
}

impl Reporter for StreamReporter {
    fn on_event(&mut self, event: &RunEvent<'_>) -> Result<(), String> {
        // A browser that went away is not an error: the run stops on its own.
        let _ = self.tx.send(format!("{}\n", crate::events::to_json(event)));
        Ok(())
    }
}

async fn progress_api(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(refused) = guard(&state, &headers) {
        return refused;
    }
    let progress = progress::load(&progress::progress_path());
    let steps = progress.labs.get(&state.lab.id).cloned().unwrap_or_default();
    // `labs` holds every lab's steps, for pages of another lab than the default one.
    axum::Json(json!({ "lab": state.lab.id, "steps": steps, "labs": progress.labs })).into_response()
}

/// Serves the built book; HTML pages get the API token, which only our own pages carry.
async fn static_file(State(state): State<Arc<AppState>>, uri: axum::http::Uri) -> Response {
    let Some(site) = &state.site else {
        return (StatusCode::NOT_FOUND, "this grader serves only its check API (--api-only)").into_response();
    };
    let Some(path) = safe_path(site, uri.path()) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let path = if path.is_dir() { path.join("index.html") } else { path };
    if let Some(rebuild) = &state.rebuild {
        if path.extension().is_some_and(|e| e == "html") {
            rebuild.if_edited(crate::lab::default_lab(&state.labs).unwrap_or(&state.lab), &state.labs).await;
        }
    }
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let body = if ext == "html" {
        let html = String::from_utf8_lossy(&bytes);
        let meta = format!("<meta name=\"grader-token\" content=\"{}\">\n</head>", state.token);
        Body::from(html.replacen("</head>", &meta, 1))
    } else {
        Body::from(bytes)
    };
    let mut response = Response::new(body);
    response.headers_mut().insert(header::CONTENT_TYPE, content_type(ext).parse().expect("static content type"));
    // The token is per process; pages must not be cached across restarts.
    response.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    response
}

/// Rebuilding the site when its sources on disk change, so an author sees an edit on reload.
struct Rebuild {
    sources: PathBuf,
    site: PathBuf,
    /// When the last build began; held while rebuilding, so one request rebuilds and the
    /// others wait for it.
    built_at: tokio::sync::Mutex<SystemTime>,
}

impl Rebuild {
    /// Rebuilds when a source file is newer than the last build. A failed build keeps the
    /// previous pages and says why on the terminal, where the author is.
    async fn if_edited(&self, lab: &Lab, labs: &[Lab]) {
        let mut built_at = self.built_at.lock().await;
        let sources = self.sources.clone();
        let newest = tokio::task::spawn_blocking(move || newest_change(&[sources.join("book"), sources.join("book.toml"), sources.join("grader/assets")])).await.ok().flatten();
        if newest.is_none_or(|t| t <= *built_at) {
            return;
        }
        let started = SystemTime::now();
        let (sources, site, lab, labs) = (self.sources.clone(), self.site.clone(), lab.clone(), labs.to_vec());
        match tokio::task::spawn_blocking(move || crate::book::build(&sources, Some(&site), lab, labs)).await {
            Ok(Ok(_)) => eprintln!("Rebuilt the book after an edit."),
            Ok(Err(e)) => eprintln!("The edited book does not build; still serving the previous pages: {e:#}"),
            Err(e) => eprintln!("The book's rebuild stopped: {e}"),
        }
        *built_at = started;
    }
}

/// The latest modification time of the files under these paths.
fn newest_change(paths: &[PathBuf]) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()));
        } else if let Ok(modified) = meta.modified() {
            newest = newest.max(Some(modified));
        }
    }
    newest
}

/// The file under `root` for a URL path, refusing anything that climbs out of it.
fn safe_path(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(url_path).decode_utf8().ok()?;
    let mut path = root.to_path_buf();
    for part in Path::new(decoded.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => path.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(path)
}

fn content_type(ext: &str) -> &'static str {
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_climb_out_of_the_site() {
        let root = Path::new("/site");
        assert_eq!(safe_path(root, "/lab/step-1.html"), Some(PathBuf::from("/site/lab/step-1.html")));
        assert_eq!(safe_path(root, "/../etc/passwd"), None);
        assert_eq!(safe_path(root, "/%2e%2e/etc/passwd"), None);
    }
}
