//! A canteen's food samples in the browser: an inspector starts a meal's log offline and
//! samples its dishes (too light a sample refused), a manager's phone gets it by sync; a
//! sample thrown away before its 48 hours is flagged, and a meal sampled two days ago is on
//! the to-do page to discard, in English and Chinese.

use std::time::Duration;

use serde_json::json;

use super::{PATIENCE, TINY_PNG, built_dist, choose, fits_a_phone, phone, screenshot, tap, type_into, wait_for_element};
use crate::support::{TestServer, wait_for};

/// An inspector's old phone that sampled a lunch two days ago and never discarded it:
/// pushed through a native client, listed in the site's index.
async fn push_lunch_of_two_days_ago(server: &TestServer) -> shared::protocol::DocumentId {
    use shared::directory::{SiteId, Username};
    use shared::document::catalog::{IndexEntry, SiteCatalog};
    use shared::document::food_samples::{FoodSamples, NewMeal, NewSample};
    use shared::document::{DocumentType, Edit, EntryId};
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use shared::protocol::{DocumentId, PeerId};
    use tests::native_client::{now, sync_until};

    let catalog_id = crate::support::catalog_of(server, "hq");
    let mut client = Client::new(ClientConfig::new(PeerId("phone-inspector-old".to_owned())), now());
    client.request_document(catalog_id);
    sync_until(&mut client, &server.sync_url("inspector"), PATIENCE, |client| client.status(&catalog_id) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    let actor = automerge::ActorId::from([0x5a; 16]);
    let two_days_ago = now().plus_millis(-50 * 3_600_000);
    let edit = Edit::new(Username::parse("inspector").unwrap(), two_days_ago);
    let new = NewMeal { site: SiteId::parse("hq").unwrap(), canteen: "canteen".into(), meal: "lunch".into(), date: two_days_ago.date() };
    let mut meal = FoodSamples::start(actor.clone(), &new, &edit).unwrap();
    let dish = NewSample { dish: "宫保鸡丁".into(), grams: 140, storage: "store".into(), photo: None };
    meal.add_sample(&EntryId::parse("old").unwrap(), &dish, &edit).unwrap();
    let id = DocumentId::from_bytes([0x5b; 16]);
    let mut catalog = SiteCatalog::from_doc(client.document(&catalog_id).unwrap().clone().with_actor(actor)).unwrap();
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::FoodSamples,
        title: format!("{} lunch", new.date),
        status: "keeping".to_owned(),
        location: "canteen".to_owned(),
        updated_at: two_days_ago,
    };
    catalog.index_document(&entry, &edit).unwrap();
    *client.document_mut(&catalog_id).unwrap() = catalog.into_doc();
    client.handle_local_change(&catalog_id);
    client.add_document(id, meal.into_doc());
    sync_until(&mut client, &server.sync_url("inspector"), PATIENCE, |client| {
        [id, catalog_id].iter().all(|id| client.status(id) == Some(SyncStatus::Synced))
    })
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn a_meal_is_sampled_offline_a_sample_discarded_early_is_flagged_and_old_ones_wait_to_be_discarded() {
    let server = TestServer::start(&built_dist()).await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    let manager = phone(&server, "manager", "王经理").await;
    let (address, base) = (server.address, server.url("/"));

    // In the canteen's kitchen there is no coverage: the log is started and filled offline.
    let data = server.stop().await.unwrap();
    // The rounds page leads there (followed by address: the board still filling in above
    // would move the link from under a tap).
    inspector.client.goto(&format!("{base}rounds")).await.unwrap();
    wait_for_element(&inspector, "[data-action=food-samples]").await;
    let link = inspector.evaluate("return document.querySelector('[data-action=food-samples]').getAttribute('href')").await;
    assert_eq!(link, json!("/samples"));
    inspector.client.goto(&format!("{base}samples")).await.unwrap();
    inspector.wait_for_text("h1", "Food samples").await;
    choose(&inspector, "meal", "place", "canteen").await;
    choose(&inspector, "meal", "meal", "lunch").await;
    tap(&inspector, "[data-form=meal] button[type=submit]").await;
    inspector.wait_for_prefix("h1", "Food samples · ").await;
    let id = inspector.evaluate("return document.querySelector('[data-meal]').dataset.meal").await;
    let id = id.as_str().unwrap().to_owned();

    type_into(&inspector, "[data-form=sample] [name=dish]", "红烧肉").await;
    type_into(&inspector, "[data-form=sample] [name=grams]", "100").await;
    choose(&inspector, "sample", "place", "store").await;
    tap(&inspector, "[data-form=sample] button[type=submit]").await;
    inspector.wait_for_text("[data-form=sample] [role=alert]", "Each sample weighs at least 125 g.").await;
    let grams = inspector.client.find(fantoccini::Locator::Css("[data-form=sample] [name=grams]")).await.unwrap();
    grams.clear().await.unwrap();
    grams.send_keys("150").await.unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("pork.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    type_into(&inspector, "[data-form=sample] [name=photo]", photo.to_str().unwrap()).await;
    tap(&inspector, "[data-form=sample] button[type=submit]").await;
    wait_for_element(&inspector, "[data-sample][data-state=keeping]").await;
    // The fridge stays chosen for the next dish.
    type_into(&inspector, "[data-form=sample] [name=dish]", "炒青菜").await;
    type_into(&inspector, "[data-form=sample] [name=grams]", "130").await;
    tap(&inspector, "[data-form=sample] button[type=submit]").await;
    wait_for("two samples kept", PATIENCE, || async {
        (inspector.evaluate("return document.querySelectorAll('[data-sample][data-state=keeping]').length").await == json!(2)).then_some(())
    })
    .await;
    let fridges = inspector.evaluate("return [...document.querySelectorAll('[data-sample]')].map((row) => row.dataset.storage)").await;
    assert_eq!(fridges, json!(["store", "store"]), "the second dish went in the fridge the first did");
    screenshot(&inspector, "meal-samples").await;
    fits_a_phone(&inspector, 4).await;

    // Back in coverage, the manager's phone has the meal; one sample thrown away at once is
    // flagged as discarded before its 48 hours.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    inspector.client.refresh().await.unwrap();
    inspector.wait_for_text("[data-sync]", "Synced").await;
    let meal_id = shared::protocol::DocumentId::parse(&id).unwrap();
    let stored = wait_for("the meal on the server", PATIENCE, || async {
        let doc = server.state.documents.load(&meal_id).unwrap()?;
        let meal = shared::document::food_samples::FoodSamples::from_doc(doc).ok()?.read().ok()?;
        (meal.samples.len() == 2).then_some(meal)
    })
    .await;
    let photo = stored.samples.iter().find_map(|sample| sample.photo.clone()).expect("the pork's photo");
    let sha256 = server::blobs::parse_sha256(&photo.sha256).unwrap();
    wait_for("the sample's photo to be uploaded", PATIENCE, || async { server.state.blobs.get(&sha256).unwrap() }).await;
    manager.client.goto(&format!("{base}samples")).await.unwrap();
    wait_for_element(&manager, &format!("[data-list=meals] [data-meal='{id}']")).await;
    manager.client.goto(&format!("{base}samples/{id}")).await.unwrap();
    wait_for_element(&manager, "[data-sample] [data-action=discard]").await;
    manager.evaluate("window.confirm = () => true; return null").await;
    tap(&manager, "[data-sample] [data-action=discard]").await;
    wait_for_element(&manager, "[data-sample][data-state=discarded_early]").await;
    manager.wait_for_text("[data-state=discarded_early] [data-badge]", "Discarded before 48 h").await;
    screenshot(&manager, "meal-samples-discarded-early").await;

    // A lunch sampled two days ago and still in the fridge waits on the to-do page.
    let old = push_lunch_of_two_days_ago(&server).await;
    inspector.client.goto(&base).await.unwrap();
    wait_for_element(&inspector, &format!("[data-card=samples-to-discard] [data-meal='{old}']")).await;
    inspector.wait_for_text("[data-card=samples-to-discard] h2", "Samples to discard (1)").await;
    screenshot(&inspector, "samples-to-discard").await;
    tap(&inspector, &format!("[data-card=samples-to-discard] [data-meal='{old}'] a")).await;
    wait_for_element(&inspector, "[data-sample][data-state=to_discard]").await;
    inspector.evaluate("window.confirm = () => true; return null").await;
    tap(&inspector, "[data-sample] [data-action=discard]").await;
    wait_for_element(&inspector, "[data-sample][data-state=discarded]").await;
    inspector.client.goto(&base).await.unwrap();
    wait_for("nothing left to discard", Duration::from_secs(30), || async {
        (inspector.evaluate("return document.querySelector('[data-card=samples-to-discard]') === null").await == json!(true)).then_some(())
    })
    .await;

    // In Chinese.
    inspector.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&inspector, "input[value='zh-CN']").await;
    inspector.wait_for_text("h1", "设置").await;
    inspector.client.goto(&format!("{base}samples/{id}")).await.unwrap();
    inspector.wait_for_text("[data-state=discarded_early] [data-badge]", "未满 48 小时即处理").await;
    screenshot(&inspector, "meal-samples-zh").await;
    inspector.client.goto(&format!("{base}samples")).await.unwrap();
    inspector.wait_for_text("h1", "食品留样").await;
    screenshot(&inspector, "samples-zh").await;
    for phone in [inspector, manager] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}
