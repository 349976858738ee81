//! Meters, offline: `/meters` lists the meters of one's sites with their last reading;
//! `/meters/:site/:meter` is one meter — a reading entered (what a meter's label opens),
//! its trend, what it used per period, its runs out of limits and the orders they raised.
//! Readings a round takes are recorded when it is submitted ([`record_round_readings`]);
//! [`MeterAlarms`] raises a meter's work order on whichever phone sees a run reach its
//! count. The rules are `shared::meter`'s.

mod texts;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared::directory::{Role, SiteId};
use shared::document::catalog::{CatalogView, Meter, MeterKind, Per, Reading, SiteCatalog};
use shared::document::inspection::InspectionView;
use shared::document::work_order::WorkOrder;
use shared::document::{DocumentType, Edit, EntryId};
use shared::meter::{Doubt, Streak, Usage, alarms, doubt, round_readings, series, streaks};
use shared::protocol::DocumentId;
use shared::quantity::Quantity;
use shared::time::{Span, Timestamp};

pub use self::texts::{MeterTexts, use_meter_texts};
use crate::edits::{catalog_of, edit_now, entry_id, index_in_catalog, local_offset_minutes, now, read_catalog};
use crate::error::AppError;
use crate::i18n::{CurrentLanguage, moment};
use crate::replica::{Replica, use_replica};
use crate::server::display_name;
use crate::session::{Session, SessionSite, use_session};

/// Whether someone with `role` enters meter readings.
pub fn reads_meters(role: Role) -> bool {
    role.walks_rounds() || role == Role::Technician
}

pub fn kind_name(texts: &MeterTexts, kind: MeterKind) -> &'static str {
    texts.kinds[MeterKind::ALL.iter().position(|known| *known == kind).unwrap_or(0)]
}

fn per_index(per: Per) -> usize {
    Per::ALL.iter().position(|known| *known == per).unwrap_or(0)
}

/// A value with its meter's unit.
pub fn with_unit(value: Quantity, unit: &str) -> String {
    if unit.is_empty() { value.to_string() } else { format!("{value} {unit}") }
}

/// The sites where the person reads meters.
fn meter_sites() -> Signal<Vec<SessionSite>> {
    let current = use_session();
    Signal::derive(move || {
        current.session.with(|session| {
            session
                .as_ref()
                .map(|session| session.sites.iter().filter(|site| reads_meters(site.role)).cloned().collect())
                .unwrap_or_default()
        })
    })
}

/// The way to the meters from the rounds and orders pages, for those who read them, once a
/// site of theirs has one.
#[component]
pub fn MetersLink() -> impl IntoView {
    let texts = use_meter_texts();
    let current = use_session();
    let replica = use_replica();
    let sites = meter_sites();
    let any = Memo::new(move |_| {
        let _ = replica.revision.get();
        let session = current.session.get()?;
        let found = sites.get().iter().any(|site| {
            catalog_of(&session, &site.id).and_then(|id| read_catalog(replica, &id)).is_some_and(|catalog| !catalog.meters.is_empty())
        });
        Some(found)
    });
    move || {
        (any.get() == Some(true)).then(|| {
            view! {
                <section class="card">
                    <a class="button" href=shared::routes::AppRoute::Meters.pattern() data-action="meters">{texts.get().meters}</a>
                </section>
            }
        })
    }
}

