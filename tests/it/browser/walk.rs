//! Every page each demo role can reach, at 360 × 800 in both languages: nothing wider than
//! the screen, every control big enough for a thumb, and no text in the other language
//! but what people typed (names, places, titles). Pages are found by following the app's
//! own links from the person's tabs, one page of each `shared::routes::AppRoute`; each
//! role's walk must reach the routes listed for it, and the lists between them must cover
//! every route — so a route added to `shared::routes` is walked once it is listed here.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use serde_json::{Value, json};
use shared::routes::AppRoute;

use super::{LAYOUT, built_dist, phone, screenshot, tap};
use crate::support::{TestServer, catalog_of, wait_for};
use tests::chromium::{Browser, PATIENCE};

/// What each demo person must reach by following links: their tabs, the lists under "me",
/// settings, a label's page (opened by scanning, so given), and the documents their lists
/// lead to once they have begun their work (`begin_work`).
const REACHES: [(&str, &str, &[AppRoute]); 6] = [
    (
        "inspector",
        "李安全员",
        &[
            AppRoute::Home,
            AppRoute::Rounds,
            AppRoute::Report,
            AppRoute::Me,
            AppRoute::Settings,
            AppRoute::Label,
            AppRoute::Round,
            AppRoute::RoundReport,
            AppRoute::WorkOrder,
            AppRoute::FoodSamples,
            AppRoute::Meal,
            AppRoute::Meters,
            AppRoute::Meter,
        ],
    ),
    (
        "dorm",
        "赵宿管",
        &[
            AppRoute::Home,
            AppRoute::Rounds,
            AppRoute::Report,
            AppRoute::Me,
            AppRoute::Settings,
            AppRoute::Label,
            AppRoute::Round,
            AppRoute::WorkOrder,
        ],
    ),
    (
        "tech",
        "张师傅",
        &[
            AppRoute::Home,
            AppRoute::Orders,
            AppRoute::Report,
            AppRoute::Me,
            AppRoute::Settings,
            AppRoute::Label,
            AppRoute::WorkOrder,
            AppRoute::Meters,
            AppRoute::Meter,
        ],
    ),
    (
        "store",
        "陈库管",
        &[
            AppRoute::Home,
            AppRoute::Store,
            AppRoute::Stocktakes,
            AppRoute::Me,
            AppRoute::Settings,
            AppRoute::Label,
            AppRoute::Stocktake,
            AppRoute::StockItem,
        ],
    ),
    (
        "manager",
        "王经理",
        &[
            AppRoute::Home,
            AppRoute::Rounds,
            AppRoute::Orders,
            AppRoute::Dashboard,
            AppRoute::Me,
            AppRoute::Report,
            AppRoute::Store,
            AppRoute::Stocktakes,
            AppRoute::Settings,
            AppRoute::Label,
            AppRoute::DocumentReview,
            AppRoute::Round,
            AppRoute::RoundReport,
            AppRoute::WorkOrder,
            AppRoute::StockItem,
            AppRoute::FoodSamples,
            AppRoute::Meal,
        ],
    ),
    (
        "admin",
        "系统管理员",
        &[
            AppRoute::Home,
            AppRoute::Orders,
            AppRoute::Dashboard,
            AppRoute::Admin,
            AppRoute::Me,
            AppRoute::Settings,
            AppRoute::Label,
            AppRoute::AdminSite,
            AppRoute::AdminPeople,
            AppRoute::TemplateEditor,
        ],
    ),
];

/// Words of the other language that are no one's data and still right in either: the
/// names of the two languages, offered in their own, and abbreviations Chinese uses as
/// they are. (Text in `<code>` — commands, file columns — is code, in no language.)
const EITHER_LANGUAGE: [&str; 4] = ["中文", "English", "CSV", "MB"];

/// Between them the roles' walks cover every page but signing in, which
/// `signing_in_fits_a_phone_in_both_languages` walks.
#[test]
fn the_walks_cover_every_route() {
    let walked: BTreeSet<&str> = REACHES.iter().flat_map(|(_, _, routes)| routes.iter().map(|route| route.pattern())).collect();
    let unwalked: Vec<&str> = AppRoute::ALL
        .iter()
        .filter(|route| **route != AppRoute::SignIn)
        .map(|route| route.pattern())
        .filter(|pattern| !walked.contains(pattern))
        .collect();
    assert!(unwalked.is_empty(), "no demo role's walk reaches {unwalked:?}: list them in REACHES");
}

#[tokio::test]
async fn every_page_an_inspector_reaches_reads_in_their_language_and_fits_a_phone() {
    walk_as(0).await;
}

#[tokio::test]
async fn every_page_dorm_staff_reach_reads_in_their_language_and_fits_a_phone() {
    walk_as(1).await;
}

