//! A canteen's food samples (留样), offline: `/samples` starts a meal's log and lists the
//! meals on this phone and the samples to discard; `/samples/:id` is one meal — its dishes
//! sampled, each with its weight, fridge, photo and the time it may be discarded, and the
//! way to record that it was. The rules (125 g, 48 hours) are `shared::document::food_samples`'s.

mod texts;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::directory::{Role, SiteId};
use shared::document::DocumentType;
use shared::document::catalog::{CatalogView, IndexEntry};
use shared::document::food_samples::{FoodSamples, FoodSamplesView, MIN_GRAMS, NewMeal, NewSample, SampleState};
use shared::protocol::DocumentId;

use self::texts::{SampleTexts, use_sample_texts};
use crate::edits::{catalog_of, edit_now, entry_id, index_in_catalog, now, read_catalog};
use crate::error::AppError;
use crate::fields::{PlacePicker, SiteChoice};
use crate::i18n::{CurrentLanguage, moment};
use crate::photos;
use crate::replica::{Replica, use_replica};
use crate::server::display_name;
use crate::session::{SessionSite, use_session};

/// The meals a log is started for, as stored; shown by `SampleTexts::meal_names`.
const MEALS: [&str; 4] = ["breakfast", "lunch", "dinner", "other"];

/// A meal's samples the phone holds, read once per change (see `Replica::read_kept`).
pub(crate) fn read_meal(replica: Replica, id: &DocumentId) -> Option<Arc<FoodSamplesView>> {
    replica.read_kept(id)
}

impl crate::replica::Reading for FoodSamplesView {
    fn read(doc: &automerge::AutoCommit) -> Option<FoodSamplesView> {
        FoodSamples::read_doc(doc).ok()
    }
}

/// Whether someone with `role` keeps a site's food samples.
fn takes_samples(role: Role) -> bool {
    matches!(role, Role::Inspector | Role::Manager | Role::Admin)
}

/// A meal's name in the reader's language (as stored, if it is none of [`MEALS`]).
fn meal_name(texts: &SampleTexts, meal: &str) -> String {
    MEALS.iter().position(|known| *known == meal).map_or_else(|| meal.to_owned(), |index| texts.meal_names[index].to_owned())
}

fn state_words(texts: &SampleTexts, state: SampleState) -> &'static str {
    match state {
        SampleState::Keeping { .. } => texts.keeping,
        SampleState::ToDiscard { .. } => texts.state_to_discard,
        SampleState::DiscardOverdue { .. } => texts.discard_overdue,
        SampleState::Discarded { early: false, .. } => texts.discarded,
        SampleState::Discarded { early: true, .. } => texts.discarded_early,
    }
}

/// Every meal's log on this phone, newest meal first.
fn meals_here(replica: Replica) -> Vec<(DocumentId, Arc<FoodSamplesView>)> {
    let mut meals: Vec<_> = replica.document_ids().into_iter().filter_map(|id| Some((id, read_meal(replica, &id)?))).collect();
    meals.sort_by(|a, b| (&b.1.date, b.1.header.created_at).cmp(&(&a.1.date, a.1.header.created_at)));
    meals
}

/// The sites where the person keeps samples.
fn sample_sites() -> Signal<Vec<SessionSite>> {
    let current = use_session();
    Signal::derive(move || {
        current.session.with(|session| {
            session
                .as_ref()
                .map(|session| session.sites.iter().filter(|site| takes_samples(site.role)).cloned().collect())
                .unwrap_or_default()
        })
    })
}

#[component]
pub fn SamplesPage() -> impl IntoView {
    let texts = use_sample_texts();
    let sites = sample_sites();
    view! {
        <h1 class="page-title">{move || texts.get().food_samples}</h1>
        <Show when=move || !sites.with(Vec::is_empty) fallback=move || view! { <p class="muted">{texts.get().not_yours}</p> }>
            <SamplesToDiscard />
            <StartMeal sites=sites />
            <MealList />
        </Show>
    }
}