#[component]
pub fn MetersPage() -> impl IntoView {
    let texts = use_meter_texts();
    let current = use_session();
    let replica = use_replica();
    let sites = meter_sites();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let catalogs = Memo::new(move |_| {
        let _ = replica.revision.get();
        let session = current.session.get()?;
        let found: Vec<(SessionSite, Arc<CatalogView>)> = sites
            .get()
            .into_iter()
            .filter_map(|site| {
                let catalog = read_catalog(replica, &catalog_of(&session, &site.id)?)?;
                Some((site, catalog))
            })
            .collect();
        Some(found)
    });
    move || {
        let texts = texts.get();
        if sites.with(Vec::is_empty) {
            return view! { <h1 class="page-title">{texts.meters}</h1> <p class="muted">{texts.not_yours}</p> }.into_any();
        }
        let several = sites.with(|sites| sites.len() > 1);
        let cards = catalogs
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|(site, catalog)| {
                let mut meters: Vec<&Meter> = catalog.meters.iter().collect();
                meters.sort_by(|a, b| a.name.cmp(&b.name));
                let rows = meters
                    .into_iter()
                    .map(|meter| {
                        let series = series(&meter.id, &catalog.readings);
                        let last = series.last().map(|reading| {
                            let out = meter.out_of_limits(reading.value);
                            view! {
                                <span class="muted">{format!("{} · {}", with_unit(reading.value, &meter.unit), moment(reading.at, language.get()))}</span>
                                {out.then(|| view! { <span class="badge badge-overdue" data-badge="out">{texts.out_of_limits}</span> })}
                            }
                        });
                        let place = asset_place(&catalog, meter);
                        view! {
                            <li class="order-line" data-meter=meter.id.to_string()>
                                <a href=format!("/meters/{}/{}", site.id, meter.id)>{meter.name.clone()}</a>
                                <span class="muted">{format!("{} · {place}", kind_name(texts, meter.kind))}</span>
                                {last}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="card" data-site=site.id.to_string()>
                        {several.then(|| view! { <h2>{site.name.clone()}</h2> })}
                        {catalog.meters.is_empty().then(|| view! { <p class="muted">{texts.no_meters}</p> })}
                        <ul class="orders" data-list="meters">{rows}</ul>
                    </section>
                }
            })
            .collect_view();
        view! {
            <h1 class="page-title">{texts.meters}</h1>
            <p class="muted">{texts.meters_hint}</p>
            {cards}
        }
        .into_any()
    }
}

/// The asset a meter is on and where it is: "空调主机 · 一号楼 › 机房".
fn asset_place(catalog: &CatalogView, meter: &Meter) -> String {
    let Some(asset) = catalog.assets.iter().find(|asset| asset.id == meter.asset) else { return meter.asset.to_string() };
    match asset.place.as_ref() {
        Some(place) => format!("{} · {}", asset.name, catalog.place_path(place.as_str()).join(" › ")),
        None => asset.name.clone(),
    }
}

/// One meter, by its site and id.
#[component]
pub fn MeterPage() -> impl IntoView {
    let texts = use_meter_texts();
    let replica = use_replica();
    let current = use_session();
    let params = use_params_map();
    let site = Memo::new(move |_| params.with(|params| params.get("site")));
    let meter_id = Memo::new(move |_| params.with(|params| params.get("meter")));
    let catalog = Memo::new(move |_| {
        let _ = replica.revision.get();
        read_catalog(replica, &catalog_of(&current.session.get()?, &site.get()?)?)
    });
    let meter = Memo::new(move |_| {
        let wanted = meter_id.get()?;
        catalog.with(|catalog| catalog.as_ref()?.meters.iter().find(|meter| meter.id.as_str() == wanted).cloned())
    });
    // The meter's readings, oldest first, read once for the cards below.
    let readings = Memo::new(move |_| {
        let Some(wanted) = meter_id.get() else { return Vec::new() };
        catalog.with(|catalog| {
            let Some(catalog) = catalog.as_ref() else { return Vec::new() };
            let Some(meter) = catalog.meters.iter().find(|meter| meter.id.as_str() == wanted) else { return Vec::new() };
            series(&meter.id, &catalog.readings).into_iter().cloned().collect()
        })
    });
    let role = Memo::new(move |_| {
        let wanted = site.get()?;
        current.session.with(|session| session.as_ref()?.sites.iter().find(|known| known.id == wanted).map(|known| known.role))
    });
    // Only which meter, and whether it is here, redraw the page: the reading form keeps what
    // is typed in it while readings arrive.
    let here = Memo::new(move |_| meter.with(|meter| meter.as_ref().map(|meter| meter.id.clone())));
    move || {
        let texts = texts.get();
        let (Some(_), Some(site_id)) = (here.get(), site.get()) else {
            return view! { <p class="muted" data-meter="missing">{texts.meter_not_here}</p> }.into_any();
        };
        let heading = move || meter.with(|meter| meter.as_ref().map(|meter| meter.name.clone()));
        let details = move || {
            let meter = meter.get()?;
            let catalog = catalog.get()?;
            let texts = use_meter_texts().get_untracked();
            let mut lines = vec![format!("{} · {}", kind_name(texts, meter.kind), asset_place(&catalog, &meter))];
            let limits = meter.limits_text();
            if !limits.is_empty() {
                lines.push(texts.limits.replace("{}", &limits));
            }
            if let Some(after) = meter.alarm_after {
                lines.push(texts.alarm_rule.replace("{}", &after.to_string()));
            }
            if let Some(limit) = meter.usage_limit {
                lines.push(
                    texts.usage_limit.replace("{}", &format!("{} {}", with_unit(limit.most, &meter.unit), texts.per[per_index(limit.per)])),
                );
            }
            let last = lines.len() - 1;
            let shown = lines
                .into_iter()
                .enumerate()
                .map(|(index, line)| view! { {line} {(index < last).then(|| view! { <br /> })} })
                .collect_view();
            Some(view! { <p class="muted meter-details">{shown}</p> })
        };
        let may_read = role.get().is_some_and(reads_meters);
        let (form_site, runs_site, article_site) = (site_id.clone(), site_id.clone(), site_id.clone());
        view! {
            <article class="meter-page" data-meter=meter_id.get().unwrap_or_default() data-site=article_site>
                <crate::nav::BackLink lists=&[shared::routes::Tab::Rounds, shared::routes::Tab::Orders] />
                <section class="card">
                    <h1>{heading}</h1>
                    {details}
                </section>
                {may_read.then(|| view! { <ReadingForm site=form_site meter=meter readings=readings /> })}
                <Trend meter=meter readings=readings />
                <UsageCard meter=meter readings=readings />
                <Runs meter=meter readings=readings site=runs_site />
                <ReadingList meter=meter readings=readings site=site_id />
            </article>
        }
        .into_any()
    }
}

/// Entering a reading: the value, saved into the site's catalog with who and when.
#[component]
fn ReadingForm(site: String, meter: Memo<Option<Meter>>, readings: Memo<Vec<Reading>>) -> impl IntoView {
    let texts = use_meter_texts();
    let replica = use_replica();
    let current = use_session();
    let value = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<(bool, String)>);
    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let texts = texts.get_untracked();
        let (Some(session), Some(meter)) = (current.session.get_untracked(), meter.get_untracked()) else { return };
        // A number, and one a meter could show (the catalog refuses beyond a billion).
        let parsed = value.get_untracked().trim().replace(',', ".").parse::<Quantity>().ok();
        let Some(reading) = parsed.filter(|reading| reading.thousandths().abs() <= 1_000_000_000_000) else {
            outcome.set(Some((false, texts.value_needed.to_owned())));
            return;
        };
        // A reading is never changed once saved: a likely slip is asked about first.
        let doubt = readings.with_untracked(|readings| doubt(&meter, &readings.iter().collect::<Vec<_>>(), reading, now()));
        let question = match doubt {
            Some(Doubt::Lower { last }) => Some(texts.doubt_lower.replace("{}", &with_unit(last, &meter.unit))),
            Some(Doubt::Jump { last }) => Some(texts.doubt_jump.replace("{}", &with_unit(last, &meter.unit))),
            None => None,
        };
        if let Some(question) = question {
            let sure = web_sys::window().and_then(|window| window.confirm_with_message(&question).ok()).unwrap_or(false);
            if !sure {
                return;
            }
        }
        let Some(catalog_id) = catalog_of(&session, &site) else { return };
        spawn_local(async move {
            let saved = replica
                .edit(&catalog_id, |doc| {
                    let edit = edit_now(&session.user.username)?;
                    Ok(SiteCatalog::edit_in(doc, |catalog| catalog.record_reading(&entry_id("reading"), &meter.id, reading, None, &edit))??)
                })
                .await;
            match saved {
                Ok(()) => {
                    value.set(String::new());
                    let said = if meter.out_of_limits(reading) {
                        texts.saved_out_of_limits.replace("{}", &meter.limits_text())
                    } else {
                        texts.saved.to_owned()
                    };
                    outcome.set(Some((true, said)));
                }
                Err(failure) => outcome.set(Some((false, failure.to_string()))),
            }
        });
    };
    let unit = move || meter.with(|meter| meter.as_ref().map(|meter| meter.unit.clone()).unwrap_or_default());
    view! {
        <section class="card" aria-labelledby="new-reading">
            <h2 id="new-reading">{move || texts.get().new_reading}</h2>
            <form class="form" data-form="reading" on:submit=save>
                <label>
                    <span>{move || format!("{} {}", texts.get().value, unit())}</span>
                    <input name="value" inputmode="decimal" autocomplete="off" prop:value=value on:input=move |event| value.set(event_target_value(&event)) />
                </label>
                {move || outcome.get().map(|(fine, said)| {
                    let class = if fine { "notice" } else { "error" };
                    view! { <p class=class role="status" data-outcome=if fine { "saved" } else { "refused" }>{said}</p> }
                })}
                <button type="submit" class="primary" data-action="save-reading">{move || texts.get().save_reading}</button>
            </form>
        </section>
    }
}