#[tokio::test]
async fn every_page_a_technician_reaches_reads_in_their_language_and_fits_a_phone() {
    walk_as(2).await;
}

#[tokio::test]
async fn every_page_a_storekeeper_reaches_reads_in_their_language_and_fits_a_phone() {
    walk_as(3).await;
}

#[tokio::test]
async fn every_page_a_manager_reaches_reads_in_their_language_and_fits_a_phone() {
    walk_as(4).await;
}

#[tokio::test]
async fn every_page_an_administrator_reaches_reads_in_their_language_and_fits_a_phone() {
    walk_as(5).await;
}

#[tokio::test]
async fn signing_in_fits_a_phone_in_both_languages() {
    let server = TestServer::start(&built_dist()).await;
    let typed = typed_words(&server);
    let browser = Browser::start().await;
    browser.client.set_window_size(360, 800).await.unwrap();
    browser.client.goto(&server.url("/sign-in")).await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;
    let mut problems = check_page(&browser, "/sign-in", Language::English, &typed).await;
    screenshot(&browser, "walk-signed-out-en-sign-in").await;
    to_chinese(&browser).await;
    browser.client.goto(&server.url("/sign-in")).await.unwrap();
    browser.wait_for_text("h1", "登录").await;
    problems.extend(check_page(&browser, "/sign-in", Language::Chinese, &typed).await);
    screenshot(&browser, "walk-signed-out-zh-sign-in").await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    browser.close().await;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Language {
    English,
    Chinese,
}

impl Language {
    fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh",
        }
    }
}

/// Signs in the demo person `REACHES[which]`, finds every page they reach, and checks each
/// in English and then in Chinese; every problem found on every page is listed at once.
async fn walk_as(which: usize) {
    let (user, name, expected) = REACHES[which];
    let server = TestServer::start(&built_dist()).await;
    let mut typed = typed_words(&server);
    // What the walk types itself, below.
    typed.extend([FAULT, STOCKTAKE_PLACE].iter().flat_map(|text| words(text)).map(|(_, word)| word));
    let browser = phone(&server, user, name).await;
    let mut given = vec![AppRoute::Settings.pattern().to_owned(), format!("/l/{}", label_code(&server))];
    given.extend(begin_work(&browser).await);
    let pages = find_pages(&browser, given).await;
    let reached: BTreeSet<&str> = pages.keys().map(|route| route.pattern()).collect();
    let missing: Vec<&str> = expected.iter().map(|route| route.pattern()).filter(|pattern| !reached.contains(pattern)).collect();
    assert!(missing.is_empty(), "{user} reached {reached:?} but not {missing:?}");

    let mut problems = Vec::new();
    for language in [Language::English, Language::Chinese] {
        if language == Language::Chinese {
            to_chinese(&browser).await;
        }
        for (route, addresses) in &pages {
            for (example, address) in addresses.iter().enumerate() {
                open(&browser, address).await;
                problems.extend(check_page(&browser, address, language, &typed).await);
                let shot = route.pattern().trim_matches('/').replace(['/', ':'], "-");
                screenshot(&browser, &format!("walk-{user}-{}-{}-{example}", language.tag(), if shot.is_empty() { "todo" } else { &shot }))
                    .await;
            }
        }
    }
    assert!(problems.is_empty(), "{user}'s pages:\n{}", problems.join("\n"));
    browser.close().await;
}

/// The code on a door label at the demo site, for the label's page.
fn label_code(server: &TestServer) -> String {
    let catalog = server.state.documents.load(&catalog_of(server, "hq")).unwrap().unwrap();
    let catalog = shared::document::catalog::SiteCatalog::from_doc(catalog).unwrap().read().unwrap();
    catalog.places.iter().find(|place| !place.code.is_empty()).expect("a labelled place").code.clone()
}

/// The fault the walk reports, and where it counts stock.
const FAULT: &str = "走廊灯不亮";
const STOCKTAKE_PLACE: &str = "一号库";

