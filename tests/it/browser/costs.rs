//! What things cost, in the browser: a store keeper receives at a price and issues to a
//! department, a technician completes an order with a part and adds a contractor's
//! invoice, a manager corrects the time worked, an administrator sets a person's rate, and
//! the manager's order page and dashboard show what the order cost and what was issued,
//! in English and Chinese.

use serde_json::json;

use super::{
    PATIENCE, built_dist, choose, fits_a_phone, open_order, phone, report_and_assign, screenshot, take_step, tap, type_into,
    wait_for_cell_data, wait_for_element, wait_for_status,
};
use crate::support::{TestServer, wait_for};

/// Records a stock movement on the store page, with a price and supplier for a receipt.
async fn move_stock(browser: &tests::chromium::Browser, kind: &str, quantity: &str, reference: &str, bought: Option<(&str, &str)>) {
    choose(browser, "movement", "kind", kind).await;
    choose(browser, "movement", "item", "bulb-led-9w").await;
    type_into(browser, "[data-form=movement] [name=quantity]", quantity).await;
    type_into(browser, "[data-form=movement] [name=reference]", reference).await;
    if let Some((price, supplier)) = bought {
        type_into(browser, "[data-form=movement] [name=unit_price]", price).await;
        type_into(browser, "[data-form=movement] [name=supplier]", supplier).await;
    }
    tap(browser, "[data-form=movement] button[type=submit]").await;
    wait_for("the movement to be recorded", PATIENCE, || async {
        (browser.evaluate("return document.querySelector('[data-form=movement] [name=quantity]').value").await == json!("")).then_some(())
    })
    .await;
}

/// The order page's cost lines: kind, key, amount in fen.
async fn cost_lines(browser: &tests::chromium::Browser) -> serde_json::Value {
    browser.evaluate("return [...document.querySelectorAll('[data-card=costs] [data-cost]')].map((row) => [row.dataset.cost, row.dataset.key, Number(row.dataset.amount)])").await
}

