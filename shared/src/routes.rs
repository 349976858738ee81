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

#[cfg(test)]
mod tests {
    use super::*;

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
