//! Administration driven through the app: a new site with its rooms and a person who then
//! sees only that site; a checklist built, published and walked on another phone; a CSV
//! import with a wrong row that imports nothing; a site of a thousand rooms listed in a
//! window that follows the scroll; a site's notifications and what became of each.

use fantoccini::Locator::Css;
use serde_json::json;
use shared::document::catalog::SiteCatalog;
use shared::document::inspection::Inspection;
use shared::document::template::ChecklistTemplate;
use shared::protocol::DocumentId;

use super::{Browser, PATIENCE, choose, fits_a_phone, phone, screenshot, sign_in, tap, type_into, wait_for_element};
use crate::support::{TestServer, built_dist, catalog_of, wait_for};

/// A site's catalog as the server holds it now.
fn read_catalog(server: &TestServer, site: &str) -> Option<shared::document::catalog::CatalogView> {
    SiteCatalog::from_doc(server.state.documents.load(&catalog_of(server, site)).ok()??).ok()?.read().ok()
}

/// Submits the form `form` with its submit button.
async fn send(browser: &Browser, form: &str) {
    tap(browser, &format!("[data-form={form}] button[type=submit]")).await;
}

/// Picks the option whose text is `label` in the select `name` of the form `form`.
async fn choose_label(browser: &Browser, form: &str, name: &str, label: &str) {
    let selector = format!("[data-form={form}] select[name={name}]");
    let offered = format!(
        "const select = document.querySelector('{selector}'); return select !== null && [...select.options].some((option) => option.textContent === {});",
        json!(label)
    );
    wait_for(&format!("{selector} to offer {label}"), PATIENCE, || async {
        (browser.evaluate(&offered).await == json!(true)).then_some(())
    })
    .await;
    browser.client.find(Css(&selector)).await.unwrap().select_by_label(label).await.unwrap();
}

/// The values of `attribute` on every element `selector` finds, in page order.
async fn all(browser: &Browser, selector: &str, attribute: &str) -> serde_json::Value {
    browser
        .evaluate(&format!("return [...document.querySelectorAll({})].map((element) => element.dataset.{attribute})", json!(selector)))
        .await
}

/// Adds a place through the place form.
async fn add_place(browser: &Browser, kind: &str, parent: Option<&str>, name: &str, code: &str) {
    choose(browser, "place", "kind", kind).await;
    if let Some(parent) = parent {
        choose_label(browser, "place", "parent", parent).await;
    }
    type_into(browser, "[data-form=place] input[name=name]", name).await;
    type_into(browser, "[data-form=place] input[name=code]", code).await;
    send(browser, "place").await;
    wait_for_element(browser, &format!("[data-list=places] [data-place={code}]")).await;
}

