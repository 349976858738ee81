//! What managers see of the field once it syncs: `/dashboard` — a site's measures for a
//! period (the server's projections, computed by `shared::kpi`; what repairs and supplies
//! cost, by `shared::cost`), simple SVG charts, and
//! its documents as searchable lists with CSV exports — and `/documents/:id` (`document`)
//! — one document's history and conflicting values.
//!
//! These read the server (`/api/sites/{site}/summary`, `…/documents`): every answer is
//! kept on the phone, so offline the last figures stay readable with their age shown.

pub mod document;
pub(crate) mod history;
mod texts;

use leptos::prelude::*;
use shared::cost::{CostReport, WORK_ORDERS};
use shared::document::DocumentType;
use shared::document::work_order::Category;
use shared::kpi::{Kpis, PassRate};
use shared::meter::Energy;
use shared::money::Money;
use shared::time::{Span, Timestamp};

use self::texts::{ReviewTexts, use_review_texts};
use crate::edits::{catalog_of, read_catalog};
use crate::error::AppError;
use crate::fields::SiteChoice;
use crate::i18n::{CurrentLanguage, use_texts};
use crate::pages::costs::use_cost_texts;
use crate::replica::use_replica;
use crate::server::{DocumentList, Kept, SiteSummary, display_name, fetch_kept, use_site_people};
use crate::session::{SessionSite, use_session};

/// The periods offered, in days.
const PERIODS: [i64; 3] = [7, 30, 90];

/// The types of document the lists show, the first by default.
const LISTED_TYPES: [DocumentType; 3] = [DocumentType::WorkOrder, DocumentType::Inspection, DocumentType::Stocktake];

/// "As of 10:32", or, from the phone's copy, how old it is.
fn age_line<T>(texts: &ReviewTexts, kept: &Kept<T>, language: crate::i18n::Language) -> String {
    let time = js_sys::Date::new(&(kept.fetched_at as f64).into());
    let clock = String::from(time.to_locale_time_string(language.tag()));
    if kept.from_cache {
        // A copy may be days old: say the day too.
        let when = String::from(time.to_locale_string(language.tag(), &wasm_bindgen::JsValue::UNDEFINED));
        let minutes = ((js_sys::Date::now() as i64 - kept.fetched_at) / 60_000).max(0);
        format!("{} {when} ({minutes} {})", texts.kept_from, texts.minutes_ago)
    } else {
        format!("{} {clock}", texts.as_of)
    }
}

fn percent(rate: &PassRate) -> Option<f64> {
    rate.per_mille().map(|per_mille| f64::from(per_mille) / 10.0)
}

/// The bar chart's drawing, in SVG units (the chart scales to the card's width): each row
/// a label, a bar and its value.
mod chart {
    /// The whole chart's width.
    pub const WIDTH: f64 = 340.0;
    /// One row's height.
    pub const ROW: usize = 28;
    /// Where the bars start: the labels' room.
    pub const LABELS: f64 = 110.0;
    /// The widest bar; the others are their share of it.
    pub const LONGEST_BAR: f64 = 180.0;
    pub const BAR_TOP: usize = 6;
    pub const BAR_HEIGHT: usize = 16;
    /// Where a row's text sits.
    pub const BASELINE: usize = 18;
    /// Between a bar and its value.
    pub const GAP: f64 = 4.0;
}

