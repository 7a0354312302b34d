//! The console's pages (SPEC §10, issue 15): server-rendered HTML with maud, Chinese by default
//! with an English switch, one embedded style sheet and no script, no font or file from outside
//! the machine. A thin layer: every act calls the JSON API's handler (so pages and API do exactly
//! the same thing and write the same audit entries), and every list shown is a stored table read
//! back as it is — no page computes a ratio, a count or a score.
//!
//! Layout: this file (router, page frame, shared helpers: errors, tables of stored files, sign-in
//! and sign-out), [`month`] (months and a month's acts), [`summary`] (the scored month by class,
//! district and tier, from the report's numbers), [`results`] (results upload and estimates with
//! the report's charts), [`tasks`] (inspectors' tasks and the per-enterprise result form),
//! [`public`] (published pages, no login) and [`admin`] (the positive list and the audit log). Sessions, CSRF and lock-out are
//! [`super::session`]'s.

pub mod admin;
pub mod month;
pub mod public;
pub mod results;
pub mod summary;
pub mod tasks;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::AppState;
use super::auth::{Role, User};
use super::error::ApiError;
use super::session::{self, Ctx, SignInError};

/// The one style sheet, embedded in the binary.
pub const CSS: &str = include_str!("../assets/console.css");

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/console.css", get(css))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/months", get(month::list))
        .route("/months/go", get(month::go))
        .route("/months/{month}", get(month::show))
        .route(
            "/months/{month}/inputs/{kind}",
            get(month::upload_page).post(month::upload),
        )
        .route("/months/{month}/score", post(month::score))
        .route("/months/{month}/enterprises", get(month::lookup))
        .route("/months/{month}/jobs/{job}", get(month::job))
        .route("/months/{month}/scored", get(month::scored))
        .route("/months/{month}/seeds", post(month::seed))
        .route("/months/{month}/draws", post(month::draw))
        .route("/months/{month}/draws/{department}", get(month::draw_page))
        .route(
            "/months/{month}/draws/{department}/sample",
            get(month::sample_download),
        )
        .route("/months/{month}/results", post(results::upload))
        .route("/tasks", get(tasks::list))
        .route("/months/{month}/entries", get(tasks::go))
        .route(
            "/months/{month}/entries/{department}/{uscc}",
            get(tasks::form).post(tasks::submit),
        )
        .route("/months/{month}/estimates", get(results::estimates))
        .route("/months/{month}/estimates/download", get(results::download))
        .route("/files/{name}", get(month::file))
        .route(
            "/whitelist",
            get(admin::whitelist).post(admin::build_whitelist),
        )
        .route("/audit", get(admin::audit))
        .route("/public", get(public::index))
        .route("/public/draws/{month}/{department}", get(public::draw))
        .route("/public/whitelist", get(public::whitelist))
        .route("/public/verify", get(public::verify))
}

/// A page's result: the page, or another answer (a redirect, an error page) instead.
pub type PageResult = Result<Response, Response>;

/// One form error: the field's id and the message shown beside it and in the summary.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_string(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The GOV.UK error summary: at the top of the page, each message linking to its field.
    pub fn summary(&self, ctx: &Ctx) -> Markup {
        html! {
            @if !self.is_empty() {
                div.error-summary role="alert" tabindex="-1" {
                    h2 { (ctx.t("出现问题", "There is a problem")) }
                    ul {
                        @for (f, m) in &self.0 {
                            li { a href=(format!("#{f}")) { (m) } }
                        }
                    }
                }
            }
        }
    }

    /// The message beside a field.
    pub fn beside(&self, field: &str) -> Markup {
        html! {
            @if let Some(m) = self.get(field) {
                p.error-message id=(format!("{field}-error")) { (m) }
            }
        }
    }
}

