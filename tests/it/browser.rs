//! End to end in a real browser: the server serves the built PWA, headless Chromium runs
//! the wasm, and the tests read what the app rendered, with the server and without it.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::support::{TestServer, built_dist, wait_for};
use tests::chromium::{Browser, Cdp, PATIENCE};

mod admin;
mod contractors;
mod costs;
mod inbox;
mod lan;
mod meters;
mod nav;
mod public;
mod review;
mod rounds;
mod samples;
mod stock;
mod walk;

/// A server serving a damaged database as it is (`--allow-damaged`) says so to everyone
/// who opens the app, administrators included, in their language.
#[tokio::test]
async fn a_damaged_database_is_shown_on_the_start_page() {
    let server = TestServer::start(&built_dist()).await;
    server.state.storage.note_damage(["document automerge:x: a stored chunk of 200000 bytes is gone".to_owned()]);
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/")).await.unwrap();
    browser
        .wait_for_text(
            "[data-status=damaged]",
            "The server's database is damaged and serves only what still reads: an administrator restores a backup or salvages it",
        )
        .await;
    screenshot(&browser, "server-damaged").await;
    browser.client.goto(&server.url("/settings")).await.unwrap();
    browser.wait_for_text("h1", "Settings").await;
    browser.client.find(fantoccini::Locator::Css("input[value='zh-CN']")).await.unwrap().click().await.unwrap();
    browser.wait_for_text("h1", "设置").await;
    browser.client.goto(&server.url("/")).await.unwrap();
    browser.wait_for_text("[data-status=damaged]", "服务器的数据库有损坏，只提供仍可读取的记录：请管理员恢复备份或抢救数据").await;
    screenshot(&browser, "server-damaged-zh").await;
}

#[tokio::test]
async fn the_app_renders_switches_language_and_reopens_offline() {
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;

    browser.client.goto(&server.url("/")).await.unwrap();
    // Rendered by the wasm after asking the server: static HTML has no such element. Nobody
    // has signed in on this phone, so the start page sends it to sign in.
    let online = format!("Connected to the server · Server version {}", shared::VERSION);
    browser.wait_for_text("[data-status=online]", &online).await;
    browser.wait_for_text("h1", "Sign in").await;
    // A server whose disk is nearly full says so to everyone who opens the app.
    server.state.storage.space().set_reserve(u64::MAX);
    browser.client.refresh().await.unwrap();
    browser
        .wait_for_text(
            "[data-status=disk-full]",
            "The server's disk is nearly full: new changes stay on this phone until an administrator frees space",
        )
        .await;
    screenshot(&browser, "server-disk-full").await;

    // An app page loaded directly gets the shell from the server and is drawn by the router.
    browser.client.goto(&server.url("/settings")).await.unwrap();
    browser.wait_for_text("h1", "Settings").await;
    browser.client.find(fantoccini::Locator::Css("input[value='zh-CN']")).await.unwrap().click().await.unwrap();
    browser.wait_for_text("h1", "设置").await;
    assert_eq!(browser.evaluate("return document.documentElement.lang").await, json!("zh-CN"));

    // The choice is kept on the phone.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("h1", "设置").await;
    browser.client.goto(&server.url("/")).await.unwrap();
    browser.wait_for_text("[data-status=disk-full]", "服务器磁盘将满：新的修改暂存在本机，请管理员清理空间").await;
    screenshot(&browser, "server-disk-full-zh").await;
    server.state.storage.space().set_reserve(0);
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("[data-status=online]", &format!("已连接服务器 · 服务器版本 {}", shared::VERSION)).await;
    browser.client.goto(&server.url("/settings")).await.unwrap();
    browser.wait_for_text("h1", "设置").await;

    // The service worker has cached the shell and wasm: the app reopens with no network.
    browser.wait_for_service_worker().await;
    // The server goes away, as it does in a basement: the app still opens, from the cache.
    let address = server.url("/");
    server.stop().await.unwrap();
    browser.client.goto(&address).await.unwrap();
    browser.wait_for_text("[data-status=offline]", "未连接服务器：离线工作，联网后自动同步").await;
    assert_eq!(browser.text("h1").await.as_deref(), Some("登录"));
    browser.client.goto(&format!("{address}settings")).await.unwrap();
    browser.wait_for_text("h1", "设置").await;

    browser.close().await;
}

