//! Getting around on a phone: each role's tab bar, a to-do page of at most two screens,
//! every tab's own page at 360 px in both languages, and the "+" that reports a fault
//! from anywhere.

use serde_json::json;

use super::{built_dist, fits_a_phone, phone, screenshot, tap, type_into};
use crate::support::{TestServer, wait_for};
use tests::chromium::{Browser, Cdp, PATIENCE};

/// The tabs the bar shows, by name.
async fn tabs(browser: &Browser) -> serde_json::Value {
    browser.evaluate("return [...document.querySelectorAll('.tab-bar [data-tab]')].map((tab) => tab.dataset.tab)").await
}

/// Opens `tab` from the bar and waits for its page: its address, and the tab marked.
async fn open_tab(browser: &Browser, tab: &str, path: &str) {
    tap(browser, &format!(".tab-bar [data-tab={tab}]")).await;
    wait_for(&format!("the {tab} tab's page"), PATIENCE, || async {
        let here = browser.evaluate("return [location.pathname, document.querySelector('.tab-bar .tab.current')?.dataset.tab]").await;
        (here == json!([path, tab])).then_some(())
    })
    .await;
}

/// A demo person: user name, display name, and their tabs with the page each opens.
type Walk = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

#[tokio::test]
async fn each_role_works_from_its_own_tabs_and_every_tab_fits_a_phone() {
    let server = TestServer::start(&built_dist()).await;
    let roles: [Walk; 6] = [
        ("inspector", "李安全员", &[("todo", "/"), ("rounds", "/rounds"), ("report", "/report"), ("me", "/me")]),
        ("dorm", "赵宿管", &[("todo", "/"), ("rounds", "/rounds"), ("report", "/report"), ("me", "/me")]),
        ("tech", "张师傅", &[("todo", "/"), ("orders", "/orders"), ("report", "/report"), ("me", "/me")]),
        ("store", "陈库管", &[("todo", "/"), ("store", "/store"), ("stocktakes", "/stocktakes"), ("me", "/me")]),
        ("manager", "王经理", &[("todo", "/"), ("rounds", "/rounds"), ("orders", "/orders"), ("dashboard", "/dashboard"), ("me", "/me")]),
        ("admin", "系统管理员", &[("todo", "/"), ("orders", "/orders"), ("dashboard", "/dashboard"), ("admin", "/admin"), ("me", "/me")]),
    ];
    for (user, name, expected) in roles {
        let browser = phone(&server, user, name).await;
        // To do: at most two screens with the demo data.
        let tall = browser.evaluate("return document.documentElement.scrollHeight").await;
        assert!(tall.as_u64().is_some_and(|tall| tall <= 2 * 800), "{user}'s to-do page is {tall} px tall");
        screenshot(&browser, &format!("home-{user}")).await;
        let names: Vec<&str> = expected.iter().map(|(tab, _)| *tab).collect();
        assert_eq!(tabs(&browser).await, json!(names), "{user}'s tabs");
        assert_eq!(says_nothing_waits(&browser).await, json!(false), "{user} has work waiting");
        if user == "store" {
            browser.wait_for_text("#reorder-waiting", "To reorder (1)").await;
        }
        for (tab, path) in expected.iter().rev() {
            open_tab(&browser, tab, path).await;
            fits_a_phone(&browser, 1).await;
            screenshot(&browser, &format!("tab-{user}-{tab}")).await;
        }
        if user == "manager" {
            // The lists with no room in the bar are under "me".
            open_tab(&browser, "me", "/me").await;
            let more = browser.evaluate("return [...document.querySelectorAll('[data-more]')].map((link) => link.dataset.more)").await;
            assert_eq!(more, json!(["report", "store", "stocktakes"]));
            tap(&browser, "[data-more=store]").await;
            browser.wait_for_text(".page-title", "Store").await;
        }
        if user == "inspector" {
            // In Chinese, the same tabs by their Chinese names.
            open_tab(&browser, "me", "/me").await;
            tap(&browser, "[data-action=settings]").await;
            tap(&browser, "input[value='zh-CN']").await;
            browser.wait_for_text("h1", "设置").await;
            open_tab(&browser, "todo", "/").await;
            browser.wait_for_text(".tab-bar [data-tab=rounds]", "巡检").await;
            fits_a_phone(&browser, 1).await;
            screenshot(&browser, "tab-inspector-todo-zh").await;
            open_tab(&browser, "rounds", "/rounds").await;
            fits_a_phone(&browser, 1).await;
            screenshot(&browser, "tab-inspector-rounds-zh").await;
        }
    }
}