/// The way to the food samples from the rounds page, for those who keep them.
#[component]
pub fn SamplesLink() -> impl IntoView {
    let texts = use_sample_texts();
    let sites = sample_sites();
    move || {
        (!sites.with(Vec::is_empty)).then(|| {
            view! {
                <section class="card">
                    <a class="button" href=shared::routes::AppRoute::FoodSamples.pattern() data-action="food-samples">{texts.get().food_samples}</a>
                </section>
            }
        })
    }
}

/// Samples kept their 48 hours and still in the fridge, meal by meal: on the to-do page and
/// the samples page. Nothing when there are none.
#[component]
pub fn SamplesToDiscard() -> impl IntoView {
    let texts = use_sample_texts();
    let replica = use_replica();
    let sites = sample_sites();
    let waiting = Memo::new(move |_| {
        let _ = replica.revision.get();
        let at = now();
        let mine: Vec<String> = sites.with(|sites| sites.iter().map(|site| site.id.to_string()).collect());
        meals_here(replica)
            .into_iter()
            .filter(|(_, meal)| mine.contains(&meal.header.site.to_string()))
            .filter_map(|(id, meal)| {
                let due = meal.kept().filter(|sample| meal.state(sample, at).needs_attention()).count();
                let overdue = meal.kept().any(|sample| matches!(meal.state(sample, at), SampleState::DiscardOverdue { .. }));
                (due > 0).then_some((id, meal, due, overdue))
            })
            .collect::<Vec<_>>()
    });
    move || {
        let texts = texts.get();
        let waiting = waiting.get();
        (!waiting.is_empty()).then(|| {
            let total: usize = waiting.iter().map(|(_, _, due, _)| due).sum();
            let rows = waiting
                .into_iter()
                .map(|(id, meal, due, overdue)| {
                    view! {
                        <li class="order-line" data-meal=id.to_string() class:overdue=overdue>
                            <a href=format!("/samples/{id}")>{format!("{} {}", meal.date, meal_name(texts, &meal.meal))}</a>
                            <span class=if overdue { "badge badge-overdue" } else { "badge" }>{texts.samples_count.replace("{}", &due.to_string())}</span>
                            {crate::inbox::new_mark(id)}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card" aria-labelledby="samples-to-discard" data-card="samples-to-discard">
                    <h2 id="samples-to-discard">{format!("{} ({total})", texts.to_discard)}</h2>
                    <ul class="orders">{rows}</ul>
                </section>
            }
        })
    }
}

/// Starting a meal's log: where, which meal, which day (today unless said).
#[component]
fn StartMeal(sites: Signal<Vec<SessionSite>>) -> impl IntoView {
    let texts = use_sample_texts();
    let current = use_session();
    let replica = use_replica();
    let navigate = use_navigate();
    let site = RwSignal::new(String::new());
    let chosen = Memo::new(move |_| {
        let wanted = site.get();
        sites.with(|sites| sites.iter().find(|known| known.id == wanted).or(sites.first()).map(|known| known.id.to_string()))
    });
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &chosen.get()?)?)
    });
    let canteen = RwSignal::new(String::new());
    // The canteen is where the site's food-safety rounds are walked, until one is chosen.
    Effect::new(move || {
        if !canteen.get_untracked().is_empty() {
            return;
        }
        let scheduled = catalog.with(|catalog| {
            let catalog = catalog.as_ref()?;
            let food_safety =
                |template: &str| catalog.templates.iter().any(|known| known.document == template && known.category == "food_safety");
            catalog.schedules.iter().find(|schedule| food_safety(&schedule.template)).map(|schedule| schedule.place.to_string())
        });
        if let Some(place) = scheduled {
            canteen.set(place);
        }
    });
    let meal = RwSignal::new(MEALS[1].to_owned());
    let date = RwSignal::new(today());
    let error = RwSignal::new(None::<String>);
    let start = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let (Some(session), Some(site_id)) = (current.session.get_untracked(), chosen.get_untracked()) else { return };
        if canteen.get_untracked().is_empty() {
            error.set(Some(texts.canteen_needed.to_owned()));
            return;
        }
        let (canteen, meal, date) = (canteen.get_untracked(), meal.get_untracked(), date.get_untracked());
        let navigate = navigate.clone();
        spawn_local(async move {
            let outcome = async {
                let edit = edit_now(&session.user.username)?;
                let new = NewMeal { site: SiteId::parse(&site_id)?, canteen: canteen.clone(), meal: meal.clone(), date: date.clone() };
                let log = FoodSamples::start(replica.device_actor().ok_or(AppError::SignedOut)?, &new, &edit)?;
                let id = crate::replica::new_document_id();
                replica.create(id, log.into_doc()).await?;
                let entry = IndexEntry {
                    document: id.url(),
                    document_type: DocumentType::FoodSamples,
                    title: format!("{date} {meal}"),
                    status: "keeping".to_owned(),
                    location: canteen,
                    updated_at: edit.at,
                };
                index_in_catalog(replica, &session, &site_id, entry, &edit).await?;
                Ok::<DocumentId, AppError>(id)
            }
            .await;
            match outcome {
                Ok(id) => navigate(&format!("/samples/{id}"), Default::default()),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="start-meal">
            <h2 id="start-meal">{move || texts.get().start_meal}</h2>
            <p class="muted">{move || texts.get().rules}</p>
            <form class="form" data-form="meal" on:submit=start>
                <SiteChoice sites=sites chosen=site name="meal-site" />
                <PlacePicker catalog=catalog.into() chosen=canteen label=Signal::derive(move || texts.get().canteen) />
                <label>
                    <span>{move || texts.get().meal}</span>
                    <select name="meal" on:change=move |event| meal.set(event_target_value(&event))>
                        {move || {
                            let texts = texts.get();
                            MEALS
                                .iter()
                                .enumerate()
                                .map(|(index, code)| view! { <option value=*code selected=move || meal.get() == *code>{texts.meal_names[index]}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{move || texts.get().date}</span>
                    <input type="date" name="date" prop:value=date on:input=move |event| date.set(event_target_value(&event)) />
                </label>
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{move || texts.get().start}</button>
            </form>
        </section>
    }
}

/// Today as a `date` field writes it, in the phone's zone.
fn today() -> String {
    let now = js_sys::Date::new_0();
    format!("{:04}-{:02}-{:02}", now.get_full_year(), now.get_month() + 1, now.get_date())
}

/// The meals on this phone, newest first, with their counts; and the log as CSV for
/// managers, for the authorities.
#[component]
fn MealList() -> impl IntoView {
    let texts = use_sample_texts();
    let replica = use_replica();
    let current = use_session();
    let meals = Memo::new(move |_| {
        let _ = replica.revision.get();
        meals_here(replica)
    });
    let exports = move || {
        let session = current.session.get()?;
        let links = session
            .sites
            .iter()
            .filter(|site| site.role.manages())
            .map(|site| {
                let href = format!("/api/sites/{}/export.csv?type=food_samples&token={}", site.id, session.token);
                view! { <p><a class="button" href=href download="" data-action="export-samples">{format!("{} · {}", texts.get().export, site.name)}</a></p> }
            })
            .collect_view();
        Some(links)
    };
    move || {
        let texts = texts.get();
        let meals = meals.get();
        let rows = meals
            .iter()
            .map(|(id, meal)| {
                view! {
                    <li class="order-line" data-meal=id.to_string()>
                        <a href=format!("/samples/{id}")>{format!("{} {}", meal.date, meal_name(texts, &meal.meal))}</a>
                        <span class="muted">{texts.samples_count.replace("{}", &meal.samples.len().to_string())}</span>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="card" aria-labelledby="meals">
                <h2 id="meals">{texts.meals_here}</h2>
                {meals.is_empty().then(|| view! { <p class="muted">{texts.no_meals}</p> })}
                <ul class="orders" data-list="meals">{rows}</ul>
                {exports}
            </section>
        }
    }
}

/// One meal: its samples with their state, discarding one, adding one.
#[component]
pub fn MealPage() -> impl IntoView {
    let texts = use_sample_texts();
    let replica = use_replica();
    let current = use_session();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").and_then(|id| DocumentId::parse(&id).ok())));
    let meal = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_meal(replica, &id.get()?)
    });
    let site = Memo::new(move |_| meal.with(|meal| meal.as_ref().map(|meal| meal.header.site.to_string())));
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &site.get()?)?)
    });
    let people = crate::server::use_site_people(move || site.get());
    crate::inbox::see_while_open(move || id.get());
    let error = RwSignal::new(None::<String>);
    let place_name = move |catalog: &Option<Arc<CatalogView>>, place: &str| {
        catalog.as_ref().and_then(|catalog| catalog.place(place).map(|known| known.name.clone())).unwrap_or_else(|| place.to_owned())
    };
    // Only which meal, and whether it is here, redraw the page: the form keeps what is
    // typed in it (and the fridge chosen) while samples arrive.
    let here = Memo::new(move |_| meal.with(Option::is_some));
    move || {
        let texts = texts.get();
        let (Some(id), true) = (id.get(), here.get()) else {
            return view! { <p class="muted" data-meal="missing">{texts.meal_not_here}</p> }.into_any();
        };
        let heading = move || {
            meal.with(|meal| meal.as_ref().map(|view| format!("{} · {} {}", texts.food_samples, view.date, meal_name(texts, &view.meal))))
        };
        let canteen = move || meal.with(|meal| meal.as_ref().map(|view| place_name(&catalog.get(), &view.canteen)));
        let samples = move || {
            let view = meal.get()?;
            let at = now();
            let catalog_now = catalog.get();
            let people_now = people.get();
            let rows = view
            .samples
            .iter()
            .map(|sample| {
                let state = view.state(sample, at);
                let discard = matches!(state, SampleState::Keeping { .. } | SampleState::ToDiscard { .. } | SampleState::DiscardOverdue { .. })
                    .then(|| {
                        let sample_id = sample.id.clone();
                        let confirm = texts.discard_confirm;
                        let record = move |_| {
                            let sure = web_sys::window().and_then(|window| window.confirm_with_message(confirm).ok()).unwrap_or(false);
                            let Some(session) = current.session.get_untracked() else { return };
                            if !sure {
                                return;
                            }
                            let sample_id = sample_id.clone();
                            spawn_local(async move {
                                let outcome = replica
                                    .edit(&id, |doc| {
                                        let edit = edit_now(&session.user.username)?;
                                        Ok(FoodSamples::edit_in(doc, |meal| meal.discard(&sample_id, &edit))??)
                                    })
                                    .await;
                                error.set(outcome.err().map(|failure| failure.to_string()));
                            });
                        };
                        view! { <button type="button" class="link-button" data-action="discard" on:click=record>{texts.discard}</button> }
                    });
                let badge = match state {
                    SampleState::Keeping { .. } | SampleState::Discarded { early: false, .. } => "badge",
                    SampleState::ToDiscard { .. } => "badge badge-local",
                    SampleState::DiscardOverdue { .. } | SampleState::Discarded { early: true, .. } => "badge badge-overdue",
                };
                let photo = sample.photo.as_ref().map(|photo| view! { <crate::pages::orders::Photo sha256=photo.sha256.clone() /> });
                view! {
                    <tr data-sample=sample.id.to_string() data-state=state.word() data-storage=sample.storage.clone()>
                        <td>
                            <strong>{sample.dish.clone()}</strong>
                            " " <span class="muted">{format!("{} g", sample.grams)}</span>
                            <br />
                            <span class="muted">{format!("{} · {} {}", place_name(&catalog_now, &sample.storage), display_name(&people_now, sample.user.as_str()), moment(sample.at, language.get()))}</span>
                            <br />
                            <span class="muted">{format!("{} {}", texts.keep_until, moment(sample.discard_at(), language.get()))}</span>
                            {photo}
                        </td>
                        <td class="number">
                            <div class="sample-state">
                                <span class=badge data-badge=state.word()>{state_words(texts, state)}</span>
                                {discard}
                            </div>
                        </td>
                    </tr>
                }
            })
            .collect_view();
            Some(view! {
                {view.samples.is_empty().then(|| view! { <p class="muted" data-samples="none">{texts.rules}</p> })}
                <table class="cost-table"><tbody>{rows}</tbody></table>
            })
        };
        view! {
            <article class="meal-page" data-meal=id.to_string()>
                <crate::nav::BackLink lists=&[shared::routes::Tab::Rounds] />
                <h1>{heading}</h1>
                <p class="muted">{canteen}</p>
                <section class="card">
                    {samples}
                    {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                </section>
                <AddSample id=id catalog=catalog />
            </article>
        }
        .into_any()
    }
}

/// A dish's sample: its name, weight, the fridge it goes in, a photo.
#[component]
fn AddSample(id: DocumentId, catalog: Memo<Option<Arc<CatalogView>>>) -> impl IntoView {
    let texts = use_sample_texts();
    let current = use_session();
    let replica = use_replica();
    let (dish, grams, storage) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let error = RwSignal::new(None::<String>);
    let photo_input = NodeRef::<leptos::html::Input>::new();
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let Some(session) = current.session.get_untracked() else { return };
        let name = dish.get_untracked().trim().to_owned();
        if name.is_empty() {
            error.set(Some(texts.dish_needed.to_owned()));
            return;
        }
        let Some(weight) = grams.get_untracked().trim().parse::<i64>().ok().filter(|weight| *weight >= MIN_GRAMS) else {
            error.set(Some(texts.grams_needed.to_owned()));
            return;
        };
        let fridge = storage.get_untracked();
        if fridge.is_empty() {
            error.set(Some(texts.storage_needed.to_owned()));
            return;
        }
        let picture = photo_input.get_untracked().and_then(|input| input.files()).and_then(|files| files.get(0));
        spawn_local(async move {
            let outcome = async {
                let photo = match &picture {
                    Some(picture) => Some(photos::keep(picture).await?),
                    None => None,
                };
                let new = NewSample { dish: name, grams: weight, storage: fridge, photo: photo.clone() };
                replica
                    .edit(&id, |doc| {
                        let edit = edit_now(&session.user.username)?;
                        Ok(FoodSamples::edit_in(doc, |meal| meal.add_sample(&entry_id("sample"), &new, &edit))??)
                    })
                    .await?;
                if photo.is_some() {
                    replica.upload_files();
                }
                Ok::<(), AppError>(())
            }
            .await;
            match outcome {
                Ok(()) => {
                    // The next dish goes in the same fridge.
                    dish.set(String::new());
                    grams.set(String::new());
                    if let Some(input) = photo_input.get_untracked() {
                        input.set_value("");
                    }
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="add-sample">
            <h2 id="add-sample">{move || texts.get().add_sample}</h2>
            <form class="form" data-form="sample" on:submit=add>
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().dish}</span>
                        <input name="dish" prop:value=dish on:input=move |event| dish.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>{move || texts.get().grams}</span>
                        <input name="grams" inputmode="numeric" prop:value=grams on:input=move |event| grams.set(event_target_value(&event)) />
                    </label>
                </div>
                <PlacePicker catalog=catalog.into() chosen=storage label=Signal::derive(move || texts.get().storage) />
                <label>
                    <span>{move || texts.get().photo}</span>
                    <input type="file" name="photo" accept="image/*" capture="environment" node_ref=photo_input />
                </label>
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" class="primary">{move || texts.get().save}</button>
            </form>
        </section>
    }
}
