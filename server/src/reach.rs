//! How phones reach the server: the address to print on labels and show on `/setup`,
//! the client's own address behind a reverse proxy, and what a phone needs before it
//! trusts the server's certificate (`/ca.pem`, `/setup`), served on HTTPS and on the plain
//! HTTP listener of `--http-redirect`, which sends everything else to HTTPS.
//!
//! `X-Forwarded-*` headers are believed only from the addresses of `--trusted-proxy`:
//! anyone else could otherwise pick the address their failed sign-ins are counted under.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::{AppError, AppState};

/// How this server is reached; set once at start.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// The server itself serves HTTPS.
    pub https: bool,
    /// The port of the HTTPS listener, for redirects and the app's address.
    pub https_port: Option<u16>,
    /// `--public-url`, without a trailing slash.
    pub public_url: Option<String>,
    /// `--trusted-proxy`.
    pub trusted_proxies: Vec<IpAddr>,
    /// The local certificate authority's certificate (`tls init`), if there is one.
    pub authority: Option<PathBuf>,
}

/// The client's address: the peer's, or behind a trusted proxy the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientIp, AppError> {
        let peer = peer(parts).ok_or_else(|| AppError::Internal(anyhow::anyhow!("the server was started without the peers' addresses")))?;
        Ok(ClientIp(client_ip(peer, &parts.headers, &state.reach.trusted_proxies)))
    }
}

fn peer(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(address)| address.ip())
}

fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    // Each proxy appends the address it heard from: read from the end, past our own.
    let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).flat_map(|value| value.split(','));
    let hops: Vec<&str> = forwarded.collect();
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return address,
            // Garbage in the chain: what lies beyond it cannot be believed.
            Err(_) => return peer,
        }
    }
    peer
}

/// The address of the app as phones open it, `https://host[:port]`, without a trailing
/// slash: `--public-url`; else the request's host (from a trusted proxy, its forwarded
/// host and scheme), on the HTTPS port when this server serves HTTPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppUrl(pub String);

impl FromRequestParts<AppState> for AppUrl {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AppUrl, AppError> {
        Ok(AppUrl(app_url(&state.reach, peer(parts), &parts.headers, &parts.uri)))
    }
}

fn app_url(reach: &Reach, peer: Option<IpAddr>, headers: &HeaderMap, uri: &Uri) -> String {
    if let Some(url) = &reach.public_url {
        return url.clone();
    }
    let header = |name: &str| {
        headers.get(name).and_then(|value| value.to_str().ok()).map(|value| value.split(',').next().unwrap_or("").trim().to_owned())
    };
    let proxied = peer.is_some_and(|peer| reach.trusted_proxies.contains(&peer));
    if proxied && let Some(host) = header("x-forwarded-host").filter(|host| valid_host(host)) {
        let scheme = header("x-forwarded-proto").filter(|scheme| scheme == "http" || scheme == "https").unwrap_or_else(|| "https".into());
        return format!("{scheme}://{host}");
    }
    let host = header(header::HOST.as_str()).or_else(|| uri.authority().map(ToString::to_string)).filter(|host| valid_host(host));
    let host = host.unwrap_or_else(|| "localhost".into());
    if reach.https {
        let name = host_name(&host);
        match reach.https_port {
            Some(443) | None => format!("https://{name}"),
            Some(port) => format!("https://{name}:{port}"),
        }
    } else {
        format!("http://{host}")
    }
}

/// A `Host` value is a name or address with an optional port: nothing that could turn a
/// printed URL into another one.
fn valid_host(host: &str) -> bool {
    !host.is_empty() && host.len() <= 255 && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// `name:port` → `name`, keeping a bracketed IPv6 address whole.
fn host_name(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    host.rsplit_once(':').map_or(host, |(name, _port)| name)
}

/// `/ca.pem` and `/setup`, on every listener.
pub fn router() -> Router<AppState> {
    Router::new().route("/ca.pem", get(authority)).route("/setup", get(setup))
}

/// The plain HTTP listener of `--http-redirect`: `/ca.pem`, `/setup` and `/healthz`, and a
/// permanent redirect to the same path on HTTPS for everything else.
pub fn redirect_app(state: AppState) -> Router {
    router().route("/healthz", get(crate::health)).fallback(to_https).with_state(state)
}

async fn to_https(url: AppUrl, uri: Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let target = if url.0.starts_with("https://") { url.0 } else { format!("https://{}", url.0.trim_start_matches("http://")) };
    Redirect::permanent(&format!("{target}{path}")).into_response()
}

async fn authority(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(path) = &state.reach.authority else { return Err(AppError::NotFound) };
    let pem = tokio::fs::read(path).await.map_err(|_| AppError::NotFound)?;
    let headers = [
        // What Android and iOS offer to install as a certificate authority.
        (header::CONTENT_TYPE, HeaderValue::from_static("application/x-x509-ca-cert")),
        (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"houqin-ca.crt\"")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok((StatusCode::OK, headers, pem).into_response())
}

#[derive(Deserialize)]
struct SetupQuery {
    lang: Option<String>,
}

async fn setup(
    State(state): State<AppState>,
    url: AppUrl,
    headers: HeaderMap,
    Query(query): Query<SetupQuery>,
) -> Result<Response, AppError> {
    let english = match query.lang.as_deref() {
        Some(lang) => lang.starts_with("en"),
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("en")),
    };
    let fingerprint = match &state.reach.authority {
        Some(path) => match tokio::fs::read_to_string(path).await {
            Ok(pem) => Some(crate::tls::fingerprint(&pem).map_err(AppError::Internal)?),
            Err(_) => None,
        },
        None => None,
    };
    let app = format!("{}/", url.0);
    let page = setup_page(&app, fingerprint.as_deref(), if english { &ENGLISH } else { &CHINESE })?;
    let headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
        ),
    ];
    Ok((headers, Html(page)).into_response())
}

