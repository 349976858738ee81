//! `/admin/templates/:id`: building a checklist — its names and category, sections,
//! items of every kind with their rules (required, limits and unit, options that fail,
//! photo on fail, weight), in Chinese and English — previewed as the inspector will see
//! it, and published as a new version. Rounds in progress keep the version they started
//! from; new rounds take the latest. The draft is part of the template document, so two
//! administrators can edit it offline and their edits merge.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::document::catalog::{SiteCatalog, TemplateRef};
use shared::document::template::{Checklist, ChecklistItem, ChecklistTemplate, ItemKind, Label, Section};
use shared::document::{DocumentError, Edit, EntryId};
use shared::protocol::DocumentId;

use super::texts::use_admin_texts;
use super::{ChecklistFields, FormButtons, RowActions};
use crate::edits::{catalog_of, edit_now, entry_id};
use crate::error::AppError;
use crate::i18n::CurrentLanguage;
use crate::pages::rounds::{ItemRow, ItemRowData};
use crate::replica::{Replica, use_replica};
use crate::session::{CurrentSession, use_session};

/// The template as this phone has it: published checklist, draft, and whether they differ.
#[derive(Clone, Debug, PartialEq)]
struct Read {
    site: String,
    published: Checklist,
    draft: Checklist,
    changed: bool,
}

fn read_template(replica: Replica, id: &DocumentId) -> Option<Read> {
    replica
        .read(id, |doc| {
            let template = ChecklistTemplate::from_doc(doc.clone()).ok()?;
            let (header, published) = template.read().ok()?;
            let draft = template.draft().ok()?;
            // The draft carries the published version number, so any difference is an edit.
            let changed = draft != published;
            Some(Read { site: header.site.to_string(), published, draft, changed })
        })
        .flatten()
}

/// Edits the template on this phone and reports failures in `message`.
fn change_template(
    replica: Replica,
    current: CurrentSession,
    id: DocumentId,
    message: RwSignal<Option<(bool, String)>>,
    change: impl FnOnce(&mut ChecklistTemplate, &Edit) -> Result<(), DocumentError> + 'static,
) {
    let Some(session) = current.session.get_untracked() else { return };
    spawn_local(async move {
        let outcome = replica
            .edit(&id, |doc| {
                let edit = edit_now(&session.user.username)?;
                Ok(ChecklistTemplate::edit_in(doc, |template| change(template, &edit))??)
            })
            .await;
        if let Err(error) = outcome {
            message.set(Some((false, error.to_string())));
        }
    });
}

/// A reading typed in units as the document keeps it (thousandths).
fn thousandths(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .map(|value| Some((value * 1000.0).round() as i64))
        .ok_or_else(|| AppError::Invalid(format!("{text:?}")))
}

fn shown(thousandths: Option<i64>) -> String {
    thousandths.map(|value| format!("{}", value as f64 / 1000.0)).unwrap_or_default()
}

/// Options as typed, one per line: `中文 / English`, a leading `!` for one that fails.
fn parse_options(text: &str, existing: &[(EntryId, Label)]) -> (Vec<(EntryId, Label)>, Vec<EntryId>) {
    let mut options = Vec::new();
    let mut failing = Vec::new();
    for (index, line) in text.lines().map(str::trim).filter(|line| !line.is_empty()).enumerate() {
        let (fails, line) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let (zh, en) = line.split_once('/').map(|(zh, en)| (zh.trim(), en.trim())).unwrap_or((line, line));
        // Keep the ids of options kept in place, so answers already given still match.
        let id = existing
            .get(index)
            .filter(|(_, label)| label.zh == zh || label.en == en)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| entry_id("option"));
        if fails {
            failing.push(id.clone());
        }
        options.push((id, Label::new(zh, en)));
    }
    (options, failing)
}

