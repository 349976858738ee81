//! The app's pages, one list that the app's router, the server and the service worker share.
//!
//! The server answers a request for an app page with the app shell and every other
//! unknown path with 404; the service worker serves the cached shell for the same pages
//! when offline. Both read this list, so a page added here is reachable everywhere.

use crate::directory::Role;

/// A page of the app, addressed by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// The rounds due at one's sites, and starting one.
    Rounds,
    /// Work orders: waiting for dispatch, one's own, the site's open ones.
    Orders,
    /// Reporting a fault.
    Report,
    /// The store: stock on hand, movements, what to reorder.
    Store,
    /// Stocktakes: counting, review and approval.
    Stocktakes,
    /// One's sites and roles, this phone, the language.
    Me,
    /// A canteen's food samples: starting a meal's, and those to discard.
    FoodSamples,
    /// One meal's food samples.
    Meal,
    /// The meters of one's sites, with their last readings.
    Meters,
    /// One meter: entering a reading, its trend, use and runs out of limits.
    Meter,
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
        AppRoute::Rounds,
        AppRoute::Orders,
        AppRoute::Report,
        AppRoute::Store,
        AppRoute::Stocktakes,
        AppRoute::Me,
        AppRoute::FoodSamples,
        AppRoute::Meal,
        AppRoute::Meters,
        AppRoute::Meter,
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
            AppRoute::Rounds => "/rounds",
            AppRoute::Orders => "/orders",
            AppRoute::Report => "/report",
            AppRoute::Store => "/store",
            AppRoute::Stocktakes => "/stocktakes",
            AppRoute::Me => "/me",
            AppRoute::FoodSamples => "/samples",
            AppRoute::Meal => "/samples/:id",
            AppRoute::Meters => "/meters",
            AppRoute::Meter => "/meters/:site/:meter",
        }
    }

    /// The page a request path shows, if any. A trailing slash is not the same page.
    pub fn recognize(path: &str) -> Option<AppRoute> {
        AppRoute::ALL.iter().copied().find(|route| pattern_matches(route.pattern(), path))
    }
}

/// A tab of the app's bottom bar: the lists a person works from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tab {
    /// 待办: what needs this person now.
    Todo,
    Rounds,
    Orders,
    Report,
    Store,
    Stocktakes,
    Dashboard,
    Admin,
    /// 我的: sites, this phone, settings.
    Me,
}

/// The most tabs a bar holds at 360 px with labels that can be read.
pub const MAX_TABS: usize = 5;

impl Tab {
    /// Every tab, in the bar's order.
    pub const ALL: [Tab; 9] =
        [Tab::Todo, Tab::Rounds, Tab::Orders, Tab::Report, Tab::Store, Tab::Stocktakes, Tab::Dashboard, Tab::Admin, Tab::Me];

    /// The page the tab opens.
    pub const fn route(self) -> AppRoute {
        match self {
            Tab::Todo => AppRoute::Home,
            Tab::Rounds => AppRoute::Rounds,
            Tab::Orders => AppRoute::Orders,
            Tab::Report => AppRoute::Report,
            Tab::Store => AppRoute::Store,
            Tab::Stocktakes => AppRoute::Stocktakes,
            Tab::Dashboard => AppRoute::Dashboard,
            Tab::Admin => AppRoute::Admin,
            Tab::Me => AppRoute::Me,
        }
    }

    /// A stable name, for the page's markup and tests.
    pub const fn name(self) -> &'static str {
        match self {
            Tab::Todo => "todo",
            Tab::Rounds => "rounds",
            Tab::Orders => "orders",
            Tab::Report => "report",
            Tab::Store => "store",
            Tab::Stocktakes => "stocktakes",
            Tab::Dashboard => "dashboard",
            Tab::Admin => "admin",
            Tab::Me => "me",
        }
    }

    /// The tab whose list `route` belongs to, for marking the current tab.
    pub fn of(route: AppRoute) -> Option<Tab> {
        Some(match route {
            AppRoute::Home => Tab::Todo,
            AppRoute::Rounds
            | AppRoute::Round
            | AppRoute::RoundReport
            | AppRoute::FoodSamples
            | AppRoute::Meal
            | AppRoute::Meters
            | AppRoute::Meter => Tab::Rounds,
            AppRoute::Orders | AppRoute::WorkOrder => Tab::Orders,
            AppRoute::Report => Tab::Report,
            AppRoute::Store | AppRoute::StockItem => Tab::Store,
            AppRoute::Stocktakes | AppRoute::Stocktake => Tab::Stocktakes,
            AppRoute::Dashboard | AppRoute::DocumentReview => Tab::Dashboard,
            AppRoute::Admin | AppRoute::AdminSite | AppRoute::AdminPeople | AppRoute::TemplateEditor => Tab::Admin,
            AppRoute::Me | AppRoute::Settings => Tab::Me,
            AppRoute::SignIn | AppRoute::Label => return None,
        })
    }

    /// Whether someone with `role` at a site works from this tab.
    fn serves(self, role: Role) -> bool {
        match self {
            Tab::Todo | Tab::Me => true,
            Tab::Rounds => matches!(role, Role::Inspector | Role::DormStaff | Role::Manager),
            Tab::Orders => matches!(role, Role::Technician | Role::Manager | Role::Admin),
            Tab::Report => matches!(role, Role::Inspector | Role::DormStaff | Role::Technician),
            Tab::Store | Tab::Stocktakes => role == Role::Storekeeper,
            Tab::Dashboard => role.manages(),
            Tab::Admin => role == Role::Admin,
        }
    }
}

