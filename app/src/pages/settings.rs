//! Settings: the interface language and what is installed.

use leptos::prelude::*;

use crate::i18n::{CurrentLanguage, Language, choose_language, use_texts};

#[component]
pub fn Settings() -> impl IntoView {
    let texts = use_texts();
    let CurrentLanguage(current) = use_context().expect("provide_language() runs in App");
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
        <h1>{move || texts.get().settings_title}</h1>
        <section class="card">
            <fieldset>
                <legend>{move || texts.get().language}</legend>
                {options}
            </fieldset>
        </section>
        <section class="card">
            <p>{move || texts.get().app_version} " " {shared::VERSION}</p>
        </section>
    }
}