/// Wraps a page body in the frame (header, navigation, language switch) and sets the session's
/// cookies.
pub fn page(ctx: &Ctx, status: StatusCode, title: &str, body: Markup) -> Response {
    let lang_attr = ctx.t("zh-CN", "en");
    let (other, other_label) = match ctx.lang {
        crate::schema::Lang::Zh => ("en", "English"),
        crate::schema::Lang::En => ("zh", "中文"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang_attr) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (ctx.t("双随机抽查控制台", "spotcheck console")) }
                link rel="stylesheet" href="/assets/console.css";
            }
            body {
                a.skip href="#main" { (ctx.t("跳到正文", "Skip to main content")) }
                header.top {
                    div.brand { a href="/" { (ctx.t("双随机抽查控制台", "spotcheck console")) } }
                    nav aria-label=(ctx.t("主导航", "Main")) {
                        ul {
                            @if let Some(u) = &ctx.user {
                                @if u.role != Role::Inspector {
                                    li { a href="/months" { (ctx.t("月份", "Months")) } }
                                    li { a href="/whitelist" { (ctx.t("正面清单", "Positive list")) } }
                                }
                                li { a href="/tasks" { (ctx.t("检查任务", "Tasks")) } }
                                @if u.role == Role::Admin {
                                    li { a href="/audit" { (ctx.t("审计日志", "Audit log")) } }
                                }
                            }
                            li { a href="/public" { (ctx.t("公开信息", "Published")) } }
                            li { a href=(format!("{}?lang={other}", ctx.path)) lang=(if other == "en" { "en" } else { "zh-CN" }) { (other_label) } }
                            @if let Some(u) = &ctx.user {
                                li.user {
                                    span { (u.name) " (" (role_label(ctx, u.role)) ")" }
                                    form method="post" action="/signout" {
                                        (csrf_field(ctx))
                                        button.link type="submit" { (ctx.t("退出登录", "Sign out")) }
                                    }
                                }
                            } @else {
                                li { a href="/signin" { (ctx.t("登录", "Sign in")) } }
                            }
                        }
                    }
                }
                main #main {
                    (body)
                }
            }
        }
    };
    let mut r = (status, axum::response::Html(markup.into_string())).into_response();
    set_cookies(&mut r, ctx);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn set_cookies(r: &mut Response, ctx: &Ctx) {
    for c in &ctx.set_cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// A 303 redirect (after a POST, or to the sign-in page), keeping the session's cookies.
pub fn redirect(ctx: &Ctx, to: &str) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    set_cookies(&mut r, ctx);
    r
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

pub fn role_label(ctx: &Ctx, r: Role) -> &'static str {
    match r {
        Role::Admin => ctx.t("管理员", "admin"),
        Role::Analyst => ctx.t("分析员", "analyst"),
        Role::Inspector => ctx.t("检查员", "inspector"),
    }
}

/// A message page (errors that belong to no field: not found, forbidden, a stale form).
pub fn message(ctx: &Ctx, status: StatusCode, title: &str, text: &str) -> Response {
    page(
        ctx,
        status,
        title,
        html! {
            h1 { (title) }
            p.lead { (text) }
            p { a href="/" { (ctx.t("返回首页", "Back to the start")) } }
        },
    )
}

/// An error of the API's handlers as a page, with the status it carries.
pub fn api_error(ctx: &Ctx, e: ApiError) -> Response {
    let status = e.status();
    let title = match status {
        StatusCode::NOT_FOUND => ctx.t("未找到", "Not found"),
        StatusCode::FORBIDDEN => ctx.t("无权操作", "Not allowed"),
        StatusCode::CONFLICT => ctx.t("无法执行", "Cannot do this now"),
        StatusCode::PAYLOAD_TOO_LARGE => ctx.t("文件过大", "File too large"),
        s if s.is_server_error() => ctx.t("服务器出错", "The server failed"),
        _ => ctx.t("请求有误", "Something is wrong with the request"),
    };
    let text = match &e {
        ApiError::Internal(_) => ctx
            .t(
                "服务器出错，原因已记入服务器日志。",
                "The server failed; the cause is in its log.",
            )
            .to_string(),
        other => other.to_string(),
    };
    message(ctx, status, title, &text)
}

/// The signed-in user, or a redirect to the sign-in page (GET) / 401 page (other methods).
pub fn signed_in(ctx: &Ctx) -> Result<User, Response> {
    ctx.user.clone().ok_or_else(|| {
        let next = urlencode(&ctx.path);
        redirect(ctx, &format!("/signin?next={next}"))
    })
}