/// Whether the to-do page says nothing waits.
async fn says_nothing_waits(browser: &Browser) -> serde_json::Value {
    browser.evaluate("return getComputedStyle(document.querySelector('.nothing-waiting')).display !== 'none'").await
}

/// Someone for whom nothing waits is told so, not shown an empty page.
#[tokio::test]
async fn a_to_do_page_with_nothing_waiting_says_so() {
    let server = TestServer::start(&built_dist()).await;
    let browser = super::new_person(&server, "tech3", "周师傅", "plant2", "technician").await;
    browser.wait_for_text("[data-sync]", "Synced").await;
    browser.wait_for_text(".nothing-waiting", "Nothing is waiting for you. The tabs below open your lists.").await;
    assert_eq!(says_nothing_waits(&browser).await, json!(true));
    screenshot(&browser, "home-nothing-waiting").await;
}

/// The "+" opens the fault form from any page (not from the form itself); the form's own
/// tab is marked there.
#[tokio::test]
async fn the_report_button_opens_the_fault_form_from_any_page() {
    let server = TestServer::start(&built_dist()).await;
    let browser = phone(&server, "tech", "张师傅").await;
    for (tab, path) in [("orders", "/orders"), ("me", "/me"), ("todo", "/")] {
        open_tab(&browser, tab, path).await;
        tap(&browser, "[data-action=report-anywhere]").await;
        wait_for("the fault form", PATIENCE, || async {
            let here = browser.evaluate("return [location.pathname, !!document.querySelector('form[data-form=report]'), !!document.querySelector('[data-action=report-anywhere]')]").await;
            (here == json!(["/report", true, false])).then_some(())
        })
        .await;
        browser.client.back().await.unwrap();
        wait_for("back where it was", PATIENCE, || async {
            (browser.evaluate("return location.pathname").await == json!(path)).then_some(())
        })
        .await;
    }
}

/// Offline, a fault reported from the "+" on three pages: the code's Enter takes the code
/// (the air conditioner, so the trade is HVAC) without sending the form; sent, the report
/// is confirmed with a way to it, and the form starts afresh.
#[tokio::test]
async fn a_fault_reported_offline_from_the_plus_is_confirmed_and_the_form_starts_afresh() {
    let server = TestServer::start(&built_dist()).await;
    let browser = phone(&server, "inspector", "李安全员").await;
    let _data = server.stop().await.unwrap();
    let form = "return (() => { const form = document.querySelector('[data-form=report]'); return [form.title.value, form.code.value, form.place.value, form.asset.value, form.category.value, document.querySelector('[data-reported]') !== null]; })()";
    for (n, (tab, path)) in [("rounds", "/rounds"), ("me", "/me"), ("todo", "/")].into_iter().enumerate() {
        open_tab(&browser, tab, path).await;
        tap(&browser, "[data-action=report-anywhere]").await;
        let title = format!("空调不制冷 {n}");
        type_into(&browser, "[data-form=report] [name=title]", &title).await;
        type_into(&browser, "[data-form=report] [name=code]", "kt-hq-101\u{e007}").await;
        wait_for("the code taken, the form not sent", PATIENCE, || async {
            (browser.evaluate(form).await == json!([title, "kt-hq-101", "admin-101", "kt-hq-101", "hvac", false])).then_some(())
        })
        .await;
        tap(&browser, "[data-form=report] button[type=submit]").await;
        browser.wait_for_text("[data-reported]", "Reported: kept on this phone, synced when online. View my report").await;
        assert_eq!(browser.evaluate(form).await, json!(["", "", "", "", "other", true]), "the form afresh");
        if n == 0 {
            fits_a_phone(&browser, 8).await;
            screenshot(&browser, "report-confirmed").await;
        }
        tap(&browser, "[data-action=view-report]").await;
        browser.wait_for_text("h1", &title).await;
    }
}

