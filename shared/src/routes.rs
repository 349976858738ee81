//! The app's pages, one list that the app's router, the server and the service worker share.
//!
//! The server answers a request for an app page with the app shell and every other
//! unknown path with 404; the service worker serves the cached shell for the same pages
//! when offline. Both read this list, so a page added here is reachable everywhere.

/// A page of the app, addressed by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppRoute {
    /// The start page: what needs doing today and the state of this phone.
    Home,
    /// Language, storage and version details.
    Settings,
    /// Signing in; every other page sends a phone without a session here.
    SignIn,
    /// One inspection round, answered item by item.
    Round,
    /// A submitted round as a printable report, with photos and signature.
    RoundReport,
    /// One work order: its steps, timeline and flags.
    WorkOrder,
    /// One stocktake: counting, review and approval.
    Stocktake,
    /// One stock item's movements, with the on-hand quantity after each.
    StockItem,
    /// Administration: the sites one runs, new sites, the last backup.
    Admin,
    /// One site's places, assets, stock items, checklists and schedules.
    AdminSite,
    /// People: accounts, roles per site, passwords, devices.
    AdminPeople,
    /// Building a checklist template and publishing it.
    TemplateEditor,
    /// A site's measures for a period, and its documents, for managers.
    Dashboard,
    /// One document's history and conflicting values, for managers.
    DocumentReview,
    /// A place or asset by the code on its label: what a label's QR code opens.
    Label,
}

impl AppRoute {
    /// Every page, in the order the app's router lists them.
    pub const ALL: &'static [AppRoute] = &[
        AppRoute::Home,
        AppRoute::Settings,
        AppRoute::SignIn,
        AppRoute::Round,
        AppRoute::RoundReport,
        AppRoute::WorkOrder,
        AppRoute::Stocktake,
        AppRoute::StockItem,
        AppRoute::Admin,
        AppRoute::AdminSite,
        AppRoute::AdminPeople,
        AppRoute::TemplateEditor,
        AppRoute::Dashboard,
        AppRoute::DocumentReview,
        AppRoute::Label,
    ];

    /// The path pattern: segments separated by `/`; a segment starting with `:` matches any
    /// one non-empty segment (an id).
    pub const fn pattern(self) -> &'static str {
        match self {
            AppRoute::Home => "/",
            AppRoute::Settings => "/settings",
            AppRoute::SignIn => "/sign-in",
            AppRoute::Round => "/rounds/:id",
            AppRoute::RoundReport => "/rounds/:id/report",
            AppRoute::WorkOrder => "/orders/:id",
            AppRoute::Stocktake => "/stocktakes/:id",
            AppRoute::StockItem => "/stock/:site/:item",
            AppRoute::Admin => "/admin",
            AppRoute::AdminSite => "/admin/sites/:id",
            AppRoute::AdminPeople => "/admin/people",
            AppRoute::TemplateEditor => "/admin/templates/:id",
            AppRoute::Dashboard => "/dashboard",
            AppRoute::DocumentReview => "/documents/:id",
            AppRoute::Label => "/l/:code",
        }
    }

    /// The page a request path shows, if any. A trailing slash is not the same page.
    pub fn recognize(path: &str) -> Option<AppRoute> {
        AppRoute::ALL.iter().copied().find(|route| pattern_matches(route.pattern(), path))
    }
}

/// Whether `path` (without query or fragment) is one of the app's pages.
pub fn is_app_route(path: &str) -> bool {
    AppRoute::recognize(path).is_some()
}

fn pattern_matches(pattern: &str, path: &str) -> bool {
    if pattern == "/" || path == "/" {
        return pattern == path;
    }
    let (Some(pattern), Some(path)) = (pattern.strip_prefix('/'), path.strip_prefix('/')) else {
        return false;
    };
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return true,
            (Some(expected), Some(actual)) => {
                let segment_matches = match expected.strip_prefix(':') {
                    Some(_parameter) => !actual.is_empty(),
                    None => expected == actual,
                };
                if !segment_matches {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The path a label's QR code opens for a place's code or an asset's tag, `/l/<code>`:
/// every byte but letters, digits and `-._~` percent-encoded, so any code makes one
/// segment of a URL.
pub fn label_path(code: &str) -> String {
    let mut path = String::from("/l/");
    for byte in code.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(byte as char);
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// The code in what a scanner read: a label URL (`https://host/l/<code>`, or its path)
/// gives its decoded code; anything else is taken as a code typed or printed as it is.
pub fn scanned_code(text: &str) -> Option<String> {
    let text = text.trim();
    let path = match text.split_once("://") {
        Some((_scheme, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
        None if text.starts_with("/l/") => text,
        None => return (!text.is_empty()).then(|| text.to_owned()),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let encoded = path.strip_prefix("/l/").filter(|code| !code.is_empty() && !code.contains('/'))?;
    percent_decode(encoded)
}

fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2)?;
            bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_urls_carry_any_code_and_give_it_back() {
        for code in ["HQ-A-101", "XF-HQ-001", "一号楼 2F", "a/b?c#d%e", "~._-"] {
            let path = label_path(code);
            assert_eq!(AppRoute::recognize(&path), Some(AppRoute::Label), "{path}");
            assert_eq!(scanned_code(&format!("https://houqin.lan:8443{path}")).as_deref(), Some(code));
            assert_eq!(scanned_code(&path).as_deref(), Some(code));
        }
        assert_eq!(label_path("HQ-A-101"), "/l/HQ-A-101");
        assert_eq!(scanned_code(" HQ-A ").as_deref(), Some("HQ-A"), "a plain code is a code");
        assert_eq!(scanned_code("https://houqin.lan/l/HQ-A?from=scan").as_deref(), Some("HQ-A"));
        assert_eq!(scanned_code("https://example.com/other"), None, "another URL is no code");
        assert_eq!(scanned_code("https://houqin.lan/l/%E4"), None, "broken encoding");
        assert_eq!(scanned_code("https://houqin.lan/l/%Z1"), None);
        assert_eq!(scanned_code(""), None);
    }

    fn check(pattern: &str, path: &str, expected: bool) {
        assert_eq!(pattern_matches(pattern, path), expected, "pattern {pattern:?}, path {path:?}");
    }

    #[test]
    fn patterns_match_whole_segments() {
        check("/", "/", true);
        check("/", "/index.html", false);
        check("/settings", "/settings", true);
        check("/settings", "/settings/", false);
        check("/settings", "/settingsx", false);
        check("/settings", "/", false);
        check("/orders/:id", "/orders/42", true);
        check("/orders/:id", "/orders/", false);
        check("/orders/:id", "/orders", false);
        check("/orders/:id", "/orders/42/edit", false);
        check("/orders/:id/edit", "/orders/42/edit", true);
        check("/settings", "settings", false);
    }

    #[test]
    fn every_page_recognizes_its_own_pattern() {
        for route in AppRoute::ALL {
            assert_eq!(AppRoute::recognize(route.pattern()), Some(*route));
        }
        assert!(!is_app_route("/assets/app.js"));
        assert!(!is_app_route("/healthz"));
    }
}
