//! The app's tests in a real browser (headless Chromium via wasm-bindgen-test): pure logic
//! compiled to wasm, and the app mounted into the test page's DOM.

use std::sync::Arc;

use app::fields::{LISTED_PLACES, PlacePicker};
use app::i18n::{Language, provide_language};
use automerge::ActorId;
use leptos::prelude::*;
use shared::directory::{SiteId, Username};
use shared::document::catalog::{CatalogView, Place, PlaceKind, SiteCatalog};
use shared::document::{Edit, EntryId};
use shared::time::Timestamp;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn browser_preferences_pick_the_first_language_we_have() {
    assert_eq!(Language::from_preferences(["en-GB", "zh-CN"]), Language::English);
    assert_eq!(Language::from_preferences(["fr", "zh-Hant-TW", "en"]), Language::Chinese);
    assert_eq!(Language::from_preferences(["de", "fr"]), Language::Chinese);
    assert_eq!(Language::from_preferences([]), Language::Chinese);
    assert_eq!(Language::from_preferences(["EN_us"]), Language::English);
}

#[wasm_bindgen_test]
fn a_label_url_in_a_camera_frame_decodes_in_the_wasm_decoder_and_names_its_code() {
    let url = format!("https://houqin.lan:8443{}", shared::routes::label_path("HQ-A-101"));
    let (size, rgba) = qr::frame(&url, 4);
    let read = qr::decode_rgba(size, size, &rgba).expect("the QR code is found and decoded");
    assert_eq!(read, url);
    assert_eq!(shared::routes::scanned_code(&read).as_deref(), Some("HQ-A-101"));
    let chinese = shared::routes::label_path("一号楼-101");
    let (size, rgba) = qr::frame(&format!("https://houqin.lan{chinese}"), 3);
    assert_eq!(qr::decode_rgba(size, size, &rgba).and_then(|read| shared::routes::scanned_code(&read)).as_deref(), Some("一号楼-101"));
    let blank = vec![255u8; 64 * 64 * 4];
    assert_eq!(qr::decode_rgba(64, 64, &blank), None, "nothing to read");
    assert_eq!(qr::decode_rgba(64, 64, &blank[..10]), None, "a short buffer is refused, not read past");
}

#[wasm_bindgen_test]
fn stored_language_tags_round_trip() {
    for language in Language::ALL {
        assert_eq!(Language::from_tag(language.tag()), Some(language));
    }
    assert_eq!(Language::from_tag("de"), None);
}

/// Every text of every table is checked in both languages by the tests beside the tables
/// (`i18n::check_table`); here, that a language gives its own table.
#[wasm_bindgen_test]
fn each_language_gives_its_own_texts() {
    assert_eq!(app::i18n::texts_in(Language::Chinese).app_name, "后勤");
    assert_eq!(app::i18n::texts_in(Language::English).app_name, "Houqin");
}

#[wasm_bindgen_test]
async fn the_app_mounts_and_follows_the_stored_language() {
    let window = web_sys::window().unwrap();
    window.local_storage().unwrap().unwrap().set_item("houqin.language", "\"en\"").unwrap();
    mount_to_body(app::App);
    // Effects (such as the one setting `<html lang>`) run on the next tick.
    leptos::task::tick().await;
    let brand = window.document().unwrap().query_selector(".app-header .brand").unwrap().expect("the header is rendered");
    assert_eq!(brand.text_content().as_deref(), Some("Houqin"));
    assert_eq!(window.document().unwrap().document_element().unwrap().get_attribute("lang").as_deref(), Some("en"));
}

/// A site catalog of `rooms` rooms named "Room 0", "Room 1"… with codes "B-000", "B-001"…
fn catalog_of_rooms(rooms: usize) -> Arc<CatalogView> {
    let edit = Edit::new(Username::parse("admin").unwrap(), Timestamp::from_millis(0));
    let mut catalog = SiteCatalog::create(ActorId::from([1; 16]), &SiteId::parse("campus").unwrap(), "Campus", &edit);
    for number in 0..rooms {
        let room = Place {
            id: EntryId::parse(&format!("room-{number:03}")).unwrap(),
            kind: PlaceKind::Room,
            parent: None,
            name: format!("Room {number}"),
            code: format!("B-{number:03}"),
        };
        catalog.put_place(&room, &edit).unwrap();
    }
    Arc::new(catalog.read().unwrap())
}

/// Mounts a place picker over `catalog` into a fresh element and returns the element and the
/// chosen place.
fn mount_picker(catalog: Arc<CatalogView>, optional: bool) -> (Element, RwSignal<String>) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let chosen = RwSignal::new(String::new());
    let into = host.clone().unchecked_into();
    mount_to(into, move || {
        provide_language();
        let catalog = Signal::stored(Some(catalog));
        if optional {
            view! { <PlacePicker catalog=catalog chosen=chosen none=Signal::stored("—") /> }.into_any()
        } else {
            view! { <PlacePicker catalog=catalog chosen=chosen /> }.into_any()
        }
    })
    .forget();
    (host, chosen)
}