/// The words of the setup page in one language.
struct SetupText {
    lang: &'static str,
    title: &'static str,
    intro: &'static str,
    other_language: (&'static str, &'static str),
    download: &'static str,
    fingerprint: &'static str,
    no_authority: &'static str,
    android_title: &'static str,
    android: &'static [&'static str],
    ios_title: &'static str,
    ios: &'static [&'static str],
    open_title: &'static str,
    open: &'static str,
}

const CHINESE: SetupText = SetupText {
    lang: "zh-CN",
    title: "在手机上使用 Houqin 后勤",
    intro: "Houqin 通过 HTTPS 工作，这样手机才能离线使用、拍照和扫码。本单位的服务器使用自己的证书颁发机构（CA）：每部手机先安装并信任一次这个证书，以后就能直接打开。",
    other_language: ("?lang=en", "English"),
    download: "下载证书 houqin-ca.crt",
    fingerprint: "证书指纹（SHA-256），可与管理员核对：",
    no_authority: "这台服务器的证书由单位或公共机构签发，手机无需安装证书，直接打开下面的地址即可。",
    android_title: "安卓手机",
    android: &[
        "点上面的按钮下载证书。",
        "打开 设置 → 安全 → 更多安全设置 → 加密与凭据 → 安装证书 → CA 证书（各品牌名称略有不同，可在设置里搜索“证书”）。",
        "选择刚下载的 houqin-ca.crt，确认安装。",
    ],
    ios_title: "iPhone / iPad",
    ios: &[
        "用 Safari 打开本页，点上面的按钮，选择“允许”下载描述文件。",
        "打开 设置 → 通用 → VPN 与设备管理，点“Houqin local CA”，安装。",
        "再打开 设置 → 通用 → 关于本机 → 证书信任设置，打开“Houqin local CA”的完全信任。",
    ],
    open_title: "打开 Houqin",
    open: "信任证书后，扫描二维码或打开这个地址，登录，并“添加到主屏幕”：",
};

const ENGLISH: SetupText = SetupText {
    lang: "en",
    title: "Using Houqin on your phone",
    intro: "Houqin works over HTTPS, so that phones can use it offline, take photos and scan labels. This server uses its own certificate authority (CA): trust it once on each phone, and Houqin opens directly from then on.",
    other_language: ("?lang=zh", "中文"),
    download: "Download the certificate houqin-ca.crt",
    fingerprint: "Certificate fingerprint (SHA-256), to check with your administrator:",
    no_authority: "This server's certificate is issued by your organisation or a public authority: there is nothing to install. Open the address below.",
    android_title: "Android",
    android: &[
        "Tap the button above to download the certificate.",
        "Open Settings → Security → More security settings → Encryption & credentials → Install a certificate → CA certificate (names vary by brand; search Settings for \"certificate\").",
        "Choose houqin-ca.crt and confirm.",
    ],
    ios_title: "iPhone / iPad",
    ios: &[
        "Open this page in Safari, tap the button above and allow the profile to download.",
        "Open Settings → General → VPN & Device Management, tap \"Houqin local CA\" and install it.",
        "Then open Settings → General → About → Certificate Trust Settings and turn on full trust for \"Houqin local CA\".",
    ],
    open_title: "Open Houqin",
    open: "Once the certificate is trusted, scan the code or open this address, sign in, and \"Add to Home Screen\":",
};

