//! The one editor the lists of a site's catalog are edited with — places, assets, stock
//! items: a table of the entries with edit and remove on each row, a form that adds an
//! entry or saves the one being edited, and CSV export and import of the list. What
//! differs between lists is said once per kind of entry ([`Entries`]): its fields, how they
//! read into an entry, and how a row shows one.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::document::catalog::{CatalogList, CatalogView, SiteCatalog};
use shared::document::catalog_csv;
use shared::document::{DocumentError, Edit, EntryId};

use super::site::Editing;
use super::texts::{AdminTexts, use_admin_texts};
use super::{FormButtons, RowActions};
use crate::edits::entry_id;

/// Why the form's fields make no entry.
pub(super) enum Refusal {
    /// Said at the top of the page (a field left empty, a loop of places).
    Page(String),
    /// Said under the field it concerns (its `form-field` name, as [`Editing::error_at`]).
    Field(&'static str, String),
}

/// One kind of catalog entry as the editor handles it; a value holds the form's fields
/// (signals, so it is `Copy`).
pub(super) trait Entries: Copy + Send + Sync + 'static {
    type Entry: Clone + Send + Sync + 'static;
    /// The list, for removing entries and for CSV.
    const LIST: CatalogList;
    /// The table's `data-list`, the heading's id and the CSV file's name.
    const NAME: &'static str;
    /// The form's `data-form`.
    const FORM: &'static str;
    /// What a new entry's id starts with.
    const ID_PREFIX: &'static str;

    fn heading(texts: &AdminTexts) -> &'static str;
    fn id(entry: &Self::Entry) -> &EntryId;
    /// The entries the table lists, each with how deep it is indented.
    fn listed(self, catalog: &CatalogView) -> Vec<(usize, Self::Entry)>;
    /// The table's header row.
    fn header(texts: &AdminTexts) -> AnyView;
    /// One entry's row, with `actions` (its edit and remove buttons) as its last cell.
    fn row(self, catalog: &CatalogView, depth: usize, entry: &Self::Entry, actions: AnyView) -> AnyView;
    /// The form's fields.
    fn fields(self, editing: Editing, editing_id: RwSignal<Option<EntryId>>) -> AnyView;
    /// Fills the fields from an entry to edit.
    fn fill(self, entry: &Self::Entry);
    /// Empties the fields a next entry does not share (a kind or a place chosen stays, as
    /// people add several alike).
    fn clear(self);
    /// The entry the fields describe, under `id`.
    fn read(self, catalog: &CatalogView, id: EntryId, texts: &AdminTexts) -> Result<Self::Entry, Refusal>;
    fn put(catalog: &mut SiteCatalog, entry: &Self::Entry, edit: &Edit) -> Result<(), DocumentError>;
    /// Why the entry may not be removed now, if it may not.
    fn kept(self, _catalog: &CatalogView, _id: &EntryId, _texts: &AdminTexts) -> Option<String> {
        None
    }
    /// What the list shows above its table (a search field).
    fn above(self) -> Option<AnyView> {
        None
    }
    /// What the list shows under its table (how many more there are).
    fn below(self) -> Option<AnyView> {
        None
    }
}