/// A signed-in analyst or admin (403 page for an inspector).
pub fn analyst(ctx: &Ctx) -> Result<User, Response> {
    let u = signed_in(ctx)?;
    if u.role == Role::Inspector {
        return Err(message(
            ctx,
            StatusCode::FORBIDDEN,
            ctx.t("无权操作", "Not allowed"),
            ctx.t(
                "此页面仅限分析员和管理员使用。",
                "This page is for analysts and admins.",
            ),
        ));
    }
    Ok(u)
}

/// Refuses a POST whose CSRF token is not the session's (a 403 page, nothing done).
pub fn check_csrf(ctx: &Ctx, sent: Option<&str>) -> Result<(), Response> {
    if ctx.csrf_ok(sent) {
        Ok(())
    } else {
        Err(message(
            ctx,
            StatusCode::FORBIDDEN,
            ctx.t("表单已失效", "The form has expired"),
            ctx.t(
                "表单的安全令牌缺失或已过期，未执行任何操作。请返回重新打开页面后再提交。",
                "The form's security token is missing or out of date; nothing was done. Go back, reload the page and submit again.",
            ),
        ))
    }
}

/// Percent-encodes a path or value for a query string.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A table as shown: header, the rows shown, and the table's total row count.
pub type Shown = (Vec<String>, Vec<Vec<String>>, usize);

/// A stored table (any format the library reads) as header and rows of display strings: at
/// most `limit` rows, and the total row count.
pub fn read_table(path: &std::path::Path, limit: usize) -> Result<Shown, ApiError> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let reader = crate::table::open(path, &crate::table::ReadOptions::default())?;
    let header: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    let mut total = 0usize;
    let fmt = FormatOptions::default().with_null("");
    for b in reader {
        let b = b?;
        if rows.len() < limit {
            let cols = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &fmt))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ApiError::Internal(format!("formatting a table: {e}")))?;
            for i in 0..b.num_rows().min(limit - rows.len()) {
                rows.push(
                    cols.iter()
                        .zip(b.columns())
                        .map(|(f, col)| cell(f, col.as_ref(), i))
                        .collect(),
                );
            }
        }
        total += b.num_rows();
    }
    Ok((header, rows, total))
}

/// One cell for display: decimals as the report and `explain` write them (at most 6 places,
/// trailing zeros dropped: `0.025`, not `0.024999999999999998`), everything else as Arrow shows it.
fn cell(
    f: &arrow::util::display::ArrayFormatter<'_>,
    col: &dyn arrow::array::Array,
    i: usize,
) -> String {
    use arrow::array::{Array, Float64Array};
    if let Some(a) = col.as_any().downcast_ref::<Float64Array>()
        && !a.is_null(i)
    {
        return crate::score::explain::num(a.value(i));
    }
    let s = f.value(i).to_string();
    // A decimal stored as text (CSV) with more places than anyone reads: shown as above.
    match s.split_once('.') {
        Some((_, frac)) if frac.len() > 6 && frac.bytes().all(|b| b.is_ascii_digit()) => s
            .parse::<f64>()
            .map(crate::score::explain::num)
            .unwrap_or(s),
        _ => s,
    }
}

