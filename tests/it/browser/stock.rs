//! The store and its stocktakes in the browser: one bin counted by two is counted once,
//! counters who disagree recount or a manager settles, approval brings on-hand to what was
//! counted, the store refuses to issue what it does not hold, and parts used on a repair
//! leave the store once however many phones see them.

use std::time::Duration;

use serde_json::json;

use super::{PATIENCE, built_dist, choose, fits_a_phone, phone, screenshot, tap, type_into, wait_for_element};
use crate::support::{TestServer, wait_for};
use tests::chromium::Browser;

/// Counts `quantity` of `item` in `bin` on a stocktake's page; `item` is picked from the
/// list, or, as `search:<words>`, found by searching for its name or code.
async fn count(browser: &Browser, bin: &str, item: &str, quantity: &str) {
    match item.strip_prefix("search:") {
        Some(words) => {
            let search = browser.client.find(fantoccini::Locator::Css("[data-form=count] [name=item-search]")).await.unwrap();
            search.clear().await.unwrap();
            search.send_keys(words).await.unwrap();
            wait_for(&format!("{words:?} to pick its item"), PATIENCE, || async {
                browser
                    .evaluate("return document.querySelector('[data-form=count] [name=item]').value")
                    .await
                    .as_str()
                    .filter(|picked| !picked.is_empty())
                    .map(str::to_owned)
            })
            .await;
        }
        None => choose(browser, "count", "item", item).await,
    }
    let bin_field = browser.client.find(fantoccini::Locator::Css("[data-form=count] [name=bin]")).await.unwrap();
    bin_field.clear().await.unwrap();
    bin_field.send_keys(bin).await.unwrap();
    save_count(browser, quantity).await;
}

/// Types `quantity` into the count form as it stands and saves it.
async fn save_count(browser: &Browser, quantity: &str) {
    type_into(browser, "[data-form=count] [name=quantity]", quantity).await;
    let before = browser.evaluate("return document.querySelectorAll('.count-entry').length").await.as_u64().unwrap();
    tap(browser, "[data-form=count] button[type=submit]").await;
    wait_for("the count to be kept", PATIENCE, || async {
        (browser.evaluate("return document.querySelectorAll('.count-entry').length").await.as_u64() == Some(before + 1)).then_some(())
    })
    .await;
}

/// Recounts `item` in `bin` through the button on its recount line.
async fn recount(browser: &Browser, bin: &str, item: &str, quantity: &str) {
    tap(browser, &format!("li[data-recount={item}][data-bin={bin}] [data-action=recount]")).await;
    wait_for_element(browser, &format!("[data-form=count] [data-recounting={item}][data-bin={bin}]")).await;
    assert_eq!(
        browser.evaluate("const form = document.querySelector('[data-form=count]'); return [form.bin.value, form.item.value];").await,
        json!([bin, item]),
        "the recount opens on its bin and item"
    );
    save_count(browser, quantity).await;
}

/// Records a stock movement on the start page's store card.
async fn move_stock(browser: &Browser, kind: &str, item: &str, quantity: &str, reference: &str) {
    fill_movement(browser, kind, item, quantity, reference).await;
    wait_for("the movement to be recorded", PATIENCE, || async {
        (browser.evaluate("return document.querySelector('[data-form=movement] [name=quantity]').value").await == json!("")).then_some(())
    })
    .await;
}