/// The bar's tabs for someone with `roles` across their sites: to-do first and "me" last,
/// between them the lists their roles work from, at most [`MAX_TABS`] in all. Past it,
/// what is reachable another way goes first: reporting (the "+" on every page), then
/// stocktakes (from the store), rounds (from the to-do list), the store.
pub fn tabs(roles: &[Role]) -> Vec<Tab> {
    let mut tabs: Vec<Tab> =
        Tab::ALL.into_iter().filter(|tab| matches!(tab, Tab::Todo | Tab::Me) || roles.iter().any(|role| tab.serves(*role))).collect();
    for dropped in [Tab::Report, Tab::Stocktakes, Tab::Rounds, Tab::Store] {
        if tabs.len() <= MAX_TABS {
            break;
        }
        tabs.retain(|tab| *tab != dropped);
    }
    tabs
}

/// The lists someone with `roles` may work from that their bar has no room for, in the
/// bar's order: "me" offers them.
pub fn more_tabs(roles: &[Role]) -> Vec<Tab> {
    let shown = tabs(roles);
    let reaches = |tab: Tab, role: Role| match tab {
        Tab::Todo | Tab::Me => false,
        Tab::Report => true,
        Tab::Rounds => role.walks_rounds(),
        Tab::Orders => role == Role::Technician || role.manages(),
        Tab::Store | Tab::Stocktakes => role.keeps_store(),
        Tab::Dashboard => role.manages(),
        Tab::Admin => role == Role::Admin,
    };
    Tab::ALL.into_iter().filter(|tab| !shown.contains(tab) && roles.iter().any(|role| reaches(*tab, *role))).collect()
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
            path.push('%');
            path.push_str(&hex::encode_upper([byte]));
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
            let mut decoded = [0u8; 1];
            hex::decode_to_slice(tail.get(..2)?, &mut decoded).ok()?;
            bytes.push(decoded[0]);
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
    fn each_role_gets_the_tabs_it_works_from() {
        use Tab::*;
        let cases = [
            (vec![Role::Inspector], vec![Todo, Rounds, Report, Me]),
            (vec![Role::DormStaff], vec![Todo, Rounds, Report, Me]),
            (vec![Role::Technician], vec![Todo, Orders, Report, Me]),
            (vec![Role::Storekeeper], vec![Todo, Store, Stocktakes, Me]),
            (vec![Role::Manager], vec![Todo, Rounds, Orders, Dashboard, Me]),
            (vec![Role::Admin], vec![Todo, Orders, Dashboard, Admin, Me]),
            (vec![], vec![Todo, Me]),
            // Roles at several sites: past five, the reachable-elsewhere go first.
            (vec![Role::Technician, Role::Storekeeper], vec![Todo, Orders, Store, Stocktakes, Me]),
            (vec![Role::Inspector, Role::Admin], vec![Todo, Orders, Dashboard, Admin, Me]),
        ];
        for (roles, expected) in cases {
            assert_eq!(tabs(&roles), expected, "{roles:?}");
        }
        for roles in [Role::ALL.to_vec(), vec![Role::Storekeeper, Role::Manager, Role::Inspector]] {
            let bar = tabs(&roles);
            assert!(bar.len() <= MAX_TABS && bar.first() == Some(&Todo) && bar.last() == Some(&Me), "{roles:?}: {bar:?}");
        }
    }

    #[test]
    fn what_the_bar_has_no_room_for_is_offered_under_me() {
        use Tab::*;
        assert_eq!(more_tabs(&[Role::Manager]), [Report, Store, Stocktakes]);
        assert_eq!(more_tabs(&[Role::Admin]), [Rounds, Report, Store, Stocktakes]);
        assert_eq!(more_tabs(&[Role::Storekeeper]), [Report]);
        assert_eq!(more_tabs(&[Role::Inspector]), []);
        assert_eq!(more_tabs(&[Role::Technician, Role::Storekeeper]), [Report]);
        for roles in [Role::ALL.to_vec(), vec![Role::Manager], vec![Role::Inspector, Role::Admin]] {
            let (shown, more) = (tabs(&roles), more_tabs(&roles));
            assert!(more.iter().all(|tab| !shown.contains(tab)), "{roles:?}");
        }
    }

    #[test]
    fn every_tab_opens_a_page_it_is_the_tab_of() {
        for tab in Tab::ALL {
            assert_eq!(Tab::of(tab.route()), Some(tab));
            assert_eq!(AppRoute::recognize(tab.route().pattern()), Some(tab.route()));
        }
    }

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
