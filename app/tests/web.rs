//! The app's tests in a real browser (headless Chromium via wasm-bindgen-test): pure logic
//! compiled to wasm, and the app mounted into the test page's DOM.

use app::i18n::Language;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

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
fn stored_language_tags_round_trip() {
    for language in Language::ALL {
        assert_eq!(Language::from_tag(language.tag()), Some(language));
    }
    assert_eq!(Language::from_tag("de"), None);
}

#[wasm_bindgen_test]
fn both_languages_translate_every_text() {
    let chinese = Language::Chinese.texts();
    let english = Language::English.texts();
    assert_eq!(chinese.app_name, "后勤");
    assert_eq!(english.app_name, "Houqin");
    // A text left untranslated shows up as the same string in both languages.
    let pairs = [
        (chinese.tagline, english.tagline),
        (chinese.nav_settings, english.nav_settings),
        (chinese.server_unreachable, english.server_unreachable),
        (chinese.not_found_title, english.not_found_title),
    ];
    for (chinese, english) in pairs {
        assert_ne!(chinese, english);
        assert!(!chinese.is_empty() && !english.is_empty());
    }
}

#[wasm_bindgen_test]
async fn the_app_mounts_and_follows_the_stored_language() {
    let window = web_sys::window().unwrap();
    window.local_storage().unwrap().unwrap().set_item("houqin.language", "\"en\"").unwrap();
    leptos::mount::mount_to_body(app::App);
    // Effects (such as the one setting `<html lang>`) run on the next tick.
    leptos::task::tick().await;
    let brand = window.document().unwrap().query_selector(".app-header .brand").unwrap().expect("the header is rendered");
    assert_eq!(brand.text_content().as_deref(), Some("Houqin"));
    assert_eq!(window.document().unwrap().document_element().unwrap().get_attribute("lang").as_deref(), Some("en"));
}