/// A table of strings, with a caption and a note when rows were left out.
pub fn table(ctx: &Ctx, caption: &str, t: &Shown) -> Markup {
    let (header, rows, total) = t;
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr { @for h in header { th scope="col" { (h) } } } }
                tbody {
                    @for r in rows {
                        tr { @for c in r { td { (c) } } }
                    }
                }
            }
        }
        @if rows.len() < *total {
            p.note { (ctx.t("仅显示前", "Showing the first ")) (rows.len()) (ctx.t(" 行，共 ", " of ")) (total) (ctx.t(" 行；完整内容请下载。", " rows; download for all of them.")) }
        }
    }
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn home(ctx: Ctx) -> Response {
    match &ctx.user {
        Some(u) if u.role != Role::Inspector => redirect(&ctx, "/months"),
        Some(_) => redirect(&ctx, "/tasks"),
        None => redirect(&ctx, "/public"),
    }
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a local path may be returned to after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

fn signin_form(ctx: &Ctx, next: &str, name: &str, errors: &Errors, status: StatusCode) -> Response {
    let body = html! {
        (errors.summary(ctx))
        h1 { (ctx.t("登录", "Sign in")) }
        form.narrow method="post" action="/signin" novalidate {
            (csrf_field(ctx))
            input type="hidden" name="next" value=(next);
            div.field.(if errors.get("name").is_some() { "has-error" } else { "" }) {
                label for="name" { (ctx.t("用户名", "User name")) }
                (errors.beside("name"))
                input #name type="text" name="name" value=(name) autocomplete="username" required;
            }
            div.field.(if errors.get("password").is_some() { "has-error" } else { "" }) {
                label for="password" { (ctx.t("密码", "Password")) }
                (errors.beside("password"))
                input #password type="password" name="password" autocomplete="current-password" required;
            }
            button type="submit" { (ctx.t("登录", "Sign in")) }
        }
        p.note { (ctx.t(
            "账号由管理员在服务器上用 spotcheck users add 创建。连续 5 次登录失败后，该账号锁定 15 分钟。",
            "Accounts are made by an admin on the server with spotcheck users add. After 5 failed sign-ins the account is locked for 15 minutes."
        )) }
    };
    page(ctx, status, ctx.t("登录", "Sign in"), body)
}

async fn signin_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    signin_form(&ctx, &next, "", &Errors::default(), StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    csrf: Option<String>,
    name: Option<String>,
    password: Option<String>,
    next: Option<String>,
}

async fn signin(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<SignInForm>, FormRejection>,
) -> PageResult {
    let Ok(Form(f)) = form else {
        return Err(message(
            &ctx,
            StatusCode::BAD_REQUEST,
            ctx.t("请求有误", "Bad request"),
            ctx.t("无法读取表单。", "The form cannot be read."),
        ));
    };
    check_csrf(&ctx, f.csrf.as_deref())?;
    let next = safe_next(f.next.as_deref());
    let name = f.name.unwrap_or_default().trim().to_string();
    let password = f.password.unwrap_or_default();
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add("name", ctx.t("请输入用户名", "Enter your user name"));
    }
    if password.is_empty() {
        errors.add("password", ctx.t("请输入密码", "Enter your password"));
    }
    if !errors.is_empty() {
        return Err(signin_form(
            &ctx,
            &next,
            &name,
            &errors,
            StatusCode::BAD_REQUEST,
        ));
    }
    let (st, sid, n) = (state.clone(), ctx.sid.clone(), name.clone());
    let outcome = tokio::task::spawn_blocking(move || session::sign_in(&st, &sid, &n, &password))
        .await
        .unwrap_or(Err(SignInError::Wrong));
    match outcome {
        Ok(cookie) => {
            ctx.set_cookies.push(cookie);
            Ok(redirect(&ctx, &next))
        }
        Err(SignInError::Wrong) => {
            errors.add(
                "password",
                ctx.t("用户名或密码不正确", "The user name or password is wrong"),
            );
            Err(signin_form(
                &ctx,
                &next,
                &name,
                &errors,
                StatusCode::UNAUTHORIZED,
            ))
        }
        Err(SignInError::Locked) => {
            errors.add(
                "name",
                ctx.t(
                    "登录失败次数过多，该账号已锁定 15 分钟，请稍后再试",
                    "Too many failed sign-ins: this account is locked for 15 minutes; try again later",
                ),
            );
            Err(signin_form(
                &ctx,
                &next,
                &name,
                &errors,
                StatusCode::TOO_MANY_REQUESTS,
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

async fn signout(
    State(state): State<AppState>,
    mut ctx: Ctx,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> PageResult {
    let sent = form.ok().and_then(|Form(f)| f.csrf);
    check_csrf(&ctx, sent.as_deref())?;
    let c = session::sign_out(&state, &ctx);
    ctx.set_cookies.push(c);
    Ok(redirect(&ctx, "/public"))
}

/// Department names in the page's language.
pub fn department_label(ctx: &Ctx, d: &str) -> String {
    match d {
        "market" => ctx.t("市场监管", "market").into(),
        "ecology" => ctx.t("生态环境", "ecology").into(),
        "joint" => ctx.t("联合抽查", "joint").into(),
        other => other.into(),
    }
}

/// Raw HTML that is known safe (a constant).
pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

/// A store read's error as a page.
pub fn db_err<T>(ctx: &Ctx, r: Result<T, ApiError>) -> Result<T, Response> {
    r.map_err(|e| api_error(ctx, e))
}