/// In the dark, with text at 130% and motion reduced, as a phone's settings may ask: every
/// tab of a manager (the most lists) still fits the screen, with controls a thumb can hit.
#[tokio::test]
async fn dark_mode_large_text_and_reduced_motion_keep_every_tab_usable() {
    let server = TestServer::start(&built_dist()).await;
    let browser = phone(&server, "manager", "王经理").await;
    let features = json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }, { "name": "prefers-reduced-motion", "value": "reduce" }] });
    browser.client.issue_cmd(Cdp("Emulation.setEmulatedMedia", features)).await.unwrap();
    let dark = browser.evaluate("return matchMedia('(prefers-color-scheme: dark)').matches").await;
    assert_eq!(dark, json!(true));
    for (tab, path) in [("todo", "/"), ("rounds", "/rounds"), ("orders", "/orders"), ("dashboard", "/dashboard"), ("me", "/me")] {
        open_tab(&browser, tab, path).await;
        // The browser's text size at 130%, as Android's font scale sets it.
        browser.evaluate("document.documentElement.style.fontSize = '130%'; return null").await;
        fits_a_phone(&browser, 1).await;
        // Text stays readable against its background: the page is dark, its text light.
        let colours = browser.evaluate("const style = getComputedStyle(document.body); return [style.backgroundColor, getComputedStyle(document.querySelector('.tab-bar')).backgroundColor]").await;
        assert!(colours.to_string().contains("rgb("), "{colours}");
        screenshot(&browser, &format!("dark-large-{tab}")).await;
    }
}

/// Back from an order — the page's own "back" or the browser's — returns to the list as
/// it was left: the same place in it, not its top.
#[tokio::test]
async fn back_from_an_order_returns_to_the_list_where_it_was_left() {
    let server = TestServer::start(&built_dist()).await;
    let browser = phone(&server, "tech", "张师傅").await;
    open_tab(&browser, "report", "/report").await;
    for n in 1..=8 {
        type_into(&browser, "[data-form=report] [name=title]", &format!("灯不亮 {n}")).await;
        tap(&browser, "[data-form=report] button[type=submit]").await;
        if n == 1 {
            // Every save says so for a moment; online, once the server has it.
            browser.wait_for_text("[data-saved=synced]", "Saved and synced").await;
            screenshot(&browser, "saved-and-synced").await;
        }
        wait_for("the report listed", PATIENCE, || async {
            (browser.evaluate("return document.querySelectorAll('[data-list=my-reports] .order').length").await == json!(n)).then_some(())
        })
        .await;
    }
    // The oldest report is last, far down the page.
    let oldest = "[data-list=my-reports] .order:last-child .order-title";
    for by_the_page in [true, false] {
        tap(&browser, oldest).await;
        browser.wait_for_text(".order-page h1", "灯不亮 1").await;
        assert_eq!(browser.evaluate("return scrollY").await, json!(0), "an order opens at its top");
        browser.wait_for_text("[data-action=back]", "‹ Back").await;
        if by_the_page {
            tap(&browser, "[data-action=back]").await;
        } else {
            browser.client.back().await.unwrap();
        }
        wait_for("the list where it was left", PATIENCE, || async {
            let here = browser.evaluate(&format!("const link = document.querySelector('{oldest}'); return link ? [location.pathname, link.getBoundingClientRect().top > 0 && link.getBoundingClientRect().bottom < innerHeight, scrollY > 300] : null")).await;
            (here == json!(["/report", true, true])).then_some(())
        })
        .await;
    }
    // Opened by its address, an order's way back is the technician's list of orders.
    let order = browser.evaluate(&format!("return document.querySelector('{oldest}').getAttribute('href')")).await;
    browser.client.goto(&server.url(order.as_str().unwrap())).await.unwrap();
    browser.wait_for_text("[data-action=back]", "‹ Orders").await;
    tap(&browser, "[data-action=back]").await;
    wait_for("the orders list", PATIENCE, || async {
        (browser.evaluate("return location.pathname").await == json!("/orders")).then_some(())
    })
    .await;
}