/// A list of the catalog, edited as [`Entries`] says.
#[component]
pub(super) fn CatalogEditor<E: Entries>(kind: E, editing: Editing) -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = crate::i18n::use_texts();
    let editing_id = RwSignal::new(None::<EntryId>);
    let clear = move || {
        editing_id.set(None);
        kind.clear();
    };
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(catalog) = editing.catalog.get_untracked() else { return };
        let id = editing_id.get_untracked().unwrap_or_else(|| entry_id(E::ID_PREFIX));
        match kind.read(&catalog, id, texts.get_untracked()) {
            Ok(entry) => editing.save(move |catalog, edit| E::put(catalog, &entry, edit), clear),
            Err(Refusal::Page(text)) => editing.fail(text),
            Err(Refusal::Field(field, text)) => editing.fail_at(field, text),
        }
    };
    let start_editing = move |entry: E::Entry| {
        kind.fill(&entry);
        editing_id.set(Some(E::id(&entry).clone()));
    };
    let remove = move |id: EntryId| {
        let Some(catalog) = editing.catalog.get_untracked() else { return };
        if let Some(reason) = kind.kept(&catalog, &id, texts.get_untracked()) {
            return editing.fail(reason);
        }
        editing.save(move |catalog, edit| catalog.remove(E::LIST, id.as_str(), edit), || {});
    };
    let rows = move || {
        let catalog = editing.catalog.get()?;
        let rows = kind.listed(&catalog).into_iter().map(|(depth, entry)| {
            let (to_edit, to_remove) = (entry.clone(), E::id(&entry).clone());
            let on_edit = Callback::new(move |()| start_editing(to_edit.clone()));
            let on_remove = Callback::new(move |()| remove(to_remove.clone()));
            let actions = view! { <td><RowActions on_edit=on_edit on_remove=on_remove /></td> }.into_any();
            kind.row(&catalog, depth, &entry, actions)
        });
        Some(rows.collect_view())
    };
    view! {
        <section class="card" aria-labelledby=E::NAME>
            <h2 id=E::NAME>{move || E::heading(texts.get())}</h2>
            {kind.above()}
            <table class="admin-table" data-list=E::NAME>
                <thead>{move || E::header(texts.get())}</thead>
                <tbody>{rows}</tbody>
            </table>
            {kind.below()}
            <form class="form" data-form=E::FORM on:submit=save>
                {kind.fields(editing, editing_id)}
                <FormButtons editing=Signal::derive(move || editing_id.with(Option::is_some)) add_label=Signal::derive(move || field_texts.get().add) on_cancel=Callback::new(move |()| clear()) />
            </form>
            <CsvTools editing=editing list=E::LIST name=E::NAME />
        </section>
    }
}

/// A list's CSV export and import: an import is checked whole against the file and the
/// catalog before anything is written (`catalog_csv::import`).
#[component]
fn CsvTools(editing: Editing, list: CatalogList, name: &'static str) -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = crate::i18n::use_texts();
    let outcome = RwSignal::new(None::<(bool, String)>);
    let export = move |_| {
        let Some(catalog) = editing.catalog.get_untracked() else { return };
        let file = format!("{}-{name}.csv", editing.site.get_untracked());
        if let Err(error) = crate::files::download(&file, &catalog_csv::export(&catalog, list), "text/csv;charset=utf-8") {
            outcome.set(Some((false, error.to_string())));
        }
    };
    let picker = NodeRef::<leptos::html::Input>::new();
    let import = move |_| {
        let Some(input) = picker.get_untracked() else { return };
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        input.set_value("");
        let texts = texts.get_untracked();
        spawn_local(async move {
            let text = match crate::files::read_text(&file).await {
                Ok(text) => text,
                Err(error) => return outcome.set(Some((false, error.to_string()))),
            };
            let Some(catalog) = editing.catalog.get_untracked() else { return };
            match catalog_csv::import(&catalog, list, &text) {
                Ok(checked) => {
                    let report =
                        texts.imported.replace("{rows}", &checked.rows().to_string()).replace("{added}", &checked.added.to_string());
                    editing.save(move |catalog, edit| catalog.apply_import(&checked, edit), move || outcome.set(Some((true, report))));
                }
                Err(error) => outcome.set(Some((false, format!("{} {error}", texts.import_failed)))),
            }
        });
    };
    view! {
        <div class="csv-tools" data-csv=name>
            <button type="button" data-action="export-csv" on:click=export>{move || field_texts.get().export_csv}</button>
            <label class="file-button">
                {move || texts.get().import_csv}
                <input type="file" name=format!("import-{name}") accept=".csv,text/csv" node_ref=picker on:change=import />
            </label>
            <small class="muted">{move || texts.get().csv_columns} ": " <code>{catalog_csv::columns(list).join(", ")}</code></small>
            {move || outcome.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="status" data-import=if ok { "ok" } else { "error" }>{text}</p> })}
        </div>
    }
}
