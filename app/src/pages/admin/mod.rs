//! Administration: an organisation sets Houqin up for itself. The sites one runs and new
//! sites, the last backup (`mod.rs`); each site's places, assets, stock items, checklists
//! and schedules, with CSV import and export and QR labels (`site`); people and their
//! roles (`people`); building and publishing a checklist (`template`).
//!
//! Catalogs and templates are documents: editing them works offline and merges like
//! everything else. Sites, people and backups live on the server and need the network.

mod catalog_editor;
mod closures;
mod meters;
mod notices;
pub mod people;
mod public;
mod rates;
pub mod site;
pub mod template;
mod texts;
mod vendors;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::directory::Role;

use self::texts::use_admin_texts;
use crate::error::AppError;
use crate::session::{Session, SessionSite, refresh, use_session};

/// The sites where the signed-in person is an administrator.
fn admin_sites(session: &Session) -> Vec<SessionSite> {
    session.sites.iter().filter(|site| site.role == Role::Admin).cloned().collect()
}

/// A date and time in the phone's zone and the reader's language.
fn when(millis: i64, language: crate::i18n::Language) -> String {
    let time = js_sys::Date::new(&(millis as f64).into());
    String::from(time.to_locale_string(language.tag(), &wasm_bindgen::JsValue::UNDEFINED))
}

/// `/admin`: the sites one runs, a new site, people, the last backup.
#[component]
pub fn AdminHome() -> impl IntoView {
    let texts = use_admin_texts();
    let current = use_session();
    let new_id = RwSignal::new(String::new());
    let new_name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let sites = move || current.session.with(|session| session.as_ref().map(admin_sites).unwrap_or_default());
    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(session) = current.session.get_untracked() else { return };
        let (id, name) = (new_id.get_untracked().trim().to_owned(), new_name.get_untracked().trim().to_owned());
        spawn_local(async move {
            match crate::server::create_site(&session.token, &id, &name).await {
                Ok(()) => {
                    refresh(current).await;
                    new_id.set(String::new());
                    new_name.set(String::new());
                    message.set(Some((true, format!("{} {name}", texts.get_untracked().saved))));
                }
                Err(error) => message.set(Some((false, error.to_string()))),
            }
        });
    };
    let backup = LocalResource::new(move || {
        let token = current.session.with(|session| session.as_ref().map(|session| session.token.clone()));
        async move { crate::server::last_backup(&token.ok_or(AppError::SignedOut)?).await }
    });
    let crate::i18n::CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    view! {
        <section class="card" aria-labelledby="admin-sites">
            <h1 id="admin-sites">{move || texts.get().administration}</h1>
            <Show when=move || !sites().is_empty() fallback=move || view! { <p class="muted">{move || texts.get().not_admin}</p> }>
                <h2>{move || texts.get().sites_you_run}</h2>
                <ul class="admin-sites">
                    {move || sites().into_iter().map(|site| view! {
                        <li data-site=site.id.to_string()><a href=format!("/admin/sites/{}", site.id)>{site.name.clone()}</a> <span class="muted">{site.id.to_string()}</span></li>
                    }).collect_view()}
                </ul>
                <p><a href="/admin/people" class="button" data-action="people">{move || texts.get().people}</a></p>
            </Show>
        </section>
        <Show when=move || !sites().is_empty()>
            <section class="card" aria-labelledby="new-site">
                <h2 id="new-site">{move || texts.get().new_site}</h2>
                <form class="form" data-form="new-site" on:submit=create>
                    <div class="two-columns">
                        <label>
                            <span>{move || texts.get().site_id}</span>
                            <input name="site-id" required pattern="[a-z0-9][a-z0-9-]*" autocapitalize="none" prop:value=new_id on:input=move |event| new_id.set(event_target_value(&event)) />
                            <small class="muted">{move || texts.get().site_id_hint}</small>
                        </label>
                        <label>
                            <span>{move || texts.get().name}</span>
                            <input name="site-name" required prop:value=new_name on:input=move |event| new_name.set(event_target_value(&event)) />
                        </label>
                    </div>
                    {move || message.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="status">{text}</p> })}
                    <button type="submit" class="primary">{move || texts.get().create}</button>
                </form>
            </section>
            <section class="card" aria-labelledby="backup">
                <h2 id="backup">{move || texts.get().backup}</h2>
                <p data-backup=move || match backup.get() { Some(Ok(Some(_))) => "known", Some(Ok(None)) => "none", Some(Err(_)) => "offline", None => "pending" }>
                    {move || {
                        let texts = texts.get();
                        match backup.get() {
                            Some(Ok(Some(last))) => format!("{}: {} · {:.1} MB · {} {} {}", texts.last_backup, when(last.at, language.get()), last.bytes as f64 / 1e6, last.documents, texts.documents_and_files, last.blobs),
                            Some(Ok(None)) => texts.no_backup.to_owned(),
                            Some(Err(_)) => texts.needs_network.to_owned(),
                            None => String::new(),
                        }
                    }}
                </p>
                <p class="muted">
                    {move || {
                        let texts = texts.get();
                        let (before, rest) = texts.backup_how.split_once("{backup}").unwrap_or((texts.backup_how, ""));
                        let (between, after) = rest.split_once("{restore}").unwrap_or((rest, ""));
                        view! { {before} <code>{texts.backup_command}</code> {between} <code>{texts.restore_command}</code> {after} }
                    }}
                </p>
            </section>
        </Show>
    }
}

/// The end of a list editor's form: add (or save, while an entry is being edited) and
/// cancel the edit.
#[component]
fn FormButtons(editing: Signal<bool>, add_label: Signal<&'static str>, on_cancel: Callback<()>) -> impl IntoView {
    let texts = crate::i18n::use_texts();
    view! {
        <div class="buttons">
            <button type="submit" class="primary">{move || if editing.get() { texts.get().save } else { add_label.get() }}</button>
            <Show when=move || editing.get()>
                <button type="button" on:click=move |_| on_cancel.run(())>{move || texts.get().cancel}</button>
            </Show>
        </div>
    }
}

/// A list row's edit and remove buttons.
#[component]
fn RowActions(on_edit: Callback<()>, on_remove: Callback<()>) -> impl IntoView {
    let texts = use_admin_texts();
    view! {
        <span class="actions">
            <button type="button" class="link-button" data-action="edit" on:click=move |_| on_edit.run(())>{move || texts.get().edit}</button>
            <button type="button" class="link-button danger" data-action="remove" on:click=move |_| on_remove.run(())>{move || texts.get().remove}</button>
        </span>
    }
}

/// A checklist's names in both languages and its category.
#[component]
fn ChecklistFields(zh: RwSignal<String>, en: RwSignal<String>, category: RwSignal<String>) -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = crate::i18n::use_texts();
    view! {
        <div class="two-columns">
            <label>
                <span>{move || texts.get().name_zh}</span>
                <input name="name-zh" prop:value=zh on:input=move |event| zh.set(event_target_value(&event)) />
            </label>
            <label>
                <span>{move || texts.get().name_en}</span>
                <input name="name-en" prop:value=en on:input=move |event| en.set(event_target_value(&event)) />
            </label>
        </div>
        <label>
            <span>{move || field_texts.get().category_label}</span>
            <select name="category" on:change=move |event| category.set(event_target_value(&event))>
                {move || shared::document::template::ChecklistCategory::ALL.iter().map(|known| known.as_str()).map(|known| view! { <option value=known selected=move || category.get() == known>{field_texts.get().checklist_category(known)}</option> }).collect_view()}
            </select>
        </label>
    }
}