/// What a person does first that makes documents to open: starts the first round due
/// (whose printable report is then given), starts a meal's food samples, reports a fault,
/// starts a stocktake — each as their tabs and roles allow. Returns the addresses it gives.
async fn begin_work(browser: &Browser) -> Vec<String> {
    let tabs = browser.evaluate("return [...document.querySelectorAll('.tab-bar [data-tab]')].map((tab) => tab.dataset.tab)").await;
    let has = |tab: &str| tabs.as_array().unwrap().contains(&json!(tab));
    let mut given = Vec::new();
    if has("rounds") {
        open(browser, AppRoute::Rounds.pattern()).await;
        tap(browser, "[data-action=start-due]").await;
        let round = wait_for("the round begun", PATIENCE, || async {
            browser.evaluate("return location.pathname").await.as_str().filter(|path| path.starts_with("/rounds/")).map(str::to_owned)
        })
        .await;
        given.push(format!("{round}/report"));
    }
    // Those who keep a canteen's food samples start a meal's.
    if has("rounds") {
        open(browser, AppRoute::FoodSamples.pattern()).await;
        if browser.evaluate("return document.querySelector('[data-form=meal]') !== null").await == json!(true) {
            super::choose(browser, "meal", "place", "canteen").await;
            tap(browser, "[data-form=meal] button[type=submit]").await;
            wait_for("the meal's samples begun", PATIENCE, || async {
                browser.evaluate("return location.pathname").await.as_str().filter(|path| path.starts_with("/samples/")).map(drop)
            })
            .await;
        }
    }
    if has("report") {
        open(browser, AppRoute::Report.pattern()).await;
        super::type_into(browser, "[data-form=report] [name=title]", FAULT).await;
        tap(browser, "[data-form=report] button[type=submit]").await;
        super::wait_for_element(browser, "[data-list=my-reports] .order").await;
    }
    if has("stocktakes") {
        open(browser, AppRoute::Stocktakes.pattern()).await;
        super::type_into(browser, "[data-form=stocktake] [name=location]", STOCKTAKE_PLACE).await;
        tap(browser, "[data-form=stocktake] button[type=submit]").await;
        wait_for("the stocktake begun", PATIENCE, || async {
            browser.evaluate("return location.pathname").await.as_str().filter(|path| path.starts_with("/stocktakes/")).map(drop)
        })
        .await;
    }
    given
}

/// How many addresses of one page the walk opens (three orders of a list, not all).
const EXAMPLES: usize = 3;

/// Addresses of each page reachable from the tab bar and the `given` ones by the app's
/// own links, breadth first: up to [`EXAMPLES`] of each (documents of one kind differ).
/// The dashboard is also opened for each kind of document, as its filter offers.
async fn find_pages(browser: &Browser, given: Vec<String>) -> BTreeMap<AppRoute, Vec<String>> {
    let tabs = browser.evaluate("return [...document.querySelectorAll('.tab-bar a[href]')].map((tab) => tab.getAttribute('href'))").await;
    let mut waiting: VecDeque<String> = tabs.as_array().unwrap().iter().filter_map(|tab| tab.as_str().map(str::to_owned)).collect();
    waiting.extend(given);
    let mut pages: BTreeMap<AppRoute, Vec<String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    while let Some(address) = waiting.pop_front() {
        let Some(route) = AppRoute::recognize(address.split(['?', '#']).next().unwrap_or_default()) else { continue };
        let examples = pages.entry(route).or_default();
        if route == AppRoute::SignIn || examples.len() >= EXAMPLES || !seen.insert(address.clone()) {
            continue;
        }
        examples.push(address.clone());
        open(browser, &address).await;
        if route == AppRoute::Dashboard && !address.contains('?') {
            waiting.extend(["inspection", "stocktake"].map(|kind| format!("{address}?type={kind}")));
        }
        let links = browser
            .evaluate(
                "return [...document.querySelectorAll('main a[href], header a[href]')]
                    .filter((link) => link.getAttribute('rel') !== 'external' && link.target !== '_blank')
                    .map((link) => link.getAttribute('href'))
                    .filter((href) => href.startsWith('/') && !href.startsWith('//') && !href.startsWith('/api/'))",
            )
            .await;
        waiting.extend(links.as_array().unwrap().iter().filter_map(|link| link.as_str().map(str::to_owned)));
    }
    pages.retain(|_, addresses| !addresses.is_empty());
    pages
}

/// Follows a link to `address` inside the app, as a tap on it would, and waits for the page
/// to be drawn and to stop changing.
async fn open(browser: &Browser, address: &str) {
    browser
        .client
        .execute(
            "const link = document.createElement('a'); link.href = arguments[0]; document.body.append(link); link.click(); link.remove();",
            vec![json!(address)],
        )
        .await
        .unwrap();
    let path = address.split(['?', '#']).next().unwrap_or_default().to_owned();
    wait_for(&format!("the page at {address}"), PATIENCE, || async {
        (browser.evaluate("return location.pathname").await == json!(path)).then_some(())
    })
    .await;
    // Drawn once what it shows stops changing for a moment (lists come from the phone's
    // store; some figures from the server).
    let mut last = Value::Null;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = browser.evaluate("return [document.body.innerText, document.documentElement.scrollHeight]").await;
        if now == last {
            break;
        }
        last = now;
    }
}

/// Switches the phone to Chinese on the settings page.
async fn to_chinese(browser: &Browser) {
    open(browser, AppRoute::Settings.pattern()).await;
    tap(browser, "input[value='zh-CN']").await;
    browser.wait_for_text("h1", "设置").await;
}