/// The chart's size in its own units, scaled to the card's width.
mod chart {
    pub const WIDTH: f64 = 340.0;
    pub const HEIGHT: f64 = 150.0;
    /// Room on the left for the values, below for the dates.
    pub const LEFT: f64 = 44.0;
    pub const BOTTOM: f64 = 20.0;
    pub const TOP: f64 = 8.0;
    pub const RIGHT: f64 = 8.0;
}

/// The last readings as a line through time, out-of-limits points marked, the limits dashed.
#[component]
fn Trend(meter: Memo<Option<Meter>>, readings: Memo<Vec<Reading>>) -> impl IntoView {
    let texts = use_meter_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let texts = texts.get();
        let meter = meter.get()?;
        let owned = readings.get();
        let all: Vec<&Reading> = owned.iter().collect();
        let shown: Vec<&Reading> = all.iter().rev().take(30).rev().copied().collect();
        if shown.len() < 2 {
            return None;
        }
        let value = |quantity: Quantity| quantity.thousandths() as f64 / 1000.0;
        let limits: Vec<f64> = [meter.low, meter.high].into_iter().flatten().map(value).collect();
        let values = shown.iter().map(|reading| value(reading.value)).chain(limits.iter().copied());
        let (lowest, highest) = values.fold((f64::MAX, f64::MIN), |(low, high), value| (low.min(value), high.max(value)));
        let spread = (highest - lowest).max(1e-3);
        let (lowest, highest) = (lowest - spread * 0.1, highest + spread * 0.1);
        let (first, last) = (shown[0].at.as_millis() as f64, shown[shown.len() - 1].at.as_millis() as f64);
        let plot_width = chart::WIDTH - chart::LEFT - chart::RIGHT;
        let plot_height = chart::HEIGHT - chart::TOP - chart::BOTTOM;
        let x = move |at: Timestamp| chart::LEFT + (at.as_millis() as f64 - first) / (last - first).max(1.0) * plot_width;
        let y = move |value: f64| chart::TOP + (highest - value) / (highest - lowest) * plot_height;
        let line: Vec<String> = shown.iter().map(|reading| format!("{:.1},{:.1}", x(reading.at), y(value(reading.value)))).collect();
        let points = shown
            .iter()
            .map(|reading| {
                let class = if meter.out_of_limits(reading.value) { "chart-point chart-point-out" } else { "chart-point" };
                view! { <circle cx=format!("{:.1}", x(reading.at)) cy=format!("{:.1}", y(value(reading.value))) r="3" class=class></circle> }
            })
            .collect_view();
        let limit_lines = limits
            .iter()
            .map(|limit| {
                let at = format!("{:.1}", y(*limit));
                view! {
                    <line x1=chart::LEFT x2=chart::WIDTH - chart::RIGHT y1=at.clone() y2=at.clone() class="chart-limit"></line>
                    <text x=chart::LEFT - 4.0 y=at class="chart-axis" text-anchor="end" dominant-baseline="middle">{format_value(*limit)}</text>
                }
            })
            .collect_view();
        let bottom = chart::HEIGHT - 4.0;
        let day = |at: Timestamp| moment(at, language.get()).split([' ', ',']).next().unwrap_or_default().to_owned();
        Some(view! {
            <section class="card" aria-labelledby="trend">
                <h2 id="trend">{texts.series}</h2>
                <svg class="chart" data-chart="meter-trend" viewBox=format!("0 0 {} {}", chart::WIDTH, chart::HEIGHT) role="img" preserveAspectRatio="xMinYMin meet">
                    {limit_lines}
                    // Without limits to read against, the range is labelled instead.
                    {limits.is_empty().then(|| view! {
                        <text x=chart::LEFT - 4.0 y=chart::TOP + 8.0 class="chart-axis" text-anchor="end">{format_value(highest)}</text>
                        <text x=chart::LEFT - 4.0 y=chart::HEIGHT - chart::BOTTOM class="chart-axis" text-anchor="end">{format_value(lowest)}</text>
                    })}
                    <polyline points=line.join(" ") class="chart-line"></polyline>
                    {points}
                    <text x=chart::LEFT y=bottom class="chart-axis">{day(shown[0].at)}</text>
                    <text x=chart::WIDTH - chart::RIGHT y=bottom class="chart-axis" text-anchor="end">{day(shown[shown.len() - 1].at)}</text>
                </svg>
            </section>
        })
    }
}