fn options_text(options: &[(EntryId, Label)], failing: &[EntryId]) -> String {
    options
        .iter()
        .map(|(id, label)| format!("{}{} / {}", if failing.contains(id) { "!" } else { "" }, label.zh, label.en))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One edit of the draft, run on the phone's copy of the template.
type TemplateChange = Box<dyn FnOnce(&mut ChecklistTemplate, &Edit) -> Result<(), DocumentError>>;

/// The kinds of item the form offers, in its order; a reading's unit and limits and a
/// choice's options are the form's own fields, so these carry none.
fn offered_kinds() -> [ItemKind; 6] {
    [
        ItemKind::PassFail,
        ItemKind::Number { unit: String::new(), min: None, max: None },
        ItemKind::Text,
        ItemKind::Choice { options: Vec::new(), failing: Vec::new() },
        ItemKind::Photo,
        ItemKind::Signature,
    ]
}

/// The item form's fields.
#[derive(Clone, Copy)]
struct ItemForm {
    editing: RwSignal<Option<EntryId>>,
    section: RwSignal<String>,
    kind: RwSignal<String>,
    label_zh: RwSignal<String>,
    label_en: RwSignal<String>,
    required: RwSignal<bool>,
    photo_on_fail: RwSignal<bool>,
    weight: RwSignal<String>,
    unit: RwSignal<String>,
    min: RwSignal<String>,
    max: RwSignal<String>,
    options: RwSignal<String>,
}

impl ItemForm {
    fn new() -> ItemForm {
        ItemForm {
            editing: RwSignal::new(None),
            section: RwSignal::new(String::new()),
            kind: RwSignal::new(ItemKind::PassFail.name().to_owned()),
            label_zh: RwSignal::new(String::new()),
            label_en: RwSignal::new(String::new()),
            required: RwSignal::new(true),
            photo_on_fail: RwSignal::new(false),
            weight: RwSignal::new(String::new()),
            unit: RwSignal::new(String::new()),
            min: RwSignal::new(String::new()),
            max: RwSignal::new(String::new()),
            options: RwSignal::new(String::new()),
        }
    }

    fn clear(self) {
        self.editing.set(None);
        self.label_zh.set(String::new());
        self.label_en.set(String::new());
        self.weight.set(String::new());
        self.min.set(String::new());
        self.max.set(String::new());
        self.options.set(String::new());
    }

    fn fill(self, item: &ChecklistItem) {
        self.editing.set(Some(item.id.clone()));
        self.section.set(item.section.to_string());
        self.kind.set(item.kind.name().to_owned());
        self.label_zh.set(item.label.zh.clone());
        self.label_en.set(item.label.en.clone());
        self.required.set(item.required);
        self.photo_on_fail.set(item.photo_on_fail);
        self.weight.set(item.weight.map(|weight| weight.to_string()).unwrap_or_default());
        match &item.kind {
            ItemKind::Number { unit, min, max } => {
                self.unit.set(unit.clone());
                self.min.set(shown(*min));
                self.max.set(shown(*max));
            }
            ItemKind::Choice { options, failing } => self.options.set(options_text(options, failing)),
            _ => {}
        }
    }

    /// The item the form describes, placed after the section's last item when new.
    fn item(self, draft: &Checklist) -> Result<ChecklistItem, AppError> {
        let editing = self.editing.get_untracked();
        let existing = editing.as_ref().and_then(|id| draft.item(id));
        let section = EntryId::parse(&self.section.get_untracked())
            .ok()
            .or_else(|| draft.sections.first().map(|section| section.id.clone()))
            .ok_or_else(|| AppError::Invalid("no section".to_owned()))?;
        let kind = match self.kind.get_untracked().as_str() {
            "number" => ItemKind::Number {
                unit: self.unit.get_untracked().trim().to_owned(),
                min: thousandths(&self.min.get_untracked())?,
                max: thousandths(&self.max.get_untracked())?,
            },
            "text" => ItemKind::Text,
            "choice" => {
                let before = match existing.map(|item| &item.kind) {
                    Some(ItemKind::Choice { options, .. }) => options.clone(),
                    _ => Vec::new(),
                };
                let (options, failing) = parse_options(&self.options.get_untracked(), &before);
                ItemKind::Choice { options, failing }
            }
            "photo" => ItemKind::Photo,
            "signature" => ItemKind::Signature,
            _ => ItemKind::PassFail,
        };
        let weight = self.weight.get_untracked();
        let weight = if weight.trim().is_empty() {
            None
        } else {
            Some(weight.trim().parse::<i64>().map_err(|_| AppError::Invalid(format!("{weight:?}")))?)
        };
        let order = match existing {
            Some(item) if item.section == section => item.order,
            _ => draft.items.iter().filter(|item| item.section == section).map(|item| item.order + 1).max().unwrap_or(0),
        };
        Ok(ChecklistItem {
            id: editing.unwrap_or_else(|| entry_id("item")),
            section,
            order,
            label: Label::new(self.label_zh.get_untracked().trim(), self.label_en.get_untracked().trim()),
            kind,
            required: self.required.get_untracked(),
            photo_on_fail: self.photo_on_fail.get_untracked(),
            weight,
        })
    }
}

/// What the builder's parts share: the template shown, where the last change's outcome is
/// said, and the item form (filled by a row's "edit").
#[derive(Clone, Copy)]
struct Builder {
    current: CurrentSession,
    replica: Replica,
    id: Memo<Option<DocumentId>>,
    template: Memo<Option<Read>>,
    message: RwSignal<Option<(bool, String)>>,
    form: ItemForm,
}

impl Builder {
    /// Edits the draft on this phone; a failure is said in `message`.
    fn edit(self, change: TemplateChange) {
        if let Some(id) = self.id.get_untracked() {
            self.message.set(None);
            change_template(self.replica, self.current, id, self.message, move |template, edit| change(template, edit));
        }
    }
}

#[component]
pub fn TemplateBuilder() -> impl IntoView {
    let replica = use_replica();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    let template = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_template(replica, &id.get()?)
    });
    let builder = Builder { current: use_session(), replica, id, template, message: RwSignal::new(None), form: ItemForm::new() };
    view! {
        <TemplateState builder=builder />
        <Show when=move || template.with(Option::is_some)>
            <NamesForm builder=builder />
            <SectionsEditor builder=builder />
            <ItemEditor builder=builder />
            <Preview builder=builder />
        </Show>
    }
}

