//! The app as a site serves it: by a host name on its network over HTTPS, with the
//! certificate `tls init` made, which the phone trusts (here by its key's pin); and the
//! same name over plain HTTP, where the app says what it cannot do there.

use base64ct::Encoding as _;
use serde_json::json;
use tests::chromium::{Browser, Cdp, PATIENCE};

use super::{screenshot, sign_in, submit, tap, wait_for_server_heads_stored};
use crate::support::{TestServer, built_dist, wait_for};

/// The server's name on the site's network, mapped to loopback inside Chromium.
const NAME: &str = "houqin.lan";

fn switches(pin: Option<&str>) -> Vec<String> {
    let mut switches = vec![format!("--host-resolver-rules=MAP {NAME} 127.0.0.1")];
    switches.extend(pin.map(|pin| format!("--ignore-certificate-errors-spki-list={pin}")));
    switches
}

#[tokio::test]
async fn over_https_by_its_lan_name_a_scanned_label_opens_after_sign_in_and_work_done_offline_syncs() {
    let data = tempfile::tempdir().unwrap();
    server::tls::init(data.path(), &[NAME.to_owned()], &[]).unwrap();
    let pin = server::tls::spki_pin(&server::tls::TlsFiles::in_data(data.path()).unwrap()).unwrap();
    let server = TestServer::start_https(data, &built_dist(), "127.0.0.1:0".parse().unwrap(), NAME).await;
    let browser = Browser::start_with(&switches(Some(&pin))).await;
    browser.client.set_window_size(360, 800).await.unwrap();

    // A door's QR code opened by the phone's own camera app, signed out: the public report
    // page (its script allowed by the response's nonce over HTTPS), whose staff link opens
    // the app: sign in first, then the room.
    browser.client.goto(&server.url(&shared::routes::label_path("HQ-A-101"))).await.unwrap();
    browser.wait_for_match("header p", "…101 会议室", |seen| seen.ends_with("101 会议室")).await;
    assert_eq!(browser.evaluate("return document.querySelector('#mine').hidden").await, json!(true), "the page's script ran");
    tap(&browser, "a[href='?app']").await;
    sign_in(&browser, "inspector", "demo").await;
    browser.wait_for_text(".label-page h1", "101 会议室").await;
    browser.wait_for_text(".label-page .muted + h1 + .muted", "行政楼 › 行政楼 1层").await;
    screenshot(&browser, "label-page").await;
    // "Report a fault here" opens the fault form with the room filled in.
    tap(&browser, "[data-action=fault-here]").await;
    wait_for("the room chosen in the fault form", PATIENCE, || async {
        (browser.evaluate("const code = document.querySelector('[data-form=report] [name=code]'); return code && code.value").await
            == json!("HQ-A-101"))
        .then_some(())
    })
    .await;
    browser.wait_for_text("[data-sync]", "Synced").await;
    // The form is on screen, not 1,800 px down the start page.
    wait_for("the fault form in view", PATIENCE, || async {
        let top = browser.evaluate("return document.querySelector('[data-form=report]').getBoundingClientRect().top").await.as_f64()?;
        (0.0..400.0).contains(&top).then_some(())
    })
    .await;
    super::fits_a_phone(&browser, 8).await;
    screenshot(&browser, "fault-form-from-label").await;
    browser.wait_for_service_worker().await;
    let facts = browser
        .evaluate("return [location.protocol, isSecureContext, !!navigator.mediaDevices, !!(self.crypto && crypto.subtle), document.querySelector('[data-banner=insecure]') === null]")
        .await;
    assert_eq!(facts, json!(["https:", true, true, true, true]), "a secure context with a camera to ask for and no banner");
    assert!(browser.client.find(fantoccini::Locator::Css("[data-action=scan]")).await.is_ok(), "the scan button is offered");
    // Installable to the home screen: Chromium's own check of the manifest and its icons.
    let installability = browser.client.issue_cmd(Cdp("Page.getInstallabilityErrors", json!({}))).await.unwrap();
    assert_eq!(installability["installabilityErrors"], json!([]), "{installability}");
    let manifest = browser.client.issue_cmd(Cdp("Page.getAppManifest", json!({}))).await.unwrap();
    assert_eq!(manifest["errors"], json!([]), "{manifest}");
    wait_for_server_heads_stored(&browser).await;

    // No server: the app opens from the service worker's cache, and a report made there
    // stays through a reload and syncs once the server is back.
    let address = server.address;
    let data = server.stop().await.unwrap();
    browser.client.goto(&format!("https://{NAME}:{}/report", address.port())).await.unwrap();
    browser.wait_for_text("[data-tab=report]", "Report").await;
    assert_eq!(browser.evaluate("return navigator.serviceWorker.controller !== null").await, json!(true));
    // The QR decoder for browsers without BarcodeDetector loads from the cache too, and
    // reads a label's code from a frame.
    let label = format!("https://{NAME}{}", shared::routes::label_path("HQ-A-101"));
    let (size, rgba) = qr::frame(&label, 4);
    let read = browser
        .client
        .execute_async(
            "const [size, pixels, done] = arguments;
             const bytes = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0));
             window.houqinQrDecoder().then((decode) => done(decode(size, size, bytes) ?? null), (error) => done(String(error)));",
            vec![json!(size), json!(base64ct::Base64::encode_string(&rgba))],
        )
        .await
        .unwrap();
    assert_eq!(read, json!(label), "decoded offline by the module loaded on demand");
    submit(&browser, "report", "title", "会议室空调漏水").await;
    browser.wait_for_text(".order [data-state]", "Changes on this phone only: 1").await;
    browser.client.refresh().await.unwrap();
    browser.wait_for_text(".order .order-title", "会议室空调漏水").await;
    let server = TestServer::start_https(data, &built_dist(), address, NAME).await;
    wait_for("the report to sync over HTTPS", std::time::Duration::from_secs(90), || async {
        (browser.text(".order [data-state]").await.as_deref() == Some("Synced")).then_some(())
    })
    .await;
    let id = browser.evaluate("return document.querySelector('.order').dataset.document").await;
    let id = shared::protocol::DocumentId::parse(id.as_str().unwrap()).unwrap();
    let stored = server.state.documents.load(&id).unwrap().expect("the report reached the server");
    assert_eq!(shared::document::work_order::WorkOrder::from_doc(stored).unwrap().read().unwrap().title, "会议室空调漏水");
    browser.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn over_plain_http_by_its_lan_name_the_app_says_offline_use_and_the_camera_need_https() {
    let server = TestServer::start(&built_dist()).await;
    let base = format!("http://{NAME}:{}/", server.address.port());
    let browser = Browser::start_with(&switches(None)).await;
    browser.client.set_window_size(360, 800).await.unwrap();
    browser.client.goto(&base).await.unwrap();
    browser.wait_for_prefix("[data-banner=insecure]", "This address is not HTTPS: offline use, the camera and scanning do not work.").await;
    assert_eq!(
        browser.evaluate("return [isSecureContext, document.querySelector('[data-banner=insecure] a').getAttribute('href')]").await,
        json!([false, "/setup"])
    );
    sign_in(&browser, "inspector", "demo").await;
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    // Syncing needs no secure context: only what the browser keeps for one is missing.
    browser.wait_for_text("[data-sync]", "Synced").await;
    assert!(browser.client.find(fantoccini::Locator::Css("[data-action=scan]")).await.is_err(), "no camera to offer");
    screenshot(&browser, "insecure-banner").await;
    browser.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&browser, "input[value='zh-CN']").await;
    browser.wait_for_prefix("[data-banner=insecure]", "此地址不是 HTTPS").await;
    browser.client.goto(&base).await.unwrap();
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    screenshot(&browser, "insecure-banner-zh").await;
    // Scanned on a phone signed in to the app: the public page sends it on to the app's own.
    browser.client.goto(&format!("{base}l/XF-HQ-001")).await.unwrap();
    browser.wait_for_text(".label-page h1", "干粉灭火器 1层东").await;
    assert_eq!(browser.evaluate("return location.search").await, json!("?app"));
    browser.wait_for_text(".label-page h1 + .muted", "位置：行政楼 › 行政楼 1层").await;
    browser.wait_for_text(".label-page [data-action=fault-here]", "在这里报修").await;
    screenshot(&browser, "label-page-asset-zh").await;
    browser.client.goto(&format!("{base}l/NO-SUCH-CODE")).await.unwrap();
    browser.wait_for_text("[data-label=unknown]", "你所在的场所中没有编码为 NO-SUCH-CODE 的地点或设备").await;
    browser.close().await;
    server.stop().await.unwrap();
}
