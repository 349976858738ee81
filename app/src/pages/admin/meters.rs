//! A site's meters, as its administrator keeps them: which asset each is on, what it
//! measures, its label, its limits and rules, and the round item that reads it.

use leptos::prelude::*;
use shared::document::catalog::{Meter, MeterKind, Per, RoundItem, UsageLimit};
use shared::document::template::{ChecklistTemplate, ItemKind};
use shared::protocol::DocumentId;
use shared::quantity::Quantity;

use super::site::Editing;
use crate::edits::entry_id;
use crate::i18n::{CurrentLanguage, Language};
use crate::pages::meters::{kind_name, use_meter_texts, with_unit};

/// A number field's value: none when empty, an error when not a number.
fn optional_quantity(text: &str) -> Result<Option<Quantity>, ()> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() { Ok(None) } else { text.parse().map(Some).map_err(drop) }
}

#[component]
pub(super) fn Meters(editing: Editing) -> impl IntoView {
    let texts = use_meter_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let kind = RwSignal::new(MeterKind::Electricity);
    let (name, asset, tag) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let unit = RwSignal::new(MeterKind::Electricity.usual_unit().to_owned());
    let (low, high, alarm_after, most) =
        (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let per = RwSignal::new(Per::Month);
    let round_item = RwSignal::new(String::new());
    // The number items of the site's checklists on this phone, as "template|item".
    let reading_items = Memo::new(move |_| {
        let _ = editing.replica.revision.get();
        let catalog = editing.catalog.get()?;
        let english = language.get() == Language::English;
        let mut items = Vec::new();
        for template in &catalog.templates {
            let Ok(id) = DocumentId::parse(&template.document) else { continue };
            let Some(Ok((_, checklist))) = editing.replica.read(&id, ChecklistTemplate::read_doc) else { continue };
            for item in checklist.items.iter().filter(|item| matches!(item.kind, ItemKind::Number { .. })) {
                let (list, label) = if english { (&template.name_en, &item.label.en) } else { (&template.name_zh, &item.label.zh) };
                items.push((format!("{}|{}", template.document, item.id), format!("{list} · {label}")));
            }
        }
        Some(items)
    });
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        if name.get_untracked().trim().is_empty() {
            return editing.fail_at("meter_name", texts.name_needed);
        }
        let Ok(asset_id) = shared::document::EntryId::parse(&asset.get_untracked()) else {
            return editing.fail_at("meter_asset", texts.asset_needed);
        };
        let number = |field: RwSignal<String>, at: &'static str| optional_quantity(&field.get_untracked()).map_err(|()| at);
        let parsed = (|| Ok::<_, &'static str>((number(low, "meter_low")?, number(high, "meter_high")?, number(most, "meter_most")?)))();
        let (low_limit, high_limit, most_used) = match parsed {
            Ok(values) => values,
            Err(field) => return editing.fail_at(field, texts.number_needed),
        };
        if let (Some(low), Some(high)) = (low_limit, high_limit)
            && high < low
        {
            return editing.fail_at("meter_high", texts.limits_order);
        }
        let after_text = alarm_after.get_untracked().trim().to_owned();
        let after = match after_text.parse::<u32>() {
            _ if after_text.is_empty() => None,
            Ok(after) if (1..=shared::document::catalog::MAX_ALARM_AFTER).contains(&after) => Some(after),
            _ => return editing.fail_at("meter_alarm_after", texts.alarm_range),
        };
        let round = round_item.get_untracked();
        let round = round.split_once('|').and_then(|(template, item)| {
            Some(RoundItem { template: template.to_owned(), item: shared::document::EntryId::parse(item).ok()? })
        });
        let meter = Meter {
            id: entry_id("meter"),
            name: name.get_untracked(),
            asset: asset_id,
            kind: kind.get_untracked(),
            unit: unit.get_untracked(),
            tag: tag.get_untracked(),
            low: low_limit,
            high: high_limit,
            alarm_after: after,
            usage_limit: most_used.map(|most| UsageLimit { most, per: per.get_untracked() }),
            round_item: round,
        };
        editing.save(
            move |catalog, edit| catalog.put_meter(&meter, edit),
            move || {
                for field in [name, tag, low, high, alarm_after, most, round_item] {
                    field.set(String::new());
                }
            },
        );
    };
    let rows = move || {
        let texts = texts.get();
        let Some(catalog) = editing.catalog.get() else { return ().into_any() };
        let mut meters = catalog.meters.clone();
        meters.sort_by(|a, b| a.name.cmp(&b.name));
        if meters.is_empty() {
            return view! { <p class="muted" data-meters="none">{texts.no_meters}</p> }.into_any();
        }
        meters
            .into_iter()
            .map(|meter| {
                let id = meter.id.clone();
                let remove = move |_| {
                    let id = id.clone();
                    editing.save(move |catalog, edit| catalog.remove_meter(&id, edit), || {});
                };
                let asset = catalog
                    .assets
                    .iter()
                    .find(|asset| asset.id == meter.asset)
                    .map_or_else(|| meter.asset.to_string(), |asset| asset.name.clone());
                let mut details = vec![kind_name(texts, meter.kind).to_owned(), asset];
                let limits = meter.limits_text();
                if !limits.is_empty() {
                    details.push(limits);
                }
                if let Some(after) = meter.alarm_after {
                    details.push(texts.run_of.replace("{}", &after.to_string()));
                }
                if let Some(limit) = meter.usage_limit {
                    details.push(format!(
                        "≤ {} {}",
                        with_unit(limit.most, &meter.unit),
                        texts.per[Per::ALL.iter().position(|known| *known == limit.per).unwrap_or(0)]
                    ));
                }
                if !meter.tag.is_empty() {
                    details.push(meter.tag.clone());
                }
                view! {
                    <li data-meter=meter.id.to_string()>
                        <span>{meter.name} <br /> <span class="muted">{details.join(" · ")}</span></span>
                        <button type="button" class="link-button danger" on:click=remove>{texts.remove}</button>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    let asset_options = move || {
        let catalog = editing.catalog.get()?;
        let mut assets = catalog.assets.clone();
        assets.sort_by(|a, b| a.name.cmp(&b.name));
        Some(assets.into_iter().map(|known| view! { <option value=known.id.to_string() selected=move || asset.get() == known.id.as_str()>{format!("{} ({})", known.name, known.tag)}</option> }).collect_view())
    };
    let counts_up = move || kind.get().counts_up();
    // Every meter with a label code on one sheet (the server's labels, as places' are).
    let current = crate::session::use_session();
    let labels_link = move || {
        let token = current.session.with(|session| session.as_ref().map(|session| session.token.clone())).unwrap_or_default();
        let meters = editing.catalog.with(|catalog| {
            catalog.as_ref().map_or_else(Vec::new, |catalog| {
                catalog.meters.iter().filter(|meter| !meter.tag.is_empty()).map(|meter| meter.id.to_string()).collect::<Vec<_>>()
            })
        });
        (!meters.is_empty()).then(|| format!("/api/sites/{}/labels.svg?token={token}&meters={}", editing.site.get(), meters.join(",")))
    };
    view! {
        <section class="card" aria-labelledby="meters" data-card="meters">
            <h2 id="meters">{move || texts.get().meters}</h2>
            <ul class="rates">{rows}</ul>
            {move || labels_link().map(|href| view! {
                <a class="button" href=href target="_blank" rel="noopener" data-action="print-meter-labels">{texts.get().print_labels}</a>
            })}
            <form class="form" data-form="meter" on:submit=add>
                <h3>{move || texts.get().add_meter}</h3>
                <label>
                    <span>{move || texts.get().name}</span>
                    <input name="name" prop:value=name on:input=move |event| name.set(event_target_value(&event)) />
                    {editing.error_at("meter_name")}
                </label>
                <label>
                    <span>{move || texts.get().asset}</span>
                    <select name="asset" on:change=move |event| asset.set(event_target_value(&event))>
                        <option value="" selected=move || asset.get().is_empty()>"—"</option>
                        {asset_options}
                    </select>
                    {editing.error_at("meter_asset")}
                </label>
                <label>
                    <span>{move || texts.get().kind}</span>
                    <select
                        name="kind"
                        on:change=move |event| {
                            if let Ok(chosen) = MeterKind::parse(&event_target_value(&event)) {
                                kind.set(chosen);
                                unit.set(chosen.usual_unit().to_owned());
                            }
                        }
                    >
                        {move || {
                            let texts = texts.get();
                            MeterKind::ALL
                                .iter()
                                .map(|known| view! { <option value=known.as_str() selected=move || kind.get() == *known>{kind_name(texts, *known)}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <div class="two-columns">
                    <label>
                        <span>{move || texts.get().unit}</span>
                        <input name="unit" prop:value=unit on:input=move |event| unit.set(event_target_value(&event)) />
                    </label>
                    <label>
                        <span>{move || texts.get().tag}</span>
                        <input name="tag" prop:value=tag on:input=move |event| tag.set(event_target_value(&event)) />
                    </label>
                </div>
                <Show
                    when=counts_up
                    fallback=move || view! {
                        <div class="two-columns">
                            <label>
                                <span>{move || texts.get().low}</span>
                                <input name="low" inputmode="decimal" prop:value=low on:input=move |event| low.set(event_target_value(&event)) />
                                {editing.error_at("meter_low")}
                            </label>
                            <label>
                                <span>{move || texts.get().high}</span>
                                <input name="high" inputmode="decimal" prop:value=high on:input=move |event| high.set(event_target_value(&event)) />
                                {editing.error_at("meter_high")}
                            </label>
                        </div>
                        <label>
                            <span>{move || texts.get().alarm_after}</span>
                            <input name="alarm_after" inputmode="numeric" prop:value=alarm_after on:input=move |event| alarm_after.set(event_target_value(&event)) />
                            {editing.error_at("meter_alarm_after")}
                        </label>
                        <label>
                            <span>{move || texts.get().round_item}</span>
                            <select name="round_item" on:change=move |event| round_item.set(event_target_value(&event))>
                                <option value="" selected=move || round_item.get().is_empty()>{move || texts.get().no_round_item}</option>
                                {move || reading_items.get().unwrap_or_default().into_iter().map(|(value, label)| {
                                    let chosen = value.clone();
                                    view! { <option value=value selected=move || round_item.get() == chosen>{label}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                >
                    <div class="two-columns">
                        <label>
                            <span>{move || texts.get().usage_most}</span>
                            <input name="usage_most" inputmode="decimal" prop:value=most on:input=move |event| most.set(event_target_value(&event)) />
                            {editing.error_at("meter_most")}
                        </label>
                        <label>
                            <span>"\u{a0}"</span>
                            <select name="usage_per" on:change=move |event| if let Ok(chosen) = Per::parse(&event_target_value(&event)) { per.set(chosen) }>
                                {move || {
                                    let texts = texts.get();
                                    Per::ALL
                                        .iter()
                                        .enumerate()
                                        .map(|(index, known)| view! { <option value=known.as_str() selected=move || per.get() == *known>{texts.per[index]}</option> })
                                        .collect_view()
                                }}
                            </select>
                        </label>
                    </div>
                </Show>
                <button type="submit" class="primary" data-action="add-meter">{move || texts.get().add_meter}</button>
            </form>
        </section>
    }
}