/// The template's name, whether its draft differs from what is published, the outcome of
/// the last change, and "publish".
#[component]
fn TemplateState(builder: Builder) -> impl IntoView {
    let texts = use_admin_texts();
    let Builder { current, replica, id, template, message, .. } = builder;
    let publish = move |_| {
        let (Some(session), Some(id), Some(read)) = (current.session.get_untracked(), id.get_untracked(), template.get_untracked()) else {
            return;
        };
        let texts = texts.get_untracked();
        spawn_local(async move {
            let outcome = async {
                let version = replica
                    .edit(&id, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        Ok(ChecklistTemplate::edit_in(doc, |template| template.publish(&edit))??)
                    })
                    .await?;
                // The site's catalog names the version rounds start from.
                let catalog = catalog_of(&session, &read.site).ok_or(AppError::NotOnThisPhone)?;
                let reference = TemplateRef {
                    document: id.url(),
                    name_zh: read.draft.name.zh.clone(),
                    name_en: read.draft.name.en.clone(),
                    category: read.draft.category.clone(),
                    version,
                };
                replica
                    .edit(&catalog, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        Ok(SiteCatalog::edit_in(doc, |catalog| catalog.put_template(&reference, &edit))??)
                    })
                    .await?;
                Ok::<_, AppError>(version)
            }
            .await;
            match outcome {
                Ok(version) => message.set(Some((true, format!("{} {version}", texts.published)))),
                Err(error) => message.set(Some((false, error.to_string()))),
            }
        });
    };
    let state = move || {
        let texts = texts.get();
        template.get().map(|read| {
            let published = if read.published.version > 0 {
                format!("{} {}", texts.published, read.published.version)
            } else {
                texts.draft_only.to_owned()
            };
            let changes = if read.changed { texts.unpublished_changes } else { texts.up_to_date };
            (read.published.version, read.changed, format!("{published} · {changes}"))
        })
    };
    view! {
        <section class="card">
            {move || template.get().map(|read| view! { <p><a class="back" href=format!("/admin/sites/{}", read.site)>"← " {read.site.clone()}</a></p> })}
            <h1>{move || template.get().map(|read| format!("{} · {}", read.draft.name.zh, read.draft.name.en))}</h1>
            {move || template.with(Option::is_none).then(|| view! { <p class="muted">{texts.get().template_not_here}</p> })}
            {move || state().map(|(version, changed, text)| view! { <p data-published=version.to_string() data-changed=changed.to_string()>{text}</p> })}
            {move || message.get().map(|(ok, text)| view! { <p class=if ok { "ok" } else { "error" } role="alert" data-message=if ok { "ok" } else { "error" }>{text}</p> })}
            <button type="button" class="primary" data-action="publish" prop:disabled=move || !state().is_some_and(|(_, changed, _)| changed) on:click=publish>{move || texts.get().publish}</button>
        </section>
    }
}

