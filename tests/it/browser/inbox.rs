//! The inbox on the phone: what waits for the person, derived from the documents it holds,
//! new items counted on the to-do tab and marked on the to-do page until seen, offline too.

use serde_json::json;

use super::{built_dist, phone, report_and_assign, screenshot, tap};
use crate::support::{TestServer, wait_for};
use tests::chromium::{Browser, Cdp, PATIENCE};

/// The count on the to-do tab, if any.
async fn new_on_tab(browser: &Browser) -> serde_json::Value {
    browser.evaluate("return document.querySelector('.tab-bar [data-tab=todo] .tab-badge')?.dataset.unseen ?? null").await
}

/// What the app last gave the Badging API (recorded by the test's stand-in for it).
async fn icon_badge(browser: &Browser) -> serde_json::Value {
    browser.evaluate("return localStorage.getItem('icon-badge')").await
}

/// The orders the to-do page's "my work" lists, each with whether it is marked new.
async fn my_work(browser: &Browser) -> serde_json::Value {
    browser
        .evaluate(
            "return [...document.querySelectorAll('[data-list=my-work] .order-line')].map((line) => [line.querySelector('a').textContent, !!line.querySelector('[data-new]')])",
        )
        .await
}

#[tokio::test]
async fn an_assignment_made_while_the_technicians_app_was_closed_is_new_on_the_to_do_tab_once_synced_and_listed_offline() {
    let server = TestServer::start(&built_dist()).await;
    let base = server.url("/");
    let technician = phone(&server, "tech", "张师傅").await;
    // Signed in on the to-do page, everything waiting is listed there, so none of it is new.
    wait_for("the to-do tab without a count", PATIENCE, || async { new_on_tab(&technician).await.is_null().then_some(()) }).await;
    // The app closed in a pocket.
    technician.client.goto("about:blank").await.unwrap();

    let manager = phone(&server, "manager", "王经理").await;
    report_and_assign(&manager, &base, "走廊灯不亮", "tech").await;

    // The app icon's count, as the Badging API is given it (the headless browser has no
    // icon to show it on).
    let record_badge =
        "navigator.setAppBadge = (count) => { localStorage.setItem('icon-badge', String(count)); return Promise.resolve(); };
        navigator.clearAppBadge = () => { localStorage.setItem('icon-badge', '0'); return Promise.resolve(); };";
    technician.client.issue_cmd(Cdp("Page.addScriptToEvaluateOnNewDocument", json!({ "source": record_badge }))).await.unwrap();
    // Opened again on another tab: the assignment syncs and the to-do tab counts it.
    technician.client.goto(&format!("{base}orders")).await.unwrap();
    wait_for("the assignment counted on the to-do tab", PATIENCE, || async { (new_on_tab(&technician).await == json!("1")).then_some(()) })
        .await;
    let label = technician.evaluate("return document.querySelector('.tab-bar .tab-badge').getAttribute('aria-label')").await;
    assert_eq!(label, json!("1 new"));
    wait_for("the count on the app's icon", PATIENCE, || async { (icon_badge(&technician).await == json!("1")).then_some(()) }).await;
    screenshot(&technician, "inbox-new-on-tab").await;
    // The to-do page lists it marked new, and the count goes: it has been seen.
    tap(&technician, ".tab-bar [data-tab=todo]").await;
    wait_for("the assignment marked new in my work", PATIENCE, || async {
        let lines = my_work(&technician).await;
        lines.as_array()?.iter().any(|line| *line == json!(["走廊灯不亮", true])).then_some(())
    })
    .await;
    wait_for("the count gone once listed", PATIENCE, || async { new_on_tab(&technician).await.is_null().then_some(()) }).await;
    wait_for("the icon's count cleared", PATIENCE, || async { (icon_badge(&technician).await == json!("0")).then_some(()) }).await;
    screenshot(&technician, "inbox-listed-new").await;

    // Offline, the page opens from what the phone holds: still listed, no longer new.
    let data = server.stop().await.unwrap();
    technician.client.goto(&base).await.unwrap();
    wait_for("the assignment listed offline", PATIENCE, || async {
        let lines = my_work(&technician).await;
        lines.as_array()?.iter().any(|line| *line == json!(["走廊灯不亮", false])).then_some(())
    })
    .await;
    assert!(new_on_tab(&technician).await.is_null(), "seen before, it is not new again offline");
    // In Chinese, the same page.
    technician.evaluate("localStorage.setItem('houqin.language', JSON.stringify('zh-CN')); return null").await;
    technician.client.refresh().await.unwrap();
    technician.wait_for_text(".tab-bar [data-tab=todo]", "待办").await;
    screenshot(&technician, "inbox-offline-zh").await;
    for browser in [technician, manager] {
        browser.close().await;
    }
    drop(data);
}