/// A period's use as read at a glance: whole units from a hundred up.
fn shown_usage(used: Quantity) -> Quantity {
    if used.thousandths().abs() >= 100_000 { used.whole() } else { used }
}

/// A value on the chart's axis: as many decimals as its size wants.
fn format_value(value: f64) -> String {
    if value.abs() >= 100.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// A counting-up meter's use per period (its limit's period, else per month), the last six.
#[component]
fn UsageCard(meter: Memo<Option<Meter>>, readings: Memo<Vec<Reading>>) -> impl IntoView {
    let texts = use_meter_texts();
    move || {
        let texts = texts.get();
        let meter = meter.get().filter(|meter| meter.kind.counts_up())?;
        let owned = readings.get();
        let usage = Usage::of(&owned.iter().collect::<Vec<_>>());
        let (first, _) = usage.span()?;
        let per = meter.usage_limit.map_or(Per::Month, |limit| limit.per);
        let offset = local_offset_minutes();
        let rows = per
            .last(6, now(), offset)
            .into_iter()
            .rev()
            .filter(|period| period.to > first)
            .map(|period| {
                let used = usage.between(period.from, period.to);
                let over = meter.usage_limit.is_some_and(|limit| used > limit.most);
                let start = period.from.plus(Span::minutes(i64::from(offset))).date();
                let label = if per == Per::Month { start[..7].to_owned() } else { start };
                let key = label.clone();
                view! {
                    <tr data-period=key class:over=over>
                        <td>{label}</td>
                        <td class="number">{with_unit(shown_usage(used), &meter.unit)} {over.then(|| view! { " " <span class="badge badge-overdue">{texts.over_limit}</span> })}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <section class="card" aria-labelledby="usage" data-card="usage">
                <h2 id="usage">{format!("{} · {}", texts.usage, texts.per[per_index(per)])}</h2>
                <table class="cost-table"><tbody>{rows}</tbody></table>
            </section>
        })
    }
}

/// The meter's runs of readings out of limits, newest first, with the order one raised.
#[component]
fn Runs(meter: Memo<Option<Meter>>, readings: Memo<Vec<Reading>>, site: String) -> impl IntoView {
    let texts = use_meter_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let texts = texts.get();
        let meter = meter.get()?;
        let owned = readings.get();
        let all: Vec<&Reading> = owned.iter().collect();
        let runs: Vec<Streak<'_>> = streaks(&meter, &all);
        if runs.is_empty() {
            return None;
        }
        let site_id = SiteId::parse(&site).ok()?;
        let raising = meter.alarm_after.map_or(usize::MAX, |after| after as usize);
        let rows = runs
            .iter()
            .rev()
            .take(5)
            .map(|run| {
                let order = (run.readings.len() >= raising).then(|| {
                    let id = WorkOrder::alarm_id(&site_id, &meter.id, &run.first().id);
                    view! { <a href=format!("/orders/{id}") data-action="alarm-order">{texts.order_raised}</a> }
                });
                let when = match run.readings.len() {
                    1 => moment(run.first().at, language.get()),
                    _ => format!("{} – {}", moment(run.first().at, language.get()), moment(run.last().at, language.get())),
                };
                view! {
                    <li class="order-line" data-run=run.first().id.to_string()>
                        <span>{texts.run_of.replace("{}", &run.readings.len().to_string())}</span>
                        <span class="muted">{when}</span>
                        {order}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <section class="card" aria-labelledby="runs" data-card="runs">
                <h2 id="runs">{texts.runs}</h2>
                <ul class="orders">{rows}</ul>
            </section>
        })
    }
}

/// The last twelve readings, newest first, by whom and when, from which round.
#[component]
fn ReadingList(meter: Memo<Option<Meter>>, readings: Memo<Vec<Reading>>, site: String) -> impl IntoView {
    let texts = use_meter_texts();
    let people = crate::server::use_site_people(move || Some(site.clone()));
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    move || {
        let texts = texts.get();
        let meter = meter.get()?;
        let people = people.get();
        let all = readings.get();
        let rows = all
            .iter()
            .rev()
            .take(12)
            .map(|reading| {
                let out = meter.out_of_limits(reading.value);
                let round = reading.round.as_deref().and_then(|url| DocumentId::parse(url).ok()).map(|round| {
                    view! { " · " <a href=format!("/rounds/{round}")>{texts.from_round}</a> }
                });
                view! {
                    <tr data-reading=reading.id.to_string() data-out=out.to_string()>
                        <td>
                            <strong>{with_unit(reading.value, &meter.unit)}</strong>
                            {out.then(|| view! { " " <span class="badge badge-overdue">{texts.out_of_limits}</span> })}
                            <br />
                            <span class="muted">{format!("{} · {}", display_name(&people, reading.user.as_str()), moment(reading.at, language.get()))}</span>
                            {round}
                        </td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <section class="card" aria-labelledby="readings">
                <h2 id="readings">{texts.readings}</h2>
                {all.is_empty().then(|| view! { <p class="muted">{texts.no_readings}</p> })}
                <table class="cost-table"><tbody>{rows}</tbody></table>
            </section>
        })
    }
}

/// Records what a submitted round read of its site's meters into the site's catalog: once,
/// however often it is submitted or on how many phones ([`shared::meter::round_readings`]).
pub async fn record_round_readings(
    replica: Replica,
    session: &Session,
    round_id: DocumentId,
    round: &InspectionView,
) -> Result<(), AppError> {
    let site = round.header.site.to_string();
    let Some(catalog_id) = catalog_of(session, &site) else { return Ok(()) };
    let Some(catalog) = read_catalog(replica, &catalog_id) else { return Ok(()) };
    let readings = round_readings(&catalog, &round_id.url(), round);
    if readings.is_empty() {
        return Ok(());
    }
    let username = shared::directory::Username::parse(&session.user.username)?;
    let url = round_id.url();
    replica
        .edit(&catalog_id, |doc| {
            Ok(SiteCatalog::edit_in(doc, |catalog| {
                for reading in &readings {
                    let edit = Edit::new(username.clone(), reading.at);
                    // Recorded already (from another phone, since this one looked): kept once.
                    let _ = catalog.record_reading(&reading.id, &reading.meter, reading.value, Some(&url), &edit);
                }
            })?)
        })
        .await
}

thread_local! {
    /// Alarms being raised right now, so a second pass does not raise them again.
    static UNDER_WAY: RefCell<BTreeSet<DocumentId>> = const { RefCell::new(BTreeSet::new()) };
    /// The copy of each site's catalog last looked at for alarms.
    static LOOKED_AT: RefCell<BTreeMap<String, usize>> = const { RefCell::new(BTreeMap::new()) };
}

/// How long after the reading that made a run long enough its order is still raised by a
/// phone that had not seen it: runs older than this were raised already, or are history.
const ALARM_REACH: Span = Span::days(30);

/// Raises the work order of every meter's run of readings out of limits that reached its
/// count, whenever the catalogs change, on the phones of those who read meters; renders
/// nothing. The order's id and first change derive from the meter and the run's first
/// reading (`WorkOrder::alarm`), so two phones raising it make one order.
#[component]
pub fn MeterAlarms() -> impl IntoView {
    let current = use_session();
    let replica = use_replica();
    Effect::new(move || {
        let _ = replica.revision.get();
        let Some(session) = current.session.get() else { return };
        let at = now();
        for site in session.sites.iter().filter(|site| reads_meters(site.role)) {
            let Some(catalog) = catalog_of(&session, &site.id).and_then(|id| read_catalog(replica, &id)) else { continue };
            // Looked at once per change of the catalog, not at every document's sync.
            let seen = Arc::as_ptr(&catalog) as usize;
            if LOOKED_AT.with_borrow_mut(|looked_at| looked_at.insert(site.id.to_string(), seen) == Some(seen)) {
                continue;
            }
            let watched: Vec<&Meter> = catalog.meters.iter().filter(|meter| meter.alarm_after.is_some()).collect();
            if watched.is_empty() {
                continue;
            }
            let mut readings: BTreeMap<&EntryId, Vec<&Reading>> = BTreeMap::new();
            for reading in &catalog.readings {
                readings.entry(&reading.meter).or_default().push(reading);
            }
            for meter in watched {
                let mut series = readings.remove(&meter.id).unwrap_or_default();
                series.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
                for alarm in alarms(meter, &series) {
                    if alarm.raised_by.at < at.minus(ALARM_REACH) {
                        continue;
                    }
                    raise(replica, &session, &site.id, &catalog, meter, alarm.first);
                }
            }
        }
    });
}

fn raise(replica: Replica, session: &Session, site: &SiteId, catalog: &CatalogView, meter: &Meter, first: &Reading) {
    let id = WorkOrder::alarm_id(site, &meter.id, &first.id);
    let fresh = replica.read(&id, |_| ()).is_none() && UNDER_WAY.with_borrow_mut(|under_way| under_way.insert(id));
    if !fresh {
        return;
    }
    let asset = catalog.assets.iter().find(|asset| asset.id == meter.asset);
    let location = asset.and_then(|asset| asset.place.as_ref()).map(ToString::to_string).unwrap_or_default();
    let Ok((_, order)) = WorkOrder::alarm(site, meter, first, &location) else {
        UNDER_WAY.with_borrow_mut(|under_way| under_way.remove(&id));
        return;
    };
    let title = WorkOrder::read_doc(order.doc()).map(|view| view.title).unwrap_or_default();
    let (session, site, at) = (session.clone(), site.to_string(), first.at);
    spawn_local(async move {
        let outcome = async {
            replica.create(id, order.into_doc()).await?;
            let edit = edit_now(&session.user.username)?;
            let entry = shared::document::catalog::IndexEntry {
                document: id.url(),
                document_type: DocumentType::WorkOrder,
                title,
                status: "reported".to_owned(),
                location,
                updated_at: at,
            };
            index_in_catalog(replica, &session, &site, entry, &edit).await
        }
        .await;
        if let Err(message) = outcome {
            leptos::logging::warn!("cannot raise a meter's alarm: {message}");
        }
        UNDER_WAY.with_borrow_mut(|under_way| under_way.remove(&id));
    });
}