async fn fill_movement(browser: &Browser, kind: &str, item: &str, quantity: &str, reference: &str) {
    choose(browser, "movement", "kind", kind).await;
    choose(browser, "movement", "item", item).await;
    let field = browser.client.find(fantoccini::Locator::Css("[data-form=movement] [name=quantity]")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(quantity).await.unwrap();
    type_into(browser, "[data-form=movement] [name=reference]", reference).await;
    tap(browser, "[data-form=movement] button[type=submit]").await;
}

async fn wait_for_cell(browser: &Browser, selector: &str, attribute: &str, expected: &str) {
    let script = format!("const cell = document.querySelector('{selector}'); return cell ? cell.dataset.{attribute} : null;");
    wait_for(&format!("{selector} to read {expected}"), Duration::from_secs(90), || async {
        (browser.evaluate(&script).await == json!(expected)).then_some(())
    })
    .await;
}

/// A storekeeper who is not among the demo logins, signed in on a phone of their own.
async fn second_storekeeper(server: &TestServer) -> Browser {
    super::new_person(server, "store2", "孙库管", "hq", "storekeeper").await
}

#[tokio::test]
async fn one_bin_counted_by_two_is_counted_once_disagreements_are_settled_and_approval_brings_stock_to_the_count() {
    use shared::document::catalog::{MovementKind, SiteCatalog};

    let server = TestServer::start(&built_dist()).await;
    let manager = phone(&server, "manager", "王经理").await;
    let first = phone(&server, "store", "陈库管").await;
    let second = second_storekeeper(&server).await;
    let (address, base) = (server.address, server.url("/"));

    // The demo store opens with 100 pairs of gloves and 50 bulbs. The manager starts a
    // blind count; the counters' phones hear of it.
    manager.client.goto(&format!("{base}store")).await.unwrap();
    wait_for_cell(&manager, "[data-stock=gloves] [data-on-hand]", "onHand", "100").await;
    manager.client.goto(&format!("{base}stocktakes")).await.unwrap();
    type_into(&manager, "[data-form=stocktake] [name=location]", "后勤仓库").await;
    tap(&manager, "[data-form=stocktake] button[type=submit]").await;
    manager.wait_for_text("h1", "Stocktake · 后勤仓库").await;
    manager.wait_for_text(".stocktake-page [data-state]", "Synced").await;
    let stocktake_url = manager.client.current_url().await.unwrap().to_string();
    for counter in [&first, &second] {
        counter.client.goto(&format!("{base}stocktakes")).await.unwrap();
        let link = "[data-list=stocktakes] .order-line a";
        wait_for("the stocktake on the counter's phone", Duration::from_secs(60), || async { counter.text(link).await }).await;
        tap(counter, link).await;
        counter.wait_for_text("h1", "Stocktake · 后勤仓库").await;
        counter.wait_for_text(".stocktake-page [data-state]", "Synced").await;
        // Blind: what the books say is not shown while counting.
        assert!(counter.text("[data-blind=yes]").await.is_some());
        assert_eq!(counter.evaluate("return document.querySelectorAll('[data-expected]').length").await, json!(0));
        // Nobody has counted anything: "not counted", never 0.
        counter.wait_for_text("[data-total=gloves] [data-counted]", "Not counted").await;
        assert!(counter.text("[data-form=count]").await.is_some(), "a store keeper counts");
    }
    // Someone who does not keep the store sees the count, and is offered nothing the
    // server would refuse: no count, no find, no recount.
    let technician = phone(&server, "tech", "张师傅").await;
    technician.client.goto(&stocktake_url).await.unwrap();
    technician.wait_for_text("h1", "Stocktake · 后勤仓库").await;
    technician.wait_for_text("[data-total=gloves] [data-counted]", "Not counted").await;
    let offered = technician.evaluate("return document.querySelectorAll('[data-form=count], [data-form=find], [data-action=recount], [data-action=close-count]').length").await;
    assert_eq!(offered, json!(0));
    technician.close().await;

    // Offline, both count. Shelf A-01: both 60 gloves, one shelf. C-01: only the second,
    // 40. A-02: the bulbs, 50 and 45: they disagree.
    let data = server.stop().await.unwrap();
    count(&first, "A-01", "gloves", "60").await;
    count(&first, "A-02", "search:灯泡", "50").await;
    count(&second, "A-01", "gloves", "60").await;
    count(&second, "C-01", "gloves", "40").await;
    count(&second, "A-02", "bulb-led-9w", "45").await;
    // Blind between counters too: each sees only their own count.
    wait_for_cell(&first, "[data-total=gloves] [data-counted]", "counted", "60").await;
    wait_for_cell(&second, "[data-total=gloves] [data-counted]", "counted", "100").await;
    screenshot(&second, "stocktake-counting").await;
    // Meanwhile five pairs go out to the repair team, recorded on the first phone.
    first.client.goto(&format!("{base}store")).await.unwrap();
    move_stock(&first, "issue", "gloves", "5", "维修班").await;

    // Together again: A-01 counts once (60 + 40 = 100, not 160); the bulbs await a recount.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    manager.client.refresh().await.unwrap();
    wait_for_cell(&manager, "[data-total=gloves] [data-counted]", "counted", "100").await;
    manager.wait_for_text("[data-total=bulb-led-9w] [data-counted]", "?").await;
    manager.wait_for_text("li[data-recount=bulb-led-9w][data-bin=A-02] [data-counts]", "陈库管 50, 孙库管 45").await;
    assert!(manager.text("[data-total=gloves] [data-moved=yes]").await.is_some(), "an issue during the count is flagged");
    screenshot(&manager, "stocktake-review").await;

    // Both counters see the bin to recount, without each other's numbers, and recount it
    // at once, offline again: 48 and 50. Their recounts supersede the first counts and are
    // compared with each other.
    for counter in [&first, &second] {
        counter.client.goto(&stocktake_url).await.unwrap();
        counter
            .wait_for_text("li[data-recount=bulb-led-9w][data-bin=A-02] span", "DJ-001 LED 灯泡 9W · Bin A-02 · counters disagree")
            .await;
        assert!(
            counter.text("li[data-recount=bulb-led-9w] [data-counts]").await.is_none(),
            "a blind counter does not see the others' counts"
        );
        counter.wait_for_text(".stocktake-page [data-state]", "Synced").await;
    }
    let data = server.stop().await.unwrap();
    recount(&second, "A-02", "bulb-led-9w", "48").await;
    recount(&first, "A-02", "bulb-led-9w", "50").await;
    // A plain count of the bin made after that is of the first round: it does not stand.
    count(&first, "A-02", "bulb-led-9w", "7").await;
    let server = TestServer::start_at(data, &built_dist(), address).await;
    for counter in [&first, &second] {
        counter.client.refresh().await.unwrap();
        counter.wait_for_text(".stocktake-page [data-state]", "Synced").await;
    }
    manager.client.refresh().await.unwrap();
    manager.wait_for_text("li[data-recount=bulb-led-9w][data-bin=A-02] [data-counts]", "陈库管 50, 孙库管 48").await;

    // The second counter starts correcting their C-01 entry as the manager asks for the
    // gloves to be counted again: the request arrives and shows without taking away what
    // is being typed, or where; finished after it, the correction is the one typed.
    let entry = "return [...document.querySelectorAll('.count-entry:not(.replaced)')].find((entry) => entry.textContent.startsWith('C-01'))?.dataset.entry ?? null";
    let half_typed =
        wait_for("the second counter's C-01 entry", PATIENCE, || async { second.evaluate(entry).await.as_str().map(str::to_owned) }).await;
    type_into(&second, &format!("[data-entry='{half_typed}'] [name=corrected]"), "41").await;
    tap(&manager, "[data-total=gloves] [data-action=request-recount]").await;
    manager.wait_for_text("li[data-recount=gloves][data-bin=C-01] span", "LB-010 劳保手套 · Bin C-01 · recount asked by 王经理").await;
    second.wait_for_text("li[data-recount=gloves][data-bin=C-01] span", "LB-010 劳保手套 · Bin C-01 · recount asked by 王经理").await;
    assert_eq!(
        second.evaluate(&format!("return document.querySelector(\"[data-entry='{half_typed}'] [name=corrected]\").value")).await,
        json!("41")
    );
    assert_eq!(second.evaluate("return document.activeElement.closest('[data-entry]')?.dataset.entry ?? null").await, json!(half_typed));
    tap(&second, &format!("[data-entry='{half_typed}'] button")).await;
    wait_for_cell(&manager, "[data-total=gloves] [data-counted]", "counted", "101").await;
    // Every counter sees each bin of the gloves to recount; a recount of a bin answers for it.
    recount(&second, "C-01", "gloves", "41").await;
    recount(&first, "A-01", "gloves", "60").await;
    wait_for("the gloves recounted everywhere", PATIENCE, || async {
        manager.text("li[data-recount=gloves]").await.is_none().then_some(())
    })
    .await;
    wait_for_cell(&manager, "[data-total=gloves] [data-counted]", "counted", "101").await;

    // Closed with one bin still in disagreement: approval waits.
    tap(&manager, "[data-action=close-count]").await;
    wait_for_element(&manager, "[data-action=approve-count]").await;
    wait_for_cell(&manager, "[data-blocked]", "blocked", "1").await;
    assert_eq!(manager.evaluate("return document.querySelector('[data-action=approve-count]').disabled").await, json!(true));
    screenshot(&manager, "stocktake-blocked").await;
    // The manager settles the bin at 48; approval opens.
    tap(&manager, "li[data-recount=bulb-led-9w] [data-action=settle][data-quantity='48']").await;
    wait_for("the approval to open", PATIENCE, || async {
        (manager.evaluate("return document.querySelector('[data-action=approve-count]')?.disabled").await == json!(false)).then_some(())
    })
    .await;
    wait_for_cell(&manager, "[data-total=gloves] [data-expected]", "expected", "100").await;
    wait_for_cell(&manager, "[data-total=gloves] [data-variance]", "variance", "1").await;
    tap(&manager, "[data-action=approve-count]").await;

    // Approved: on-hand becomes what was counted. Gloves: 101 counted, 100 on the books,
    // 5 issued during the count: +6. Bulbs: 48 against 50: -2. The rest were not counted
    // and keep their book quantity.
    manager.wait_for_text("[data-adjusted=gloves]", "LB-010 劳保手套 6").await;
    manager.wait_for_text("[data-adjusted=bulb-led-9w]", "DJ-001 LED 灯泡 9W -2").await;
    manager.wait_for_text("[data-settled=bulb-led-9w]", "DJ-001 LED 灯泡 9W · Bin A-02 · 48 · settled by 王经理").await;
    assert_eq!(manager.evaluate("return document.querySelector('[data-uncounted]')?.dataset.uncounted").await, json!("2"));
    let catalog_id = crate::support::catalog_of(&server, "hq");
    let adjusted = wait_for("the adjustments on the server", Duration::from_secs(60), || async {
        let catalog = SiteCatalog::from_doc(server.state.documents.load(&catalog_id).unwrap()?).ok()?.read().ok()?;
        let mut found: Vec<(String, String, String)> = catalog
            .ledger
            .iter()
            .filter(|movement| movement.kind == MovementKind::Adjust)
            .map(|movement| (movement.item.to_string(), movement.quantity.to_string(), movement.user.to_string()))
            .collect();
        found.sort();
        (found.len() == 2).then_some(found)
    })
    .await;
    assert_eq!(
        adjusted,
        [("bulb-led-9w".to_owned(), "-2".to_owned(), "manager".to_owned()), ("gloves".to_owned(), "6".to_owned(), "manager".to_owned())]
    );
    fits_a_phone(&manager, 3).await;
    manager.client.goto(&format!("{base}store")).await.unwrap();
    wait_for_cell(&manager, "[data-stock=gloves] [data-on-hand]", "onHand", "101").await;
    wait_for_cell(&manager, "[data-stock=bulb-led-9w] [data-on-hand]", "onHand", "48").await;
    wait_for_cell(&manager, "[data-stock=extinguisher-4kg] [data-on-hand]", "onHand", "3").await;
    fits_a_phone(&manager, 8).await;
    // The approved stocktake as a counter reads it, in Chinese.
    second.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&second, "input[value='zh-CN']").await;
    second.wait_for_text("h1", "设置").await;
    second.client.goto(&stocktake_url).await.unwrap();
    second.wait_for_text("[data-settled=bulb-led-9w]", "DJ-001 LED 灯泡 9W · 货位 A-02 · 48 · 由 王经理 确定").await;
    screenshot(&second, "stocktake-approved-zh").await;
    for phone in [manager, first, second] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}

