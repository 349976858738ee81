//! The one editor the lists of a site's catalog are edited with — places, assets, stock
//! items: a table of the entries with edit and remove on each row, a form that adds an
//! entry or saves the one being edited, and CSV export and import of the list. What
//! differs between lists is said once per kind of entry ([`Entries`]): its fields, how they
//! read into an entry, and how a row shows one.
//!
//! A long list (a site of thousands of rooms) draws only the rows on and near the screen,
//! two empty rows keeping the rest of the table's height, and moves that window as the
//! page scrolls: building 5,000 rows at once held a phone for seconds.

use std::ops::Range;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::document::catalog::{CatalogList, CatalogView, SiteCatalog};
use shared::document::catalog_csv;
use shared::document::{DocumentError, Edit, EntryId};

use super::site::Editing;
use super::texts::{AdminTexts, use_admin_texts};
use super::{FormButtons, RowActions};
use crate::edits::entry_id;

/// Lists this long or longer draw only a window of their rows.
const WINDOWED_FROM: usize = 300;
/// Rows drawn beyond each edge of the screen.
const OVERSCAN: usize = 30;
/// The window moves by this many rows at a time.
const STEP: usize = 10;
/// Rows drawn before a row's height is known: more than a screen holds.
const FIRST_WINDOW: usize = 40;

/// What the table lists, read once per change: `generation` keys the rows, so a change
/// draws them anew while scrolling reuses the ones drawn.
struct Listed<T> {
    generation: u64,
    catalog: Arc<CatalogView>,
    rows: Arc<Vec<(usize, T)>>,
}

impl<T> Clone for Listed<T> {
    fn clone(&self) -> Self {
        Listed { generation: self.generation, catalog: self.catalog.clone(), rows: self.rows.clone() }
    }
}

/// The rows `[start, end)` of `count` that a window covering the screen draws, given the
/// top of the table's first row relative to the screen, the screen's height and a row's.
fn window_rows(count: usize, top: f64, screen: f64, row: f64) -> Range<usize> {
    let first = (-top / row).floor().max(0.0) as usize;
    let last = ((screen - top) / row).ceil().max(0.0) as usize;
    let end = ((last + OVERSCAN).div_ceil(STEP) * STEP).min(count);
    let start = (first.saturating_sub(OVERSCAN) / STEP * STEP).min(end);
    start..end
}

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
    let listed = Memo::new_with_compare(
        move |previous: Option<&Option<Listed<E::Entry>>>| {
            let catalog = editing.catalog.get()?;
            let generation = previous.and_then(Option::as_ref).map_or(0, |listed| listed.generation + 1);
            Some(Listed { generation, rows: Arc::new(kind.listed(&catalog)), catalog })
        },
        |_, _| true,
    );
    let count = move || listed.with(|listed| listed.as_ref().map_or(0, |listed| listed.rows.len()));
    let windowed = move || count() >= WINDOWED_FROM;
    // The window: which rows are drawn, and a drawn row's height once measured.
    let body = NodeRef::<leptos::html::Tbody>::new();
    let shown = RwSignal::new(0..FIRST_WINDOW);
    let row_height = RwSignal::new(None::<f64>);
    let follow_screen = move || {
        let count = listed.with_untracked(|listed| listed.as_ref().map_or(0, |listed| listed.rows.len()));
        let Some(body) = body.get_untracked() else { return };
        if count < WINDOWED_FROM {
            return;
        }
        let height = match row_height.get_untracked() {
            Some(height) => height,
            None => {
                let Some(row) = body.query_selector("tr:not(.spacer)").ok().flatten() else { return };
                let height = row.get_bounding_client_rect().height();
                if height <= 0.0 {
                    return;
                }
                row_height.set(Some(height));
                height
            }
        };
        let screen = window().inner_height().ok().and_then(|height| height.as_f64()).unwrap_or(800.0);
        let rows = window_rows(count, body.get_bounding_client_rect().top(), screen, height);
        if shown.get_untracked() != rows {
            shown.set(rows);
        }
    };
    // After the list changes (or first draws), the window is fitted to the screen in the
    // next frame, when the drawn rows can be measured.
    Effect::new(move |_| {
        listed.track();
        request_animation_frame(follow_screen);
    });
    let scrolled = window_event_listener(leptos::ev::scroll, move |_| follow_screen());
    let resized = window_event_listener(leptos::ev::resize, move |_| {
        row_height.set(None);
        follow_screen();
    });
    on_cleanup(move || {
        scrolled.remove();
        resized.remove();
    });
    let drawn = move || {
        let count = count();
        if count < WINDOWED_FROM {
            return 0..count;
        }
        let rows = shown.get();
        rows.start.min(count)..rows.end.min(count)
    };
    let spacer = move |rows: Memo<usize>| {
        move || {
            let height = row_height.get()?;
            (rows.get() > 0).then(|| {
                view! { <tr class="spacer" aria-hidden="true"><td colspan="3" style:height=format!("{}px", rows.get() as f64 * height)></td></tr> }
            })
        }
    };
    let above = Memo::new(move |_| drawn().start);
    let below = Memo::new(move |_| count() - drawn().end);
    let row = move |index: usize| {
        let Some(Listed { catalog, rows, .. }) = listed.get_untracked() else { return ().into_any() };
        let Some((depth, entry)) = rows.get(index).cloned() else { return ().into_any() };
        let (to_edit, to_remove) = (entry.clone(), E::id(&entry).clone());
        let on_edit = Callback::new(move |()| start_editing(to_edit.clone()));
        let on_remove = Callback::new(move |()| remove(to_remove.clone()));
        let actions = view! { <td><RowActions on_edit=on_edit on_remove=on_remove /></td> }.into_any();
        kind.row(&catalog, depth, &entry, actions)
    };
    let keys = move || {
        let generation = listed.with(|listed| listed.as_ref().map_or(0, |listed| listed.generation));
        drawn().map(|index| (generation, index)).collect::<Vec<_>>()
    };
    view! {
        <section class="card" aria-labelledby=E::NAME>
            <h2 id=E::NAME>{move || E::heading(texts.get())}</h2>
            {kind.above()}
            <table class="admin-table" class:windowed=windowed data-list=E::NAME data-rows=count>
                <thead>{move || E::header(texts.get())}</thead>
                <tbody node_ref=body>
                    {spacer(above)}
                    <For each=keys key=|key| *key children=move |(_, index)| row(index) />
                    {spacer(below)}
                </tbody>
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

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn the_window_covers_the_screen_and_a_margin_on_each_side_in_steps() {
        // At the top of a 5,000-row list, 50 px rows, an 800 px screen 100 px below its start.
        assert_eq!(window_rows(5_000, 100.0, 800.0, 50.0), 0..50);
        // Scrolled 1,000 rows down: rows 1,000–1,016 on the screen.
        assert_eq!(window_rows(5_000, -50_000.0, 800.0, 50.0), 970..1_050);
        // A few pixels more moves nothing until a step's worth is crossed.
        assert_eq!(window_rows(5_000, -50_049.0, 800.0, 50.0), 970..1_050);
        // At the end, the window stops at the last row.
        assert_eq!(window_rows(5_000, -249_500.0, 800.0, 50.0), 4_960..5_000);
        // Scrolled far past the table (to the form below it): nothing of it drawn.
        assert_eq!(window_rows(5_000, -300_000.0, 800.0, 50.0), 5_000..5_000);
        // A table below the screen: its first rows are ready.
        assert_eq!(window_rows(5_000, 2_000.0, 800.0, 50.0), 0..30);
    }
}
