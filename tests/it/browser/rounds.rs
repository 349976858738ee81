//! Failures that never end silently: a failed item is followed up before the round is
//! submitted — a hazard, or "no action needed" with the reason — and a manager can still
//! raise a hazard for it afterwards. A round started by mistake is discarded. A reading a
//! round takes of a meter's item becomes the meter's reading.

use serde_json::json;

use super::{PATIENCE, TINY_PNG, answer, built_dist, phone, press, read_out, screenshot, tap, type_into, wait_for_element};
use crate::support::{TestServer, wait_for};

/// The administrator's phone puts a temperature meter on the store's switchboard, read by
/// the electrical round's cabinet-temperature item, through a native client.
async fn a_meter_on_the_stores_cabinet(server: &TestServer) {
    use shared::document::EntryId;
    use shared::document::catalog::{Asset, Meter, MeterKind, RoundItem, SiteCatalog};
    use shared::protocol::PeerId;
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use shared::quantity::Quantity;
    use tests::native_client::{now, sync_until};

    let catalog_id = crate::support::catalog_of(server, "hq");
    let mut admin = Client::new(ClientConfig::new(PeerId("phone-admin".to_owned())), now());
    admin.request_document(catalog_id);
    let synced = |client: &Client| client.status(&catalog_id) == Some(SyncStatus::Synced);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced).await.unwrap();
    let electrical = SiteCatalog::read_doc(admin.document(&catalog_id).unwrap())
        .unwrap()
        .templates
        .iter()
        .find(|template| template.category == "electrical")
        .map(|template| template.document.clone())
        .unwrap();
    let id = |text: &str| EntryId::parse(text).unwrap();
    let asset = Asset {
        id: id("pd-store"),
        name: "仓库配电柜".into(),
        asset_type: "switchboard".into(),
        tag: "PD-HQ-S".into(),
        place: Some(id("store")),
        installed_at: None,
    };
    let meter = Meter {
        id: id("store-cabinet"),
        name: "仓库配电柜温度".into(),
        asset: id("pd-store"),
        kind: MeterKind::Reading,
        unit: "°C".into(),
        tag: "M-HQ-S1".into(),
        low: None,
        high: Some(Quantity::units(60)),
        alarm_after: None,
        usage_limit: None,
        round_item: Some(RoundItem { template: electrical, item: id("cabinet-temperature") }),
    };
    SiteCatalog::edit_in(admin.document_mut(&catalog_id).unwrap(), |catalog| {
        let edit = crate::sync::edit("admin");
        catalog.put_asset(&asset, &edit).unwrap();
        catalog.put_meter(&meter, &edit).unwrap();
    })
    .unwrap();
    admin.handle_local_change(&catalog_id);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced).await.unwrap();
}