/// Waits until the phone holds `document` as the server has it (it fetched it by the
/// site's index), without opening it.
async fn wait_for_document_from_server(browser: &Browser, document: &str) {
    let script = "const [document, done] = arguments;
        const open = indexedDB.open('houqin');
        open.onerror = () => done(false);
        open.onsuccess = () => {
            const db = open.result;
            const request = db.transaction(['server_heads'], 'readonly').objectStore('server_heads').get(document);
            request.onsuccess = () => { db.close(); done(Array.isArray(request.result) && request.result.length > 0); };
            request.onerror = () => { db.close(); done(false); };
        };";
    wait_for(&format!("{document} on the phone"), Duration::from_secs(90), || async {
        (browser.client.execute_async(script, vec![json!(document)]).await.unwrap() == json!(true)).then_some(())
    })
    .await;
}

/// A technician's phone that recorded parts on an order but never issued them (a release
/// from before parts left the store by themselves): a native client, as `tech`.
async fn push_completed_order_with_parts(server: &TestServer) -> shared::protocol::DocumentId {
    use shared::directory::{SiteId, Username};
    use shared::document::catalog::{IndexEntry, SiteCatalog};
    use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority, WorkOrder};
    use shared::document::{DocumentType, Edit, EntryId};
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use shared::protocol::{DocumentId, PeerId};
    use shared::quantity::Quantity;
    use tests::native_client::{now, sync_until};

    let catalog_id = crate::support::catalog_of(server, "hq");
    let mut client = Client::new(ClientConfig::new(PeerId("phone-tech-old".to_owned())), now());
    client.request_document(catalog_id);
    sync_until(&mut client, &server.sync_url("tech"), PATIENCE, |client| client.status(&catalog_id) == Some(SyncStatus::Synced))
        .await
        .unwrap();
    let actor = automerge::ActorId::from([0x7e; 16]);
    let edit = |at: i64| Edit::new(Username::parse("tech").unwrap(), now().plus_millis(at));
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: "走廊灯不亮".to_owned(),
        description: String::new(),
        location: "admin-1f".to_owned(),
        asset: None,
        category: Category::Electrical,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    let mut order = WorkOrder::report(actor.clone(), &new, &EntryId::parse("e1").unwrap(), &edit(0)).unwrap();
    order.record(&EntryId::parse("e2").unwrap(), &EventKind::Started, &edit(1));
    order.add_part(&EntryId::parse("bulbs").unwrap(), "bulb-led-9w", Quantity::units(2), &edit(2)).unwrap();
    order.record(&EntryId::parse("e3").unwrap(), &EventKind::Completed { notes: "换了两个灯泡".to_owned() }, &edit(3));
    let id = DocumentId::from_bytes([0x42; 16]);
    let mut catalog = SiteCatalog::from_doc(client.document(&catalog_id).unwrap().clone().with_actor(actor.clone())).unwrap();
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::WorkOrder,
        title: new.title.clone(),
        status: "completed".to_owned(),
        location: new.location.clone(),
        updated_at: edit(3).at,
    };
    catalog.index_document(&entry, &edit(3)).unwrap();
    *client.document_mut(&catalog_id).unwrap() = catalog.into_doc();
    client.handle_local_change(&catalog_id);
    client.add_document(id, order.into_doc());
    sync_until(&mut client, &server.sync_url("tech"), PATIENCE, |client| {
        [id, catalog_id].iter().all(|id| client.status(id) == Some(SyncStatus::Synced))
    })
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn the_store_refuses_to_issue_what_it_lacks_and_parts_used_leave_it_once_whichever_phones_see_them() {
    use shared::document::catalog::SiteCatalog;

    let server = TestServer::start(&built_dist()).await;
    let manager = phone(&server, "manager", "王经理").await;
    let keeper = phone(&server, "store", "陈库管").await;
    let (address, base) = (server.address, server.url("/"));
    keeper.client.goto(&format!("{base}store")).await.unwrap();

    // 50 bulbs on hand: issuing 60 is refused, in the reader's words, and nothing moves.
    wait_for_cell(&keeper, "[data-stock=bulb-led-9w] [data-on-hand]", "onHand", "50").await;
    fill_movement(&keeper, "issue", "bulb-led-9w", "60", "维修班").await;
    keeper.wait_for_text("[data-form=movement] [role=alert]", "Only 50 个 of LED 灯泡 9W on hand: cannot take out 60 个").await;
    wait_for_cell(&keeper, "[data-stock=bulb-led-9w] [data-on-hand]", "onHand", "50").await;
    screenshot(&keeper, "store-refused").await;
    // 3 extinguishers against a reorder point of 4: listed to reorder.
    keeper
        .wait_for_text("[data-list=reorder] [data-reorder-item=extinguisher-4kg]", "XF-004 干粉灭火器 4kg · 3 具 (reorder point 4)")
        .await;

    // An order completed with two bulbs on a phone that did not issue them reaches both
    // phones; offline, each opens it and issues the parts.
    let order = push_completed_order_with_parts(&server).await;
    for browser in [&manager, &keeper] {
        wait_for_document_from_server(browser, &order.to_string()).await;
    }
    let data = server.stop().await.unwrap();
    for browser in [&manager, &keeper] {
        browser.client.goto(&format!("{base}orders/{order}")).await.unwrap();
        browser.wait_for_text("h1", "走廊灯不亮").await;
        browser.wait_for_prefix(".order-page [data-state]", "Synced").await;
        browser.client.goto(&format!("{base}store")).await.unwrap();
        wait_for_cell(browser, "[data-stock=bulb-led-9w] [data-on-hand]", "onHand", "48").await;
    }

    // Together again: the two phones made one movement, and the store has 48 bulbs.
    let server = TestServer::start_at(data, &built_dist(), address).await;
    for browser in [&manager, &keeper] {
        browser.client.refresh().await.unwrap();
        browser.wait_for_text("[data-sync]", "Synced").await;
    }
    let catalog_id = crate::support::catalog_of(&server, "hq");
    let issued = wait_for("both phones' catalogs on the server", Duration::from_secs(60), || async {
        let catalog = SiteCatalog::from_doc(server.state.documents.load(&catalog_id).unwrap()?).ok()?.read().ok()?;
        let issued: Vec<String> = catalog
            .ledger
            .iter()
            .filter(|movement| movement.reference == order.url())
            .map(|movement| format!("{} {} {}", movement.kind.as_str(), movement.item, movement.quantity))
            .collect();
        let on_hand = catalog.on_hand()[&shared::document::EntryId::parse("bulb-led-9w").unwrap()];
        (!issued.is_empty()).then_some((issued, on_hand.to_string()))
    })
    .await;
    assert_eq!(issued, (vec!["issue bulb-led-9w 2".to_owned()], "48".to_owned()));
    wait_for_cell(&keeper, "[data-stock=bulb-led-9w] [data-on-hand]", "onHand", "48").await;

    // The bulbs' history: who moved how many, when, and for which order.
    tap(&keeper, "[data-stock=bulb-led-9w] a").await;
    keeper.wait_for_text(".stock-history h1", "DJ-001 LED 灯泡 9W").await;
    let lines = keeper.evaluate("return [...document.querySelectorAll('.stock-history [data-movement]')].map((row) => [row.dataset.kind, row.querySelector('[data-delta]').dataset.delta, row.querySelector('[data-after]').dataset.after])").await;
    assert_eq!(lines, json!([["issue", "-2", "48"], ["receive", "50", "50"]]));
    keeper.wait_for_text("[data-movement^=part-] a[data-order]", "Work order 走廊灯不亮").await;
    let who = keeper.evaluate("return document.querySelector('[data-movement^=opening-] .muted').textContent").await;
    assert_eq!(who, json!("系统管理员"), "people by their names: the demo's opening stock was received by the admin");
    screenshot(&keeper, "stock-history").await;
    fits_a_phone(&keeper, 3).await;

    // One bulb was not used after all: corrected on the order, the ledger takes it back.
    keeper.client.goto(&format!("{base}orders/{order}")).await.unwrap();
    type_into(&keeper, "[data-part=bulbs] [data-form=correct-part] [name=quantity]", "1").await;
    tap(&keeper, "[data-part=bulbs] [data-form=correct-part] button").await;
    wait_for_element(&keeper, "[data-part=bulbs][data-quantity='1']").await;
    keeper.client.goto(&format!("{base}store")).await.unwrap();
    wait_for_cell(&keeper, "[data-stock=bulb-led-9w] [data-on-hand]", "onHand", "49").await;
    let corrected = wait_for("the correction on the server", Duration::from_secs(60), || async {
        let catalog = SiteCatalog::from_doc(server.state.documents.load(&catalog_id).unwrap()?).ok()?.read().ok()?;
        let mut moves: Vec<String> = catalog
            .ledger
            .iter()
            .filter(|movement| movement.reference == order.url())
            .map(|movement| format!("{} {}", movement.kind.as_str(), movement.quantity))
            .collect();
        moves.sort();
        (moves.len() == 2).then_some(moves)
    })
    .await;
    assert_eq!(corrected, ["adjust 1", "issue 2"]);

    // In Chinese: 物料, not 检查项, and the same history in Chinese words.
    keeper.client.goto(&format!("{base}settings")).await.unwrap();
    tap(&keeper, "input[value='zh-CN']").await;
    keeper.wait_for_text("h1", "设置").await;
    keeper.client.goto(&format!("{base}store")).await.unwrap();
    keeper.wait_for_text("[data-list=reorder] h3", "需补货 (1)").await;
    assert_eq!(
        keeper
            .evaluate("return document.querySelector('[data-stock]').closest('table').querySelector('th:nth-child(2)').textContent")
            .await,
        json!("物料")
    );
    keeper.evaluate("document.querySelector('[data-list=reorder]').scrollIntoView(); return null").await;
    screenshot(&keeper, "store-zh").await;
    tap(&keeper, "[data-stock=bulb-led-9w] a").await;
    keeper.wait_for_text("[data-movement^=part-] a[data-order]", "工单 走廊灯不亮").await;
    screenshot(&keeper, "stock-history-zh").await;
    for phone in [manager, keeper] {
        phone.close().await;
    }
    server.stop().await.unwrap();
}