/// What is wrong with the page shown, at `address`, for a reader of `language`: anything
/// wider than the screen, controls smaller than 44 px, and words of the other language
/// that no one typed; a round's footer taller than 15% of the screen; a tab's name broken.
async fn check_page(browser: &Browser, address: &str, language: Language, typed: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let layout = browser.evaluate(LAYOUT).await;
    if layout["overflow"].as_i64().unwrap_or_default() > 0 {
        problems.push(format!("{address} ({language:?}): wider than the screen: {}", layout["wide"]));
    }
    if layout["small"] != json!([]) {
        problems.push(format!("{address} ({language:?}): smaller than 44 px: {}", layout["small"]));
    }
    // A tab's one-word name is never broken across lines.
    let broken = browser.evaluate("return [...document.querySelectorAll('.tab-bar .tab-label')].filter((label) => !label.textContent.trim().includes(' ') && label.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(label).lineHeight)).map((label) => label.textContent)").await;
    if broken != json!([]) {
        problems.push(format!("{address} ({language:?}): tab names broken mid-word: {broken}"));
    }
    // What stays on screen over a round's items takes at most about a seventh of it.
    let footer = browser.evaluate("const footer = document.querySelector('.round-footer.sticky'); return footer ? [footer.getBoundingClientRect().height, innerHeight] : null").await;
    if let Some([height, screen]) = footer.as_array().map(|sizes| [sizes[0].as_f64().unwrap(), sizes[1].as_f64().unwrap()])
        && height > 0.15 * screen
    {
        problems.push(format!("{address} ({language:?}): the round's footer is {height} px of {screen}"));
    }
    let shown = browser
        .evaluate(
            "const texts = [];
             const visible = (element) => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
             const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             while (walker.nextNode()) {
                 const parent = walker.currentNode.parentElement;
                 const text = walker.currentNode.data.trim();
                 if (text && parent && !parent.closest('script, style, noscript, option, code') && visible(parent)) texts.push(text);
             }
             for (const element of document.querySelectorAll('[placeholder], [aria-label]')) {
                 if (visible(element)) texts.push(element.getAttribute('placeholder') ?? '', element.getAttribute('aria-label') ?? '');
             }
             for (const select of document.querySelectorAll('select')) {
                 if (visible(select)) texts.push(...[...select.options].map((option) => option.text));
             }
             return texts.filter((text) => text.trim());",
        )
        .await;
    for text in shown.as_array().unwrap().iter().filter_map(Value::as_str) {
        let foreign: Vec<String> = words(text)
            .into_iter()
            .filter(|(chinese, _)| *chinese == (language == Language::English))
            .map(|(_, word)| word)
            .filter(|word| !typed.contains(word) && !EITHER_LANGUAGE.contains(&word.as_str()))
            .collect();
        if !foreign.is_empty() {
            problems.push(format!("{address} ({language:?}): {foreign:?} in {text:?}"));
        }
    }
    problems
}

fn is_chinese(character: char) -> bool {
    matches!(character, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// The runs of Chinese characters (`true`) and the Latin words of two letters or more
/// (`false`) in `text`.
fn words(text: &str) -> Vec<(bool, String)> {
    let mut words = Vec::new();
    let mut run = String::new();
    let mut chinese = false;
    for character in text.chars().chain([' ']) {
        let class = if is_chinese(character) {
            Some(true)
        } else if character.is_ascii_alphabetic() {
            Some(false)
        } else {
            None
        };
        if class != Some(chinese) || class.is_none() {
            if run.chars().count() >= if chinese { 1 } else { 2 } {
                words.push((chinese, std::mem::take(&mut run)));
            }
            run.clear();
        }
        if let Some(class) = class {
            chinese = class;
            run.push(character);
        }
    }
    words
}

/// What people typed into the demo data — every string in its documents and its directory
/// of sites and people — as words, which show as typed in either language.
fn typed_words(server: &TestServer) -> BTreeSet<String> {
    let mut strings = Vec::new();
    for id in server.state.documents.ids().unwrap() {
        if let Some(doc) = server.state.documents.load(&id).unwrap() {
            collect_strings(&serde_json::to_value(automerge::AutoSerde::from(&doc)).unwrap(), &mut strings);
        }
    }
    collect_strings(&serde_json::to_value(server.state.directory.sites().unwrap()).unwrap(), &mut strings);
    collect_strings(&serde_json::to_value(server.state.directory.users().unwrap()).unwrap(), &mut strings);
    strings.iter().flat_map(|text| words(text)).map(|(_, word)| word).collect()
}

fn collect_strings(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::String(text) => into.push(text.clone()),
        Value::Array(values) => values.iter().for_each(|value| collect_strings(value, into)),
        Value::Object(fields) => fields.values().for_each(|value| collect_strings(value, into)),
        _ => {}
    }
}