fn listed(host: &Element) -> Vec<String> {
    let options = host.query_selector_all("select[name=place] option").unwrap();
    (0..options.length()).map(|index| options.item(index).unwrap().text_content().unwrap_or_default()).collect()
}

fn note(host: &Element) -> Option<String> {
    host.query_selector("[data-place-note]").unwrap().and_then(|note| note.text_content())
}

async fn type_into(host: &Element, words: &str) {
    let field: HtmlInputElement = host.query_selector("input[name=place-search]").unwrap().expect("a search field").unchecked_into();
    field.set_value(words);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    field.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn a_place_picker_lists_a_few_places_and_finds_the_rest_by_typing() {
    web_sys::window().unwrap().local_storage().unwrap().unwrap().set_item("houqin.language", "\"en\"").unwrap();
    let (host, chosen) = mount_picker(catalog_of_rooms(120), false);
    leptos::task::tick().await;
    let shown = listed(&host);
    assert_eq!(shown.len(), LISTED_PLACES, "a large site is not listed whole");
    assert_eq!(shown[0], "Room 0 (B-000)");
    assert_eq!(chosen.get_untracked(), "room-000", "a required place starts at the first listed");
    assert_eq!(note(&host).as_deref(), Some("70 more places not listed: type a name or code to narrow the list"));

    type_into(&host, "room 117").await;
    assert_eq!(listed(&host), ["Room 117 (B-117)"]);
    assert_eq!(chosen.get_untracked(), "room-117", "typing takes the first place found");
    let select: HtmlSelectElement = host.query_selector("select[name=place]").unwrap().unwrap().unchecked_into();
    assert_eq!(select.value(), "room-117");
    assert_eq!(note(&host), None);

    type_into(&host, "b-11").await;
    assert_eq!(listed(&host).len(), 10, "B-110 to B-119");
    assert_eq!(chosen.get_untracked(), "room-117", "a choice the words still find is kept");

    type_into(&host, "nowhere").await;
    assert_eq!(listed(&host), ["Room 117 (B-117)"], "the chosen place stays listed");
    assert_eq!(note(&host).as_deref(), Some("No place has that name or code"));
    host.remove();
}

#[wasm_bindgen_test]
async fn a_small_site_is_listed_whole_and_a_place_may_be_left_out() {
    let (host, chosen) = mount_picker(catalog_of_rooms(3), true);
    leptos::task::tick().await;
    assert!(host.query_selector("input[name=place-search]").unwrap().is_none(), "no search field for three places");
    assert_eq!(listed(&host), ["—", "Room 0 (B-000)", "Room 1 (B-001)", "Room 2 (B-002)"]);
    assert_eq!(chosen.get_untracked(), "", "nothing chosen until someone picks");
    chosen.set("room-404".to_owned());
    leptos::task::tick().await;
    assert_eq!(chosen.get_untracked(), "", "a place the catalog does not hold is let go");
    host.remove();
}

#[wasm_bindgen_test]
fn the_router_matches_each_page_at_the_path_shared_routes_gives_it() {
    use leptos_router::{PathSegment, PossibleRouteMatch as _};
    use shared::routes::AppRoute;
    for &route in AppRoute::ALL {
        let path = app::path_of(route);
        let mut segments = Vec::new();
        path.generate_path(&mut segments);
        let written: Vec<String> = segments
            .iter()
            .filter(|segment| !segment.as_raw_str().is_empty())
            .map(|segment| match segment {
                PathSegment::Param(name) => format!(":{name}"),
                other => other.as_raw_str().to_owned(),
            })
            .collect();
        assert_eq!(format!("/{}", written.join("/")), route.pattern(), "{route:?}");
        // An address of the page matches whole, its parameters named as the pattern names them.
        let address: Vec<&str> =
            route.pattern().split('/').map(|segment| if segment.starts_with(':') { "hq-1" } else { segment }).collect();
        let address = address.join("/");
        let matched = path.test(&address).unwrap_or_else(|| panic!("{route:?} does not match {address}"));
        assert!(matched.remaining().trim_matches('/').is_empty(), "{route:?} leaves {:?} of {address}", matched.remaining());
        let named: Vec<String> = route.pattern().split('/').filter_map(|segment| segment.strip_prefix(':')).map(str::to_owned).collect();
        let params = matched.params();
        assert_eq!(params.iter().map(|(name, _)| name.to_string()).collect::<Vec<_>>(), named, "{route:?}");
        assert!(params.iter().all(|(_, value)| value == "hq-1"), "{route:?}: {params:?}");
    }
}
