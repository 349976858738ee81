//! Meters in the browser: an inspector scans the canteen fridge's label offline, a word is
//! refused as a reading, three warm readings in a row raise one work order on the phone;
//! back in coverage the order reaches the server once, the manager's dashboard shows the
//! site's energy against a year before, and the meter reads in Chinese; a reading below the
//! last of a counting meter is asked about before it is kept.

use serde_json::json;
use shared::document::work_order::WorkOrder;

use super::{PATIENCE, built_dist, fits_a_phone, phone, screenshot, tap, type_into, wait_for_element};
use crate::support::{TestServer, wait_for};

#[tokio::test]
async fn three_warm_readings_entered_offline_raise_one_order_and_the_dashboard_shows_the_energy_saved() {
    let server = TestServer::start(&built_dist()).await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    let manager = phone(&server, "manager", "王经理").await;
    let (address, base) = (server.address, server.url("/"));

    // The rounds page leads to the meters; the fridge's is among them.
    inspector.client.goto(&format!("{base}rounds")).await.unwrap();
    wait_for_element(&inspector, "[data-action=meters]").await;
    inspector.client.goto(&format!("{base}meters")).await.unwrap();
    wait_for_element(&inspector, "[data-list=meters] [data-meter=hq-fridge-1]").await;
    screenshot(&inspector, "meters").await;
    fits_a_phone(&inspector, 4).await;

    // In the kitchen there is no coverage: the label opens the meter from the phone.
    let data = server.stop().await.unwrap();
    inspector.client.goto(&format!("{base}l/M-HQ-C1")).await.unwrap();
    wait_for_element(&inspector, ".meter-page[data-meter=hq-fridge-1]").await;
    assert_eq!(inspector.evaluate("return location.pathname").await, json!("/meters/hq/hq-fridge-1"));
    wait_for_element(&inspector, "[data-chart=meter-trend]").await;
    type_into(&inspector, "[data-form=reading] [name=value]", "warm").await;
    tap(&inspector, "[data-action=save-reading]").await;
    inspector.wait_for_text("[data-outcome=refused]", "Enter the reading as a number, e.g. 12.5.").await;
    for (index, celsius) in ["9.5", "10", "11.2"].into_iter().enumerate() {
        let field = inspector.client.find(fantoccini::Locator::Css("[data-form=reading] [name=value]")).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(celsius).await.unwrap();
        tap(&inspector, "[data-action=save-reading]").await;
        inspector.wait_for_text("[data-outcome=saved]", "Saved — the reading is out of limits (0–8 °C).").await;
        let out = format!("return document.querySelectorAll('[data-reading][data-out=true]').length >= {}", index + 2);
        wait_for("the reading listed", PATIENCE, || async { (inspector.evaluate(&out).await == json!(true)).then_some(()) }).await;
    }
    // The third raised the order, on this phone, offline.
    wait_for_element(&inspector, "[data-card=runs] [data-action=alarm-order]").await;
    inspector.wait_for_text("[data-card=runs] li:first-child span", "3 in a row").await;
    screenshot(&inspector, "meter-fridge").await;
    fits_a_phone(&inspector, 4).await;
    tap(&inspector, "[data-card=runs] [data-action=alarm-order]").await;
    wait_for_element(&inspector, "[data-action=alarm-meter]").await;
    let order_url = inspector.evaluate("return location.pathname").await;
    let order_id = order_url.as_str().unwrap().trim_start_matches("/orders/").to_owned();
    inspector.wait_for_prefix("[data-action=alarm-meter]", "Meter alarm · 冷藏柜 1号温度 · ").await;
    screenshot(&inspector, "meter-alarm-order").await;

    // Back in coverage: the server has the one order, raised by the run's first reading.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    inspector.client.refresh().await.unwrap();
    inspector.wait_for_text("[data-sync]", "Synced").await;
    let id = shared::protocol::DocumentId::parse(&order_id).unwrap();
    let order = wait_for("the alarm's order on the server", PATIENCE, || async {
        let doc = server.state.documents.load(&id).unwrap()?;
        WorkOrder::from_doc(doc).ok()?.read().ok()
    })
    .await;
    let alarm = order.alarm.expect("raised by the meter");
    assert_eq!(alarm.meter.as_str(), "hq-fridge-1");
    assert_eq!(id, WorkOrder::alarm_id(&shared::directory::SiteId::parse("hq").unwrap(), &alarm.meter, &alarm.first_reading));
    assert_eq!((order.title.as_str(), order.events.len()), ("冷藏柜 1号温度: 9.5 °C (0–8 °C)", 1));

    // The manager's dashboard: electricity used less than a year before, each meter listed.
    manager.client.goto(&format!("{base}dashboard")).await.unwrap();
    wait_for_element(&manager, "[data-section=energy] [data-energy=electricity]").await;
    let saving = manager.evaluate("return Number(document.querySelector('[data-energy=electricity]').dataset.saving)").await;
    assert!(saving.as_i64().is_some_and(|saved| saved > 50 && saved < 200), "the demo's electricity saving: {saving}");
    wait_for_element(&manager, "[data-section=energy] [data-meter=hq-water]").await;
    manager.evaluate("document.querySelector('[data-section=energy]').scrollIntoView(); return null").await;
    screenshot(&manager, "dashboard-energy").await;
    fits_a_phone(&manager, 4).await;

    // In Chinese.
    inspector.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&inspector, "input[value='zh-CN']").await;
    inspector.wait_for_text("h1", "设置").await;
    inspector.client.goto(&format!("{base}meters/hq/hq-fridge-1")).await.unwrap();
    inspector.wait_for_text("[data-card=runs] li:first-child span", "连续 3 次").await;
    screenshot(&inspector, "meter-fridge-zh").await;
    inspector.client.goto(&format!("{base}meters/hq/hq-power")).await.unwrap();
    wait_for_element(&inspector, "[data-card=usage] [data-period]").await;
    screenshot(&inspector, "meter-power-zh").await;
    fits_a_phone(&inspector, 4).await;
    // A reading below the last is asked about before it is kept for good; declined, nothing is.
    inspector
        .evaluate("window.asked = []; window.confirm = (question) => { window.asked.push(question); return false; }; return null")
        .await;
    let before = inspector.evaluate("return document.querySelectorAll('[data-reading]').length").await;
    type_into(&inspector, "[data-form=reading] [name=value]", "100").await;
    tap(&inspector, "[data-action=save-reading]").await;
    wait_for("the question", PATIENCE, || async {
        let asked = inspector.evaluate("return window.asked.join('')").await;
        asked.as_str().is_some_and(|asked| asked.starts_with("比上次读数（") && asked.contains("是换了新表吗")).then_some(())
    })
    .await;
    assert_eq!(inspector.evaluate("return document.querySelectorAll('[data-reading]').length").await, before, "declined: not saved");
    for phone in [inspector, manager] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}