fn setup_page(app: &str, fingerprint: Option<&str>, text: &SetupText) -> Result<String, AppError> {
    use std::fmt::Write as _;
    let qr = crate::labels::qr_svg(app).map_err(AppError::Internal)?;
    let mut page = String::new();
    let escape = crate::labels::escape;
    let _ = write!(
        page,
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head><body><main>\
         <p class=\"lang\"><a href=\"{other_href}\">{other}</a></p><h1>{title}</h1><p>{intro}</p>",
        lang = text.lang,
        title = escape(text.title),
        other_href = text.other_language.0,
        other = escape(text.other_language.1),
        intro = escape(text.intro),
    );
    match fingerprint {
        Some(fingerprint) => {
            let _ = write!(
                page,
                "<p><a class=\"button\" href=\"/ca.pem\">{download}</a></p><p class=\"small\">{label}<br><code>{fingerprint}</code></p>",
                download = escape(text.download),
                label = escape(text.fingerprint),
                fingerprint = escape(fingerprint),
            );
            for (title, steps) in [(text.android_title, text.android), (text.ios_title, text.ios)] {
                let _ = write!(page, "<h2>{}</h2><ol>", escape(title));
                for step in steps {
                    let _ = write!(page, "<li>{}</li>", escape(step));
                }
                page.push_str("</ol>");
            }
        }
        None => {
            let _ = write!(page, "<p>{}</p>", escape(text.no_authority));
        }
    }
    let _ = write!(
        page,
        "<h2>{open_title}</h2><p>{open}</p><div class=\"qr\" role=\"img\" aria-label=\"{app}\">{qr}</div><p class=\"url\"><a href=\"{app}\">{app}</a></p></main></body></html>",
        open_title = escape(text.open_title),
        open = escape(text.open),
        app = escape(app),
    );
    Ok(page)
}

const STYLE: &str = "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Noto Sans CJK SC','PingFang SC',sans-serif;color:#1b2421;background:#f5f7f6}\
main{max-width:34rem;margin:0 auto;padding:1rem 1rem 3rem}h1{font-size:1.4rem;color:#0f6b5c}h2{font-size:1.1rem;margin-top:1.5rem}\
.lang{text-align:right;margin:0}.button{display:inline-block;padding:.75rem 1rem;border-radius:.5rem;background:#0f6b5c;color:#fff;text-decoration:none;font-weight:600}\
.small{font-size:.8rem;color:#4a5753}code{word-break:break-all}ol{padding-left:1.25rem}li{margin:.35rem 0}\
.qr svg{display:block;width:12rem;height:12rem}.url{font-size:1.1rem;word-break:break-all}";

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.2");
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, 192.168.1.50")]);
        assert_eq!(client_ip(ip("192.168.1.77"), &forwarded, &[proxy]), ip("192.168.1.77"), "not a proxy: its header is ignored");
        assert_eq!(
            client_ip(proxy, &forwarded, &[proxy]),
            ip("192.168.1.50"),
            "the address the proxy heard from, not what the client wrote"
        );
        let chained = headers(&[("x-forwarded-for", "192.168.1.50, 10.0.0.3")]);
        assert_eq!(client_ip(proxy, &chained, &[proxy, ip("10.0.0.3")]), ip("192.168.1.50"), "past every trusted hop");
        assert_eq!(client_ip(proxy, &headers(&[("x-forwarded-for", "nonsense")]), &[proxy]), proxy);
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn the_app_url_comes_from_the_public_url_the_proxy_or_the_host_on_the_https_port() {
        let uri: Uri = "/setup".parse().unwrap();
        let host = headers(&[("host", "houqin.lan:8080")]);
        let plain = Reach::default();
        assert_eq!(app_url(&plain, None, &host, &uri), "http://houqin.lan:8080");
        let secure = Reach { https: true, https_port: Some(8443), ..Reach::default() };
        assert_eq!(app_url(&secure, None, &host, &uri), "https://houqin.lan:8443", "from the redirect listener's port to HTTPS's");
        let standard = Reach { https: true, https_port: Some(443), ..Reach::default() };
        assert_eq!(app_url(&standard, None, &headers(&[("host", "[fd00::1]:80")]), &uri), "https://[fd00::1]");
        let proxy = ip("127.0.0.1");
        let proxied = Reach { trusted_proxies: vec![proxy], ..Reach::default() };
        let forwarded = headers(&[("host", "127.0.0.1:8080"), ("x-forwarded-host", "houqin.example.org"), ("x-forwarded-proto", "https")]);
        assert_eq!(app_url(&proxied, Some(proxy), &forwarded, &uri), "https://houqin.example.org");
        assert_eq!(
            app_url(&proxied, Some(ip("192.168.1.9")), &forwarded, &uri),
            "http://127.0.0.1:8080",
            "only a trusted proxy names the host"
        );
        assert_eq!(app_url(&plain, None, &headers(&[("host", "evil.example/\"><script>")]), &uri), "http://localhost");
        let public = Reach { public_url: Some("https://houqin.example.org".into()), ..secure };
        assert_eq!(app_url(&public, None, &host, &uri), "https://houqin.example.org");
    }

    #[test]
    fn the_setup_page_shows_the_steps_only_where_there_is_an_authority_to_trust() {
        let with = setup_page("https://houqin.lan/", Some("AB:CD"), &CHINESE).unwrap();
        assert!(with.contains("href=\"/ca.pem\"") && with.contains("AB:CD") && with.contains("证书信任设置"), "{with}");
        assert!(with.contains("<a href=\"https://houqin.lan/\">https://houqin.lan/</a>"));
        let without = setup_page("https://houqin.lan/", None, &ENGLISH).unwrap();
        assert!(!without.contains("/ca.pem") && without.contains("nothing to install"), "{without}");
    }
}