/// Opens the dashboard until its cost tile `kpi` reads `amount` (fen): the server
/// projects a change a moment after it is synced, and a page shows what it fetched.
async fn dashboard_reads(browser: &tests::chromium::Browser, base: &str, kpi: &str, amount: &str) {
    let script = format!("return document.querySelector('[data-cost-kpi={kpi}]')?.dataset.amount ?? null");
    wait_for(&format!("the dashboard's {kpi} to read {amount}"), PATIENCE, || async {
        browser.client.goto(&format!("{base}dashboard")).await.unwrap();
        for _ in 0..20 {
            if browser.evaluate(&script).await == json!(amount) {
                return Some(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        None
    })
    .await;
}

#[tokio::test]
async fn a_receipt_at_a_price_a_repair_with_a_part_and_an_invoice_reach_the_managers_order_and_dashboard() {
    let server = TestServer::start(&built_dist()).await;
    let keeper = phone(&server, "store", "陈库管").await;
    let manager = phone(&server, "manager", "王经理").await;
    let technician = phone(&server, "tech", "张师傅").await;
    let base = server.url("/");

    // 50 bulbs in stock at ¥12.50 (the demo's opening stock); 50 more bought at ¥15 make
    // 100 at ¥13.75; 10 issued to the canteen take ¥137.50 of it.
    keeper.client.goto(&format!("{base}store")).await.unwrap();
    wait_for_cell_data(&keeper, "[data-stock=bulb-led-9w] [data-value]", "value", "62500").await;
    move_stock(&keeper, "receive", "50", "PO-7", Some(("15", "五金店"))).await;
    wait_for_cell_data(&keeper, "[data-stock=bulb-led-9w] [data-value]", "value", "137500").await;
    move_stock(&keeper, "issue", "10", "食堂", None).await;
    wait_for_cell_data(&keeper, "[data-stock=bulb-led-9w] [data-value]", "value", "123750").await;
    keeper.wait_for_text("[data-stock=bulb-led-9w] [data-value]", "¥1,237.50 · average ¥13.75").await;
    screenshot(&keeper, "store-value").await;
    fits_a_phone(&keeper, 4).await;
    tap(&keeper, "[data-stock=bulb-led-9w] a").await;
    keeper.wait_for_text("[data-movement^=move-][data-kind=receive] [data-value]", "¥750.00 (¥15.00 × 50 · 五金店)").await;
    keeper.wait_for_text("[data-stock-value]", "Stock value ¥1,237.50 · average ¥13.75").await;
    screenshot(&keeper, "stock-history-value").await;
    fits_a_phone(&keeper, 1).await;

    // A repair: the technician starts it, completes it with 4 bulbs (¥55) and adds the
    // contractor's invoice for what they could not do themselves.
    report_and_assign(&manager, &base, "走廊灯管更换", "tech").await;
    open_order(&technician, &base, "my-work", "走廊灯管更换").await;
    take_step(&technician, "start", "in_progress").await;
    tap(&technician, "[data-action=order-complete]").await;
    type_into(&technician, "[data-form=order-complete] [name=notes]", "换了四个灯管").await;
    choose(&technician, "order-complete", "part", "bulb-led-9w").await;
    type_into(&technician, "[data-form=order-complete] [name=quantity]", "4").await;
    tap(&technician, "[data-form=order-complete] button[type=submit]").await;
    wait_for_status(&technician, "completed").await;
    tap(&technician, "[data-action=add-invoice]").await;
    type_into(&technician, "[data-form=invoice] [name=amount]", "abc").await;
    tap(&technician, "[data-form=invoice] button[type=submit]").await;
    technician.wait_for_text("[data-form=invoice] [role=alert]", "Enter an amount above zero, like 120 or 35.5.").await;
    let amount = technician.client.find(fantoccini::Locator::Css("[data-form=invoice] [name=amount]")).await.unwrap();
    amount.clear().await.unwrap();
    amount.send_keys("300").await.unwrap();
    type_into(&technician, "[data-form=invoice] [name=vendor]", "亮光电气").await;
    type_into(&technician, "[data-form=invoice] [name=note]", "高处灯架").await;
    tap(&technician, "[data-form=invoice] button[type=submit]").await;
    wait_for_element(&technician, "[data-card=costs] [data-cost=invoice]").await;
    // A technician sees the invoices, not the labour or what the parts cost.
    assert_eq!(cost_lines(&technician).await.as_array().unwrap().len(), 1, "{}", cost_lines(&technician).await);
    technician.wait_for_text(".order-page [data-state]", "Synced").await;
    screenshot(&technician, "order-costs-technician").await;

    // The manager's phone has it all: the work took seconds here, so the manager puts
    // down the hour and a half it took (¥80 an hour for technicians: ¥120).
    let order = technician.evaluate("return document.querySelector('[data-order]').dataset.order").await;
    let order = format!("{base}orders/{}", order.as_str().unwrap());
    manager.client.goto(&order).await.unwrap();
    wait_for_element(&manager, "[data-card=costs] [data-cost=part]").await;
    tap(&manager, "[data-action=correct-labour]").await;
    choose(&manager, "labour", "person", "tech").await;
    type_into(&manager, "[data-form=labour] [name=hours]", "1.5").await;
    tap(&manager, "[data-form=labour] button[type=submit]").await;
    wait_for_cell_data(&manager, "[data-card=costs] [data-cost-total]", "costTotal", "47500").await;
    let lines = cost_lines(&manager).await;
    let keys: Vec<String> = lines.as_array().unwrap().iter().map(|line| format!("{} {}", line[0].as_str().unwrap(), line[2])).collect();
    assert_eq!(keys, ["labour 12000", "part 5500", "invoice 30000"], "{lines}");
    manager.wait_for_text("[data-cost=labour] .muted", "1:30 × ¥80.00/h").await;
    manager.wait_for_text("[data-cost=labour] [data-badge=corrected]", "corrected").await;
    fits_a_phone(&manager, 4).await;
    screenshot(&manager, "order-costs").await;

    // The dashboard: the repair's ¥475 and the ¥137.50 + ¥55 issued.
    manager.wait_for_text(".order-page [data-state]", "Synced").await;
    dashboard_reads(&manager, &base, "repairs", "47500").await;
    wait_for_cell_data(&manager, "[data-cost-kpi=spend]", "amount", "19250").await;
    // The demo's opening stock (¥2,149) and the receipt (¥750), less what was issued.
    wait_for_cell_data(&manager, "[data-cost-kpi=stock]", "amount", "270650").await;
    manager.wait_for_text("[data-cost-split]", "Labour ¥120.00 · Parts ¥55.00 · Outside ¥300.00").await;
    let departments = manager
        .evaluate("return [...document.querySelectorAll('[data-chart=spend-departments] [data-bar]')].map((bar) => bar.dataset.bar)")
        .await;
    assert_eq!(departments, json!(["食堂", "Work orders"]));
    manager.evaluate("document.querySelector('[data-section=costs]').scrollIntoView(); return null").await;
    screenshot(&manager, "dashboard-costs").await;
    fits_a_phone(&manager, 4).await;

    // An administrator gives the technician a rate of their own (¥100 an hour): the
    // order, costed again, shows ¥150 for the same hour and a half.
    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&format!("{base}admin/sites/hq")).await.unwrap();
    wait_for_element(&admin, "[data-card=labour-rates] [data-rate='role:technician']").await;
    choose(&admin, "rate", "applies_to", "person:tech").await;
    type_into(&admin, "[data-form=rate] [name=rate]", "100").await;
    tap(&admin, "[data-form=rate] button[type=submit]").await;
    wait_for_element(&admin, "[data-card=labour-rates] [data-rate='person:tech'][data-per-hour='10000']").await;
    admin.evaluate("document.querySelector('[data-card=labour-rates]').scrollIntoView(); return null").await;
    screenshot(&admin, "labour-rates").await;
    // A contractor with the contract's dates: listed with its trade, whom to call and its end.
    type_into(&admin, "[data-form=vendor] [name=name]", "亮光电气").await;
    choose(&admin, "vendor", "trade", "electrical").await;
    type_into(&admin, "[data-form=vendor] [name=contact]", "刘工").await;
    type_into(&admin, "[data-form=vendor] [name=phone]", "138 0000 0000").await;
    admin
        .evaluate("const field = document.querySelector('[data-form=vendor] [name=contract_to]'); field.value = '2027-06-30'; field.dispatchEvent(new Event('input', { bubbles: true })); return null")
        .await;
    tap(&admin, "[data-form=vendor] button[type=submit]").await;
    admin.wait_for_text("[data-card=vendors] [data-vendor] .muted", "Electrical · 刘工 138 0000 0000 · contract to 2027-06-30").await;
    admin.evaluate("document.querySelector('[data-card=vendors]').scrollIntoView(); return null").await;
    screenshot(&admin, "vendors").await;
    admin.wait_for_text("[data-sync]", "Synced").await;
    dashboard_reads(&manager, &base, "repairs", "50500").await;

    // In Chinese.
    manager.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&manager, "input[value='zh-CN']").await;
    manager.wait_for_text("h1", "设置").await;
    manager.client.goto(&format!("{base}dashboard")).await.unwrap();
    manager.wait_for_text("[data-cost-kpi=repairs] .tile-label", "维修费用").await;
    manager.wait_for_text("[data-cost-split]", "人工 ¥150.00 · 配件 ¥55.00 · 外包 ¥300.00").await;
    manager.evaluate("document.querySelector('[data-section=costs]').scrollIntoView(); return null").await;
    screenshot(&manager, "dashboard-costs-zh").await;
    manager.client.goto(&order).await.unwrap();
    manager.wait_for_text("[data-cost=labour] .muted", "1:30 × ¥100.00/小时").await;
    manager.wait_for_text("[data-cost=labour] [data-badge=corrected]", "已修正").await;
    manager.evaluate("document.querySelector('[data-card=costs]').scrollIntoView(); return null").await;
    screenshot(&manager, "order-costs-zh").await;
    for phone in [keeper, manager, technician, admin] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}
