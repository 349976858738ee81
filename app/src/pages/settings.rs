//! Settings: the interface language and what is installed.

use leptos::prelude::*;

use super::notice_settings::NoticesCard;
use crate::i18n::{CurrentLanguage, Language, choose_language, use_texts};

#[component]
pub fn Settings() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(current) = use_context().expect("provide_language() runs in App");
    let usage = LocalResource::new(|| async { crate::store::usage().await });
    let options = Language::ALL.map(|language| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="language"
                    value=language.tag()
                    prop:checked=move || current.get() == language
                    on:change=move |_| choose_language(language)
                />
                <span>{language.native_name()}</span>
            </label>
        }
    });
    view! {
        <h1>{move || texts.get().nav_settings}</h1>
        <section class="card">
            <fieldset>
                <legend>{move || texts.get().language}</legend>
                {options}
            </fieldset>
        </section>
        <NoticesCard />
        <section class="card" aria-labelledby="storage">
            <h2 id="storage">{move || texts.get().storage}</h2>
            {move || usage.get().map(|usage| match usage {
                Ok(usage) => {
                    let texts = texts.get();
                    let tag = current.get().tag();
                    let used = texts.storage_used.replace("{used}", &megabytes(usage.used_bytes, tag)).replace("{quota}", &megabytes(usage.quota_bytes, tag));
                    let kept = if usage.persistent { texts.storage_persistent } else { texts.storage_not_persistent };
                    view! {
                        <p data-storage="usage">{used}</p>
                        <p class="muted" data-storage=if usage.persistent { "persistent" } else { "best-effort" }>{kept}</p>
                    }
                    .into_any()
                }
                Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
            })}
        </section>
        <section class="card">
            <p>{move || texts.get().app_version} " " {shared::VERSION}</p>
        </section>
    }
}

/// Bytes as megabytes, with the digits grouped the reader's way.
fn megabytes(bytes: f64, language_tag: &str) -> String {
    let megabytes = js_sys::Number::from((bytes / 1e6 * 10.0).round() / 10.0);
    format!("{} MB", String::from(megabytes.to_locale_string(language_tag)))
}