/// Fills the sign-in form (once it is shown) and submits it.
async fn sign_in(browser: &Browser, username: &str, password: &str) {
    use fantoccini::Locator::Css;
    // The app's form: on a first visit the page's own may show before it.
    browser.wait_for_text("h1", "Sign in").await;
    wait_for_element(browser, "[data-form=sign-in]").await;
    for (field, value) in [("username", username), ("password", password)] {
        let input = browser.client.find(Css(&format!("[data-form=sign-in] input[name={field}]"))).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    browser.client.find(Css("[data-form=sign-in] button[type=submit]")).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn a_first_visit_whose_app_cannot_load_says_so_on_the_pages_own_form() {
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;
    browser.client.set_window_size(360, 800).await.unwrap();
    // The link drops while the app's module is on its way.
    browser.client.issue_cmd(Cdp("Network.enable", json!({}))).await.unwrap();
    browser.client.issue_cmd(Cdp("Network.setBlockedURLs", json!({ "urls": ["*_bg.wasm"] }))).await.unwrap();
    browser.client.goto(&server.url("/")).await.unwrap();
    browser.wait_for_text("#shell [role=status]", "Houqin could not be loaded: check the connection and reload the page.").await;
    assert_eq!(browser.evaluate("return document.querySelector('#shell').hidden").await, json!(false), "the form stays on screen");
    browser.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn on_a_slow_first_visit_the_page_takes_the_sign_in_before_the_app_arrives_and_the_app_signs_in_with_it() {
    use fantoccini::Locator::Css;
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;
    browser.client.set_window_size(360, 800).await.unwrap();
    // 50 KB/s for the page's requests: the app's module (about 1.1 MB) takes over 20 s.
    browser.client.issue_cmd(Cdp("Network.enable", json!({}))).await.unwrap();
    let slow = json!({ "offline": false, "latency": 40, "downloadThroughput": 50_000, "uploadThroughput": 50_000 });
    browser.client.issue_cmd(Cdp("Network.emulateNetworkConditions", slow)).await.unwrap();
    // Navigated by script: the driver's own navigation would wait for the module.
    browser.evaluate(&format!("location.href = {}; return null", json!(server.url("/")))).await;
    wait_for_element(&browser, "#shell:not([hidden]) input[name=username]").await;
    assert_eq!(browser.text("#shell h1").await.as_deref(), Some("Sign in"), "in the reader's language");
    for (field, value) in [("username", "inspector"), ("password", "demo")] {
        browser.client.find(Css(&format!("#shell input[name={field}]"))).await.unwrap().send_keys(value).await.unwrap();
    }
    browser.client.find(Css("#shell button[type=submit]")).await.unwrap().click().await.unwrap();
    assert_eq!(
        browser.evaluate("return [document.querySelector('[data-form=sign-in]') === null, document.querySelector('#shell [role=status]').textContent]").await,
        json!([true, "Signing in as soon as Houqin has loaded…"]),
        "pressed before the app started, and told so"
    );
    screenshot(&browser, "sign-in-before-the-app").await;
    // The app starts, takes what was typed and the press, and signs in with it.
    wait_for("the app to sign in with what the page took", Duration::from_secs(90), || async {
        (browser.text("[data-user=inspector]").await.as_deref() == Some("李安全员")).then_some(())
    })
    .await;
    assert_eq!(browser.evaluate("return document.getElementById('shell')").await, json!(null), "the page's form is gone");
    browser.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn signing_in_once_keeps_the_phone_signed_in_offline() {
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/")).await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;

    sign_in(&browser, "inspector", "wrong").await;
    browser.wait_for_text("[data-error=sign-in]", "Wrong user name or password").await;
    sign_in(&browser, "inspector", "demo").await;
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    assert_eq!(browser.evaluate("return location.pathname").await, json!("/"));
    // Their sites are under "me".
    tap(&browser, ".tab-bar [data-tab=me]").await;
    browser.wait_for_text("[data-site=hq] .site-name", "总部").await;
    assert_eq!(browser.text("[data-site=hq] .site-name").await.as_deref(), Some("总部"));
    assert_eq!(browser.text("[data-site=hq] .muted").await.as_deref(), Some("Inspector"));
    assert_eq!(browser.text("[data-site=plant2]").await, None, "only the sites where the inspector has a role");

    // Settings show what the phone keeps and whether the browser may clear it.
    browser.client.goto(&server.url("/settings")).await.unwrap();
    wait_for("the storage estimate", PATIENCE, || async {
        browser.text("[data-storage=usage]").await.filter(|text| text.ends_with(" MB available") && text.contains(" MB used of "))
    })
    .await;
    let kept = browser.evaluate("return document.querySelector('[data-storage=persistent], [data-storage=best-effort]') !== null").await;
    assert_eq!(kept, json!(true));
    browser.client.goto(&server.url("/")).await.unwrap();

    // The session is on the phone: a reload, and then no server at all, keep it.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    browser.wait_for_service_worker().await;
    let address = server.url("/");
    server.stop().await.unwrap();
    browser.client.goto(&address).await.unwrap();
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    browser.client.goto(&format!("{address}me")).await.unwrap();
    browser.wait_for_text("[data-status=offline]", "Server not reachable: working offline, will sync when connected").await;

    // Signing out forgets it.
    browser.client.find(fantoccini::Locator::Css("[data-action=sign-out]")).await.unwrap().click().await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;
    browser.close().await;
}

/// A 1×1 PNG picture.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63,
    0x64, 0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// Types into the field `name` of the form `form` and submits it. The field is looked up
/// again if the page was drawn afresh between finding and typing (a page just reloaded
/// draws again as what it shows arrives).
async fn submit(browser: &Browser, form: &str, name: &str, value: &str) {
    use fantoccini::Locator::Css;
    let field = format!("[data-form={form}] [name={name}]");
    wait_for(&format!("{field} to take {value:?}"), PATIENCE, || async {
        browser.client.find(Css(&field)).await.ok()?.send_keys(value).await.ok()
    })
    .await;
    press(browser, browser.client.find(Css(&format!("[data-form={form}] button[type=submit]"))).await.unwrap()).await;
}

/// A phone whose inspector signed in online and then lost the server.
struct Basement {
    browser: Browser,
    /// Where the server was: a restart there is the phone's server again.
    address: std::net::SocketAddr,
    base: String,
    data: tempfile::TempDir,
}

/// Signs the inspector in, lets the catalog and its checklists sync (everything reads
/// "Synced") and the service worker take over, then stops the server and reloads the app
/// from the phone's cache, as in a basement.
async fn into_the_basement() -> Basement {
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/")).await.unwrap();
    sign_in(&browser, "inspector", "demo").await;
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    browser.wait_for_text("[data-sync]", "Synced").await;
    browser.wait_for_service_worker().await;
    wait_for_server_heads_stored(&browser).await;
    let (address, base) = (server.address, server.url("/"));
    let data = server.stop().await.unwrap();
    browser.client.goto(&base).await.unwrap();
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    Basement { browser, address, base, data }
}

/// Waits until the phone's store records what the server has of every document it holds.
/// "Synced" shows as soon as the server confirms; the record is written just after, and a
/// page reloaded before it would count what came from the server as the phone's own.
async fn wait_for_server_heads_stored(browser: &Browser) {
    let script = "const done = arguments[arguments.length - 1];
        const open = indexedDB.open('houqin');
        open.onerror = () => done(false);
        open.onsuccess = () => {
            const db = open.result;
            const transaction = db.transaction(['chunks', 'server_heads'], 'readonly');
            const documents = new Set();
            let recorded = 0;
            transaction.objectStore('chunks').openKeyCursor().onsuccess = (event) => {
                const cursor = event.target.result;
                if (cursor) { documents.add(cursor.key[0]); cursor.continue(); }
            };
            transaction.objectStore('server_heads').count().onsuccess = (event) => { recorded = event.target.result; };
            transaction.oncomplete = () => { db.close(); done(documents.size > 0 && recorded >= documents.size); };
        };";
    wait_for("the server's heads of every document to be stored", PATIENCE, || async {
        (browser.client.execute_async(script, Vec::new()).await.unwrap() == json!(true)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn edits_made_offline_survive_reloads_and_reach_the_server() {
    let Basement { browser, address, data, base } = into_the_basement().await;
    // Reporting, and following one's reports: the report tab.
    browser.client.goto(&format!("{base}report")).await.unwrap();
    wait_for("the phone to say it is offline", PATIENCE, || async {
        browser.text("[data-sync=offline]").await.filter(|text| text.starts_with("Offline since"))
    })
    .await;

    submit(&browser, "report", "title", "配电房漏水").await;
    browser.wait_for_text("[data-list=my-reports] .order .order-title", "配电房漏水").await;
    browser.wait_for_text(".order [data-state]", "Changes on this phone only: 1").await;
    // Notes are added on the order's page, which the confirmation leads to.
    tap(&browser, "[data-action=view-report]").await;
    browser.wait_for_text(".order-page h1", "配电房漏水").await;
    // A note with a photo from the camera (here, a file picked for the file input).
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("leak.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    let picker = browser.client.find(fantoccini::Locator::Css("[data-form=comment] [name=photo]")).await.unwrap();
    picker.send_keys(photo.to_str().unwrap()).await.unwrap();
    submit(&browser, "comment", "comment", "带上扳手").await;
    browser.wait_for_text("[data-saved=local]", "Saved on this phone").await;
    // The sync line counts the photo still to go up.
    wait_for("the photo counted on the sync line", PATIENCE, || async {
        browser.text("[data-sync=offline]").await.filter(|line| line.ends_with(" · photos to upload: 1"))
    })
    .await;
    browser.wait_for_text(".timeline-entry[data-kind=comment] .timeline-what", "带上扳手").await;
    browser.wait_for_text(".order-page [data-state]", "Changes on this phone only: 2").await;

    browser.client.set_window_size(360, 800).await.unwrap();
    fits_a_phone(&browser, 8).await;

    // A reload with no server: the report, its note and the photo are still on the phone.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text(".timeline-entry[data-kind=comment] .timeline-what", "带上扳手").await;
    assert_eq!(browser.text(".order-page h1").await.as_deref(), Some("配电房漏水"));
    wait_for("the photo to show from the phone's store", PATIENCE, || async {
        (browser
            .evaluate(
                "const img = document.querySelector('[data-photo=shown]'); return img !== null && img.complete && img.naturalWidth > 0",
            )
            .await
            == json!(true))
        .then_some(())
    })
    .await;
    // Back on the list, the report is one line saying it has a note.
    tap(&browser, "[data-action=back]").await;
    browser.wait_for_text("[data-list=my-reports] .order [data-comments]", "1 note").await;
    assert_eq!(
        browser.evaluate("return document.querySelectorAll('[data-list=my-reports] form, [data-list=my-reports] input').length").await,
        json!(0),
        "no forms in the list"
    );

    // Signing out now would lose work: the phone says so, and staying keeps everything.
    browser.client.find(fantoccini::Locator::Css("[data-action=sign-out]")).await.unwrap().click().await.unwrap();
    let warning = browser.client.get_alert_text().await.unwrap();
    // Three: the report, its note, and the report's entry in the site's index.
    assert!(warning.starts_with("Changes on this phone only, not synced yet: 3."), "{warning}");
    browser.client.dismiss_alert().await.unwrap();
    assert!(browser.text("[data-action=sign-out]").await.is_some(), "still signed in");
    browser.wait_for_text(".order .order-title", "配电房漏水").await;

    // Back in coverage: the phone reconnects by itself and the server has everything.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    wait_for("the report to sync", Duration::from_secs(90), || async {
        (browser.text(".order [data-state]").await.as_deref() == Some("Synced")).then_some(())
    })
    .await;
    browser.wait_for_text("[data-sync]", "Synced").await;
    let id = browser.evaluate("return document.querySelector('.order').dataset.document").await;
    let id = shared::protocol::DocumentId::parse(id.as_str().unwrap()).unwrap();
    let stored = server.state.documents.load(&id).unwrap().expect("the report reached the server");
    let order = shared::document::work_order::WorkOrder::from_doc(stored).unwrap().read().unwrap();
    assert_eq!(order.title, "配电房漏水");
    assert_eq!(order.comments.iter().map(|comment| comment.text.as_str()).collect::<Vec<_>>(), ["带上扳手"]);
    assert_eq!(order.header.created_by.as_str(), "inspector");
    // The photo was shrunk to a JPEG on the phone and uploaded once it was online.
    let reference = order.comments[0].photo.clone().expect("the note refers to its photo");
    assert_eq!(reference.mime, "image/jpeg");
    let sha256 = server::blobs::parse_sha256(&reference.sha256).unwrap();
    let uploaded = wait_for("the photo to be uploaded", PATIENCE, || async { server.state.blobs.get(&sha256).unwrap() }).await;
    assert_eq!(uploaded.len() as u64, reference.size);
    assert_eq!(&uploaded[..3], [0xff, 0xd8, 0xff]);

    browser.close().await;
    server.stop().await.unwrap();
}

/// Measures the page shown: the window's width, how far it is wider than the width beside a
/// scroll bar (and the last elements reaching past it), how many visible controls it has and
/// which are smaller than 44 px (a radio or file input counts through its label).
const LAYOUT: &str = "const controls = [...document.querySelectorAll('button, a, select, input:not([type=radio]):not([type=file]), label.photo-button, label.choice')]
        .filter((element) => !(element.matches('label.choice input[type=checkbox]')))
        .filter((element) => element.offsetParent !== null || (element.getClientRects().length > 0 && getComputedStyle(element).position === 'fixed'));
     const small = controls.filter((element) => element.getBoundingClientRect().height < 44).map((element) => element.outerHTML.slice(0, 80));
     const visible = document.documentElement.clientWidth;
     const wide = [...document.querySelectorAll('body *')].filter((element) => element.getBoundingClientRect().right > visible + 1 && element.offsetParent !== null).slice(-3).map((element) => element.outerHTML.slice(0, 80));
     return { width: window.innerWidth, overflow: document.documentElement.scrollWidth - visible, controls: controls.length, small, wide };";

/// On a 360 px phone nothing runs off the side (of the width left beside a scroll bar),
/// and every visible control (at least
/// `at_least` of them) is big enough for a thumb: 44 px; a radio or file input, and a
/// checkbox in a choice's row, counts through its label.
async fn fits_a_phone(browser: &Browser, at_least: u64) {
    let layout = browser.evaluate(LAYOUT).await;
    assert_eq!(layout["width"], json!(360), "{layout}");
    assert!(layout["overflow"].as_i64().unwrap() <= 0, "wider than the screen: {layout}");
    assert!(layout["controls"].as_u64().unwrap() >= at_least, "the page's controls were found: {layout}");
    assert_eq!(layout["small"], json!([]), "{layout}");
}

/// Waits until the list of work orders shows one titled `title`, synced, with `notes` notes.
async fn wait_for_order(browser: &Browser, title: &str, notes: u64) {
    let script = "const order = [...document.querySelectorAll('.order')].find((order) => order.querySelector('.order-title').textContent === arguments[0]);
        return order ? { state: order.querySelector('[data-state]').dataset.state, notes: Number(order.querySelector('[data-comments]')?.dataset.comments ?? 0) } : null;";
    wait_for(&format!("{title:?} with {notes} notes, synced"), Duration::from_secs(90), || async {
        let seen = browser.client.execute(script, vec![json!(title)]).await.unwrap();
        (seen == json!({ "state": "synced", "notes": notes })).then_some(())
    })
    .await;
}

/// Opens the work order titled `title` from the list and waits until its page shows it
/// synced with the notes `notes` (in any order; a photo alone is an empty note).
async fn open_notes(browser: &Browser, title: &str, notes: &[&str]) {
    let mut expected: Vec<String> = notes.iter().map(|note| (*note).to_owned()).collect();
    expected.sort();
    let script = "return [...document.querySelectorAll('.order')].find((order) => order.querySelector('.order-title').textContent === arguments[0]).dataset.document";
    let id = browser.client.execute(script, vec![json!(title)]).await.unwrap();
    tap(browser, &format!(".order[data-document='{}'] .order-title", id.as_str().unwrap())).await;
    let script = "return { state: document.querySelector('.order-page [data-state]')?.dataset.state,
        notes: [...document.querySelectorAll('.timeline-entry[data-kind=comment]')].map((entry) => entry.querySelector('.timeline-what')?.textContent ?? '') }";
    wait_for(&format!("{title:?}'s page with {notes:?}, synced"), Duration::from_secs(90), || async {
        let seen = browser.evaluate(script).await;
        let mut shown: Vec<String> = seen["notes"].as_array()?.iter().filter_map(|note| note.as_str().map(str::to_owned)).collect();
        shown.sort();
        (seen["state"] == "synced" && shown == expected).then_some(())
    })
    .await;
}

#[tokio::test]
async fn two_phones_edit_the_same_report_offline_and_both_see_the_merge() {
    let server = TestServer::start(&built_dist()).await;
    let (inspector, manager) = (Browser::start().await, Browser::start().await);
    for (phone, user) in [(&inspector, "inspector"), (&manager, "manager")] {
        phone.client.goto(&server.url("/")).await.unwrap();
        sign_in(phone, user, "demo").await;
        phone.wait_for_text(&format!("[data-user={user}]"), if user == "inspector" { "李安全员" } else { "王经理" }).await;
        phone.wait_for_text("[data-sync]", "Synced").await;
        phone.wait_for_service_worker().await;
        phone.client.goto(&server.url(if user == "inspector" { "/report" } else { "/orders" })).await.unwrap();
    }
    // The manager works at two sites: the report goes to hq, where the inspector works.
    submit(&inspector, "report", "title", "门禁故障").await;
    wait_for_order(&inspector, "门禁故障", 0).await;
    // The manager's phone hears of it through the site's index and fetches it.
    wait_for_order(&manager, "门禁故障", 0).await;

    let (address, base) = (server.address, server.url("/"));
    let data = server.stop().await.unwrap();
    for (phone, note, list) in [(&inspector, "刷卡无反应", "report"), (&manager, "已通知保卫科", "orders")] {
        phone.client.goto(&format!("{base}{list}")).await.unwrap();
        phone.wait_for_text(".order .order-title", "门禁故障").await;
        tap(phone, ".order .order-title").await;
        submit(phone, "comment", "comment", note).await;
        phone.wait_for_text(".order-page [data-state]", "Changes on this phone only: 1").await;
        tap(phone, "[data-action=back]").await;
    }

    let server = TestServer::start_at(data, &built_dist(), address).await;
    for phone in [&inspector, &manager] {
        wait_for_order(phone, "门禁故障", 2).await;
        open_notes(phone, "门禁故障", &["刷卡无反应", "已通知保卫科"]).await;
    }
    // Who did what comes from the server, which knows whose session sent each change (the
    // report and a note by the inspector, a note by the manager; concurrent notes in
    // either order).
    tap(&manager, ".order-page [data-action=history]").await;
    wait_for("the history to list both people", PATIENCE, || async {
        let who = manager
            .evaluate("return [...document.querySelectorAll('.order-page .history .who')].map((who) => who.dataset.who).sort()")
            .await;
        (who == json!(["inspector", "inspector", "manager"])).then_some(())
    })
    .await;
    // People by name, what they did in words.
    let said = manager
        .evaluate("return [...document.querySelectorAll('.order-page .history li')].map((line) => line.textContent)")
        .await
        .to_string();
    assert!(said.contains("李安全员 · 李安全员's phone 1") && said.contains("reported the fault") && said.contains("王经理"), "{said}");
    inspector.close().await;
    manager.close().await;
    server.stop().await.unwrap();
}

/// Copies a directory tree.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_new_release_is_offered_and_taken_whole() {
    let dist = tempfile::tempdir().unwrap();
    copy_dir(&built_dist(), dist.path());
    let server = TestServer::start(dist.path()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/settings")).await.unwrap();
    browser.wait_for_text("h1", "Settings").await;
    browser.wait_for_service_worker().await;
    let first_title = browser.evaluate("return document.title").await;

    // A new release lands on the server: another shell, another service worker.
    let shell = std::fs::read_to_string(dist.path().join("index.html")).unwrap();
    std::fs::write(dist.path().join("index.html"), shell.replace("<title>后勤 Houqin</title>", "<title>后勤 Houqin · next</title>"))
        .unwrap();
    let worker = std::fs::read_to_string(dist.path().join("sw.js")).unwrap();
    let version_line = worker.lines().find(|line| line.starts_with("const VERSION = ")).unwrap().to_owned();
    std::fs::write(dist.path().join("sw.js"), worker.replace(&version_line, "const VERSION = \"next-release\";")).unwrap();
    for stale in ["index.html.br", "index.html.gz", "sw.js.br", "sw.js.gz"] {
        let _ = std::fs::remove_file(dist.path().join(stale));
    }

    // The phone finds it on its next visit, installs it in the background, and offers it;
    // until taken, the page keeps running the release it started with.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("[data-update=ready] span", "A new version is ready").await;
    assert_eq!(browser.evaluate("return document.title").await, first_title);
    browser.client.find(fantoccini::Locator::Css("[data-update=ready] button")).await.unwrap().click().await.unwrap();
    wait_for("the page to reload under the new release", PATIENCE, || async {
        (browser.evaluate("return document.title").await == json!("后勤 Houqin · next")).then_some(())
    })
    .await;
    browser.wait_for_text("h1", "Settings").await;
    assert_eq!(browser.text("[data-update=ready]").await, None, "nothing left to offer");
    browser.close().await;
    server.stop().await.unwrap();
}

/// Taps what `selector` finds, as a thumb taps what is on screen: brought to the middle
/// first, clear of the sticky header.
async fn tap(browser: &Browser, selector: &str) {
    wait_for_element(browser, selector).await;
    let element = browser.client.find(fantoccini::Locator::Css(selector)).await.unwrap();
    press(browser, element).await;
}

/// Clicks `element` once it is scrolled to the middle of the screen, as a thumb would: at
/// the bottom edge it would be under the tab bar.
async fn press(browser: &Browser, element: fantoccini::elements::Element) {
    browser
        .client
        .execute("arguments[0].scrollIntoView({ block: 'center' })", vec![serde_json::to_value(&element).unwrap()])
        .await
        .unwrap();
    element.click().await.unwrap();
}

/// Clicks the answer `answer` (pass, fail, na) of `item` on a round's page.
async fn answer(browser: &Browser, item: &str, answer: &str) {
    let selector = format!("[data-item={item}] [data-answer={answer}]");
    tap(browser, &selector).await;
    wait_for(&format!("{item} to read {answer}"), PATIENCE, || async {
        (browser.evaluate(&format!("return document.querySelector('{selector}').classList.contains('selected')")).await == json!(true))
            .then_some(())
    })
    .await;
}

/// Types a reading into `item` and moves on with the keyboard's "next" key.
async fn read_out(browser: &Browser, item: &str, value: &str) {
    use fantoccini::Locator::Css;
    let input = browser.client.find(Css(&format!("[data-item={item}] input"))).await.unwrap();
    input.clear().await.unwrap();
    // U+E004 is WebDriver's Tab key.
    input.send_keys(&format!("{value}\u{e004}")).await.unwrap();
}

#[tokio::test]
async fn a_round_is_answered_and_submitted_offline_then_synced() {
    use fantoccini::Locator::Css;

    let Basement { browser, address, base, data } = into_the_basement().await;
    browser.client.goto(&format!("{base}rounds")).await.unwrap();
    // The phone's catalog (from its store) fills the choices.
    wait_for("the checklists to be offered", PATIENCE, || async {
        browser.text("[data-form=round] select[name=template]").await.map(drop)
    })
    .await;
    let form = browser.client.find(Css("[data-form=round]")).await.unwrap();
    // Nothing is taken by default: a round starts at the place and of the checklist chosen.
    press(&browser, form.find(Css("button[type=submit]")).await.unwrap()).await;
    browser.wait_for_text("[data-form=round] [role=alert]", "Choose a checklist").await;
    form.find(Css("select[name=template]")).await.unwrap().select_by_label("Electrical safety round").await.unwrap();
    // The place comes from the code on the store's door label, typed as printed.
    let code = form.find(Css("input[name=code]")).await.unwrap();
    code.send_keys("hq-x\u{e004}").await.unwrap();
    browser.wait_for_text("[data-form=round] [role=alert]", "No place or asset has the code hq-x").await;
    code.clear().await.unwrap();
    code.send_keys("hq-s\u{e004}").await.unwrap();
    wait_for("the labelled place to be chosen", PATIENCE, || async {
        (browser.evaluate("return document.querySelector('[data-form=round] select[name=place]').value").await == json!("store"))
            .then_some(())
    })
    .await;
    assert_eq!(browser.text("[data-form=round] [role=alert]").await, None, "the error has gone");
    press(&browser, form.find(Css("button[type=submit]")).await.unwrap()).await;
    browser.wait_for_text("h1", "Electrical safety round").await;
    assert_eq!(browser.evaluate("return document.querySelector('[data-progress]').dataset.progress").await, json!("0/7"));

    answer(&browser, "room-locked", "pass").await;
    read_out(&browser, "cabinet-temperature", "75").await;
    browser.wait_for_text("[data-item=cabinet-temperature] [data-warning=limits]", "Outside the limits").await;
    read_out(&browser, "cabinet-temperature", "45.5").await;
    let shown = browser.evaluate("return document.querySelector('[data-item=cabinet-temperature] input').value").await;
    assert_eq!(shown, json!("45.5"), "what the field shows");
    wait_for("the warning to go", PATIENCE, || async {
        browser.text("[data-item=cabinet-temperature] [data-warning]").await.is_none().then_some(())
    })
    .await;

    // Submitting with required items open names each, marks them and goes to the first.
    tap(&browser, "[data-action=submit-round]").await;
    browser.wait_for_text("[data-missing]", "Still needed before submitting: 4").await;
    assert_eq!(browser.evaluate("return document.querySelectorAll('.item.flagged').length").await, json!(4));
    let named = "return [...document.querySelectorAll('[data-list=missing] li')].map((line) => line.textContent)";
    assert_eq!(
        browser.evaluate(named).await,
        json!([
            "Insulating mats and gloves intact: not answered",
            "Breakers clearly labelled: not answered",
            "No improvised wiring or overloaded sockets: not answered",
            "Residual-current devices trip on test: not answered"
        ])
    );
    for item in ["insulation-mats", "breakers-labelled", "no-overload"] {
        answer(&browser, item, "pass").await;
    }
    // A note begun on the RCD test stays open, as typed, when the item is answered meanwhile.
    tap(&browser, "[data-item=rcd-test] [data-action=add-note]").await;
    type_into(&browser, "[data-item=rcd-test] [data-form=note] [name=note]", "按钮卡滞").await;
    answer(&browser, "rcd-test", "fail").await;
    assert_eq!(
        browser.evaluate("return document.querySelector('[data-item=rcd-test] [data-form=note] [name=note]')?.value ?? null").await,
        json!("按钮卡滞")
    );
    tap(&browser, "[data-item=rcd-test] [data-form=note] button[type=submit]").await;
    browser.wait_for_text("[data-item=rcd-test] .note span", "按钮卡滞").await;
    tap(&browser, "[data-action=submit-round]").await;
    // A failed item whose checklist wants a photo on failure cannot be submitted without
    // one, nor without a follow-up: each is named.
    browser.wait_for_text("[data-missing]", "Still needed before submitting: 2").await;
    assert_eq!(
        browser.evaluate(named).await,
        json!([
            "Residual-current devices trip on test: a failure needs a photo",
            "Residual-current devices trip on test: a failure needs a follow-up: raise a hazard, or say why no action is needed"
        ])
    );
    // Named as missing, it reads differently from a plain failure.
    assert_eq!(browser.evaluate("const item = document.querySelector('[data-item=rcd-test]'); return [item.classList.contains('flagged'), item.querySelector('[data-flagged]')?.textContent];").await, json!([true, "Needed before submitting"]));
    screenshot(&browser, "round-blocked").await;
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("rcd.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    browser.client.find(Css("[data-item=rcd-test] input[name=photo]")).await.unwrap().send_keys(photo.to_str().unwrap()).await.unwrap();
    wait_for("the photo on the failed item", PATIENCE, || async {
        (browser.evaluate("return document.querySelector('[data-item=rcd-test] [data-photos]').dataset.photos").await == json!("1"))
            .then_some(())
    })
    .await;
    // The failure raises a hazard: a work order for the item and the place.
    tap(&browser, "[data-item=rcd-test] [data-action=raise-hazard]").await;
    browser.wait_for_text("[data-item=rcd-test] .hazard", "Hazard raised; work order: Reported").await;
    tap(&browser, "[data-action=submit-round]").await;
    browser.wait_for_prefix("[data-round=submitted]", "Submitted by 李安全员 at ").await;
    let round = browser.evaluate("return location.pathname.split('/').pop()").await;
    let round = shared::protocol::DocumentId::parse(round.as_str().unwrap()).unwrap();

    // Reloaded with no server: still submitted, answers locked.
    browser.client.refresh().await.unwrap();
    browser.wait_for_prefix("[data-round=submitted]", "Submitted by 李安全员 at ").await;
    assert_eq!(browser.evaluate("return document.querySelector('[data-item=room-locked] [data-answer=pass]').disabled").await, json!(true));

    let server = TestServer::start_at(data, &built_dist(), address).await;
    browser.client.goto(&base).await.unwrap();
    wait_for("the round to reach the server", Duration::from_secs(90), || async {
        let stored = server.state.documents.load(&round).unwrap()?;
        let view = shared::document::inspection::Inspection::from_doc(stored).ok()?.read().ok()?;
        view.submitted.is_some().then_some(view)
    })
    .await;
    let stored = server.state.documents.load(&round).unwrap().unwrap();
    let view = shared::document::inspection::Inspection::from_doc(stored).unwrap().read().unwrap();
    let reading = &view.answers[&("-".to_owned(), shared::document::EntryId::parse("cabinet-temperature").unwrap())];
    assert_eq!(reading.value, shared::document::inspection::AnswerValue::Number(45_500));
    assert_eq!(reading.user.as_str(), "inspector");
    assert_eq!(view.location, "store");
    assert_eq!(view.result().answered, 6);
    assert_eq!(view.result().failed_keys, ["-/rcd-test"]);
    assert_eq!(view.notes.iter().map(|note| note.text.as_str()).collect::<Vec<_>>(), ["按钮卡滞"]);
    let photo = view.photos[0].blob.clone();
    wait_for("the item's photo to be uploaded", PATIENCE, || async {
        server.state.blobs.get(&server::blobs::parse_sha256(&photo.sha256).unwrap()).unwrap()
    })
    .await;
    let hazard = shared::protocol::DocumentId::parse(&view.hazards[0].work_order).unwrap();
    let order =
        wait_for("the hazard's work order to reach the server", PATIENCE, || async { server.state.documents.load(&hazard).unwrap() }).await;
    let order = shared::document::work_order::WorkOrder::from_doc(order).unwrap().read().unwrap();
    assert_eq!(order.title, "Residual-current devices trip on test · 后勤仓库", "the item, in the phone's language, and the place");
    assert_eq!(order.priority, shared::document::work_order::Priority::Urgent, "a required item");
    assert_eq!(order.category, shared::document::work_order::Category::Electrical, "the checklist's trade");
    let raised = order.events[0].at;
    assert_eq!(
        order.due_at.map(|due| due.millis_since(raised)),
        Some(4 * 60 * 60 * 1000),
        "due as an urgent order is, from the moment it was raised"
    );
    assert_eq!(order.location, "store");
    assert_eq!(order.source.map(|source| (source.inspection, source.item)), Some((round.url(), "rcd-test".to_owned())));
    // The site's manager finds it among the hazards on their to-do page, not among the
    // orders to dispatch below it.
    let manager = phone(&server, "manager", "王经理").await;
    manager.wait_for_text("[data-list=hazards] .order-line a", "Residual-current devices trip on test · 后勤仓库").await;
    assert_eq!(manager.text("#hazards").await.as_deref(), Some("Hazards not yet repaired (1)"));
    let queued = manager
        .evaluate("return [...document.querySelectorAll('[data-list=dispatch] .order-line a')].map((line) => line.textContent)")
        .await;
    assert!(!queued.to_string().contains("Residual-current"), "{queued}");
    screenshot(&manager, "home-manager-hazard").await;
    manager.close().await;
    browser.close().await;
    server.stop().await.unwrap();
}

/// Where the screenshots for review go: `$HOUQIN_SCREENSHOTS`, else `target/screenshots`
/// (not committed).
fn screenshot_dir() -> PathBuf {
    std::env::var_os("HOUQIN_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots"))
}

/// Saves what a 360 × 800 phone shows now, for a person to review (and with
/// `HOUQIN_WHOLE_PAGES` set, the whole page as `<name>-whole.png`).
async fn screenshot(browser: &Browser, name: &str) {
    let directory = screenshot_dir();
    std::fs::create_dir_all(&directory).unwrap();
    browser.client.set_window_size(360, 800).await.unwrap();
    let png = browser.client.screenshot().await.unwrap();
    assert_eq!(&png[1..4], b"PNG", "a screenshot of {name}");
    std::fs::write(directory.join(format!("{name}.png")), png).unwrap();
    // The whole page too, on request: a window as tall as the page, then the phone again.
    if std::env::var_os("HOUQIN_WHOLE_PAGES").is_some() {
        let height = browser.evaluate("return document.documentElement.scrollHeight").await.as_u64().unwrap_or(800).clamp(800, 16_000);
        browser.client.set_window_size(360, u32::try_from(height).unwrap_or(800)).await.unwrap();
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(directory.join(format!("{name}-whole.png")), png).unwrap();
        browser.client.set_window_size(360, 800).await.unwrap();
    }
}

/// Someone who is not among the demo logins, made by the admin with `role` at `site` (their
/// password is `demo-<username>`), signed in on a phone of their own at 360 × 800.
async fn new_person(server: &TestServer, username: &str, display_name: &str, site: &str, role: &str) -> Browser {
    let password = format!("demo-{username}");
    let created = reqwest::Client::new()
        .post(server.url("/api/admin/users"))
        .bearer_auth(server.token("admin"))
        .json(
            &json!({ "username": username, "display_name": display_name, "password": password, "roles": [{ "site": site, "role": role }] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let browser = Browser::start().await;
    browser.client.set_window_size(360, 800).await.unwrap();
    browser.client.goto(&server.url("/")).await.unwrap();
    sign_in(&browser, username, &password).await;
    browser.wait_for_text(&format!("[data-user={username}]"), display_name).await;
    browser.wait_for_service_worker().await;
    browser
}

/// A phone at 360 × 800 with `user` signed in, synced, and able to open offline.
async fn phone(server: &TestServer, user: &str, display_name: &str) -> Browser {
    let browser = Browser::start().await;
    browser.client.set_window_size(360, 800).await.unwrap();
    browser.client.goto(&server.url("/")).await.unwrap();
    sign_in(&browser, user, "demo").await;
    browser.wait_for_text(&format!("[data-user={user}]"), display_name).await;
    browser.wait_for_text("[data-sync]", "Synced").await;
    browser.wait_for_service_worker().await;
    browser
}

/// Draws a short stroke on the signature pad of `item`.
async fn draw_signature(browser: &Browser, item: &str) {
    use fantoccini::actions::{InputSource as _, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let pad_selector = format!("[data-item={item}] [data-signature=pad]");
    let pad = browser.client.find(fantoccini::Locator::Css(&pad_selector)).await.unwrap();
    browser.client.execute("arguments[0].scrollIntoView({ block: 'center' })", vec![serde_json::to_value(&pad).unwrap()]).await.unwrap();
    let stroke = Some(Duration::from_millis(50));
    let finger = MouseActions::new("finger".to_owned())
        .then(PointerAction::MoveToElement { element: pad, duration: None, x: -90.0, y: 20.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: stroke, x: 60.0, y: -40.0 })
        .then(PointerAction::MoveBy { duration: stroke, x: 60.0, y: 40.0 })
        .then(PointerAction::MoveBy { duration: stroke, x: 60.0, y: -30.0 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.client.perform_actions(finger).await.unwrap();
}

/// Saves the signature drawn on the pad of `item`.
async fn save_signature(browser: &Browser, item: &str) {
    tap(browser, &format!("[data-item={item}] [data-action=save-signature]")).await;
    wait_for("the signature to be kept", PATIENCE, || async { browser.text(&format!("[data-item={item}] [data-signed=yes]")).await }).await;
}

#[tokio::test]
async fn a_fire_round_done_offline_raises_a_hazard_that_reaches_the_technician() {
    use fantoccini::Locator::Css;

    let server = TestServer::start(&built_dist()).await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    let technician = phone(&server, "tech", "张师傅").await;
    let (address, base) = (server.address, server.url("/"));
    let data = server.stop().await.unwrap();

    // In the basement: the day's fire-safety round of the admin building is due.
    inspector.client.goto(&base).await.unwrap();
    let due = "[data-list=due] [data-checklist=fire_safety][data-place=admin-building]";
    wait_for("the fire-safety round to be due", PATIENCE, || async { inspector.text(due).await }).await;
    screenshot(&inspector, "home-inspector").await;
    fits_a_phone(&inspector, 10).await;
    tap(&inspector, &format!("{due} [data-action=start-due]")).await;
    inspector.wait_for_text("h1", "Fire safety round").await;
    inspector.wait_for_text("[data-place]", "行政楼").await;
    screenshot(&inspector, "round-new").await;

    for item in ["extinguisher-present", "extinguisher-seal", "hydrant", "fire-doors", "exit-signs"] {
        answer(&inspector, item, "pass").await;
    }
    // "Next unanswered" goes to the first item still open.
    tap(&inspector, "[data-action=next-unanswered]").await;
    wait_for("the next unanswered item to have the focus", PATIENCE, || async {
        (inspector.evaluate("return document.activeElement.closest('.item')?.dataset.item ?? null").await == json!("extinguisher-pressure"))
            .then_some(())
    })
    .await;
    // 0.8 MPa is under the extinguisher's minimum: the item fails and wants a photo.
    read_out(&inspector, "extinguisher-pressure", "0.8").await;
    inspector.wait_for_text("[data-item=extinguisher-pressure] [data-warning=limits]", "Outside the limits").await;
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("gauge.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    inspector
        .client
        .find(Css("[data-item=extinguisher-pressure] .follow-up input[name=photo]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    wait_for("the photo on the failed item", PATIENCE, || async {
        (inspector.evaluate("return document.querySelector('[data-item=extinguisher-pressure] [data-photos]').dataset.photos").await
            == json!("1"))
        .then_some(())
    })
    .await;
    tap(&inspector, "[data-item=extinguisher-pressure] [data-action=raise-hazard]").await;
    inspector.wait_for_text("[data-item=extinguisher-pressure] .hazard", "Hazard raised; work order: Reported").await;
    // A note on an item.
    answer(&inspector, "exits-clear", "pass").await;
    tap(&inspector, "[data-item=exits-clear] [data-action=add-note]").await;
    submit(&inspector, "note", "note", "二楼通道堆放纸箱，已清理").await;
    inspector.wait_for_text("[data-item=exits-clear] .note span", "二楼通道堆放纸箱，已清理").await;

    // The signature is required: submitting without it names what is missing, and a
    // signature drawn but not saved yet stays on the pad, to be saved.
    for item in ["emergency-lighting", "alarm-panel"] {
        answer(&inspector, item, "pass").await;
    }
    draw_signature(&inspector, "signature").await;
    tap(&inspector, "[data-action=submit-round]").await;
    inspector.wait_for_text("[data-missing]", "Still needed before submitting: 1").await;
    inspector.wait_for_text("[data-list=missing] li", "Inspector's signature: not answered").await;
    assert_eq!(
        inspector.evaluate("return [...document.querySelectorAll('.item.flagged')].map((item) => item.dataset.item)").await,
        json!(["signature"])
    );
    save_signature(&inspector, "signature").await;
    wait_for("the signature to leave the missing", PATIENCE, || async { inspector.text("[data-missing]").await.is_none().then_some(()) })
        .await;
    inspector.wait_for_text("[data-progress] > span", "10 of 11 answered").await;
    screenshot(&inspector, "round-answered").await;
    fits_a_phone(&inspector, 30).await;
    tap(&inspector, "[data-action=submit-round]").await;
    inspector.wait_for_prefix("[data-round=submitted]", "Submitted by 李安全员 at ").await;
    assert_eq!(
        inspector.evaluate("return document.querySelector('[data-item=exits-clear] [data-answer=pass]').disabled").await,
        json!(true),
        "read-only once submitted"
    );
    screenshot(&inspector, "round-submitted").await;

    // The printable report has the result, the failed item's photo and the signature.
    tap(&inspector, "[data-action=report]").await;
    inspector.wait_for_text("[data-report=failed]", "1").await;
    // 8 of 9 judged passed: 88.9%, rounded, not cut.
    inspector.wait_for_text("[data-report=pass-rate]", "88.9%").await;
    wait_for("the report's pictures to show", PATIENCE, || async {
        let shown = inspector
            .evaluate("return [...document.querySelectorAll('.report img')].filter((img) => img.complete && img.naturalWidth > 0).length")
            .await;
        (shown == json!(2)).then_some(())
    })
    .await;
    screenshot(&inspector, "report").await;

    // Back in coverage, the round and the work order sync; the technician's phone hears of
    // the order through the site's index and shows it with the photo.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    inspector.client.goto(&base).await.unwrap();
    wait_for("the inspector's phone to sync", Duration::from_secs(90), || async {
        (inspector.text("[data-sync]").await.as_deref() == Some("Synced")).then_some(())
    })
    .await;
    technician.client.goto(&format!("{base}orders")).await.unwrap();
    wait_for_order(&technician, "Extinguisher pressure (MPa) · 行政楼", 1).await;
    open_notes(&technician, "Extinguisher pressure (MPa) · 行政楼", &[""]).await;
    wait_for("the photo on the technician's phone", Duration::from_secs(60), || async {
        (technician.evaluate("return [...document.querySelectorAll('.order-page img[data-photo=shown]')].some((img) => img.complete && img.naturalWidth > 0)").await == json!(true)).then_some(())
    })
    .await;
    screenshot(&technician, "order-hazard-photo").await;
    tap(&technician, "[data-action=back]").await;
    let hazard = "[...document.querySelectorAll('.order')].find((order) => order.querySelector('.order-title').textContent === 'Extinguisher pressure (MPa) · 行政楼')";
    assert_eq!(
        technician.evaluate(&format!("return {hazard}.querySelector('[data-order-status]').dataset.orderStatus")).await,
        json!("reported")
    );
    screenshot(&technician, "orders-technician").await;

    let order = technician.evaluate(&format!("return {hazard}.dataset.document")).await;
    let order = shared::protocol::DocumentId::parse(order.as_str().unwrap()).unwrap();
    let order =
        shared::document::work_order::WorkOrder::from_doc(server.state.documents.load(&order).unwrap().unwrap()).unwrap().read().unwrap();
    assert_eq!((order.location.as_str(), order.priority), ("admin-building", shared::document::work_order::Priority::Urgent));
    assert_eq!(order.category, shared::document::work_order::Category::FireSafety, "a fire-safety round's hazard is 消防 work");
    assert_eq!(order.source.as_ref().map(|source| source.item.as_str()), Some("extinguisher-pressure"));
    inspector.close().await;
    technician.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_dorm_staff_split_a_building_offline_and_settle_the_room_they_disagree_on() {
    let server = TestServer::start(&built_dist()).await;
    let first = phone(&server, "dorm", "赵宿管").await;
    let second = new_person(&server, "dorm2", "钱宿管", "plant2", "dorm_staff").await;

    // The first starts the weekly check of dormitory 1; the second's phone learns of it.
    let due = "[data-list=due] [data-checklist=dorm_room][data-place=dorm-1]";
    wait_for("the dorm check to be due", PATIENCE, || async { first.text(due).await }).await;
    tap(&first, &format!("{due} [data-action=start-due]")).await;
    first.wait_for_text("h1", "Dormitory room check").await;
    assert_eq!(
        first.evaluate("return [...document.querySelectorAll('[data-room]')].map((room) => room.dataset.room)").await,
        json!(["dorm-1-101", "dorm-1-102", "dorm-1-103"])
    );
    first.wait_for_text(".round-place [data-state]", "Synced").await;
    let open = "[data-list=open] [data-checklist=dorm_room] a";
    wait_for("the round to reach the second phone", Duration::from_secs(60), || async { second.text(open).await }).await;
    tap(&second, open).await;
    second.wait_for_text("h1", "Dormitory room check").await;
    second.wait_for_text(".round-place [data-state]", "Synced").await;

    // Both go into the building with no coverage and split it: rooms 101 and 102, and
    // both look at 103 and disagree about its hygiene.
    let address = server.address;
    let data = server.stop().await.unwrap();
    for (phone, room, hygiene) in [
        (&first, "dorm-1-101", "clean"),
        (&second, "dorm-1-102", "acceptable"),
        (&first, "dorm-1-103", "clean"),
        (&second, "dorm-1-103", "dirty"),
    ] {
        tap(phone, &format!("[data-room={room}]")).await;
        wait_for(&format!("{room} to be shown"), PATIENCE, || async {
            (phone.evaluate(&format!("return document.querySelector('[data-room={room}]').classList.contains('selected')")).await
                == json!(true))
            .then_some(())
        })
        .await;
        answer(phone, "hygiene", hygiene).await;
        for item in ["no-prohibited-appliances", "no-damage", "smoke-detector"] {
            answer(phone, item, "pass").await;
        }
        read_out(phone, "occupants", "4").await;
        // Every required item answered: the room is done without its optional remarks.
        phone.wait_for_text(&format!("[data-room={room}] .room-count"), "5/6").await;
        wait_for_cell_data(phone, &format!("[data-room={room}]"), "done", "yes").await;
    }
    // Items say which room they are of; "next room" goes to the next room.
    tap(&first, "[data-room=dorm-1-101]").await;
    first.wait_for_prefix("[data-item=hygiene] .section-name", "101 · ").await;
    tap(&first, "[data-action=next-room]").await;
    first.wait_for_prefix("[data-item=hygiene] .section-name", "102 · ").await;
    screenshot(&first, "dorm-rooms-offline").await;

    // Back in coverage: each phone shows both people's rooms, and who did which.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    for phone in [&first, &second] {
        phone.client.refresh().await.unwrap();
        wait_for("both people's rooms", Duration::from_secs(90), || async {
            let by = phone.evaluate("return Object.fromEntries([...document.querySelectorAll('[data-room]')].map((room) => [room.dataset.room, room.dataset.by]))").await;
            (by["dorm-1-101"] == "赵宿管" && by["dorm-1-102"] == "钱宿管" && by["dorm-1-103"].as_str().is_some_and(|by| by.contains("赵宿管") || by.contains("钱宿管"))).then_some(())
        })
        .await;
    }
    // The room both answered shows both answers with who gave them.
    tap(&first, "[data-room=dorm-1-103]").await;
    wait_for("the conflict to be shown", Duration::from_secs(30), || async {
        let by = first
            .evaluate(
                "return [...document.querySelectorAll('[data-item=hygiene] .conflict-value')].map((value) => value.dataset.by).sort()",
            )
            .await;
        (by == json!(["dorm", "dorm2"])).then_some(())
    })
    .await;
    // Where both gave the same answer there is nothing to settle: one item differs.
    first.wait_for_text("[data-conflicts]", "Items answered differently: 1; choose which to keep").await;
    let words = first
        .evaluate(
            "return [...document.querySelectorAll('[data-item=hygiene] .conflict-value strong')].map((value) => value.textContent).sort()",
        )
        .await;
    assert_eq!(words, json!(["Clean", "Dirty"]));
    screenshot(&first, "dorm-conflict").await;
    fits_a_phone(&first, 20).await;
    // It waits for its owner's decision on their to-do page, which leads back to it.
    let round_id = first.evaluate("return location.pathname.split('/').pop()").await.as_str().unwrap().to_owned();
    first.client.goto(&server.url("/")).await.unwrap();
    first.wait_for_text(&format!("[data-list=decisions] [data-document='{round_id}'] .badge"), "1 answered differently").await;
    tap(&first, &format!("[data-list=decisions] [data-document='{round_id}'] a")).await;
    first.wait_for_text("h1", "Dormitory room check").await;
    tap(&first, "[data-room=dorm-1-103]").await;
    wait_for_element(&first, "[data-item=hygiene] .conflict-value[data-by=dorm2]").await;
    // The round's owner keeps the second person's answer; the conflict is gone everywhere.
    tap(&first, "[data-item=hygiene] .conflict-value[data-by=dorm2] [data-action=keep-answer]").await;
    first.wait_for_text("[data-item=hygiene] [data-answer=dirty].selected", "Dirty").await;
    wait_for("the conflict to be settled", PATIENCE, || async {
        first.text("[data-item=hygiene] .conflict").await.is_none().then_some(())
    })
    .await;
    tap(&second, "[data-room=dorm-1-103]").await;
    wait_for("the settled answer on the second phone", Duration::from_secs(60), || async {
        let settled = second.evaluate("return document.querySelector('[data-item=hygiene] .conflict') === null && document.querySelector('[data-item=hygiene] [data-answer=dirty]').classList.contains('selected')").await;
        (settled == json!(true)).then_some(())
    })
    .await;

    let round = first.evaluate("return location.pathname.split('/').pop()").await;
    let round = shared::protocol::DocumentId::parse(round.as_str().unwrap()).unwrap();
    let stored = wait_for("the settled round on the server", PATIENCE, || async {
        let view = shared::document::inspection::Inspection::from_doc(server.state.documents.load(&round).unwrap()?).ok()?.read().ok()?;
        let hygiene = view.answers.get(&("dorm-1-103".to_owned(), shared::document::EntryId::parse("hygiene").unwrap()))?;
        (hygiene.value == shared::document::inspection::AnswerValue::Choice(shared::document::EntryId::parse("dirty").unwrap())
            && view.answers.len() == 15)
            .then_some(view)
    })
    .await;
    let by_room = |room: &str| {
        stored
            .answers
            .values()
            .filter(|answer| answer.room == room)
            .map(|answer| answer.user.to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(by_room("dorm-1-101"), ["dorm".to_owned()].into());
    assert_eq!(by_room("dorm-1-102"), ["dorm2".to_owned()].into());
    first.close().await;
    second.close().await;
    server.stop().await.unwrap();
}

/// Waits until the element `selector` has `data-<attribute>` equal to `expected`.
async fn wait_for_cell_data(browser: &Browser, selector: &str, attribute: &str, expected: &str) {
    let script =
        format!("const element = document.querySelector({}); return element ? element.dataset.{attribute} : null;", json!(selector));
    wait_for(&format!("{selector} to have {attribute} {expected}"), PATIENCE, || async {
        (browser.evaluate(&script).await == json!(expected)).then_some(())
    })
    .await;
}

/// Opens the order titled `title` from the list `list` on the orders page.
async fn open_order(browser: &Browser, base: &str, list: &str, title: &str) {
    browser.client.goto(&format!("{base}orders")).await.unwrap();
    let script = "const line = [...document.querySelectorAll(`[data-list=${arguments[0]}] .order-line`)].find((line) => line.querySelector('a').textContent === arguments[1]);
        return line ? line.dataset.document : null;";
    let id = wait_for(&format!("{title:?} in the {list} list"), Duration::from_secs(90), || async {
        browser.client.execute(script, vec![json!(list), json!(title)]).await.unwrap().as_str().map(str::to_owned)
    })
    .await;
    tap(browser, &format!("[data-list={list}] [data-document='{id}'] a")).await;
    browser.wait_for_text("h1", title).await;
}

/// Reports a fault titled `title` on a manager's phone and assigns it to `technician`,
/// both synced.
async fn report_and_assign(manager: &Browser, base: &str, title: &str, technician: &str) {
    manager.client.goto(&format!("{base}report")).await.unwrap();
    submit(manager, "report", "title", title).await;
    wait_for_order(manager, title, 0).await;
    // The report's entry in the site's index too: that is how the technician's phone hears.
    manager.wait_for_text("[data-sync]", "Synced").await;
    open_order(manager, base, "dispatch", title).await;
    tap(manager, "[data-action=order-assign]").await;
    choose(manager, "order-assign", "assignee", technician).await;
    tap(manager, "[data-form=order-assign] button[type=submit]").await;
    wait_for_status(manager, "assigned").await;
    manager.wait_for_text(".order-page [data-state]", "Synced").await;
}

/// Takes the step `action` on an order's page; a step with a form is opened, filled by
/// `fill`, and submitted.
async fn take_step(browser: &Browser, action: &str, status: &str) {
    tap(browser, &format!("[data-action=order-{action}]")).await;
    wait_for(&format!("the order to be {status}"), PATIENCE, || async {
        (browser.evaluate("return document.querySelector('[data-order]')?.dataset.status ?? null").await == json!(status)).then_some(())
    })
    .await;
}

async fn wait_for_status(browser: &Browser, status: &str) {
    wait_for(&format!("the order to be {status}"), Duration::from_secs(90), || async {
        (browser.evaluate("return document.querySelector('[data-order]')?.dataset.status ?? null").await == json!(status)).then_some(())
    })
    .await;
}

/// Picks `value` in the select `name` of the form `form`, once the page offers it (a
/// page drawn from the phone's store may still be loading its documents). A page redrawn
/// by a sync between finding the select and picking gets the new select found again.
async fn choose(browser: &Browser, form: &str, name: &str, value: &str) {
    let selector = format!("[data-form={form}] select[name={name}]");
    let offered = format!(
        "const select = document.querySelector('{selector}'); return select !== null && [...select.options].some((option) => option.value === '{value}');"
    );
    wait_for(&format!("{selector} to offer {value}"), PATIENCE, || async {
        (browser.evaluate(&offered).await == json!(true)).then_some(())?;
        let select = browser.client.find(fantoccini::Locator::Css(&selector)).await.ok()?;
        select.select_by_value(value).await.ok()
    })
    .await;
}

async fn type_into(browser: &Browser, selector: &str, text: &str) {
    wait_for_element(browser, selector).await;
    browser.client.find(fantoccini::Locator::Css(selector)).await.unwrap().send_keys(text).await.unwrap();
}

/// Waits until the page has an element matching `selector`.
async fn wait_for_element(browser: &Browser, selector: &str) {
    let script = format!("return document.querySelector({}) !== null", json!(selector));
    wait_for(&format!("{selector} to be on the page"), PATIENCE, || async {
        (browser.evaluate(&script).await == json!(true)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_fault_is_reported_offline_dispatched_repaired_offline_and_verified() {
    use shared::document::work_order::{EventKind, Status, WorkOrder};

    let server = TestServer::start(&built_dist()).await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    let manager = phone(&server, "manager", "王经理").await;
    let technician = phone(&server, "tech", "张师傅").await;
    let (address, base) = (server.address, server.url("/"));

    // Reported in under 30 seconds, offline: what, where, which asset, how urgent, a photo.
    let data = server.stop().await.unwrap();
    inspector.client.goto(&base).await.unwrap();
    inspector.wait_for_text("[data-user=inspector]", "李安全员").await;
    inspector.client.goto(&format!("{base}report")).await.unwrap();
    type_into(&inspector, "[data-form=report] [name=title]", "空调不制冷").await;
    // The air conditioner's label names the asset and, through it, the room.
    type_into(&inspector, "[data-form=report] [name=code]", "kt-hq-101\u{e004}").await;
    wait_for("the labelled asset to be chosen", PATIENCE, || async {
        let chosen = inspector
            .evaluate("const form = document.querySelector('[data-form=report]'); return [form.place.value, form.asset.value];")
            .await;
        (chosen == json!(["admin-101", "kt-hq-101"])).then_some(())
    })
    .await;
    choose(&inspector, "report", "category", "hvac").await;
    choose(&inspector, "report", "priority", "high").await;
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("ac.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    type_into(&inspector, "[data-form=report] [name=fault-photo]", photo.to_str().unwrap()).await;
    screenshot(&inspector, "order-report").await;
    tap(&inspector, "[data-form=report] button[type=submit]").await;
    inspector.wait_for_text(".order .order-title", "空调不制冷").await;
    inspector.wait_for_prefix(".order [data-state]", "Changes on this phone only").await;

    // Back online, the manager finds it waiting for dispatch and gives it to the technician.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    inspector.client.refresh().await.unwrap();
    wait_for_order(&inspector, "空调不制冷", 1).await;
    open_order(&manager, &base, "dispatch", "空调不制冷").await;
    assert_eq!(manager.text("[data-priority]").await.as_deref(), Some("High"));
    screenshot(&manager, "order-dispatch").await;
    tap(&manager, "[data-action=order-assign]").await;
    choose(&manager, "order-assign", "assignee", "tech").await;
    choose(&manager, "order-assign", "priority", "urgent").await;
    tap(&manager, "[data-form=order-assign] button[type=submit]").await;
    wait_for_status(&manager, "assigned").await;
    manager.wait_for_text("[data-assignee]", "张师傅").await;
    manager.wait_for_text(".order-page [data-state]", "Synced").await;

    // The technician's phone has it first in "my work"; only the steps that fit are offered.
    open_order(&technician, &base, "my-work", "空调不制冷").await;
    let offered =
        technician.evaluate("return [...document.querySelectorAll('.order-actions button')].map((button) => button.dataset.action)").await;
    assert_eq!(offered, json!(["order-acknowledge", "order-start"]));
    take_step(&technician, "acknowledge", "acknowledged").await;
    technician.wait_for_text(".order-page [data-state]", "Synced").await;
    // In the plant room there is no coverage: started, completed with a part and a photo.
    let data = server.stop().await.unwrap();
    take_step(&technician, "start", "in_progress").await;
    tap(&technician, "[data-action=order-complete]").await;
    type_into(&technician, "[data-form=order-complete] [name=notes]", "更换启动电容").await;
    choose(&technician, "order-complete", "part", "bulb-led-9w").await;
    type_into(&technician, "[data-form=order-complete] [name=quantity]", "2").await;
    tap(&technician, "[data-form=order-complete] [data-action=add-part]").await;
    let rows = technician.client.find_all(fantoccini::Locator::Css("[data-form=order-complete] select[name=part]")).await.unwrap();
    rows[1].select_by_value("gloves").await.unwrap();
    let quantities = technician.client.find_all(fantoccini::Locator::Css("[data-form=order-complete] input[name=quantity]")).await.unwrap();
    quantities[1].send_keys("1").await.unwrap();
    type_into(&technician, "[data-form=order-complete] [name=photo]", photo.to_str().unwrap()).await;
    screenshot(&technician, "order-complete").await;
    tap(&technician, "[data-form=order-complete] button[type=submit]").await;
    wait_for_status(&technician, "completed").await;
    let kinds = technician.evaluate("return [...document.querySelectorAll('.timeline-entry')].map((entry) => entry.dataset.kind)").await;
    assert_eq!(kinds, json!(["reported", "comment", "assigned", "acknowledged", "started", "completed", "comment", "part", "part"]));
    fits_a_phone(&technician, 6).await;
    screenshot(&technician, "order-technician").await;

    // Back in coverage; the reporter verifies the repair with a rating.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    technician.client.refresh().await.unwrap();
    technician.wait_for_text(".order-page [data-state]", "Synced").await;
    inspector.client.goto(&format!("{base}report")).await.unwrap();
    let link = wait_for("the order on the reporter's phone", Duration::from_secs(60), || async {
        inspector.evaluate("const order = [...document.querySelectorAll('.order')].find((order) => order.querySelector('.order-title').textContent === '空调不制冷'); return order ? order.dataset.document : null;").await.as_str().map(str::to_owned)
    })
    .await;
    inspector.client.goto(&format!("{base}orders/{link}")).await.unwrap();
    wait_for_status(&inspector, "completed").await;
    tap(&inspector, "[data-action=order-verify]").await;
    tap(&inspector, "[data-form=order-verify] input[name=rating][value='4']").await;
    type_into(&inspector, "[data-form=order-verify] [name=comment]", "很快修好了").await;
    tap(&inspector, "[data-form=order-verify] button[type=submit]").await;
    wait_for_status(&inspector, "verified").await;
    inspector.wait_for_text(".order-page [data-state]", "Synced").await;
    screenshot(&inspector, "order-verified").await;

    let id = shared::protocol::DocumentId::parse(&link).unwrap();
    let order = WorkOrder::from_doc(server.state.documents.load(&id).unwrap().unwrap()).unwrap().read().unwrap();
    let state = order.state();
    assert_eq!(
        (
            state.status,
            state.assignee.as_ref().map(shared::directory::Username::as_str),
            state.rating.map(shared::document::work_order::Rating::stars)
        ),
        (Status::Verified, Some("tech"), Some(4))
    );
    let steps: Vec<(&str, &str)> = {
        let mut events: Vec<_> = order.events.iter().collect();
        events.sort_by_key(|event| event.at);
        events.iter().map(|event| (event.kind.name(), event.user.as_str())).collect()
    };
    assert_eq!(
        steps,
        [
            ("reported", "inspector"),
            ("assigned", "manager"),
            ("acknowledged", "tech"),
            ("started", "tech"),
            ("completed", "tech"),
            ("verified", "inspector")
        ]
    );
    assert!(
        matches!(&order.events.iter().find(|event| event.kind.name() == "completed").unwrap().kind, EventKind::Completed { notes } if notes == "更换启动电容")
    );
    assert_eq!((order.asset.as_deref(), order.location.as_str(), order.priority.as_str()), (Some("kt-hq-101"), "admin-101", "urgent"));
    let mut parts: Vec<(&str, String)> = order.parts.iter().map(|part| (part.item.as_str(), part.quantity.to_string())).collect();
    parts.sort();
    assert_eq!(parts, [("bulb-led-9w", "2".to_owned()), ("gloves", "1".to_owned())]);
    // Urgent: due four hours after dispatch, as the field proposed it (to the minute).
    let assigned_at = order.events.iter().find(|event| event.kind.name() == "assigned").unwrap().at;
    let slack = order.due_at.unwrap().millis_since(assigned_at) - 4 * 60 * 60 * 1000;
    assert!((-120_000..=60_000).contains(&slack), "due {slack} ms off four hours after dispatch");
    assert!(state.response_millis().is_some() && state.repair_millis().is_some(), "response and repair times are measured");
    let photos: Vec<_> = order.comments.iter().filter_map(|comment| comment.photo.clone()).collect();
    assert_eq!(photos.len(), 2, "the reporter's and the technician's");
    for photo in photos {
        let sha256 = server::blobs::parse_sha256(&photo.sha256).unwrap();
        wait_for("the photos to be uploaded", PATIENCE, || async { server.state.blobs.get(&sha256).unwrap() }).await;
    }
    for phone in [inspector, manager, technician] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn completed_on_one_phone_and_cancelled_on_another_is_flagged_until_the_manager_decides() {
    use shared::document::work_order::{EventKind, WorkOrder};

    let server = TestServer::start(&built_dist()).await;
    let manager = phone(&server, "manager", "王经理").await;
    let technician = phone(&server, "tech", "张师傅").await;
    let (address, base) = (server.address, server.url("/"));
    report_and_assign(&manager, &base, "走廊灯不亮", "tech").await;
    open_order(&technician, &base, "my-work", "走廊灯不亮").await;

    // Apart and offline: the technician fixes it while the manager cancels it.
    let data = server.stop().await.unwrap();
    take_step(&technician, "start", "in_progress").await;
    tap(&technician, "[data-action=order-complete]").await;
    type_into(&technician, "[data-form=order-complete] [name=notes]", "换了灯管").await;
    tap(&technician, "[data-form=order-complete] button[type=submit]").await;
    wait_for_status(&technician, "completed").await;
    tap(&manager, "[data-action=order-cancel]").await;
    type_into(&manager, "[data-form=order-cancel] [name=reason]", "已由物业处理").await;
    tap(&manager, "[data-form=order-cancel] button[type=submit]").await;
    wait_for_status(&manager, "cancelled").await;

    // Merged, the log keeps both; the later step is flagged and the manager decides.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    for phone in [&manager, &technician] {
        phone.client.refresh().await.unwrap();
        wait_for("the flag", Duration::from_secs(90), || async { phone.text(".flag .warning").await }).await;
    }
    let flag = manager.text(".flag .warning").await.unwrap();
    assert!(flag.contains("clashes with the status it met"), "{flag}");
    assert!(technician.text("[data-form=resolve]").await.is_none(), "only a manager decides");
    screenshot(&manager, "order-flag").await;
    type_into(&manager, "[data-form=resolve] [name=decision]", "以维修完工为准").await;
    // While the manager writes, the technician adds a note: it arrives without taking the
    // decision being typed, or the comment begun below it.
    type_into(&manager, "[data-form=comment] [name=comment]", "下次先打电话").await;
    submit(&technician, "comment", "comment", "灯管已换").await;
    wait_for("the technician's note on the manager's phone", Duration::from_secs(60), || async {
        let script = "return [...document.querySelectorAll('.timeline-entry[data-kind=comment]')].some((entry) => entry.textContent.includes('灯管已换'))";
        manager.evaluate(script).await.as_bool().filter(|arrived| *arrived)
    })
    .await;
    let typed = manager.evaluate("return [document.querySelector('[data-form=resolve] [name=decision]').value, document.querySelector('[data-form=comment] [name=comment]').value]").await;
    assert_eq!(typed, json!(["以维修完工为准", "下次先打电话"]));
    tap(&manager, "[data-form=resolve] button[type=submit]").await;
    wait_for("the flag to be settled", PATIENCE, || async { manager.text(".flag").await.is_none().then_some(()) }).await;
    manager.wait_for_text(".order-page [data-state]", "Synced").await;
    let id = manager.evaluate("return document.querySelector('[data-order]').dataset.order").await;
    let id = shared::protocol::DocumentId::parse(id.as_str().unwrap()).unwrap();
    let order = WorkOrder::from_doc(server.state.documents.load(&id).unwrap().unwrap()).unwrap().read().unwrap();
    let state = order.state();
    assert_eq!(state.flags.len(), 1);
    let resolution = state.flags[0].resolution.clone().expect("resolved");
    let decision = order.events.iter().find(|event| event.id == resolution).unwrap();
    assert_eq!(
        (&decision.kind, decision.user.as_str()),
        (&EventKind::Resolved { flagged: state.flags[0].event.clone(), decision: "以维修完工为准".to_owned() }, "manager")
    );
    technician.client.refresh().await.unwrap();
    wait_for("the technician's phone to see the decision", Duration::from_secs(60), || async {
        technician.text(".flag").await.is_none().then_some(())
    })
    .await;
    manager.close().await;
    technician.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_phones_generating_the_same_preventive_occurrence_make_one_order() {
    use shared::document::catalog::{Every, MaintenancePlan, SiteCatalog};
    use shared::document::work_order::WorkOrder;

    let server = TestServer::start(&built_dist()).await;
    // A plan for the meeting room's air conditioner that starts in a little while: the
    // phones are offline by the time its first occurrence is due.
    let starts = shared::time::Timestamp::from_millis(server::auth::now().as_millis() + 45_000);
    let catalog_id = crate::support::catalog_of(&server, "hq");
    let mut stored = server.state.documents.load(&catalog_id).unwrap().unwrap();
    let before = stored.get_heads();
    let mut catalog = SiteCatalog::from_doc(stored).unwrap();
    let plan = MaintenancePlan {
        id: shared::document::EntryId::parse("pm-filters").unwrap(),
        asset: shared::document::EntryId::parse("kt-hq-101").unwrap(),
        title: "空调滤网每日检查".into(),
        every: Every::Days(1),
        start: starts,
    };
    catalog
        .put_maintenance(&plan, &shared::document::Edit::new(shared::directory::Username::parse("admin").unwrap(), server::auth::now()))
        .unwrap();
    server.state.documents.append(&catalog_id, &catalog.doc_mut().save_after(&before)).unwrap();

    let manager = phone(&server, "manager", "王经理").await;
    let technician = phone(&server, "tech", "张师傅").await;
    let (address, base) = (server.address, server.url("/"));
    let data = server.stop().await.unwrap();
    assert!(server::auth::now() < starts, "the phones signed in before the plan started");
    tokio::time::sleep(Duration::from_millis(u64::try_from(starts.millis_since(server::auth::now())).unwrap_or(0) + 1_000)).await;
    // Each phone makes the occurrence's order by itself, offline.
    for phone in [&manager, &technician] {
        phone.client.goto(&format!("{base}orders")).await.unwrap();
        wait_for("the occurrence's order, made on this phone", Duration::from_secs(30), || async {
            let state = phone.evaluate("const order = [...document.querySelectorAll('.order')].find((order) => order.querySelector('.order-title').textContent === '空调滤网每日检查'); return order ? order.querySelector('[data-state]').dataset.state : null;").await;
            (state == json!("local")).then_some(())
        })
        .await;
    }
    let server = TestServer::start_at(data, &built_dist(), address).await;
    for phone in [&manager, &technician] {
        phone.client.refresh().await.unwrap();
        wait_for_order(phone, "空调滤网每日检查", 0).await;
        let count = phone.evaluate("return [...document.querySelectorAll('.order .order-title')].filter((title) => title.textContent === '空调滤网每日检查').length").await;
        assert_eq!(count, json!(1));
    }
    let id = manager.evaluate("return [...document.querySelectorAll('.order')].find((order) => order.querySelector('.order-title').textContent === '空调滤网每日检查').dataset.document").await;
    let id = shared::protocol::DocumentId::parse(id.as_str().unwrap()).unwrap();
    let order = WorkOrder::from_doc(server.state.documents.load(&id).unwrap().unwrap()).unwrap().read().unwrap();
    assert_eq!(order.events.len(), 1, "one report, however many phones generated it");
    assert!(order.state().flags.is_empty());
    assert_eq!(order.preventive.as_ref().map(|occurrence| (occurrence.plan.as_str(), occurrence.occurrence)), Some(("pm-filters", 0)));
    assert_eq!(order.location, "admin-101");
    manager.close().await;
    technician.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_fixed_asset_audit_finds_assets_by_tag_offline_and_lists_the_missing() {
    let server = TestServer::start(&built_dist()).await;
    let keeper = phone(&server, "store", "陈库管").await;
    let address = server.address;
    keeper.client.goto(&server.url("/stocktakes")).await.unwrap();
    choose(&keeper, "stocktake", "what", "assets").await;
    type_into(&keeper, "[data-form=stocktake] [name=location]", "行政楼").await;
    tap(&keeper, "[data-form=stocktake] button[type=submit]").await;
    keeper.wait_for_text("h1", "Stocktake · 行政楼").await;
    let audit =
        |state: &'static str| format!("return [...document.querySelectorAll('[data-audit={state}]')].map((line) => line.dataset.asset)");
    wait_for("every asset to be listed as not found yet", PATIENCE, || async {
        let missing = keeper.evaluate(&audit("missing")).await;
        (missing == json!(["bx-hq-c1", "kt-hq-101", "pd-hq-a", "xf-hq-001", "xf-hq-002"])).then_some(())
    })
    .await;

    // Room by room, offline: the first floor's extinguisher, then the air conditioner,
    // which is in room 102 instead of 101.
    let data = server.stop().await.unwrap();
    for (place, tag) in [("admin-1f", "XF-HQ-001"), ("admin-102", "kt-hq-101")] {
        choose(&keeper, "find", "place", place).await;
        type_into(&keeper, "[data-form=find] [name=tag]", tag).await;
        tap(&keeper, "[data-form=find] button[type=submit]").await;
        wait_for(&format!("{tag} to be found"), PATIENCE, || async {
            (keeper.evaluate("return document.querySelector('[data-form=find] [name=tag]').value").await == json!("")).then_some(())
        })
        .await;
    }
    type_into(&keeper, "[data-form=find] [name=tag]", "XF-NOPE").await;
    tap(&keeper, "[data-form=find] button[type=submit]").await;
    keeper.wait_for_text("[data-form=find] [role=alert]", "No place or asset has the code XF-NOPE").await;
    assert_eq!(keeper.evaluate(&audit("in-place")).await, json!(["xf-hq-001"]));
    assert_eq!(keeper.evaluate(&audit("elsewhere")).await, json!(["kt-hq-101"]));
    keeper.wait_for_text("[data-audit=elsewhere]", "KT-HQ-101 101 会议室空调 · found at 102 档案室 · belongs at 101 会议室").await;
    assert_eq!(keeper.evaluate(&audit("missing")).await, json!(["bx-hq-c1", "pd-hq-a", "xf-hq-002"]));
    screenshot(&keeper, "asset-audit").await;
    fits_a_phone(&keeper, 6).await;

    // Synced, the audit is on the server as found.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    keeper.client.refresh().await.unwrap();
    keeper.wait_for_text(".stocktake-page [data-state]", "Synced").await;
    let id = keeper.evaluate("return document.querySelector('[data-stocktake]').dataset.stocktake").await;
    let id = shared::protocol::DocumentId::parse(id.as_str().unwrap()).unwrap();
    let stored =
        shared::document::stocktake::Stocktake::from_doc(server.state.documents.load(&id).unwrap().unwrap()).unwrap().read().unwrap();
    let result = stored.audit();
    assert_eq!(
        (result.in_place.len(), result.elsewhere.len(), result.missing),
        (1, 1, vec!["bx-hq-c1".to_owned(), "pd-hq-a".to_owned(), "xf-hq-002".to_owned()])
    );
    assert!(stored.found.iter().all(|found| found.counter.as_str() == "store"));
    keeper.close().await;
    server.stop().await.unwrap();
}