/// Also: a reading the round takes of a meter's item is recorded as the meter's reading.
#[tokio::test]
async fn a_failure_is_followed_up_before_submitting_and_a_manager_may_raise_a_hazard_after() {
    use fantoccini::Locator::Css;
    use shared::document::work_order::{Category, WorkOrder};

    let server = TestServer::start(&built_dist()).await;
    a_meter_on_the_stores_cabinet(&server).await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    let manager = phone(&server, "manager", "王经理").await;
    inspector.client.goto(&server.url("/rounds")).await.unwrap();

    // A round started at the wrong place is discarded, and leaves nothing on the board.
    let start = |place: &'static str| {
        let inspector = &inspector;
        async move {
            wait_for_element(inspector, "[data-form=round] select[name=template]").await;
            let form = inspector.client.find(Css("[data-form=round]")).await.unwrap();
            form.find(Css("select[name=template]")).await.unwrap().select_by_label("Electrical safety round").await.unwrap();
            press(inspector, form.find(Css("button[type=submit]")).await.unwrap()).await;
            inspector.wait_for_text("[data-form=round] [role=alert]", "Choose a place").await;
            form.find(Css("select[name=place]")).await.unwrap().select_by_value(place).await.unwrap();
            press(inspector, form.find(Css("button[type=submit]")).await.unwrap()).await;
            inspector.wait_for_text("h1", "Electrical safety round").await;
        }
    };
    start("canteen").await;
    tap(&inspector, "[data-action=discard-round]").await;
    wait_for("the rounds page", PATIENCE, || async {
        (inspector.evaluate("return location.pathname").await == json!("/rounds")).then_some(())
    })
    .await;
    wait_for_element(&inspector, "[data-form=round]").await;
    assert_eq!(
        inspector.evaluate("return document.querySelectorAll('[data-list=open] [data-checklist=electrical]').length").await,
        json!(0),
        "a discarded round is not in progress"
    );

    // At the store: everything passes but the sockets, which fail.
    start("store").await;
    read_out(&inspector, "cabinet-temperature", "40").await;
    for item in ["room-locked", "insulation-mats", "breakers-labelled", "rcd-test"] {
        answer(&inspector, item, "pass").await;
    }
    answer(&inspector, "no-overload", "fail").await;
    tap(&inspector, "[data-action=submit-round]").await;
    inspector.wait_for_text("[data-missing]", "Still needed before submitting: 2").await;
    let named = inspector.evaluate("return [...document.querySelectorAll('[data-list=missing] li')].map((line) => line.textContent)").await;
    assert_eq!(
        named,
        json!([
            "No improvised wiring or overloaded sockets: a failure needs a photo",
            "No improvised wiring or overloaded sockets: a failure needs a follow-up: raise a hazard, or say why no action is needed"
        ])
    );
    // "Next unanswered" counts what is still needed, not only what has no answer.
    tap(&inspector, "[data-action=next-unanswered]").await;
    wait_for("the failed item to be next", PATIENCE, || async {
        (inspector.evaluate("return document.activeElement?.closest('.item')?.dataset.item ?? null").await == json!("no-overload"))
            .then_some(())
    })
    .await;
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("socket.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    inspector
        .client
        .find(Css("[data-item=no-overload] .follow-up input[name=photo]"))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    inspector.wait_for_text("[data-missing]", "Still needed before submitting: 1").await;
    // No action needed, and why: a reason is asked for, then recorded with who.
    tap(&inspector, "[data-item=no-overload] [data-action=no-action]").await;
    tap(&inspector, "[data-item=no-overload] [data-form=no-action] button[type=submit]").await;
    inspector.wait_for_text("[data-item=no-overload] [data-form=no-action] ~ [role=alert]", "Give a reason").await;
    type_into(&inspector, "[data-item=no-overload] [data-form=no-action] [name=reason]", "插线板已当场拔除").await;
    tap(&inspector, "[data-item=no-overload] [data-form=no-action] button[type=submit]").await;
    inspector.wait_for_text("[data-item=no-overload] [data-no-action]", "No action needed: 插线板已当场拔除 (李安全员)").await;
    screenshot(&inspector, "round-no-action").await;
    tap(&inspector, "[data-action=submit-round]").await;
    inspector.wait_for_prefix("[data-round=submitted]", "Submitted by 李安全员 at ").await;
    inspector.wait_for_text(".round-place [data-state]", "Synced").await;
    let round = inspector.evaluate("return location.pathname").await;
    // The cabinet's 40 °C is the store meter's reading, taken on this round, once synced.
    let round_url = format!("automerge:{}", round.as_str().unwrap().trim_start_matches("/rounds/"));
    let reading = wait_for("the round's meter reading on the server", PATIENCE, || async {
        let doc = server.state.documents.load(&crate::support::catalog_of(&server, "hq")).unwrap()?;
        let catalog = shared::document::catalog::SiteCatalog::read_doc(&doc).ok()?;
        catalog.readings.iter().find(|reading| reading.meter.as_str() == "store-cabinet").cloned()
    })
    .await;
    assert_eq!(
        (reading.value, reading.round.as_deref(), reading.user.as_str()),
        (shared::quantity::Quantity::units(40), Some(round_url.as_str()), "inspector")
    );
    inspector.client.goto(&server.url("/meters/hq/store-cabinet")).await.unwrap();
    wait_for_element(&inspector, "[data-reading] a[href^='/rounds/']").await;
    inspector.client.back().await.unwrap();

    // The manager disagrees: a hazard after all, raised from the submitted round.
    manager.client.goto(&server.url(round.as_str().unwrap())).await.unwrap();
    manager.wait_for_text("[data-item=no-overload] [data-no-action]", "No action needed: 插线板已当场拔除 (李安全员)").await;
    tap(&manager, "[data-item=no-overload] [data-action=raise-hazard]").await;
    manager.wait_for_text("[data-item=no-overload] .hazard", "Hazard raised; work order: Reported").await;
    assert_eq!(
        manager.evaluate("return document.querySelector('[data-item=no-overload] [data-answer=pass]').disabled").await,
        json!(true),
        "the answers stay locked"
    );
    let order = manager.evaluate("return document.querySelector('[data-item=no-overload] .hazard').dataset.hazard").await;
    let order = shared::protocol::DocumentId::parse(order.as_str().unwrap()).unwrap();
    let order = wait_for("the hazard's order on the server", PATIENCE, || async { server.state.documents.load(&order).unwrap() }).await;
    let order = WorkOrder::from_doc(order).unwrap().read().unwrap();
    assert_eq!(order.title, "No improvised wiring or overloaded sockets · 后勤仓库");
    assert_eq!(order.category, Category::Electrical);
    assert!(order.due_at.is_some(), "due from its priority at once");
    assert_eq!(
        order.source.map(|source| (source.inspection.trim_start_matches("automerge:").to_owned(), source.item)),
        Some((round.as_str().unwrap().trim_start_matches("/rounds/").to_owned(), "no-overload".to_owned()))
    );

    // The manager's first step on the new order is to dispatch it.
    tap(&manager, "[data-item=no-overload] .hazard").await;
    manager.wait_for_text("h1", "No improvised wiring or overloaded sockets · 后勤仓库").await;
    assert_eq!(
        manager
            .evaluate("return [...document.querySelectorAll('.order-actions button.primary')].map((button) => button.dataset.action)")
            .await,
        json!(["order-assign"])
    );
    inspector.close().await;
    manager.close().await;
    server.stop().await.unwrap();
}

