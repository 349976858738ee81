//! The inbox on the phone: what waits for the person, derived from the documents it holds,
//! new items counted on the to-do tab and marked on the to-do page until seen, offline too.

use serde_json::json;

use super::{built_dist, fits_a_phone, phone, report_and_assign, screenshot, tap, wait_for_element};
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

/// Settings → Notices: the person turns a kind off and keeps quiet hours, saved on the
/// server in their language; on an order's page they mute it. At 360 px, in both languages.
#[tokio::test]
async fn a_person_chooses_their_notices_in_settings_and_mutes_an_order_from_its_page() {
    let server = TestServer::start(&built_dist()).await;
    let manager = phone(&server, "manager", "王经理").await;
    report_and_assign(&manager, &server.url("/"), "水管漏水", "tech").await;
    let document = manager.evaluate("return document.querySelector('[data-order]').dataset.order").await;
    let document = shared::protocol::DocumentId::parse(document.as_str().unwrap()).unwrap();
    manager.close().await;
    let tech = phone(&server, "tech", "张师傅").await;
    let me = shared::directory::Username::parse("tech").unwrap();
    tech.client.goto(&server.url("/settings")).await.unwrap();
    wait_for_element(&tech, "[data-card=notices] form").await;
    // Headless Chromium has the Push API but no push service: the button is offered.
    assert_eq!(tech.evaluate("return document.querySelector('[data-push]').dataset.push").await, json!("off"));
    tap(&tech, "[data-card=notices] input[name=kind][value=overdue]").await;
    tap(&tech, "[data-card=notices] input[name=quiet]").await;
    tech.evaluate(
        "const set = (name, value) => { const input = document.querySelector(`[name=${name}]`); input.value = value; input.dispatchEvent(new Event('input')); };
         set('quiet-from', '21:30'); set('quiet-to', '06:45'); return null",
    )
    .await;
    tap(&tech, "[data-card=notices] button[type=submit]").await;
    tech.wait_for_text("[data-card=notices] [role=status]", "Saved and synced").await;
    let settings = server.state.outbox.settings(&me).unwrap();
    assert_eq!(settings.off, [shared::notice::NoticeKind::Overdue].into());
    let quiet = settings.quiet.expect("quiet hours kept");
    assert_eq!((quiet.from, quiet.to), (21 * 60 + 30, 6 * 60 + 45));
    assert_eq!(settings.language, shared::language::Language::English, "notices in the language the person reads the app in");
    tech.client.execute("document.querySelector('[data-card=notices]').scrollIntoView()", Vec::new()).await.unwrap();
    fits_a_phone(&tech, 1).await;
    screenshot(&tech, "notice-settings").await;

    tech.evaluate("localStorage.setItem('houqin.language', JSON.stringify('zh-CN')); return null").await;
    tech.client.refresh().await.unwrap();
    tech.wait_for_text("#my-notices", "通知").await;
    wait_for_element(&tech, "[data-card=notices] form").await;
    assert_eq!(tech.evaluate("return document.querySelector('[name=quiet-from]').value").await, json!("21:30"), "shown as saved");
    tap(&tech, "[data-card=notices] button[type=submit]").await;
    tech.wait_for_text("[data-card=notices] [role=status]", "已保存并同步").await;
    assert_eq!(server.state.outbox.settings(&me).unwrap().language, shared::language::Language::Chinese);
    tech.client.execute("document.querySelector('[data-card=notices]').scrollIntoView()", Vec::new()).await.unwrap();
    screenshot(&tech, "notice-settings-zh").await;
    tech.client.execute("document.querySelector('[data-card=notices] button[type=submit]').scrollIntoView()", Vec::new()).await.unwrap();
    screenshot(&tech, "notice-settings-zh-end").await;

    tech.client.goto(&server.url(&format!("/orders/{document}"))).await.unwrap();
    wait_for_element(&tech, "[data-muted=no]").await;
    tap(&tech, "[data-muted] button").await;
    wait_for_element(&tech, "[data-muted=yes]").await;
    assert!(server.state.outbox.settings(&me).unwrap().muted.contains(&document));
    screenshot(&tech, "order-muted-zh").await;
    tap(&tech, "[data-muted] button").await;
    wait_for_element(&tech, "[data-muted=no]").await;
    assert!(server.state.outbox.settings(&me).unwrap().muted.is_empty());
    tech.close().await;
    server.stop().await.unwrap();
}

/// A push message reaching the installed app (as the browser's push service hands it over,
/// decrypted) is shown as a notification with the notice's title, words and link, one per
/// order.
#[tokio::test]
async fn a_pushed_notice_is_shown_by_the_service_worker_one_per_order() {
    let server = TestServer::start(&built_dist()).await;
    let tech = phone(&server, "tech", "张师傅").await;
    tech.wait_for_service_worker().await;
    let origin = server.url("/").trim_end_matches('/').to_owned();
    tech.client.issue_cmd(Cdp("Browser.grantPermissions", json!({ "origin": origin, "permissions": ["notifications"] }))).await.unwrap();
    tech.client.issue_cmd(Cdp("ServiceWorker.enable", json!({}))).await.unwrap();
    let push = |title: &str, url: &str| {
        let data = json!({ "title": title, "body": "走廊灯不亮（一层走廊）", "url": url, "tag": "order-1", "notice": "n" }).to_string();
        // A fresh profile's first service worker registration is number 0.
        Cdp("ServiceWorker.deliverPushMessage", json!({ "origin": origin, "registrationId": "0", "data": data }))
    };
    tech.client.issue_cmd(push("派给你的工单", "https://houqin.lan/orders/order-1")).await.unwrap();
    let shown = "return navigator.serviceWorker.ready.then((registration) => registration.getNotifications()).then((shown) => shown.map((notice) => [notice.title, notice.body, notice.tag, notice.data.url]))";
    let notices = wait_for("the notification shown", PATIENCE, || async {
        let notices = tech.evaluate(shown).await;
        (notices.as_array().is_some_and(|notices| !notices.is_empty())).then_some(notices)
    })
    .await;
    assert_eq!(notices, json!([["派给你的工单", "走廊灯不亮（一层走廊）", "order-1", "https://houqin.lan/orders/order-1"]]));
    tech.client.issue_cmd(push("工单逾期", "https://houqin.lan/orders/order-1")).await.unwrap();
    wait_for("the order's newer notice in place of the first", PATIENCE, || async {
        let notices = tech.evaluate(shown).await;
        (notices.as_array().is_some_and(|notices| notices.len() == 1 && notices[0][0] == "工单逾期")).then_some(())
    })
    .await;
    tech.close().await;
    server.stop().await.unwrap();
}