/// The checklist's names in both languages and its category.
#[component]
fn NamesForm(builder: Builder) -> impl IntoView {
    let field_texts = crate::i18n::use_texts();
    let name_zh = RwSignal::new(String::new());
    let name_en = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    // The name fields follow the names in the document: they are set again when those
    // change (a rename saved here or arriving), not on every edit of the items, so names
    // being typed stay while sections and items are added.
    let names = Memo::new(move |_| {
        builder
            .template
            .with(|read| read.as_ref().map(|read| (read.draft.name.zh.clone(), read.draft.name.en.clone(), read.draft.category.clone())))
    });
    Effect::new(move || {
        if let Some((zh, en, chosen)) = names.get() {
            name_zh.set(zh);
            name_en.set(en);
            category.set(chosen);
        }
    });
    let rename = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let name = Label::new(name_zh.get_untracked().trim(), name_en.get_untracked().trim());
        let chosen = category.get_untracked();
        builder.edit(Box::new(move |template, edit| template.set_names(&name, &chosen, edit)));
    };
    view! {
        <section class="card">
            <form class="form" data-form="names" on:submit=rename>
                <ChecklistFields zh=name_zh en=name_en category=category />
                <button type="submit">{move || field_texts.get().save}</button>
            </form>
        </section>
    }
}