/// Sets a date field to `days` from today (the phone's calendar), as a date picker would.
async fn set_date(browser: &tests::chromium::Browser, selector: &str, days: i64) {
    let script = format!(
        "const field = document.querySelector({}); const day = new Date(); day.setDate(day.getDate() + {days});
         field.value = `${{day.getFullYear()}}-${{String(day.getMonth() + 1).padStart(2, '0')}}-${{String(day.getDate()).padStart(2, '0')}}`;
         field.dispatchEvent(new Event('input', {{ bubbles: true }})); return field.value;",
        json!(selector)
    );
    assert_ne!(browser.evaluate(&script).await, json!(""), "{selector} takes a date");
}

/// The canteen's meal checks on the inspector's board, by title.
async fn meal_lines(browser: &tests::chromium::Browser) -> serde_json::Value {
    browser
        .evaluate(
            "return [...document.querySelectorAll('.round[data-place=canteen] .round-title')].map((title) => title.firstChild.textContent.trim()).filter((title) => title.includes(' · '))",
        )
        .await
}

/// An administrator schedules the canteen's check at each of three meals and closes the
/// site for two days; the inspector's board names the meal due (or missed), then has no
/// meal check while the site is closed.
#[tokio::test]
async fn meal_slots_and_a_closure_set_by_the_administrator_reach_the_inspectors_board() {
    use fantoccini::Locator::Css;

    let server = TestServer::start(&built_dist()).await;
    let admin = phone(&server, "admin", "系统管理员").await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    wait_for_element(&admin, "[data-form=schedule] select[name=place] option[value=canteen]").await;
    let form = admin.client.find(Css("[data-form=schedule]")).await.unwrap();
    form.find(Css("select[name=template]")).await.unwrap().select_by_label("食堂食品安全检查 · Canteen food safety check").await.unwrap();
    form.find(Css("select[name=place]")).await.unwrap().select_by_value("canteen").await.unwrap();
    form.find(Css("select[name=unit]")).await.unwrap().select_by_value("day").await.unwrap();
    // Slots that overlap are refused under the field, in the reader's words.
    type_into(&admin, "[data-form=schedule] [name=slots]", "早 06:00-09:00; 中 08:00-13:00").await;
    tap(&admin, "[data-form=schedule] button[type=submit]").await;
    admin
        .wait_for_text("[data-form=schedule] [data-field-error=slots]", "Like Breakfast 06:00-09:00; Lunch 10:30-13:30: one round in each")
        .await;
    tap(&admin, "[data-action=meal-slots]").await;
    set_date(&admin, "[data-form=schedule] [name=starts]", -1).await;
    tap(&admin, "[data-form=schedule] button[type=submit]").await;
    admin.wait_for_prefix("[data-list=schedules] li:last-child", "食堂食品安全检查 · Canteen food safety check @").await;
    let listed = admin.text("[data-list=schedules] li:last-child .muted").await.unwrap();
    assert!(listed.contains("Breakfast 06:00-09:00; Lunch 10:30-13:30; Dinner 16:30-19:30"), "{listed}");
    admin.evaluate("document.querySelector('[data-form=schedule]').scrollIntoView(); return null").await;
    screenshot(&admin, "schedule-meals").await;
    super::fits_a_phone(&admin, 10).await;
    admin.wait_for_text("[data-sync]", "Synced").await;

    // Whatever the hour, one meal's check is due (or the last one missed).
    inspector.client.goto(&server.url("/rounds")).await.unwrap();
    let lines = wait_for("a meal's check on the board", PATIENCE, || async {
        let lines = meal_lines(&inspector).await;
        (lines.as_array().is_some_and(|lines| lines.len() == 1)).then_some(lines)
    })
    .await;
    let line = lines[0].as_str().unwrap();
    assert!(["Breakfast", "Lunch", "Dinner"].iter().any(|meal| line == format!("Canteen food safety check · {meal}")), "{line}");
    screenshot(&inspector, "rounds-meal").await;

    // Closed yesterday and today: no meal is due or missed.
    type_into(&admin, "[data-form=closure] [name=name]", "设备检修停用").await;
    set_date(&admin, "[data-form=closure] [name=first_day]", -1).await;
    set_date(&admin, "[data-form=closure] [name=last_day]", 0).await;
    tap(&admin, "[data-form=closure] button[type=submit]").await;
    wait_for_element(&admin, "[data-card=closures] [data-closure]").await;
    admin.evaluate("document.querySelector('[data-card=closures]').scrollIntoView(); return null").await;
    screenshot(&admin, "closures").await;
    admin.wait_for_text("[data-sync]", "Synced").await;
    wait_for("the closure on the inspector's board", PATIENCE, || async { (meal_lines(&inspector).await == json!([])).then_some(()) })
        .await;

    // In Chinese, the administrator's page.
    admin.client.goto(&server.url("/settings")).await.unwrap();
    tap(&admin, "input[value='zh-CN']").await;
    admin.wait_for_text("h1", "设置").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    admin.wait_for_text("#closures", "停用期（假期、节日）").await;
    admin.evaluate("document.querySelector('[data-form=schedule]').scrollIntoView(); return null").await;
    screenshot(&admin, "schedule-meals-zh").await;
    admin.evaluate("document.querySelector('[data-card=closures]').scrollIntoView(); return null").await;
    screenshot(&admin, "closures-zh").await;
    for phone in [admin, inspector] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}
