//! Work given to a contractor, in the browser: a manager gives a reported fault to one of
//! the site's contractors and gets their link; the contractor, with no account, marks it
//! started and done on a phone of their own; the manager's order page shows it done by the
//! contractor, in English and Chinese.

use serde_json::json;

use super::{PATIENCE, built_dist, choose, fits_a_phone, phone, screenshot, tap, type_into, wait_for_element};
use crate::support::{TestServer, wait_for};
use tests::chromium::Browser;

/// An administrator's phone adds the lift company to the site's contractors, and an
/// inspector's reports a fault, both through a native client: what the order page needs.
async fn a_fault_and_a_contractor(server: &TestServer) -> shared::protocol::DocumentId {
    use shared::document::catalog::{IndexEntry, SiteCatalog, Vendor};
    use shared::document::{DocumentType, EntryId};
    use shared::protocol::DocumentId;
    use shared::protocol::PeerId;
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use tests::native_client::{now, sync_until};

    let catalog_id = crate::support::catalog_of(server, "hq");
    let mut admin = Client::new(ClientConfig::new(PeerId("phone-admin".to_owned())), now());
    admin.request_document(catalog_id);
    let synced = |id: DocumentId| move |client: &Client| client.status(&id) == Some(SyncStatus::Synced);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced(catalog_id)).await.unwrap();
    let vendor = Vendor {
        id: EntryId::parse("lifts").unwrap(),
        name: "迅达电梯维保".into(),
        trade: "other".into(),
        contact: "刘工".into(),
        phone: "138 0000 0000".into(),
        contract_from: None,
        contract_to: None,
    };
    SiteCatalog::edit_in(admin.document_mut(&catalog_id).unwrap(), |catalog| catalog.put_vendor(&vendor, &crate::sync::edit("admin")))
        .unwrap()
        .unwrap();
    admin.handle_local_change(&catalog_id);
    sync_until(&mut admin, &server.sync_url("admin"), PATIENCE, synced(catalog_id)).await.unwrap();

    let mut inspector = Client::new(ClientConfig::new(PeerId("phone-inspector".to_owned())), now());
    inspector.request_document(catalog_id);
    sync_until(&mut inspector, &server.sync_url("inspector"), PATIENCE, synced(catalog_id)).await.unwrap();
    let id = DocumentId::from_bytes([0x6c; 16]);
    inspector.add_document(id, crate::sync::order_by("inspector", "hq", "电梯运行有异响"));
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::WorkOrder,
        title: "电梯运行有异响".into(),
        status: "reported".into(),
        location: "hq-b1".into(),
        updated_at: now(),
    };
    SiteCatalog::edit_in(inspector.document_mut(&catalog_id).unwrap(), |catalog| {
        catalog.index_document(&entry, &crate::sync::edit("inspector"))
    })
    .unwrap()
    .unwrap();
    inspector.handle_local_change(&catalog_id);
    sync_until(&mut inspector, &server.sync_url("inspector"), PATIENCE, |client| {
        [id, catalog_id].iter().all(|id| client.status(id) == Some(SyncStatus::Synced))
    })
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn a_manager_gives_a_fault_to_a_contractor_who_marks_it_done_by_their_link() {
    let server = TestServer::start(&built_dist()).await;
    let id = a_fault_and_a_contractor(&server).await;
    let manager = phone(&server, "manager", "王经理").await;
    let base = server.url("/");

    manager.client.goto(&format!("{base}orders/{id}")).await.unwrap();
    tap(&manager, "[data-action=order-contract]").await;
    choose(&manager, "order-contract", "vendor", "lifts").await;
    tap(&manager, "[data-form=order-contract] button[type=submit]").await;
    manager.wait_for_text("[data-vendor=lifts]", "迅达电梯维保 · 刘工 · 138 0000 0000").await;
    wait_for_element(&manager, "[data-order-status=assigned]").await;
    // The server makes the link once the change has reached it.
    wait_for_element(&manager, ".order-badges [data-state=synced]").await;
    tap(&manager, "[data-action=contractor-link]").await;
    wait_for_element(&manager, "[name=contractor-link]").await;
    let link = manager.evaluate("return document.querySelector('[name=contractor-link]').value").await;
    let link = link.as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{base}c/")), "{link}");
    screenshot(&manager, "order-contractor").await;
    fits_a_phone(&manager, 4).await;

    // The contractor's own phone, never signed in: the link in English, then started and done.
    let contractor = Browser::start().await;
    contractor.client.set_window_size(360, 800).await.unwrap();
    contractor.client.goto(&format!("{link}?lang=en")).await.unwrap();
    contractor.wait_for_text("header h1", "Contracted work").await;
    wait_for_element(&contractor, "[data-standing=to_start]").await;
    screenshot(&contractor, "contractor-page").await;
    // The other language, "started" and "done".
    fits_a_phone(&contractor, 3).await;
    tap(&contractor, "#start").await;
    wait_for_element(&contractor, "[data-standing=working]").await;
    type_into(&contractor, "#notes", "Replaced the traction sheave bearing").await;
    tap(&contractor, "#done button").await;
    wait_for_element(&contractor, "[data-standing=done]").await;
    screenshot(&contractor, "contractor-page-done").await;
    contractor.client.goto(&format!("{link}?lang=zh")).await.unwrap();
    contractor.wait_for_text("header h1", "外包维修").await;
    screenshot(&contractor, "contractor-page-zh").await;
    contractor.close().await;

    // The manager's phone hears of it: done by the contractor, with what they did.
    wait_for_element(&manager, "[data-order-status=completed]").await;
    wait_for("the contractor's completion in the timeline", PATIENCE, || async {
        let timeline = manager.evaluate("return document.querySelector('.order-page').innerText").await;
        timeline
            .as_str()
            .is_some_and(|text| text.contains("Contractor") && text.contains("Replaced the traction sheave bearing"))
            .then_some(())
    })
    .await;
    assert_eq!(
        manager.evaluate("return document.querySelector('[data-card=contractor-link]') === null").await,
        json!(true),
        "done: no link to hand out any more"
    );
    screenshot(&manager, "order-contractor-done").await;
    manager.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&manager, "input[value='zh-CN']").await;
    manager.wait_for_text("h1", "设置").await;
    manager.client.goto(&format!("{base}orders/{id}")).await.unwrap();
    manager.wait_for_text("[data-vendor=lifts]", "迅达电梯维保 · 刘工 · 138 0000 0000").await;
    wait_for("the timeline in Chinese", PATIENCE, || async {
        let text = manager.evaluate("return document.querySelector('.order-page').innerText").await;
        text.as_str().is_some_and(|text| text.contains("承包单位") && text.contains("外包给 迅达电梯维保")).then_some(())
    })
    .await;
    screenshot(&manager, "order-contractor-zh").await;
    manager.close().await;
    server.stop().await.unwrap();
}