/// The sections with their items — moved, edited, removed — and the form that adds or
/// renames a section.
#[component]
fn SectionsEditor(builder: Builder) -> impl IntoView {
    let texts = use_admin_texts();
    let field_texts = crate::i18n::use_texts();
    let Builder { template, form, .. } = builder;
    let section_zh = RwSignal::new(String::new());
    let section_en = RwSignal::new(String::new());
    // The section being renamed, if any; otherwise the form adds one at the end.
    let renaming = RwSignal::new(None::<Section>);
    let save_section = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(read) = template.get_untracked() else { return };
        let title = Label::new(section_zh.get_untracked().trim(), section_en.get_untracked().trim());
        let section = match renaming.get_untracked() {
            Some(section) => Section { title, ..section },
            None => {
                let order = read.draft.sections.iter().map(|section| section.order + 1).max().unwrap_or(0);
                let section = Section { id: entry_id("section"), order, title };
                form.section.set(section.id.to_string());
                section
            }
        };
        builder.edit(Box::new(move |template, edit| template.put_section(&section, edit)));
        renaming.set(None);
        section_zh.set(String::new());
        section_en.set(String::new());
    };
    let rename_section = move |section: Section| {
        section_zh.set(section.title.zh.clone());
        section_en.set(section.title.en.clone());
        renaming.set(Some(section));
    };
    // Moving swaps an item's order with its neighbour's in the same section.
    let shift = move |item: ChecklistItem, up: bool| {
        let Some(read) = template.get_untracked() else { return };
        let Some((moved, other)) = read.draft.move_item(&item.id, up) else { return };
        builder.edit(Box::new(move |template, edit| {
            template.put_item(&moved, edit)?;
            template.put_item(&other, edit)
        }));
    };
    let sections = move || {
        let texts = texts.get();
        let read = template.get()?;
        Some(
            read.draft
                .sections
                .iter()
                .map(|section| {
                    let items = read
                        .draft
                        .items
                        .iter()
                        .filter(|item| item.section == section.id)
                        .map(|item| {
                            let (to_edit, to_remove, up, down) = (item.clone(), item.id.clone(), item.clone(), item.clone());
                            let kind = texts.item_kind(&item.kind);
                            let rules = [item.required.then_some(texts.required), item.photo_on_fail.then_some(texts.photo_on_fail)].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                            view! {
                                <li class="builder-item" data-item=item.label.en.clone()>
                                    <span>{format!("{} / {}", item.label.zh, item.label.en)}</span>
                                    <span class="muted">{format!(" · {kind} {rules}")}</span>
                                    <span class="actions">
                                        <button type="button" class="link-button" aria-label=texts.move_up on:click=move |_| shift(up.clone(), true)>"↑"</button>
                                        <button type="button" class="link-button" aria-label=texts.move_down on:click=move |_| shift(down.clone(), false)>"↓"</button>
                                    </span>
                                    <RowActions
                                        on_edit=Callback::new(move |()| form.fill(&to_edit))
                                        on_remove=Callback::new(move |()| {
                                            let to_remove = to_remove.clone();
                                            builder.edit(Box::new(move |template, edit| template.remove_item(&to_remove, edit)));
                                        })
                                    />
                                </li>
                            }
                        })
                        .collect_view();
                    let (to_rename, to_remove) = (section.clone(), section.id.clone());
                    view! {
                        <li class="builder-section" data-section=section.id.to_string()>
                            <h3>
                                {format!("{} / {}", section.title.zh, section.title.en)}
                                " "
                                <RowActions
                                    on_edit=Callback::new(move |()| rename_section(to_rename.clone()))
                                    on_remove=Callback::new(move |()| {
                                        let to_remove = to_remove.clone();
                                        builder.edit(Box::new(move |template, edit| template.remove_section(&to_remove, edit)));
                                    })
                                />
                            </h3>
                            <ul>{items}</ul>
                        </li>
                    }
                })
                .collect_view(),
        )
    };
    view! {
        <section class="card" aria-labelledby="sections">
            <h2 id="sections">{move || texts.get().sections}</h2>
            <ul class="builder">{sections}</ul>
            <form class="inline-form" data-form="section" on:submit=save_section>
                <input name="title-zh" placeholder=move || texts.get().title_zh prop:value=section_zh on:input=move |event| section_zh.set(event_target_value(&event)) />
                <input name="title-en" placeholder=move || texts.get().title_en prop:value=section_en on:input=move |event| section_en.set(event_target_value(&event)) />
                <button type="submit">{move || if renaming.with(Option::is_some) { field_texts.get().save } else { texts.get().add_section }}</button>
            </form>
        </section>
    }
}

