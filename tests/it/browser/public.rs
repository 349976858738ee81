//! Reporting without an account, in Chromium at 360 × 800: someone scans a door's label
//! with no app and no account, reports with a photo, and follows the repair by the link
//! they were given, up to rating it; the site's phones work the order as any other.

use serde_json::json;

use super::{
    TINY_PNG, built_dist, choose, fits_a_phone, open_order, phone, screenshot, take_step, tap, type_into, wait_for_element, wait_for_status,
};
use crate::support::{TestServer, get, wait_for};
use tests::chromium::{Browser, PATIENCE};

#[tokio::test]
async fn a_signed_out_phone_reports_from_a_label_and_rates_the_repair_it_follows() {
    let server = TestServer::start(&built_dist()).await;
    let base = server.url("/");
    let manager = phone(&server, "manager", "王经理").await;

    // The label's page, in English and in Chinese, on a phone that never had the app.
    let resident = Browser::start().await;
    resident.client.set_window_size(360, 800).await.unwrap();
    resident.client.goto(&server.url("/l/HQ-A-101?lang=en")).await.unwrap();
    resident.wait_for_match("header p", "…101 会议室", |seen| seen.ends_with("101 会议室")).await;
    fits_a_phone(&resident, 6).await;
    assert_eq!(resident.text("label[for=what]").await.as_deref(), Some("What is wrong?"));
    screenshot(&resident, "public-report-en").await;
    resident.client.goto(&server.url("/l/HQ-A-101?lang=zh-CN")).await.unwrap();
    resident.wait_for_text("label[for=what]", "哪里坏了？").await;
    type_into(&resident, "#what", "空调漏水\n水滴在会议桌上").await;
    tap(&resident, "input[name=urgency][value=soon]").await;
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("leak.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    type_into(&resident, "#photo", photo.to_str().unwrap()).await;
    wait_for_element(&resident, "#preview:not([hidden])").await;
    type_into(&resident, "#reporter", "李老师").await;
    type_into(&resident, "#phone", "138 0000 0000").await;
    screenshot(&resident, "public-report-zh").await;
    tap(&resident, "#report button[type=submit]").await;
    wait_for_element(&resident, "#done:not([hidden])").await;
    screenshot(&resident, "public-reported-zh").await;
    let track = resident.evaluate("return document.querySelector('#done a.go').getAttribute('href')").await.as_str().unwrap().to_owned();
    assert!(track.starts_with("/t/"), "{track}");

    // The manager's phone gets it by sync, from the public reporter, and dispatches it.
    open_order(&manager, &base, "dispatch", "空调漏水").await;
    manager.wait_for_text("[data-action=spam]", "Mark as spam").await;
    screenshot(&manager, "public-order-manager").await;
    // The photo as the page shrank it: a JPEG, on the order's first comment.
    let order = manager.evaluate("return document.querySelector('[data-order]').dataset.order").await.as_str().unwrap().to_owned();
    let order = shared::protocol::DocumentId::parse(&order).unwrap();
    let stored = shared::document::work_order::WorkOrder::read_doc(&server.state.documents.load(&order).unwrap().unwrap()).unwrap();
    let photo = stored.comments[0].photo.clone().expect("the photo is on the reporter's comment");
    assert_eq!(photo.mime, "image/jpeg");
    assert!(server.state.blobs.get(&server::blobs::parse_sha256(&photo.sha256).unwrap()).unwrap().is_some(), "its bytes are kept");
    tap(&manager, "[data-action=order-assign]").await;
    choose(&manager, "order-assign", "assignee", "tech").await;
    tap(&manager, "[data-form=order-assign] button[type=submit]").await;
    wait_for_status(&manager, "assigned").await;
    manager.wait_for_text(".order-page [data-state]", "Synced").await;

    // The technician repairs it.
    let technician = phone(&server, "tech", "张师傅").await;
    open_order(&technician, &base, "my-work", "空调漏水").await;
    take_step(&technician, "start", "in_progress").await;
    tap(&technician, "[data-action=order-complete]").await;
    type_into(&technician, "[data-form=order-complete] [name=notes]", "疏通了排水管").await;
    tap(&technician, "[data-form=order-complete] button[type=submit]").await;
    wait_for_status(&technician, "completed").await;
    technician.wait_for_text(".order-page [data-state]", "Synced").await;

    // The link shows it done, without anyone's name, and takes the rating.
    resident.client.goto(&server.url(&track)).await.unwrap();
    resident.wait_for_text("#stage", "已修好").await;
    let page = resident.evaluate("return document.body.innerText").await.as_str().unwrap().to_owned();
    assert!(!page.contains("张师傅") && !page.contains("王经理"), "{page}");
    fits_a_phone(&resident, 3).await;
    screenshot(&resident, "public-track-done-zh").await;
    tap(&resident, "#rate input[name=rating][value='4']").await;
    type_into(&resident, "#comment", "修得很快，谢谢").await;
    tap(&resident, "#rate button[type=submit]").await;
    resident.wait_for_text("#stage", "已完结").await;
    screenshot(&resident, "public-track-rated-zh").await;
    resident.client.goto(&server.url(&format!("{track}?lang=en"))).await.unwrap();
    resident.wait_for_text("#stage", "Closed").await;
    screenshot(&resident, "public-track-rated-en").await;

    // The rating reaches the order on the manager's phone, and the dashboard.
    manager.client.refresh().await.unwrap();
    wait_for_status(&manager, "verified").await;
    let token = server.token("manager");
    wait_for("the dashboard to count the public report and its rating", PATIENCE, || {
        let (server, token) = (&server, token.clone());
        async move {
            let summary: serde_json::Value = get(server, "/api/sites/hq/summary", Some(&token)).await.json().await.unwrap();
            (summary["kpis"]["reported_by_public"] == json!(1) && summary["kpis"]["satisfaction_tenths"] == json!(40)).then_some(())
        }
    })
    .await;
    manager.client.goto(&format!("{base}dashboard")).await.unwrap();
    manager.wait_for_match("[data-kpi=reported] .tile-detail", "… 1", |seen| seen.ends_with(" 1")).await;
    screenshot(&manager, "public-dashboard").await;
    server.stop().await.unwrap();
}

/// An administrator closes reports by scan for rooms on the site's page, in English and
/// Chinese; a room's label then says so, a building's still takes reports; a manager
/// marks a public report spam from the order's page.
#[tokio::test]
async fn an_administrator_chooses_which_labels_take_reports_and_a_manager_marks_spam() {
    let server = TestServer::start(&built_dist()).await;
    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    wait_for_element(&admin, "[data-form=public-reporting] input[name=kind][value=room]").await;
    admin.wait_for_text("#public-reporting", "Reports by scan").await;
    assert_eq!(admin.evaluate("return document.querySelector('[data-form=public-reporting] input[name=open]').checked").await, json!(true));
    admin.client.execute("document.querySelector('#public-reporting').scrollIntoView()", Vec::new()).await.unwrap();
    fits_a_phone(&admin, 1).await;
    screenshot(&admin, "admin-public-reporting").await;
    admin.evaluate("localStorage.setItem('houqin.language', JSON.stringify('zh-CN')); return null").await;
    admin.client.refresh().await.unwrap();
    admin.wait_for_text("#public-reporting", "扫码报修").await;
    wait_for_element(&admin, "[data-form=public-reporting] input[name=kind][value=room]").await;
    tap(&admin, "[data-form=public-reporting] input[name=kind][value=room]").await;
    tap(&admin, "[data-form=public-reporting] button[type=submit]").await;
    admin.wait_for_text("[data-card=public-reporting] [role=status]", "扫码报修设置已保存").await;
    admin.client.execute("document.querySelector('#public-reporting').scrollIntoView()", Vec::new()).await.unwrap();
    screenshot(&admin, "admin-public-reporting-zh").await;
    assert_eq!(get(&server, "/l/HQ-A-101", None).await.status(), 403, "a room's label is closed");
    assert_eq!(get(&server, "/l/HQ-A", None).await.status(), 200, "a building's is open");

    // A report from the building's label, and a manager who finds it is spam.
    let sent = reqwest::Client::new()
        .post(server.url("/api/public/reports"))
        .json(&json!({ "code": "HQ-A", "text": "加微信领红包", "urgency": "can_wait" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let manager = phone(&server, "manager", "王经理").await;
    manager.evaluate("localStorage.setItem('houqin.language', JSON.stringify('zh-CN')); return null").await;
    manager.client.refresh().await.unwrap();
    open_order(&manager, &server.url("/"), "dispatch", "加微信领红包").await;
    manager.wait_for_match(".report-facts", "…扫码报修人…", |seen| seen.contains("扫码报修人")).await;
    manager.wait_for_text("[data-action=spam]", "标记为垃圾报修").await;
    screenshot(&manager, "public-order-manager-zh").await;
    manager.client.execute("window.confirm = () => true", Vec::new()).await.unwrap();
    tap(&manager, "[data-action=spam]").await;
    wait_for_status(&manager, "cancelled").await;
    screenshot(&manager, "public-order-spam-zh").await;
    server.stop().await.unwrap();
}
