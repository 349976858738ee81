//! The manager's dashboard in the browser: a round submitted offline shows in it once the
//! inspector's phone syncs; offline, the dashboard shows the figures it kept and their age.

use serde_json::json;

use super::{PATIENCE, answer, built_dist, fits_a_phone, phone, press, read_out, screenshot, tap, type_into, wait_for_element};
use crate::support::{TestServer, wait_for};

#[tokio::test]
async fn the_dashboard_shows_a_round_submitted_offline_once_it_syncs() {
    use fantoccini::Locator::Css;

    let server = TestServer::start(&built_dist()).await;
    let manager = phone(&server, "manager", "王经理").await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    tap(&manager, "[data-tab=dashboard]").await;
    manager.wait_for_text("[data-kpi=inspections] .tile-value", "0 rounds").await;
    manager.wait_for_prefix("[data-age=fresh]", "As of ").await;
    let (address, base) = (server.address, server.url("/"));
    let data = server.stop().await.unwrap();

    // In the basement: an electrical round of the store, every required item passed.
    inspector.client.goto(&format!("{base}rounds")).await.unwrap();
    wait_for_element(&inspector, "[data-form=round] select[name=template]").await;
    let form = inspector.client.find(Css("[data-form=round]")).await.unwrap();
    form.find(Css("select[name=template]")).await.unwrap().select_by_label("Electrical safety round").await.unwrap();
    form.find(Css("select[name=place]")).await.unwrap().select_by_value("store").await.unwrap();
    press(&inspector, form.find(Css("button[type=submit]")).await.unwrap()).await;
    inspector.wait_for_text("h1", "Electrical safety round").await;
    for item in ["room-locked", "insulation-mats", "breakers-labelled", "no-overload", "rcd-test"] {
        answer(&inspector, item, "pass").await;
    }
    read_out(&inspector, "cabinet-temperature", "45").await;
    tap(&inspector, "[data-action=submit-round]").await;
    inspector.wait_for_prefix("[data-round=submitted]", "Submitted by 李安全员 at ").await;

    // The manager, offline too, still reads the figures kept, with their age.
    manager.client.refresh().await.unwrap();
    manager.wait_for_prefix("[data-age=kept]", "Offline: figures kept on this phone, fetched").await;
    manager.wait_for_text("[data-kpi=inspections] .tile-value", "0 rounds").await;

    // Back in coverage: the inspector's phone syncs, and the dashboard shows the round.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    inspector.client.goto(&base).await.unwrap();
    wait_for("the inspector's phone to sync", PATIENCE * 3, || async {
        (inspector.text("[data-sync]").await.as_deref() == Some("Synced")).then_some(())
    })
    .await;
    wait_for("the dashboard to show the round", PATIENCE * 2, || async {
        manager.client.refresh().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        (manager.text("[data-kpi=inspections] .tile-value").await.as_deref() == Some("1 round")).then_some(())
    })
    .await;
    manager.wait_for_prefix("[data-age=fresh]", "As of ").await;
    manager.wait_for_text("[data-kpi=inspections] .tile-detail", "Pass rate 100.0%").await;
    assert_eq!(
        manager.evaluate("return [...document.querySelectorAll('[data-chart=places] [data-bar]')].map((bar) => bar.dataset.bar)").await,
        json!(["后勤仓库"])
    );
    assert_eq!(
        manager.evaluate("return [...document.querySelectorAll('[data-chart=checklists] [data-bar]')].map((bar) => bar.dataset.bar)").await,
        json!(["Electrical safety round"])
    );
    screenshot(&manager, "dashboard").await;
    fits_a_phone(&manager, 10).await;

    // Drilling down: the rounds tile opens the rounds list, which has it; its page shows
    // who changed it, from which device.
    tap(&manager, "[data-kpi=inspections]").await;
    wait_for_element(&manager, "[data-list=documents] [data-status=submitted] a").await;
    tap(&manager, "[data-list=documents] [data-status=submitted] a").await;
    manager.wait_for_text("h1", "用电安全巡检").await;
    wait_for_element(&manager, "[data-list=history] [data-user=inspector]").await;
    manager.wait_for_text("[data-conflicts]", "No conflicts.").await;
    // The history reads as sentences: the person by name, the item by its checklist name,
    // the answer as given, the device as the person's phone.
    let said = "return [...document.querySelectorAll('[data-list=history] .history-entry')].map((entry) => entry.querySelector('.who').textContent + ' ' + entry.querySelector('[data-what]').textContent)";
    let history = wait_for("the history's sentences", PATIENCE, || async {
        let lines = manager.evaluate(said).await;
        lines
            .as_array()
            .is_some_and(|lines| lines.iter().any(|line| line == "李安全员 answered Cabinet temperature (°C): 45 °C"))
            .then_some(lines)
    })
    .await;
    let history = history.to_string();
    assert!(
        history.contains("李安全员 answered Room locked, free of clutter: Pass") && history.contains("李安全员 submitted the round"),
        "{history}"
    );
    assert!(!history.contains("-/room-locked") && !history.contains("\"inspector "), "no keys, no user names: {history}");
    manager.wait_for_prefix("[data-list=devices] li", "李安全员's phone 1: first ").await;
    screenshot(&manager, "document-review").await;
    // In Chinese, the same history in Chinese words.
    let review_page = manager.client.current_url().await.unwrap().to_string();
    manager.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&manager, "input[value='zh-CN']").await;
    manager.wait_for_text("h1", "设置").await;
    manager.client.goto(&review_page).await.unwrap();
    wait_for("the history in Chinese", PATIENCE, || async {
        let lines = manager.evaluate(said).await.to_string();
        (lines.contains("李安全员 回答了 配电房上锁、无杂物: 合格") && lines.contains("李安全员 提交了检查")).then_some(())
    })
    .await;
    screenshot(&manager, "document-review-zh").await;
    manager.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&manager, "input[value=en]").await;
    manager.wait_for_text("h1", "Settings").await;

    // The list keeps its filter when left and come back to, shows it as a chip that clears
    // it, and exports the list as a file.
    manager.client.goto(&format!("{base}dashboard")).await.unwrap();
    tap(&manager, "[data-kpi=overdue]").await;
    manager.wait_for_text("[data-chip=overdue]", "Overdue ×").await;
    manager.wait_for_text("[data-empty]", "No work order here is overdue.").await;
    tap(&manager, "[data-chip=overdue]").await;
    wait_for("the chip to go", PATIENCE, || async { manager.text("[data-chip]").await.is_none().then_some(()) }).await;
    manager.client.goto(&format!("{base}dashboard?type=inspection&status=submitted")).await.unwrap();
    manager.wait_for_text("[data-chip=status]", "Submitted ×").await;
    wait_for_element(&manager, "[data-list=documents] [data-status=submitted] a").await;
    tap(&manager, "[data-list=documents] [data-status=submitted] a").await;
    manager.wait_for_text("h1", "用电安全巡检").await;
    manager.client.back().await.unwrap();
    manager.wait_for_text("[data-chip=status]", "Submitted ×").await;
    assert_eq!(manager.evaluate("return document.querySelector('select[name=type]').value").await, json!("inspection"));
    tap(&manager, "[data-action=export-csv]").await;
    let downloaded = manager.downloads().join("hq-inspection.csv");
    let bytes =
        wait_for("the CSV file to be downloaded", PATIENCE, || async { std::fs::read(&downloaded).ok().filter(|bytes| !bytes.is_empty()) })
            .await;
    let csv = String::from_utf8(bytes).unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains("用电安全巡检"), "{csv}");
    assert_eq!(manager.evaluate("return location.pathname").await, json!("/dashboard"), "the app's router leaves the file to the browser");

    // On the round's page, a review note being written stays, as typed, while another
    // reviewer's note arrives; saved, the manager's is the one in force.
    let round_page = format!("{base}rounds/{}", review_page.rsplit('/').next().unwrap());
    manager.client.goto(&round_page).await.unwrap();
    type_into(&manager, "[data-form=review] [name=review]", "灭火器需补充").await;
    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&round_page).await.unwrap();
    type_into(&admin, "[data-form=review] [name=review]", "已核对").await;
    tap(&admin, "[data-form=review] button[type=submit]").await;
    manager.wait_for_text("[data-review=admin] p", "已核对").await;
    assert_eq!(manager.evaluate("return document.querySelector('[data-form=review] [name=review]').value").await, json!("灭火器需补充"));
    tap(&manager, "[data-form=review] button[type=submit]").await;
    manager.wait_for_text("[data-review=manager] p", "灭火器需补充").await;
    admin.wait_for_text("[data-review=manager] p", "灭火器需补充").await;
    admin.close().await;
    manager.close().await;
    inspector.close().await;
    server.stop().await.unwrap();
}