/// Horizontal bars, one per row, each a share of the widest: plain SVG, scaled to the
/// card's width.
#[component]
fn BarChart(rows: Vec<(String, f64, String)>, #[prop(into)] name: String) -> impl IntoView {
    let texts = use_review_texts();
    if rows.is_empty() {
        return view! { <p class="muted" data-chart=name>{move || texts.get().nothing_yet}</p> }.into_any();
    }
    let most = rows.iter().map(|(_, value, _)| *value).fold(0.0_f64, f64::max).max(f64::EPSILON);
    let height = rows.len() * chart::ROW;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(index, (label, value, shown))| {
            let y = index * chart::ROW;
            let width = (value / most * chart::LONGEST_BAR).max(1.0);
            let key = label.clone();
            view! {
                <g data-bar=key>
                    <text x="0" y=y + chart::BASELINE class="chart-label">{label}</text>
                    <rect x=chart::LABELS y=y + chart::BAR_TOP width=format!("{width:.1}") height=chart::BAR_HEIGHT rx="3" class="chart-bar"></rect>
                    <text x=format!("{:.1}", chart::LABELS + width + chart::GAP) y=y + chart::BASELINE class="chart-value">{shown}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" data-chart=name viewBox=format!("0 0 {} {height}", chart::WIDTH) role="img" preserveAspectRatio="xMinYMin meet">{bars}</svg>
    }
    .into_any()
}

/// The dashboard's choices, kept in the page's address too, so a document opened from the
/// list and left with "back" finds the list as it was.
#[derive(Clone, Copy)]
struct Filters {
    /// The site asked for; `chosen` is the one shown (the first one managed if none).
    site: RwSignal<String>,
    chosen: Memo<Option<String>>,
    /// The sites the person manages.
    sites: Signal<Vec<SessionSite>>,
    days: RwSignal<i64>,
    /// The documents listed: a type of `LISTED_TYPES` (as the API spells it), a status of it, words, only overdue ones.
    kind: RwSignal<String>,
    status: RwSignal<String>,
    query: RwSignal<String>,
    overdue_only: RwSignal<bool>,
    /// How many documents the list shows.
    shown: RwSignal<usize>,
}

impl Filters {
    /// The filters as the address gives them, written back to it as they change.
    fn from_address() -> Filters {
        let current = use_session();
        let asked = leptos_router::hooks::use_query_map().get_untracked();
        let asked = move |key: &str| asked.get(key).unwrap_or_default();
        let site = RwSignal::new(asked("site"));
        let sites = Signal::derive(move || {
            current
                .session
                .get()
                .map(|session| session.sites.into_iter().filter(|site| site.role.manages()).collect::<Vec<SessionSite>>())
                .unwrap_or_default()
        });
        let filters = Filters {
            site,
            chosen: Memo::new(move |_| {
                let wanted = site.get();
                sites.with(|sites| sites.iter().find(|known| known.id == wanted).or(sites.first()).map(|known| known.id.to_string()))
            }),
            sites,
            days: RwSignal::new(asked("days").parse().ok().filter(|days| PERIODS.contains(days)).unwrap_or(30_i64)),
            kind: RwSignal::new(
                Some(asked("type"))
                    .filter(|kind| LISTED_TYPES.iter().any(|listed| listed.as_str() == kind))
                    .unwrap_or_else(|| LISTED_TYPES[0].as_str().to_owned()),
            ),
            status: RwSignal::new(asked("status")),
            query: RwSignal::new(asked("q")),
            overdue_only: RwSignal::new(asked("overdue") == "true"),
            shown: RwSignal::new(50_usize),
        };
        let navigate = leptos_router::hooks::use_navigate();
        Effect::new(move || {
            let encode = |text: String| String::from(js_sys::encode_uri_component(&text));
            let address = format!(
                "/dashboard?site={}&days={}&type={}&status={}&q={}&overdue={}",
                encode(filters.site.get()),
                filters.days.get(),
                encode(filters.kind.get()),
                encode(filters.status.get()),
                encode(filters.query.get()),
                filters.overdue_only.get()
            );
            navigate(&address, leptos_router::NavigateOptions { replace: true, scroll: false, ..Default::default() });
        });
        filters
    }

    /// Lists `kind` (overdue ones only if `overdue`) from the start, and brings the list
    /// into view: what a tile does.
    fn open_list(self, kind: &str, overdue: bool) {
        self.kind.set(kind.to_owned());
        self.status.set(String::new());
        self.overdue_only.set(overdue);
        if let Some(lists) = document().get_element_by_id("documents") {
            lists.scroll_into_view();
        }
    }
}

/// Names of what the server's answers give by id (templates, places, assets), from the
/// site's catalog on the phone, read once per change rather than once per name.
#[derive(Clone, Copy)]
struct Names {
    catalog: Memo<Option<std::sync::Arc<shared::document::catalog::CatalogView>>>,
}

impl Names {
    fn of_site(filters: Filters) -> Names {
        let current = use_session();
        let replica = use_replica();
        Names {
            catalog: Memo::new(move |_| {
                let _ = replica.revision.get();
                read_catalog(replica, &catalog_of(current.session.get().as_ref()?, &filters.chosen.get()?)?)
            }),
        }
    }

    fn template(self, url: &str, language: crate::i18n::Language) -> String {
        let name = self.catalog.with_untracked(|catalog| {
            let known = catalog.as_ref()?.templates.iter().find(|known| known.document == url)?;
            Some(if language == crate::i18n::Language::Chinese { known.name_zh.clone() } else { known.name_en.clone() })
        });
        name.unwrap_or_else(|| url.to_owned())
    }

    fn place(self, id: &str) -> String {
        self.catalog.with_untracked(|catalog| catalog.as_ref()?.place(id).map(|place| place.name.clone())).unwrap_or_else(|| id.to_owned())
    }

    /// An asset by tag and name, as people know it, not by id.
    fn asset(self, id: &str) -> String {
        self.catalog
            .with_untracked(|catalog| {
                catalog.as_ref()?.assets.iter().find(|known| known.id.as_str() == id).map(|known| format!("{} {}", known.tag, known.name))
            })
            .unwrap_or_else(|| id.to_owned())
    }
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let texts = use_review_texts();
    let filters = Filters::from_address();
    let names = Names::of_site(filters);
    let Filters { site, sites, days, .. } = filters;
    view! {
        <section class="card" aria-labelledby="dashboard">
            <h1 id="dashboard">{move || texts.get().dashboard}</h1>
            <div class="two-columns">
                <SiteChoice sites=sites chosen=site name="dashboard-site" class="filter" />
                <label class="filter">
                    <span>{move || texts.get().period}</span>
                    <select name="period" on:change=move |event| days.set(event_target_value(&event).parse().unwrap_or(30))>
                        {move || PERIODS.into_iter().map(|period| view! { <option value=period.to_string() selected=move || days.get() == period>{texts.get().last_days.replace("{}", &period.to_string())}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <Figures filters=filters names=names />
        </section>
        <DocumentLists filters=filters names=names />
    }
}

/// The site's measures for the period, from the server's summary (kept on the phone): the
/// tiles, each opening the list it counts, and the charts.
#[component]
fn Figures(filters: Filters, names: Names) -> impl IntoView {
    let texts = use_review_texts();
    let current = use_session();
    let replica = use_replica();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    // Reloaded when the phone syncs: what it just sent is in the next answer.
    let online = Memo::new(move |_| replica.view.with(|view| view.online));
    let summary = LocalResource::new(move || {
        let token = current.session.with(|session| session.as_ref().map(|session| session.token.clone()));
        let (site, days) = (filters.chosen.get(), filters.days.get());
        let _ = (online.get(), replica.revision.get());
        async move {
            let (Some(token), Some(site)) = (token, site) else { return Err(AppError::SignedOut) };
            // Up to the end of today; kept per site and length of period, so that offline
            // the last figures fetched show whatever day they were fetched on.
            let to = Timestamp::from_day(Timestamp::from_millis(js_sys::Date::now() as i64).day_number() + 1);
            let from = to.minus(Span::days(days));
            let path = format!("/api/sites/{site}/summary?from={}&to={}", from.as_millis(), to.as_millis());
            fetch_kept::<SiteSummary>(&token, &path, &format!("summary/{site}/{days}")).await
        }
    });
    move || {
        let texts = texts.get();
        if filters.sites.with(Vec::is_empty) {
            return view! { <p class="muted">{texts.managers_only}</p> }.into_any();
        }
        match summary.get() {
            None => view! { <p class="muted">"…"</p> }.into_any(),
            Some(Err(_)) => view! { <p class="error" data-age="none">{texts.needs_network}</p> }.into_any(),
            Some(Ok(kept)) => {
                let age = age_line(texts, &kept, language.get());
                view! {
                    <p class="muted" data-age=if kept.from_cache { "kept" } else { "fresh" }>{age}</p>
                    {kpi_tiles(&kept.value.kpis, filters, names)}
                    <section class="charts">{charts(&kept.value.kpis, names, language.get())}</section>
                    {kept.value.costs.as_ref().map(|costs| cost_section(costs, names))}
                    {energy_section(&kept.value.energy, &kept.value.site.to_string())}
                }
                .into_any()
            }
        }
    }
}

/// A tile per measure; each opens the list it counts: work orders, rounds or stocktakes
/// (overdue work orders for the overdue tile).
fn kpi_tiles(kpis: &Kpis, filters: Filters, names: Names) -> impl IntoView {
    let texts = use_review_texts().get();
    let field_texts = use_texts();
    let duration = |value: Option<i64>| value.map(|millis| texts.duration(millis)).unwrap_or_else(|| "—".to_owned());
    let pass = percent(&kpis.pass_rate).map(|percent| format!("{percent:.1}%")).unwrap_or_else(|| "—".to_owned());
    let stars = kpis.satisfaction_tenths.map(|tenths| format!("{:.1} ★", f64::from(tenths) / 10.0)).unwrap_or_else(|| "—".to_owned());
    let tile = |name: &'static str, label: &'static str, value: String, detail: String| {
        let (list, overdue) = match name {
            "inspections" | "hazards" => ("inspection", false),
            "variance" => ("stocktake", false),
            "overdue" => ("work_order", true),
            _ => ("work_order", false),
        };
        view! {
            <button
                type="button"
                class="tile"
                data-kpi=name
                on:click=move |_| filters.open_list(list, overdue)
            >
                <span class="tile-label">{label}</span>
                <strong class="tile-value">{value}</strong>
                <span class="muted tile-detail">{detail}</span>
            </button>
        }
    };
    // Stock to reorder and below zero, from the site's ledger on this phone (it is
    // current as of the last sync, not of the period).
    let stock_tile = names.catalog.with(|catalog| {
        let catalog = catalog.as_ref()?;
        let below_zero = catalog.on_hand().values().filter(|quantity| quantity.is_negative()).count();
        let field_texts = field_texts.get();
        Some(view! {
            <a class="tile" data-kpi="reorder" href="/">
                <span class="tile-label">{field_texts.to_reorder}</span>
                <strong class="tile-value" data-count=catalog.to_reorder().len().to_string()>{format!("{} {}", catalog.to_reorder().len(), texts.items)}</strong>
                <span class="muted tile-detail" data-below-zero=below_zero.to_string()>{format!("{} {below_zero}", field_texts.below_zero)}</span>
            </a>
        })
    });
    view! {
        <div class="tiles">
            {tile("response", texts.response_time, duration(kpis.response.map(|d| d.median)), format!("{} {}", texts.p90, duration(kpis.response.map(|d| d.p90))))}
            {tile("completion", texts.completion_time, duration(kpis.completion.map(|d| d.median)), format!("{} {}", texts.p90, duration(kpis.completion.map(|d| d.p90))))}
            {tile("reported", texts.reported, texts.count(kpis.reported, texts.order_one, texts.order_many), format!("{} {}", texts.reported_by_public, kpis.reported_by_public))}
            {tile("overdue", texts.overdue_orders, texts.count(kpis.overdue, texts.order_one, texts.order_many), format!("{} {}", texts.flagged_orders, texts.count(kpis.flagged, texts.order_one, texts.order_many)))}
            {tile("satisfaction", field_texts.get().satisfaction, stars, String::new())}
            {tile("inspections", texts.inspections, texts.count(kpis.inspections, texts.round_one, texts.round_many), format!("{} {pass}", field_texts.get().pass_rate))}
            {tile("hazards", texts.open_hazards, texts.count(kpis.open_hazards, texts.hazard_one, texts.hazard_many), format!("{} {}", texts.overdue_hazards, texts.count(kpis.overdue_hazards, texts.hazard_one, texts.hazard_many)))}
            {tile("variance", texts.stock_variance, format!("{} {}", kpis.stock_items_with_variance, texts.items), kpis.stock_absolute_variance.to_string())}
            {stock_tile}
        </div>
    }
}

/// Pass rates by checklist and by place, and the assets that failed most.
fn charts(kpis: &Kpis, names: Names, language: crate::i18n::Language) -> impl IntoView {
    let texts = use_review_texts().get();
    let rates = |rates: &std::collections::BTreeMap<String, PassRate>, name: &dyn Fn(&str) -> String| -> Vec<(String, f64, String)> {
        rates.iter().filter_map(|(key, rate)| percent(rate).map(|value| (name(key), value, format!("{value:.1}%")))).collect()
    };
    let by_checklist = rates(&kpis.pass_rate_by_template, &|template| names.template(template, language));
    let by_place = rates(&kpis.pass_rate_by_location, &|place| names.place(place));
    let mut failures: Vec<(String, usize)> = kpis.failures_by_asset.iter().map(|(asset, count)| (asset.clone(), *count)).collect();
    failures.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let failures: Vec<(String, f64, String)> = failures
        .into_iter()
        .take(10)
        .map(|(asset, count)| (names.asset(&asset), count as f64, format!("{count} {}", texts.times)))
        .collect();
    view! {
        <h3>{texts.pass_rate_by_checklist}</h3>
        <BarChart rows=by_checklist name="checklists" />
        <h3>{texts.pass_rate_by_place}</h3>
        <BarChart rows=by_place name="places" />
        <h3>{texts.failures_by_asset}</h3>
        <BarChart rows=failures name="assets" />
    }
}

/// "+12.5% vs previous period"; nothing to compare with, nothing said.
fn change_line(now: Money, before: Money, vs_before: &str) -> String {
    if before <= Money::ZERO {
        return String::new();
    }
    let change = (now.fen() - before.fen()) as f64 / before.fen() as f64 * 100.0;
    format!("{vs_before} {change:+.1}%")
}

/// What repairs and supplies cost in the period: tiles, then what cost most.
fn cost_section(costs: &CostReport, names: Names) -> impl IntoView {
    let texts = use_cost_texts().get();
    let field_texts = use_texts().get();
    let rows = |amounts: &mut dyn Iterator<Item = (String, Money)>| -> Vec<(String, f64, String)> {
        let mut rows: Vec<(String, Money)> = amounts.filter(|(_, amount)| *amount > Money::ZERO).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.into_iter().take(10).map(|(label, amount)| (label, amount.fen() as f64, amount.yuan_rounded())).collect()
    };
    let by_trade = rows(&mut costs.by_category.iter().map(|(category, amount)| {
        let name = Category::parse(category).map_or_else(|_| category.clone(), |category| field_texts.category(category).to_owned());
        (name, *amount)
    }));
    let by_asset = rows(&mut costs.top_assets.iter().map(|(asset, amount)| (names.asset(asset), *amount)));
    let by_place = rows(
        &mut costs
            .by_place
            .iter()
            .map(|(place, amount)| (if place.is_empty() { texts.not_given.to_owned() } else { names.place(place) }, *amount)),
    );
    let by_department = rows(&mut costs.spend_by_department.iter().map(|(department, amount)| {
        let name = match department.as_str() {
            WORK_ORDERS => texts.work_orders.to_owned(),
            "" => texts.not_given.to_owned(),
            other => other.to_owned(),
        };
        (name, *amount)
    }));
    let by_category = rows(&mut costs.spend_by_category.iter().map(|(category, amount)| (field_texts.stock_category(category), *amount)));
    let tile = |name: &'static str, label: &'static str, value: Money, detail: String| {
        view! {
            <div class="tile" data-cost-kpi=name data-amount=value.fen().to_string()>
                <span class="tile-label">{label}</span>
                <strong class="tile-value money">{value.to_string()}</strong>
                <span class="muted tile-detail">{detail}</span>
            </div>
        }
    };
    let split = format!("{} {} · {} {} · {} {}", texts.labour, costs.labour, texts.parts, costs.parts, texts.outside, costs.outside);
    view! {
        <section class="charts" data-section="costs">
            <h2>{texts.costs}</h2>
            <div class="tiles">
                {tile("repairs", texts.repair_cost, costs.repairs, format!("{} {}", texts.orders_completed.replace("{}", &costs.orders.to_string()), change_line(costs.repairs, costs.repairs_before, texts.vs_before)))}
                {tile("spend", texts.supply_spend, costs.spend, change_line(costs.spend, costs.spend_before, texts.vs_before))}
                {tile("stock", texts.stock_value, costs.stock_value, String::new())}
            </div>
            <p class="muted" data-cost-split="yes">{split}</p>
            <h3>{texts.cost_by_trade}</h3>
            <BarChart rows=by_trade name="cost-trades" />
            <h3>{texts.cost_by_asset}</h3>
            <BarChart rows=by_asset name="cost-assets" />
            <h3>{texts.cost_by_place}</h3>
            <BarChart rows=by_place name="cost-places" />
            <h3>{texts.spend_by_department}</h3>
            <BarChart rows=by_department name="spend-departments" />
            <h3>{texts.spend_by_category}</h3>
            <BarChart rows=by_category name="spend-categories" />
        </section>
    }
}

/// What the site's counting-up meters used in the period: a tile per kind, with the saving
/// against the same weeks a year before, and a line per meter opening it. Nothing for a
/// site without such meters.
fn energy_section(energy: &Energy, site: &str) -> Option<impl IntoView + use<>> {
    if energy.meters.is_empty() {
        return None;
    }
    let texts = crate::pages::meters::use_meter_texts().get_untracked();
    let share = |per_mille: i32| format!("{:.1}%", f64::from(per_mille.abs()) / 10.0);
    let tiles = energy
        .totals
        .iter()
        .map(|total| {
            let detail = match total.saving_per_mille {
                Some(saved) if saved >= 0 => texts.saved_share.replace("{}", &share(saved)),
                Some(more) => texts.more_share.replace("{}", &share(more)),
                None => texts.not_compared.to_owned(),
            };
            let saving = total.saving_per_mille.map(|saved| saved.to_string()).unwrap_or_default();
            view! {
                <div class="tile" data-energy=total.kind.as_str() data-saving=saving>
                    <span class="tile-label">{crate::pages::meters::kind_name(texts, total.kind)}</span>
                    <strong class="tile-value">{total.used.whole().to_string()} <small class="tile-unit">{total.unit.clone()}</small></strong>
                    <span class="muted tile-detail">{detail}</span>
                </div>
            }
        })
        .collect_view();
    let rows = energy
        .meters
        .iter()
        .map(|line| {
            let before = line.year_before.map_or_else(
                || texts.not_compared.to_owned(),
                |before| format!("{} {}", texts.year_before, crate::pages::meters::with_unit(before.whole(), &line.unit)),
            );
            view! {
                <li class="order-line" data-meter=line.meter.to_string()>
                    <a href=format!("/meters/{site}/{}", line.meter)>{line.name.clone()}</a>
                    <span>{crate::pages::meters::with_unit(line.used.whole(), &line.unit)}</span>
                    <span class="muted">{before}</span>
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <section class="charts" data-section="energy">
            <h2>{texts.energy}</h2>
            <p class="muted">{texts.energy_hint}</p>
            <div class="tiles">{tiles}</div>
            <ul class="orders">{rows}</ul>
        </section>
    })
}

/// The site's documents as a list: by type, status and words, with the filters in force
/// as chips, more on request, and the list as CSV.
#[component]
fn DocumentLists(filters: Filters, names: Names) -> impl IntoView {
    let texts = use_review_texts();
    let field_texts = use_texts();
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    let current = use_session();
    let replica = use_replica();
    let Filters { chosen, kind, status, query, overdue_only, shown, .. } = filters;
    let token = move || current.session.with(|session| session.as_ref().map(|session| session.token.clone()));
    // Reloaded when the phone syncs: what it just sent is in the next answer.
    let online = Memo::new(move |_| replica.view.with(|view| view.online));
    let list = LocalResource::new(move || {
        let (token, site, kind, status, query, shown, overdue) =
            (token(), chosen.get(), kind.get(), status.get(), query.get(), shown.get(), overdue_only.get());
        let _ = (online.get(), replica.revision.get());
        async move {
            let (Some(token), Some(site)) = (token, site) else { return Err(AppError::SignedOut) };
            let mut path = format!("/api/sites/{site}/documents?type={kind}&per_page={shown}");
            if !status.is_empty() {
                path.push_str(&format!("&status={status}"));
            }
            if overdue {
                path.push_str("&overdue=true");
            }
            if !query.trim().is_empty() {
                path.push_str(&format!("&q={}", String::from(js_sys::encode_uri_component(query.trim()))));
            }
            fetch_kept::<DocumentList>(&token, &path, &path).await
        }
    });
    let statuses = move || -> Vec<&'static str> {
        match kind.get().as_str() {
            "work_order" => shared::document::work_order::Status::ALL.iter().map(|status| status.as_str()).collect(),
            "inspection" => vec!["in_progress", "submitted", "discarded"],
            _ => vec!["counting", "closed", "approved"],
        }
    };
    let people = use_site_people(move || chosen.get());
    // The filters in force beyond the type, each a chip that clears it.
    let chips = move || {
        let texts = texts.get();
        let chip = |name: &'static str, label: String, clear: Callback<()>| {
            let described = format!("{} {label}", texts.clear_filter);
            view! {
                <button type="button" class="chip" data-chip=name aria-label=described on:click=move |_| clear.run(())>
                    {label} <span aria-hidden="true">" ×"</span>
                </button>
            }
        };
        let mut found = Vec::new();
        if overdue_only.get() {
            found.push(chip("overdue", texts.overdue_only.to_owned(), Callback::new(move |()| overdue_only.set(false))));
        }
        if !status.get().is_empty() {
            found.push(chip(
                "status",
                field_texts.get().document_status(&kind.get(), &status.get()).clone(),
                Callback::new(move |()| status.set(String::new())),
            ));
        }
        if !query.get().trim().is_empty() {
            found.push(chip("query", format!("“{}”", query.get().trim()), Callback::new(move |()| query.set(String::new()))));
        }
        (!found.is_empty()).then(|| view! { <div class="chips" data-list="filters">{found}</div> })
    };
    let rows = move || {
        let texts = texts.get();
        match list.get() {
            None => view! { <p class="muted">"…"</p> }.into_any(),
            Some(Err(_)) => view! { <p class="error">{texts.needs_network}</p> }.into_any(),
            Some(Ok(kept)) if kept.value.documents.is_empty() => {
                // An empty list says why.
                let why = if overdue_only.get() {
                    texts.none_overdue
                } else if !status.get().is_empty() || !query.get().trim().is_empty() {
                    texts.none_matching
                } else {
                    texts.none_yet
                };
                view! { <p class="muted" data-empty="yes">{why}</p> }.into_any()
            }
            Some(Ok(kept)) => {
                let total = kept.value.total;
                let count = kept.value.documents.len();
                let items = kept
                    .value
                    .documents
                    .into_iter()
                    .map(|document| {
                        let when = crate::i18n::moment(document.updated_at, language.get());
                        let by = people.with(|people| display_name(people, &document.created_by));
                        view! {
                            <li class="order-line" data-document=document.document.clone() data-status=document.status.clone()>
                                <a href=format!("/documents/{}", document.document)>{document.title.clone()}</a>
                                <span class="muted">{format!(" {} · {by} · {when}", names.place(&document.location))}</span>
                                <span class="badge">{field_texts.get().document_status(&kind.get(), &document.status)}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <p class="muted" data-total=total.to_string()>{format!("{count} {} {total}", texts.of_total)}</p>
                    <ul class="orders" data-list="documents">{items}</ul>
                    {(count < total).then(|| view! { <button type="button" class="link-button" on:click=move |_| shown.update(|shown| *shown += 50)>{texts.more}</button> })}
                }
                .into_any()
            }
        }
    };
    let export = move || {
        format!("/api/sites/{}/export.csv?type={}&token={}", chosen.get().unwrap_or_default(), kind.get(), token().unwrap_or_default())
    };
    view! {
        <section class="card" aria-labelledby="documents">
            <h2 id="documents">{move || texts.get().documents}</h2>
            <div class="two-columns">
                <label class="filter">
                    <span>{move || texts.get().documents}</span>
                    <select name="type" on:change=move |event| { kind.set(event_target_value(&event)); status.set(String::new()); overdue_only.set(false); }>
                        {move || LISTED_TYPES.into_iter().map(|listed| view! { <option value=listed.as_str() selected=move || kind.get() == listed.as_str()>{texts.get().document_type(listed)}</option> }).collect_view()}
                    </select>
                </label>
                <label class="filter">
                    <span>{move || texts.get().any_status}</span>
                    <select name="status" on:change=move |event| { status.set(event_target_value(&event)); overdue_only.set(false); }>
                        <option value="" selected=move || status.get().is_empty()>{move || texts.get().any_status}</option>
                        {move || statuses().into_iter().map(|known| view! { <option value=known selected=move || status.get() == known>{field_texts.get().document_status(&kind.get(), known)}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <label class="filter search">
                <span>{move || field_texts.get().search}</span>
                <input type="search" name="q" prop:value=query on:change=move |event| query.set(event_target_value(&event)) />
            </label>
            {chips}
            {rows}
            // A file, not a page of the app: the router leaves a `download` link to the browser.
            <a class="button" href=export download=move || format!("{}-{}.csv", chosen.get().unwrap_or_default(), kind.get()) rel="external" data-action="export-csv">{move || field_texts.get().export_csv}</a>
        </section>
    }
}