#[tokio::test]
async fn an_administrator_sets_up_a_site_with_rooms_and_a_person_who_then_sees_only_that_site() {
    let server = TestServer::start(&built_dist()).await;
    let admin = phone(&server, "admin", "系统管理员").await;
    tap(&admin, "[data-tab=admin]").await;
    wait_for_element(&admin, "[data-backup=none]").await;
    type_into(&admin, "[data-form=new-site] input[name=site-id]", "plant3").await;
    type_into(&admin, "[data-form=new-site] input[name=site-name]", "三厂").await;
    send(&admin, "new-site").await;
    // The phone learns of the site it now runs, and syncs its catalog.
    tap(&admin, ".admin-sites [data-site=plant3] a").await;
    admin.wait_for_text("h1[data-site=plant3]", "三厂").await;
    wait_for_element(&admin, "[data-form=place]").await;
    add_place(&admin, "building", None, "三厂宿舍楼", "P3-D").await;
    add_place(&admin, "room", Some("P3-D 三厂宿舍楼"), "101", "P3-D-101").await;
    add_place(&admin, "room", Some("P3-D 三厂宿舍楼"), "102", "P3-D-102").await;
    assert_eq!(
        all(&admin, "[data-list=places] [data-place]", "place").await,
        json!(["P3-D", "P3-D-101", "P3-D-102"]),
        "rooms listed under their building"
    );
    // Typed words narrow the list; clearing them lists everything again.
    type_into(&admin, "input[name=places-filter]", "d-102").await;
    wait_for("the filter to leave one place", PATIENCE, || async {
        (all(&admin, "[data-list=places] [data-place]", "place").await == json!(["P3-D-102"])).then_some(())
    })
    .await;
    admin.evaluate("const field = document.querySelector('input[name=places-filter]'); field.value = ''; field.dispatchEvent(new Event('input', { bubbles: true })); return null").await;
    wait_for("every place listed again", PATIENCE, || async {
        (all(&admin, "[data-list=places] [data-place]", "place").await.as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;
    // A code already used is refused, naming the place that has it.
    add_place_refused(&admin, "P3-D-101").await;
    // An asset's tag is a label too: a place's code is refused for it, under the tag.
    type_into(&admin, "[data-form=asset] input[name=name]", "热水器").await;
    type_into(&admin, "[data-form=asset] input[name=type]", "water_heater").await;
    type_into(&admin, "[data-form=asset] input[name=tag]", "p3-d-102").await;
    send(&admin, "asset").await;
    admin.wait_for_prefix("[data-form=asset] [data-field-error=asset-tag]", "This code is already used by 102").await;
    admin.client.find(Css("[data-form=asset] input[name=tag]")).await.unwrap().clear().await.unwrap();
    type_into(&admin, "[data-form=asset] input[name=tag]", "RSQ-P3-101").await;
    send(&admin, "asset").await;
    wait_for_element(&admin, "[data-list=assets] [data-asset=RSQ-P3-101]").await;
    // A stock item, then one with its code (refused under the code); editing the first
    // fills the form, and saving keeps one item with the new name.
    for (code, name) in [("GL-01", "手套"), ("gl-01", "另一种手套")] {
        type_into(&admin, "[data-form=stock-item] input[name=code]", code).await;
        type_into(&admin, "[data-form=stock-item] input[name=name]", name).await;
        type_into(&admin, "[data-form=stock-item] input[name=unit]", "双").await;
        send(&admin, "stock-item").await;
    }
    admin.wait_for_prefix("[data-form=stock-item] [data-field-error=item-code]", "This code is already used by 手套").await;
    tap(&admin, "[data-list=stock-items] [data-item=GL-01] [data-action=edit]").await;
    wait_for("the form to hold the item", PATIENCE, || async {
        (admin.evaluate("return document.querySelector('[data-form=stock-item] input[name=code]').value").await == json!("GL-01"))
            .then_some(())
    })
    .await;
    admin.client.find(Css("[data-form=stock-item] input[name=name]")).await.unwrap().clear().await.unwrap();
    type_into(&admin, "[data-form=stock-item] input[name=name]", "劳保手套").await;
    send(&admin, "stock-item").await;
    admin.wait_for_match("[data-list=stock-items] [data-item=GL-01]", "劳保手套", |row| row.contains("劳保手套")).await;
    assert_eq!(all(&admin, "[data-list=stock-items] [data-item]", "item").await, json!(["GL-01"]), "edited, not added");
    screenshot(&admin, "admin-site").await;
    fits_a_phone(&admin, 10).await;
    // On the server: the catalog has the building and both rooms, inside it.
    wait_for("the rooms to reach the server", PATIENCE, || async {
        let catalog = read_catalog(&server, "plant3")?;
        let building = catalog.places.iter().find(|place| place.code == "P3-D")?;
        let rooms: Vec<String> = catalog.rooms_in(building.id.as_str()).iter().map(|room| room.code.clone()).collect();
        (rooms == ["P3-D-101", "P3-D-102"]).then_some(())
    })
    .await;
    admin.client.goto(&server.url("/admin/people")).await.unwrap();
    type_into(&admin, "[data-form=new-person] input[name=username]", "wang").await;
    type_into(&admin, "[data-form=new-person] input[name=display-name]", "王巡检").await;
    type_into(&admin, "[data-form=new-person] input[name=password]", "inspect-three").await;
    choose(&admin, "new-person", "role-plant3", "inspector").await;
    send(&admin, "new-person").await;
    wait_for_element(&admin, ".people [data-person=wang]").await;
    screenshot(&admin, "admin-people").await;
    // One row per person, details on tap; found by name as it is typed.
    assert_eq!(admin.evaluate("return document.querySelectorAll('.people details[open]').length").await, json!(0), "rows start collapsed");
    let shown = "return [...document.querySelectorAll('.people .person')].filter((row) => row.getClientRects().length > 0).map((row) => row.dataset.person)";
    type_into(&admin, "[data-search=people]", "王巡").await;
    wait_for("only 王巡检 listed", PATIENCE, || async { (admin.evaluate(shown).await == json!(["wang"])).then_some(()) }).await;
    tap(&admin, "[data-person=wang] summary").await;
    wait_for_element(&admin, "[data-person=wang] details[open] [data-form=roles]").await;
    fits_a_phone(&admin, 4).await;
    screenshot(&admin, "admin-people-found").await;
    // A refusal is said next to the field it concerns: a taken user name (the server's
    // answer) and one that cannot be one (the phone's own check, nothing sent).
    for (username, password, field, said) in [
        ("wang", "inspect-four", "username", "One with this name exists already"),
        ("Wang Li", "inspect-four", "username", "A user name is 1 to 32 lower-case letters, digits, - or _, starting with a letter"),
    ] {
        let form = "[data-form=new-person]";
        admin
            .client
            .execute(&format!("document.querySelector('{form} input[name=username]').value = ''; return null"), vec![])
            .await
            .unwrap();
        type_into(&admin, &format!("{form} input[name=username]"), username).await;
        type_into(&admin, &format!("{form} input[name=display-name]"), "王二").await;
        type_into(&admin, &format!("{form} input[name=password]"), password).await;
        send(&admin, "new-person").await;
        admin.wait_for_text(&format!("[data-field-error={field}]"), said).await;
        let beside = admin
            .evaluate(&format!("return document.querySelector('[data-field-error={field}]').closest('label').querySelector('input').name"))
            .await;
        assert_eq!(beside, json!(field), "the error is under its field");
    }
    screenshot(&admin, "admin-people-field-error").await;

    // The new inspector signs in on their own phone and sees plant3 only, with its rooms.
    let wang = Browser::start().await;
    wang.client.set_window_size(360, 800).await.unwrap();
    wang.client.goto(&server.url("/")).await.unwrap();
    sign_in(&wang, "wang", "inspect-three").await;
    wang.wait_for_text("[data-user=wang]", "王巡检").await;
    wang.client.goto(&server.url("/me")).await.unwrap();
    wait_for_element(&wang, ".sites li").await;
    assert_eq!(all(&wang, ".sites li", "site").await, json!(["plant3"]));
    wang.client.goto(&server.url("/rounds")).await.unwrap();
    choose_label(&wang, "round", "place", "101 (P3-D-101)").await;
    assert_eq!(
        wang.evaluate("return document.querySelector('[data-tab=admin]') === null").await,
        json!(true),
        "no administration for an inspector"
    );
    admin.close().await;
    wang.close().await;
    server.stop().await.unwrap();
}

/// Tries to add a room with a code another place has, and expects the form to say so.
async fn add_place_refused(browser: &Browser, code: &str) {
    choose(browser, "place", "kind", "room").await;
    type_into(browser, "[data-form=place] input[name=name]", "重复").await;
    type_into(browser, "[data-form=place] input[name=code]", code).await;
    send(browser, "place").await;
    // Said under the code, not at the top of the page.
    browser.wait_for_prefix("[data-form=place] [data-field-error=place-code]", "This code is already used by ").await;
    let beside = browser
        .evaluate("return document.querySelector('[data-field-error=place-code]').closest('label').querySelector('input').name")
        .await;
    assert_eq!(beside, json!("code"));
    browser.client.find(Css("[data-form=place] input[name=name]")).await.unwrap().clear().await.unwrap();
    browser.client.find(Css("[data-form=place] input[name=code]")).await.unwrap().clear().await.unwrap();
}

/// Adds an item through the builder's item form.
async fn add_item(browser: &Browser, kind: &str, zh: &str, en: &str, more: &[(&str, &str)]) {
    choose(browser, "item", "kind", kind).await;
    type_into(browser, "[data-form=item] input[name=label-zh]", zh).await;
    type_into(browser, "[data-form=item] input[name=label-en]", en).await;
    for (field, value) in more {
        type_into(browser, &format!("[data-form=item] [name={field}]"), value).await;
    }
    send(browser, "item").await;
    wait_for_element(browser, &format!(".builder-item[data-item={}]", json!(en))).await;
}

#[tokio::test]
async fn a_checklist_built_in_the_app_is_published_and_walked_on_another_phone() {
    let server = TestServer::start(&built_dist()).await;
    let admin = phone(&server, "admin", "系统管理员").await;
    let inspector = phone(&server, "inspector", "李安全员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    type_into(&admin, "[data-form=new-checklist] input[name=name-zh]", "仓库巡查").await;
    type_into(&admin, "[data-form=new-checklist] input[name=name-en]", "Warehouse round").await;
    send(&admin, "new-checklist").await;
    admin.wait_for_text("h1", "仓库巡查 · Warehouse round").await;
    admin.wait_for_prefix("[data-published]", "Draft, never published").await;
    add_item(&admin, "pass_fail", "通道畅通", "Aisles clear", &[]).await;
    add_item(&admin, "number", "库温", "Store temperature", &[("unit", "°C"), ("min", "0"), ("max", "30")]).await;
    add_item(&admin, "choice", "货架状态", "Shelves", &[("options", "完好 / Sound\n!损坏 / Damaged")]).await;
    // The preview is the inspector's own item rows, answers disabled.
    wait_for("the preview to show three items", PATIENCE, || async {
        (all(&admin, "[data-list=preview] .item", "item").await.as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;
    assert_eq!(admin.text("[data-list=preview] [data-item] [data-answer]").await.as_deref(), Some("Pass"));
    assert_eq!(
        admin
            .evaluate("return [...document.querySelectorAll('[data-list=preview] [data-answer]')].map((button) => button.textContent)")
            .await,
        json!(["Pass", "Fail", "N/A", "N/A", "Sound", "Damaged"])
    );
    screenshot(&admin, "admin-template").await;
    fits_a_phone(&admin, 10).await;
    // Drafts are not offered for rounds: once the inspector's phone has caught up with the
    // catalog that lists the draft, the checklist is still not among the choices.
    wait_for("the draft to reach the server's catalog", PATIENCE, || async {
        read_catalog(&server, "hq")?.templates.iter().any(|known| known.name_en == "Warehouse round").then_some(())
    })
    .await;
    inspector.client.goto(&server.url("/rounds")).await.unwrap();
    wait_for("the inspector's phone to sync", PATIENCE, || async {
        (inspector.text("[data-sync]").await.as_deref() == Some("Synced")).then_some(())
    })
    .await;
    wait_for_element(&inspector, "[data-form=round] select[name=template]").await;
    let offered =
        "return [...document.querySelectorAll('[data-form=round] select[name=template] option')].map((option) => option.textContent)";
    assert!(!inspector.evaluate(offered).await.to_string().contains("Warehouse round"));

    tap(&admin, "[data-action=publish]").await;
    admin.wait_for_text("[data-message=ok]", "Published version 1").await;
    admin.wait_for_prefix("[data-published=\"1\"]", "Published version 1").await;

    // Another phone gets the published checklist and walks it at the store.
    choose_label(&inspector, "round", "template", "Warehouse round").await;
    choose_label(&inspector, "round", "place", "后勤仓库 (HQ-S)").await;
    send(&inspector, "round").await;
    inspector.wait_for_text("h1", "Warehouse round").await;
    let items = all(&inspector, ".item", "item").await;
    assert_eq!(items.as_array().map(Vec::len), Some(3), "{items}");
    let round_url = inspector.evaluate("return location.pathname").await;
    let round = DocumentId::parse(round_url.as_str().unwrap().trim_start_matches("/rounds/")).unwrap();

    // A second version adds a section (renamed once) with an item; the round in progress
    // keeps the version it started from.
    type_into(&admin, "[data-form=section] input[name=title-zh]", "出口").await;
    type_into(&admin, "[data-form=section] input[name=title-en]", "Exits").await;
    send(&admin, "section").await;
    admin.wait_for_prefix(".builder-section:nth-child(2) h3", "出口 / Exits").await;
    tap(&admin, ".builder-section:nth-child(2) h3 [data-action=edit]").await;
    let title = admin.client.find(Css("[data-form=section] input[name=title-en]")).await.unwrap();
    title.clear().await.unwrap();
    title.send_keys("Fire exits").await.unwrap();
    send(&admin, "section").await;
    admin.wait_for_prefix(".builder-section:nth-child(2) h3", "出口 / Fire exits").await;
    add_item(&admin, "text", "备注", "Remarks", &[]).await;
    assert_eq!(
        admin.text(".builder-section:nth-child(2) .builder-item span").await.as_deref(),
        Some("备注 / Remarks"),
        "the new item goes into the new section"
    );
    admin.wait_for_prefix("[data-changed=true]", "Published version 1 · Changes not yet published").await;
    tap(&admin, "[data-action=publish]").await;
    admin.wait_for_text("[data-message=ok]", "Published version 2").await;
    let started = wait_for("the round to reach the server", PATIENCE, || async {
        Inspection::from_doc(server.state.documents.load(&round).ok()??).ok()?.read().ok()
    })
    .await;
    assert_eq!((started.checklist.version, started.checklist.items.len()), (1, 3));
    let template = DocumentId::parse(&started.template).unwrap();
    let published = wait_for("version 2 to reach the server", PATIENCE, || async {
        let (_, published) = ChecklistTemplate::from_doc(server.state.documents.load(&template).ok()??).ok()?.read().ok()?;
        (published.version == 2).then_some(published)
    })
    .await;
    assert_eq!((published.sections.len(), published.items.len()), (2, 4));
    assert_eq!(published.sections[1].title.en, "Fire exits");
    let number = published.items.iter().find(|item| item.label.en == "Store temperature").unwrap();
    assert_eq!(number.kind, shared::document::template::ItemKind::Number { unit: "°C".into(), min: Some(0), max: Some(30_000) });
    wait_for("the catalog to name version 2", PATIENCE, || async {
        (read_catalog(&server, "hq")?.templates.iter().find(|known| known.document == started.template)?.version == 2).then_some(())
    })
    .await;
    admin.close().await;
    inspector.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_csv_import_with_a_malformed_row_reports_the_row_and_imports_nothing() {
    let server = TestServer::start(&built_dist()).await;
    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    wait_for_element(&admin, "[data-list=places] [data-place=HQ-S]").await;
    let before = all(&admin, "[data-list=places] [data-place]", "place").await;
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("places.csv");
    // Line 3 names a kind of place there is not.
    std::fs::write(&file, "\u{feff}code,name,kind,parent_code\r\nHQ-G,车库,building,\r\nHQ-G-1,一层,storey,HQ-G\r\n").unwrap();
    admin.client.find(Css("[data-csv=places] input[type=file]")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    admin
        .wait_for_text(
            "[data-csv=places] [data-import=error]",
            "Nothing was imported — line 3: invalid place kind \"storey\": one of building, floor, room, area",
        )
        .await;
    assert_eq!(all(&admin, "[data-list=places] [data-place]", "place").await, before, "nothing imported");

    std::fs::write(&file, "\u{feff}code,name,kind,parent_code\r\nHQ-G,车库,building,\r\nHQ-G-1,一层,floor,HQ-G\r\n").unwrap();
    admin.client.find(Css("[data-csv=places] input[type=file]")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    admin.wait_for_text("[data-csv=places] [data-import=ok]", "Imported 2 rows, 2 of them new.").await;
    wait_for_element(&admin, "[data-list=places] [data-place=HQ-G-1]").await;
    wait_for("the import to reach the server", PATIENCE, || async {
        let catalog = read_catalog(&server, "hq")?;
        let garage = catalog.places.iter().find(|place| place.code == "HQ-G")?;
        let floor = catalog.places.iter().find(|place| place.code == "HQ-G-1")?;
        (floor.parent.as_ref() == Some(&garage.id) && garage.name == "车库").then_some(())
    })
    .await;
    // The export is the file a spreadsheet opens: a byte-order mark, the header, the rows.
    admin
        .evaluate(
            "window.exported = null; const make = URL.createObjectURL;
             URL.createObjectURL = (blob) => {
               blob.arrayBuffer().then((buffer) => { const bytes = new Uint8Array(buffer); window.exported = bytes.slice(0, 3).join(' ') + '|' + new TextDecoder().decode(bytes); });
               return make(blob);
             };
             return null;",
        )
        .await;
    tap(&admin, "[data-csv=places] [data-action=export-csv]").await;
    let exported =
        wait_for("the export", PATIENCE, || async { admin.evaluate("return window.exported").await.as_str().map(str::to_owned) }).await;
    assert!(exported.starts_with("239 187 191|id,code,name,kind,parent_code\r\n"), "{exported}");
    assert!(exported.contains(",HQ-G-1,一层,floor,HQ-G\r\n"), "{exported}");
    admin.close().await;
    server.stop().await.unwrap();
}

/// Scrolls to the middle of the places table.
const HALFWAY: &str = "const table = document.querySelector('[data-list=places]'); scrollTo(0, scrollY + table.getBoundingClientRect().top + table.offsetHeight / 2)";

/// The rows of the places table drawn now, and how many it lists.
async fn drawn_places(browser: &Browser) -> (usize, u64) {
    let seen = browser
        .evaluate("const table = document.querySelector('[data-list=places]'); return [table.querySelectorAll('tbody tr[data-place]').length, Number(table.dataset.rows)]")
        .await;
    (seen[0].as_u64().unwrap() as usize, seen[1].as_u64().unwrap())
}

#[tokio::test]
async fn a_site_of_a_thousand_rooms_lists_them_all_in_a_window_that_follows_the_scroll() {
    let server = TestServer::start(&built_dist()).await;
    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    wait_for_element(&admin, "[data-list=places] [data-place=HQ-S]").await;
    let (_, before) = drawn_places(&admin).await;
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("rooms.csv");
    let mut csv = String::from("code,name,kind,parent_code\r\nW,西区宿舍,building,\r\n");
    for room in 0..1_000 {
        csv.push_str(&format!("W-{room:04},{room:04} 室,room,W\r\n"));
    }
    std::fs::write(&file, csv).unwrap();
    admin.client.find(Css("[data-csv=places] input[type=file]")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    admin.wait_for_text("[data-csv=places] [data-import=ok]", "Imported 1001 rows, 1001 of them new.").await;
    let total = before + 1_001;
    admin.wait_for_prefix("[data-place-note]", &format!("{} more places not listed", total - 200)).await;
    assert_eq!(drawn_places(&admin).await, (200, 200), "the first 200 listed");

    // "Show all": every place is in the list, only those near the screen drawn.
    tap(&admin, "[data-action=show-all-places]").await;
    wait_for("the whole list", PATIENCE, || async { (drawn_places(&admin).await.1 == total).then_some(()) }).await;
    assert_eq!(admin.evaluate("return document.querySelector('[data-list=places]').classList.contains('windowed')").await, json!(true));
    let (drawn, _) = drawn_places(&admin).await;
    assert!((10..=120).contains(&drawn), "a window of rows drawn, not {total}: {drawn}");
    // Scrolled to the list's end, the last room is drawn where the table's height put it:
    // on the screen, at the bottom of the table.
    admin
        .evaluate("const table = document.querySelector('[data-list=places]'); scrollTo(0, scrollY + table.getBoundingClientRect().bottom - innerHeight); return null")
        .await;
    wait_for_element(&admin, "[data-list=places] [data-place=W-0999]").await;
    let placed = admin
        .evaluate(
            "const row = document.querySelector('[data-place=W-0999]').getBoundingClientRect();
             const table = document.querySelector('[data-list=places]').getBoundingClientRect();
             return [row.top >= 0 && row.bottom <= innerHeight, Math.abs(table.bottom - row.bottom) < 2]",
        )
        .await;
    assert_eq!(placed, json!([true, true]), "the last row on the screen, at the table's end");
    assert!(drawn_places(&admin).await.0 <= 120, "the window moved rather than grew");
    fits_a_phone(&admin, 8).await;
    screenshot(&admin, "places-windowed-end").await;
    // Halfway down, the rooms there are drawn, and a row drawn there is edited as any.
    admin.evaluate(&format!("{HALFWAY}; return null")).await;
    wait_for_element(&admin, "[data-list=places] [data-place=W-0500]").await;
    tap(&admin, "[data-place=W-0500] [data-action=edit]").await;
    wait_for("the room in the form", PATIENCE, || async {
        (admin.evaluate("return document.querySelector('[data-form=place] input[name=name]').value").await == json!("0500 室"))
            .then_some(())
    })
    .await;
    type_into(&admin, "[data-form=place] input[name=name]", "（空）").await;
    send(&admin, "place").await;
    // The form scrolled into view to edit; back at the room, its row shows the new name.
    admin.evaluate(&format!("{HALFWAY}; return null")).await;
    admin.wait_for_prefix("[data-place=W-0500] td:nth-child(2)", "0500 室（空）").await;
    wait_for("the renamed room on the server", PATIENCE, || async {
        read_catalog(&server, "hq")?.places.iter().any(|place| place.code == "W-0500" && place.name == "0500 室（空）").then_some(())
    })
    .await;
    // Narrowed by typed words, the list is short again and drawn whole.
    type_into(&admin, "input[name=places-filter]", "W-09").await;
    wait_for("the narrowed list", PATIENCE, || async { (drawn_places(&admin).await == (100, 100)).then_some(()) }).await;
    assert_eq!(admin.evaluate("return document.querySelector('[data-list=places]').classList.contains('windowed')").await, json!(false));
    admin.close().await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_entry_that_does_not_read_is_shown_to_the_administrator_who_removes_it() {
    use automerge::ReadDoc as _;
    use automerge::transaction::Transactable as _;

    let server = TestServer::start(&built_dist()).await;
    // A catalog written before the server checked changes: one place's code is a number.
    let catalog = catalog_of(&server, "hq");
    let mut doc = server.state.documents.load(&catalog).unwrap().unwrap();
    let heads = doc.get_heads();
    let (_, places) = doc.get(automerge::ROOT, "places").unwrap().unwrap();
    let broken = doc.keys(&places).next().unwrap();
    let (_, place) = doc.get(&places, broken.as_str()).unwrap().unwrap();
    doc.put(&place, "code", 42_i64).unwrap();
    doc.commit();
    server.state.documents.append(&catalog, &doc.save_after(&heads)).unwrap();
    let readable_places = read_catalog(&server, "hq").unwrap().places.len();
    // And an order with one event from such a time: the event is hidden, said so, the order is there.
    let (order, title) = order_with_a_bad_event(&server).await;

    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    let entry = format!("[data-unreadable='places.{broken}']");
    wait_for_element(&admin, &entry).await;
    // The rest of the catalog is there, the bad place left out of the list.
    wait_for("the other places", PATIENCE, || async {
        (all(&admin, "[data-list=places] [data-place]", "place").await.as_array().map(Vec::len) == Some(readable_places)).then_some(())
    })
    .await;
    assert_eq!(admin.text("#unreadable").await.as_deref(), Some("Entries that cannot be read"));
    assert!(admin.text(&entry).await.unwrap().contains(&format!("Wrong field: places.{broken}.code")), "{:?}", admin.text(&entry).await);
    screenshot(&admin, "admin-unreadable").await;
    admin.client.goto(&server.url("/settings")).await.unwrap();
    tap(&admin, "input[value='zh-CN']").await;
    admin.wait_for_text("h1", "设置").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    admin.wait_for_text("#unreadable", "无法读取的条目").await;
    screenshot(&admin, "admin-unreadable-zh").await;
    admin.client.goto(&server.url(&format!("/orders/{order}"))).await.unwrap();
    admin.wait_for_prefix("[data-hidden-entries='1']", "此记录中有 1 条内容数据有误").await;
    admin.wait_for_text("h1", &title).await;
    screenshot(&admin, "order-hidden-entry-zh").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    wait_for_element(&admin, &entry).await;

    // Removed on the phone, gone on the server; the place can be added again.
    tap(&admin, &format!("{entry} [data-action=remove-unreadable]")).await;
    wait_for("the entry to go", PATIENCE, || async { admin.text(&entry).await.is_none().then_some(()) }).await;
    wait_for("the server's catalog to read whole", PATIENCE, || async {
        let stored = server.state.documents.load(&catalog).ok()??;
        let view = SiteCatalog::from_doc(stored.clone()).ok()?.read().ok()?;
        let (_, places) = stored.get(automerge::ROOT, "places").ok()??;
        (view.unreadable.is_empty() && stored.get(&places, broken.as_str()).ok()?.is_none()).then_some(())
    })
    .await;
    admin.close().await;
    server.stop().await.unwrap();
}

/// A fault reported at hq, listed in its index, with one event a client wrote before the
/// server checked changes (its kind a number), stored as a restore would store it.
async fn order_with_a_bad_event(server: &TestServer) -> (DocumentId, String) {
    use automerge::ReadDoc as _;
    use automerge::transaction::Transactable as _;
    use shared::directory::{SiteId, Username};
    use shared::document::catalog::IndexEntry;
    use shared::document::work_order::{Category, NewWorkOrder, Priority, WorkOrder};
    use shared::document::{DocumentType, Edit, EntryId};

    let edit = Edit::new(Username::parse("inspector").unwrap(), tests::native_client::now());
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: "会议室门锁坏了".to_owned(),
        description: String::new(),
        location: "admin-1f".to_owned(),
        asset: None,
        category: Category::Building,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    let mut order =
        WorkOrder::report(automerge::ActorId::from([0x5a; 16]), &new, &EntryId::parse("e1").unwrap(), &edit).unwrap().into_doc();
    let (_, events) = order.get(automerge::ROOT, "events").unwrap().unwrap();
    let legacy = order.put_object(&events, "legacy", automerge::ObjType::Map).unwrap();
    order.put(&legacy, "kind", 7_i64).unwrap();
    order.commit();
    let id = DocumentId::from_bytes([0x5a; 16]);
    server.state.documents.append(&id, &order.save()).unwrap();
    server.state.projections.mark(&id, Some((&order, &[]))).unwrap();

    let catalog = catalog_of(server, "hq");
    let mut doc = server.state.documents.load(&catalog).unwrap().unwrap();
    let heads = doc.get_heads();
    let entry = IndexEntry {
        document: id.url(),
        document_type: DocumentType::WorkOrder,
        title: new.title.clone(),
        status: "reported".to_owned(),
        location: new.location,
        updated_at: edit.at,
    };
    let mut site = SiteCatalog::from_doc(doc.clone()).unwrap();
    site.index_document(&entry, &edit).unwrap();
    doc = site.into_doc();
    server.state.documents.append(&catalog, &doc.save_after(&heads)).unwrap();
    (id, new.title)
}

#[tokio::test]
async fn a_sites_administrator_sees_where_its_notices_go_and_which_are_being_retried() {
    let server = TestServer::start(&built_dist()).await;
    // A webhook that refuses everything, and a DingTalk robot that signs.
    let received = crate::notify::Received::default();
    let url = crate::notify::receiver(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), received.clone(), usize::MAX);
    let channels = json!({
        "webhook": { "url": url, "secret": "a-secret-of-the-site-hq" },
        "dingtalk": { "url": format!("{url}/dingtalk"), "secret": "SEC-hq" },
    });
    assert_eq!(crate::notify::set_channels(&server, "admin", channels).await.status(), 200);
    let document = DocumentId::from_random(*b"admin-sees-retry");
    crate::notify::report_and_assign(|user| server.sync_url(user), document, &mut crate::notify::phone("manager-phone"), None).await;
    wait_for("a first failed attempt", PATIENCE, || async { (!received.lock().unwrap().is_empty()).then_some(()) }).await;

    let admin = phone(&server, "admin", "系统管理员").await;
    admin.client.goto(&server.url("/admin/sites/hq")).await.unwrap();
    admin.wait_for_text("[data-channel=webhook]", &url).await;
    admin.wait_for_prefix("[data-channel=dingtalk]", &format!("{url}/dingtalk · signed")).await;
    assert_eq!(admin.text("[data-channel=wecom]").await.as_deref(), Some("not set"));
    let row = format!("[data-notice='{document}/assigned/tech']");
    wait_for_element(&admin, &row).await;
    assert_eq!(admin.evaluate(&format!("return document.querySelector(\"{row}\").dataset.outcome")).await, json!("warning"));
    admin.wait_for_prefix(&format!("{row} .warning"), "Retrying: Webhook to other systems · the webhook answered 500").await;
    admin.client.execute("document.querySelector('#notices').scrollIntoView()", Vec::new()).await.unwrap();
    fits_a_phone(&admin, 1).await;
    screenshot(&admin, "admin-notices").await;
    admin.evaluate("localStorage.setItem('houqin.language', JSON.stringify('zh-CN')); return null").await;
    admin.client.refresh().await.unwrap();
    admin.wait_for_text("#notices", "消息通知").await;
    wait_for_element(&admin, &row).await;
    admin.client.execute("document.querySelector('#notices').scrollIntoView()", Vec::new()).await.unwrap();
    screenshot(&admin, "admin-notices-zh").await;

    // The administrator adds the WeCom group's robot and gives managers two hours: the
    // webhook's secret, left empty, stays as it was.
    tap(&admin, "[data-action=edit-channels]").await;
    wait_for_element(&admin, "[data-form=channels]").await;
    assert_eq!(admin.evaluate("return document.querySelector('[name=webhook-url]').value").await, json!(url));
    admin
        .evaluate(&format!(
            "const set = (name, value) => {{ const input = document.querySelector(`[data-form=channels] [name=${{name}}]`); input.value = value; input.dispatchEvent(new Event('input')); }};
             set('wecom-url', '{url}/wecom?key=group'); set('to-managers', '2'); return null"
        ))
        .await;
    fits_a_phone(&admin, 10).await;
    admin.client.execute("document.querySelector('[data-form=channels]').scrollIntoView()", Vec::new()).await.unwrap();
    screenshot(&admin, "admin-channels-form-zh").await;
    tap(&admin, "[data-form=channels] button[type=submit]").await;
    admin.wait_for_text("[data-channel=wecom]", &format!("{url}/wecom?key=group")).await;
    let stored = server.state.outbox.site_channels(&shared::directory::SiteId::parse("hq").unwrap()).unwrap();
    assert_eq!(stored.webhook.map(|webhook| webhook.secret).as_deref(), Some("a-secret-of-the-site-hq"), "the secret kept");
    assert_eq!(stored.dingtalk.and_then(|robot| robot.secret).as_deref(), Some("SEC-hq"), "the robot's secret kept");
    let escalation = stored.escalation.unwrap();
    assert_eq!((escalation.to_managers, escalation.to_admins), (shared::time::Span::hours(2), shared::time::Span::hours(4)));
    admin.close().await;
    server.stop().await.unwrap();
}