/// The form that adds an item or saves the one being edited, with the rules of its kind.
#[component]
fn ItemEditor(builder: Builder) -> impl IntoView {
    let texts = use_admin_texts();
    let Builder { template, message, form, .. } = builder;
    let save_item = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(read) = template.get_untracked() else { return };
        match form.item(&read.draft) {
            Ok(item) => {
                builder.edit(Box::new(move |template, edit| template.put_item(&item, edit)));
                form.clear();
            }
            Err(error) => message.set(Some((false, error.to_string()))),
        }
    };
    let is_kind = move |kind: &'static str| move || form.kind.get() == kind;
    view! {
        <section class="card" aria-labelledby="item-form">
            <h2 id="item-form">{move || if form.editing.with(Option::is_some) { texts.get().edit } else { texts.get().add_item }}</h2>
            <form class="form" data-form="item" on:submit=save_item>
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().in_section}</span>
                        <select name="section" on:change=move |event| form.section.set(event_target_value(&event))>
                            {move || template.get().map(|read| read.draft.sections.into_iter().map(|section| {
                                let value = section.id.to_string();
                                let selected = {
                                    let value = value.clone();
                                    move || form.section.get() == value
                                };
                                view! { <option value=value selected=selected>{format!("{} / {}", section.title.zh, section.title.en)}</option> }
                            }).collect_view())}
                        </select>
                    </label>
                    <label>
                        <span>{move || texts.get().kind}</span>
                        <select name="kind" on:change=move |event| form.kind.set(event_target_value(&event))>
                            {move || offered_kinds().into_iter().map(|kind| view! { <option value=kind.name() selected=move || form.kind.get() == kind.name()>{texts.get().item_kind(&kind)}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                <label>
                    <span>{move || texts.get().label_zh}</span>
                    <input name="label-zh" prop:value=form.label_zh on:input=move |event| form.label_zh.set(event_target_value(&event)) />
                </label>
                <label>
                    <span>{move || texts.get().label_en}</span>
                    <input name="label-en" prop:value=form.label_en on:input=move |event| form.label_en.set(event_target_value(&event)) />
                </label>
                <Show when=is_kind("number")>
                    <div class="three-columns">
                        <label>
                            <span>{move || texts.get().unit}</span>
                            <input name="unit" prop:value=form.unit on:input=move |event| form.unit.set(event_target_value(&event)) />
                        </label>
                        <label>
                            <span>{move || texts.get().minimum}</span>
                            <input name="min" inputmode="decimal" prop:value=form.min on:input=move |event| form.min.set(event_target_value(&event)) />
                        </label>
                        <label>
                            <span>{move || texts.get().maximum}</span>
                            <input name="max" inputmode="decimal" prop:value=form.max on:input=move |event| form.max.set(event_target_value(&event)) />
                        </label>
                    </div>
                </Show>
                <Show when=is_kind("choice")>
                    <label>
                        <span>{move || texts.get().options}</span>
                        <textarea name="options" rows="4" prop:value=form.options on:input=move |event| form.options.set(event_target_value(&event))></textarea>
                        <small class="muted">{move || texts.get().options_hint}</small>
                    </label>
                </Show>
                <div class="checks">
                    <label class="check">
                        <input type="checkbox" name="required" prop:checked=form.required on:change=move |event| form.required.set(event_target_checked(&event)) />
                        <span>{move || texts.get().required}</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="photo-on-fail" prop:checked=form.photo_on_fail on:change=move |event| form.photo_on_fail.set(event_target_checked(&event)) />
                        <span>{move || texts.get().photo_on_fail}</span>
                    </label>
                    <label>
                        <span>{move || texts.get().weight}</span>
                        <input name="weight" type="number" min="0" inputmode="numeric" prop:value=form.weight on:input=move |event| form.weight.set(event_target_value(&event)) />
                    </label>
                </div>
                <FormButtons editing=Signal::derive(move || form.editing.with(Option::is_some)) add_label=Signal::derive(move || texts.get().add_item) on_cancel=Callback::new(move |()| form.clear()) />
            </form>
        </section>
    }
}

/// The draft as the inspector will see it: the rounds page's own item rows, locked.
#[component]
fn Preview(builder: Builder) -> impl IntoView {
    let texts = use_admin_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let Builder { id, template, .. } = builder;
    let preview = move || {
        let read = template.get()?;
        let id = id.get()?;
        let language = language.get();
        Some(
            read.draft
                .items
                .iter()
                .map(|item| {
                    let section = read
                        .draft
                        .sections
                        .iter()
                        .find(|section| section.id == item.section)
                        .map(|section| crate::pages::rounds::text(&section.title, language))
                        .unwrap_or_default();
                    let row = ItemRowData {
                        round: id,
                        room: None,
                        section,
                        item: item.clone(),
                        answer: None,
                        notes: Vec::new(),
                        photos: Vec::new(),
                        hazard: None,
                        conflict: None,
                        can_resolve: false,
                        locked: true,
                        site: read.site.clone(),
                        location: String::new(),
                        place_name: String::new(),
                        checklist_category: String::new(),
                        follow_up: None,
                        language,
                    };
                    view! { <ItemRow row=row /> }
                })
                .collect_view(),
        )
    };
    view! {
        <section class="card preview" aria-labelledby="preview">
            <h2 id="preview">{move || texts.get().preview}</h2>
            <ul class="items" data-list="preview">{preview}</ul>
        </section>
    }
}
