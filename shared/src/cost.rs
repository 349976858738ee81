//! What repairs and supplies cost, by the rules written down in ARCHITECTURE.md ("What
//! things cost"):
//!
//! - **Stock is valued at weighted average cost.** The ledger is walked per item in time
//!   order (then by movement id, the same on every phone). A receipt adds its quantity at
//!   its price (one without a price, and a stocktake's surplus, at the average so far); an
//!   issue, a scrap or a stocktake's shortfall takes its share of the value on hand, and
//!   the last of an item takes all that is left, so what was received is exactly what was
//!   given out plus what is on hand. While an item is below zero it holds no value, and
//!   what leaves is valued at its last average.
//! - **A repair costs its labour, its parts and its outside costs.** Labour: each stretch
//!   of work on the order, from a `started` step to the next `paused`, `completed`,
//!   `cancelled` or re-assignment (steps the fold flags do not count; a contractor's
//!   stretches not at all, as they bill by invoice), is the starter's,
//!   to the minute, at the rate in force for them when the stretch began (their own, else
//!   their role's, else everyone's; before any was in force, the first one set); a manager's correction replaces a person's time, and
//!   its rate if it gives one. Work still under way is not counted until it stops. Parts:
//!   the value of the ledger's movements for each part (as issued, less what went back),
//!   and a part the ledger has not issued yet at the item's average now. Outside costs:
//!   the invoices' amounts.
//! - **The dashboard counts a repair in the period it was completed** (the completion in
//!   force: a reopened order counts again only once completed again), and supply spend as
//!   the value of the issues made in the period, by department (issues to work orders as
//!   one) and by the item's category, against the period of the same length just before.
//!
//! Pure functions, so the server's dashboard and the phone's order page give the same
//! figures from the same documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::directory::{Role, Username};
use crate::document::EntryId;
use crate::document::catalog::{CatalogView, Movement, MovementKind, Rate, RateFor, derived_id, is_movement_of};
use crate::document::work_order::{CONTRACTOR, EventKind, FlagProblem, WorkOrderView, fold};
use crate::kpi::{Period, WorkOrderSummary};
use crate::money::Money;
use crate::quantity::Quantity;
use crate::time::Timestamp;

/// One item's stock and what it is worth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holding {
    pub quantity: Quantity,
    pub value: Money,
    /// The price per unit the item was last held at (what leaves while it is below zero
    /// is valued at).
    pub average: Money,
}

impl Holding {
    /// The value of one unit on hand now: the average cost.
    pub fn unit_cost(&self) -> Money {
        if self.quantity > Quantity::ZERO { self.value.share(Quantity::units(1), self.quantity) } else { self.average }
    }
}

/// The ledger valued: each item's holding, and each movement's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Valuation {
    pub items: BTreeMap<EntryId, Holding>,
    /// The value each movement took in (receipts, surpluses) or out (issues, scrap,
    /// shortfalls), never negative.
    pub movements: BTreeMap<EntryId, Money>,
}

impl Valuation {
    /// Walks `ledger` by the rule in the module documentation.
    pub fn of(ledger: &[Movement]) -> Valuation {
        let mut ordered: Vec<&Movement> = ledger.iter().collect();
        ordered.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let mut valuation = Valuation::default();
        for movement in ordered {
            let holding = valuation.items.entry(movement.item.clone()).or_default();
            let delta = movement.delta();
            let value = if delta > Quantity::ZERO {
                let price = match (movement.kind, movement.unit_cost) {
                    (MovementKind::Receive, Some(price)) => price,
                    _ => holding.unit_cost(),
                };
                let value = price.times(delta);
                let after = holding.quantity.saturating_add(delta);
                holding.value = if holding.quantity > Quantity::ZERO {
                    holding.value.saturating_add(value)
                } else {
                    price.times(after.max(Quantity::ZERO))
                };
                holding.quantity = after;
                if holding.quantity > Quantity::ZERO {
                    holding.average = holding.unit_cost();
                }
                value
            } else {
                let out = Quantity::ZERO.saturating_sub(delta);
                let value = if holding.quantity <= Quantity::ZERO {
                    holding.average.times(out)
                } else if out >= holding.quantity {
                    let beyond = out.saturating_sub(holding.quantity);
                    holding.value.saturating_add(holding.average.times(beyond))
                } else {
                    holding.value.share(out, holding.quantity)
                };
                holding.value = if out >= holding.quantity { Money::ZERO } else { holding.value.saturating_sub(value) };
                holding.quantity = holding.quantity.saturating_sub(out);
                value
            };
            valuation.movements.insert(movement.id.clone(), value);
        }
        valuation
    }

    /// Everything on hand, at average cost.
    pub fn total(&self) -> Money {
        self.items.values().map(|holding| holding.value).sum()
    }

    pub fn holding(&self, item: &str) -> Holding {
        EntryId::parse(item).ok().and_then(|item| self.items.get(&item).copied()).unwrap_or_default()
    }
}

/// A stretch of work on an order, from a start to the step that stopped it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stretch {
    pub person: Username,
    pub from: Timestamp,
    pub minutes: i64,
}

/// Stretches of work by the order's steps (see the module documentation), in time order,
/// and the one still under way, if any: who, since when.
pub fn stretches(view: &WorkOrderView) -> (Vec<Stretch>, Option<(Username, Timestamp)>) {
    let state = fold(view.header.created_at, &view.events);
    let flagged: Vec<&EntryId> =
        state.flags.iter().filter(|flag| matches!(flag.problem, FlagProblem::IllegalTransition { .. })).map(|flag| &flag.event).collect();
    let mut events: Vec<_> = view.events.iter().filter(|event| !flagged.contains(&&event.id)).collect();
    events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut done = Vec::new();
    let mut open: Option<(Username, Timestamp)> = None;
    for event in events {
        match &event.kind {
            EventKind::Started => {
                if let Some((person, from)) = open.take() {
                    done.push(stretch(person, from, event.at));
                }
                open = Some((event.user.clone(), event.at));
            }
            EventKind::Paused { .. }
            | EventKind::Completed { .. }
            | EventKind::Cancelled { .. }
            | EventKind::Assigned { .. }
            | EventKind::Contracted { .. } => {
                if let Some((person, from)) = open.take() {
                    done.push(stretch(person, from, event.at));
                }
            }
            _ => {}
        }
    }
    // A contractor's time is theirs to bill: it is an outside cost, by their invoice.
    let contractor = |person: &Username| person.as_str() == CONTRACTOR;
    done.retain(|stretch| !contractor(&stretch.person));
    (done, open.filter(|(person, _)| !contractor(person)))
}

fn stretch(person: Username, from: Timestamp, to: Timestamp) -> Stretch {
    let millis = to.millis_since(from).max(0);
    Stretch { person, from, minutes: (millis + 30_000) / 60_000 }
}

/// What an order's cost is worked out from, as the server's projection keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFacts {
    pub stretches: Vec<Stretch>,
    /// Managers' corrections: person, minutes, rate if given.
    pub corrections: Vec<(Username, i64, Option<Money>)>,
    /// Parts: entry id, stock item, quantity.
    pub parts: Vec<(String, String, Quantity)>,
    /// Invoices: amount, vendor.
    pub invoices: Vec<(Money, String)>,
}

impl CostFacts {
    pub fn of(view: &WorkOrderView) -> CostFacts {
        CostFacts {
            stretches: stretches(view).0,
            corrections: view.labour.iter().map(|fix| (fix.person.clone(), fix.minutes, fix.per_hour)).collect(),
            parts: view.parts.iter().map(|part| (part.id.to_string(), part.item.clone(), part.quantity.max(Quantity::ZERO))).collect(),
            invoices: view.invoices.iter().map(|invoice| (invoice.amount, invoice.vendor.clone())).collect(),
        }
    }
}

/// The site's rates and people's roles, to cost labour with.
pub struct Rates<'a, R: Fn(&Username) -> Option<Role>> {
    pub rates: &'a [Rate],
    pub role_of: R,
}

impl<R: Fn(&Username) -> Option<Role>> Rates<'_, R> {
    /// The rate in force for `person` at `at`: their own, else their role's, else
    /// everyone's; if none was in force yet, the first one set (work done before a site
    /// set its rates is costed at them); `None` if the site has none.
    pub fn per_hour(&self, person: &Username, at: Timestamp) -> Option<Money> {
        let role = (self.role_of)(person);
        let tiers: [&dyn Fn(&RateFor) -> bool; 3] = [
            &|to| matches!(to, RateFor::Person(named) if named == person),
            &|to| matches!(to, RateFor::Role(named) if Some(*named) == role),
            &|to| *to == RateFor::Everyone,
        ];
        let in_force = tiers.iter().find_map(|applies| {
            self.rates.iter().filter(|rate| rate.from <= at && applies(&rate.applies_to)).max_by_key(|rate| (rate.from, &rate.id))
        });
        let first = || {
            tiers
                .iter()
                .find_map(|applies| self.rates.iter().filter(|rate| applies(&rate.applies_to)).min_by_key(|rate| (rate.from, &rate.id)))
        };
        in_force.or_else(first).map(|rate| rate.per_hour)
    }
}

/// One person's labour on an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabourCost {
    pub person: Username,
    pub minutes: i64,
    /// The rate it was costed at; `None` when the site sets none (costed at nothing).
    pub per_hour: Option<Money>,
    pub amount: Money,
    /// A manager set this person's time.
    pub corrected: bool,
}

/// One part used on an order, valued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartCost {
    pub part: String,
    pub item: String,
    pub quantity: Quantity,
    pub amount: Money,
}

/// What an order cost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCost {
    pub labour: Vec<LabourCost>,
    pub parts: Vec<PartCost>,
    pub outside: Money,
}

impl OrderCost {
    pub fn labour_total(&self) -> Money {
        self.labour.iter().map(|labour| labour.amount).sum()
    }

    pub fn parts_total(&self) -> Money {
        self.parts.iter().map(|part| part.amount).sum()
    }

    pub fn total(&self) -> Money {
        self.labour_total().saturating_add(self.parts_total()).saturating_add(self.outside)
    }

    /// Works out the cost of the order `order_url` from its facts, the site's rates and
    /// its ledger valued (see the module documentation).
    pub fn of<R: Fn(&Username) -> Option<Role>>(
        order_url: &str,
        facts: &CostFacts,
        rates: &Rates<'_, R>,
        ledger: &[Movement],
        valuation: &Valuation,
    ) -> OrderCost {
        let mut people: BTreeMap<&Username, (i64, Money, bool)> = BTreeMap::new();
        for stretch in &facts.stretches {
            let rate = rates.per_hour(&stretch.person, stretch.from);
            let (minutes, amount, rated) = people.entry(&stretch.person).or_default();
            *minutes += stretch.minutes;
            *amount = amount.saturating_add(rate.unwrap_or_default().per_hour_for(stretch.minutes));
            *rated |= rate.is_some();
        }
        let mut labour: Vec<LabourCost> = people
            .into_iter()
            .filter(|(person, _)| !facts.corrections.iter().any(|(corrected, _, _)| corrected == *person))
            .map(|(person, (minutes, amount, rated))| LabourCost {
                person: person.clone(),
                minutes,
                // Stretches at different rates show the mean rate.
                per_hour: rated.then(|| if minutes > 0 { Money::from_fen(amount.fen() * 60 / minutes) } else { Money::ZERO }),
                amount,
                corrected: false,
            })
            .collect();
        for (person, minutes, per_hour) in &facts.corrections {
            let started = facts.stretches.iter().filter(|stretch| &stretch.person == person).map(|stretch| stretch.from).min();
            let per_hour = per_hour.or_else(|| rates.per_hour(person, started.unwrap_or(Timestamp::from_millis(i64::MAX))));
            let amount = per_hour.unwrap_or_default().per_hour_for(*minutes);
            labour.push(LabourCost { person: person.clone(), minutes: *minutes, per_hour, amount, corrected: true });
        }
        labour.sort_by(|a, b| a.person.cmp(&b.person));

        let parts = facts
            .parts
            .iter()
            .map(|(part, item, quantity)| {
                let prefix = derived_id("part", order_url, part);
                let (mut issued, mut amount) = (Quantity::ZERO, Money::ZERO);
                for movement in ledger.iter().filter(|movement| is_movement_of(&prefix, movement.id.as_str())) {
                    let value = valuation.movements.get(&movement.id).copied().unwrap_or_default();
                    // Issues take the part out of the store; an adjustment brings some back.
                    issued = issued.saturating_sub(movement.delta());
                    amount = if movement.delta().is_negative() { amount.saturating_add(value) } else { amount.saturating_sub(value) };
                }
                // What the ledger has not issued yet, at the item's average now.
                let pending = quantity.saturating_sub(issued);
                if pending > Quantity::ZERO {
                    amount = amount.saturating_add(valuation.holding(item).unit_cost().times(pending));
                }
                PartCost { part: part.clone(), item: item.clone(), quantity: *quantity, amount: amount.max(Money::ZERO) }
            })
            .collect();
        OrderCost { labour, parts, outside: facts.invoices.iter().map(|(amount, _)| *amount).sum() }
    }
}

/// Work orders issued as one department in the spend by department.
pub const WORK_ORDERS: &str = "work_orders";

/// The dashboard's costs for a period: repairs and supplies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostReport {
    /// Orders completed in the period, and what they cost: labour, parts, outside costs.
    pub orders: usize,
    pub labour: Money,
    pub parts: Money,
    pub outside: Money,
    pub repairs: Money,
    /// The same for the period of the same length just before.
    pub repairs_before: Money,
    /// By the order's place (a place id), asset (an asset id) and category.
    pub by_place: BTreeMap<String, Money>,
    pub by_asset: BTreeMap<String, Money>,
    pub by_category: BTreeMap<String, Money>,
    /// The assets that cost most, most first (at most [`TOP_ASSETS`]).
    pub top_assets: Vec<(String, Money)>,
    /// The value of the issues made in the period, and before it.
    pub spend: Money,
    pub spend_before: Money,
    /// By the issue's department ([`WORK_ORDERS`] for orders) and by the item's category.
    pub spend_by_department: BTreeMap<String, Money>,
    pub spend_by_category: BTreeMap<String, Money>,
    /// Stock on hand now, at average cost.
    pub stock_value: Money,
}

/// How many assets the dashboard lists by cost.
pub const TOP_ASSETS: usize = 5;

impl CostReport {
    /// The report for `period` from a site's order summaries and its catalog.
    pub fn of<R: Fn(&Username) -> Option<Role>>(
        period: Period,
        orders: &[WorkOrderSummary],
        catalog: &CatalogView,
        role_of: R,
    ) -> CostReport {
        let before = Period { from: period.from.minus(period.to.since(period.from)), to: period.from };
        let valuation = Valuation::of(&catalog.ledger);
        let rates = Rates { rates: &catalog.rates, role_of };
        let mut report = CostReport { stock_value: valuation.total(), ..CostReport::default() };
        for order in orders {
            let Some(completed) = order.completed_at else { continue };
            let in_period = period.contains(completed);
            if !in_period && !before.contains(completed) {
                continue;
            }
            let cost = OrderCost::of(&format!("automerge:{}", order.id), &order.cost, &rates, &catalog.ledger, &valuation);
            let total = cost.total();
            if !in_period {
                report.repairs_before = report.repairs_before.saturating_add(total);
                continue;
            }
            report.orders += 1;
            report.labour = report.labour.saturating_add(cost.labour_total());
            report.parts = report.parts.saturating_add(cost.parts_total());
            report.outside = report.outside.saturating_add(cost.outside);
            report.repairs = report.repairs.saturating_add(total);
            add(&mut report.by_place, &order.location, total);
            add(&mut report.by_category, order.category.as_str(), total);
            if let Some(asset) = &order.asset {
                add(&mut report.by_asset, asset, total);
            }
        }
        let mut assets: Vec<(String, Money)> = report.by_asset.iter().map(|(asset, cost)| (asset.clone(), *cost)).collect();
        assets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        assets.truncate(TOP_ASSETS);
        report.top_assets = assets;

        let categories: BTreeMap<&EntryId, &str> = catalog.stock_items.iter().map(|item| (&item.id, item.category.as_str())).collect();
        for movement in catalog.ledger.iter().filter(|movement| movement.kind == MovementKind::Issue) {
            let value = valuation.movements.get(&movement.id).copied().unwrap_or_default();
            if before.contains(movement.at) {
                report.spend_before = report.spend_before.saturating_add(value);
            }
            if !period.contains(movement.at) {
                continue;
            }
            report.spend = report.spend.saturating_add(value);
            let department = if movement.reference.starts_with("automerge:") { WORK_ORDERS } else { movement.reference.trim() };
            add(&mut report.spend_by_department, department, value);
            add(&mut report.spend_by_category, categories.get(&movement.item).copied().unwrap_or_default(), value);
        }
        report
    }
}

fn add(totals: &mut BTreeMap<String, Money>, key: &str, amount: Money) {
    let total = totals.entry(key.to_owned()).or_default();
    *total = total.saturating_add(amount);
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use proptest::prelude::*;

    use super::*;
    use crate::directory::SiteId;
    use crate::document::catalog::{Purchase, SiteCatalog, StockItem};
    use crate::document::testing::{edit, id};
    use crate::document::work_order::{Category, Invoice, NewWorkOrder, Priority, WorkOrder};

    const HOUR: i64 = 3_600_000;

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    fn technicians(person: &Username) -> Option<Role> {
        matches!(person.as_str(), "tech" | "tech2").then_some(Role::Technician)
    }

    fn catalog() -> SiteCatalog {
        let mut catalog = SiteCatalog::create(ActorId::random(), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0));
        for (item, name) in [("bulbs", "灯管"), ("pipes", "水管")] {
            let item = StockItem {
                id: id(item),
                code: item.to_uppercase(),
                name: name.to_owned(),
                unit: "个".to_owned(),
                category: "supplies".to_owned(),
                bin: None,
                reorder_point: None,
            };
            catalog.put_stock_item(&item, &edit("admin", 0)).unwrap();
        }
        catalog
    }

    fn receive(catalog: &mut SiteCatalog, movement: &str, item: &str, units: i64, yuan: i64, at: i64) {
        let purchase = Purchase { unit_cost: Some(Money::yuan(yuan)), supplier: Some("五金店".to_owned()) };
        catalog.receive(&id(movement), &id(item), Quantity::units(units), &purchase, "PO", &edit("store", at)).unwrap();
    }

    fn rate(catalog: &mut SiteCatalog, rate: &str, applies_to: RateFor, yuan: i64, from: i64) {
        let rate = Rate { id: id(rate), applies_to, per_hour: Money::yuan(yuan), from: Timestamp::from_millis(from) };
        catalog.put_rate(&rate, &edit("admin", 1)).unwrap();
    }

    fn order() -> WorkOrder {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "漏水".to_owned(),
            description: String::new(),
            location: "hq-a-101".to_owned(),
            asset: Some("pump-1".to_owned()),
            category: Category::Plumbing,
            priority: Priority::Normal,
            due_at: None,
            source: None,
        };
        WorkOrder::report(ActorId::random(), &new, &id("e0"), &edit("inspector", 8 * HOUR)).unwrap()
    }

    const ORDER_URL: &str = "automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ";

    /// Two technicians, a pause, two parts (one of an item received at two prices) and an
    /// invoice: the figures worked out by hand.
    #[test]
    fn an_order_costs_its_labour_parts_and_invoices_as_summed_by_hand() {
        let mut catalog = catalog();
        receive(&mut catalog, "r1", "bulbs", 10, 2, HOUR);
        receive(&mut catalog, "r2", "bulbs", 10, 4, 2 * HOUR); // 20 at ¥3 on average
        receive(&mut catalog, "r3", "pipes", 5, 10, 2 * HOUR);
        rate(&mut catalog, "technicians", RateFor::Role(Role::Technician), 60, 0);
        rate(&mut catalog, "tech2", RateFor::Person(user("tech2")), 90, 0);

        let mut order = order();
        let step = |order: &mut WorkOrder, event: &str, kind: EventKind, who: &str, hour: f64| {
            order.record(&id(event), &kind, &edit(who, (hour * HOUR as f64) as i64));
        };
        step(&mut order, "e1", EventKind::Assigned { assignee: user("tech") }, "manager", 8.5);
        step(&mut order, "e2", EventKind::Started, "tech", 9.0);
        step(&mut order, "e3", EventKind::Paused { reason: "等配件".to_owned() }, "tech", 10.0);
        step(&mut order, "e4", EventKind::Assigned { assignee: user("tech2") }, "manager", 12.0);
        step(&mut order, "e5", EventKind::Started, "tech2", 13.0);
        order.add_part(&id("p1"), "bulbs", Quantity::units(3), &edit("tech2", 13 * HOUR + 1)).unwrap();
        order.add_part(&id("p2"), "pipes", Quantity::units(1), &edit("tech2", 13 * HOUR + 2)).unwrap();
        step(&mut order, "e6", EventKind::Completed { notes: "换了".to_owned() }, "tech2", 14.5);
        let invoice = Invoice {
            id: id("i1"),
            amount: Money::yuan(250),
            vendor: "水电公司".to_owned(),
            note: String::new(),
            photo: None,
            user: user("manager"),
            at: Timestamp::from_millis(15 * HOUR),
        };
        order.add_invoice(&invoice, &edit("manager", 15 * HOUR)).unwrap();
        let view = order.read().unwrap();
        catalog.issue_parts(ORDER_URL, &view.parts, &edit("tech2", 14 * HOUR)).unwrap();

        let catalog = catalog.read().unwrap();
        let valuation = Valuation::of(&catalog.ledger);
        let rates = Rates { rates: &catalog.rates, role_of: technicians };
        let cost = OrderCost::of(ORDER_URL, &CostFacts::of(&view), &rates, &catalog.ledger, &valuation);
        let labour: Vec<(&str, i64, Option<Money>, Money)> =
            cost.labour.iter().map(|labour| (labour.person.as_str(), labour.minutes, labour.per_hour, labour.amount)).collect();
        assert_eq!(labour, [("tech", 60, Some(Money::yuan(60)), Money::yuan(60)), ("tech2", 90, Some(Money::yuan(90)), Money::yuan(135))]);
        let parts: Vec<Money> = cost.parts.iter().map(|part| part.amount).collect();
        assert_eq!(parts, [Money::yuan(9), Money::yuan(10)], "3 bulbs at ¥3 on average, a pipe at ¥10");
        assert_eq!(cost.outside, Money::yuan(250));
        assert_eq!(cost.total(), Money::yuan(60 + 135 + 9 + 10 + 250));
        assert_eq!(valuation.holding("bulbs"), Holding { quantity: Quantity::units(17), value: Money::yuan(51), average: Money::yuan(3) });

        // A manager's correction replaces the technician's time, at the rate given.
        let mut corrected = order;
        corrected.correct_labour(&user("tech"), 45, Some(Money::yuan(80)), &edit("manager", 16 * HOUR)).unwrap();
        let cost = OrderCost::of(ORDER_URL, &CostFacts::of(&corrected.read().unwrap()), &rates, &catalog.ledger, &valuation);
        assert_eq!(
            cost.labour[0],
            LabourCost { person: user("tech"), minutes: 45, per_hour: Some(Money::yuan(80)), amount: Money::yuan(60), corrected: true }
        );
        assert_eq!(cost.total(), Money::yuan(60 + 135 + 9 + 10 + 250));
    }

    #[test]
    fn work_is_costed_at_the_rate_in_force_when_it_began_and_steps_the_fold_flags_do_not_count() {
        let mut catalog = catalog();
        rate(&mut catalog, "old", RateFor::Everyone, 30, 0);
        rate(&mut catalog, "new", RateFor::Everyone, 50, 11 * HOUR);
        let mut order = order();
        order.record(&id("e1"), &EventKind::Started, &edit("tech", 9 * HOUR));
        order.record(&id("e2"), &EventKind::Paused { reason: String::new() }, &edit("tech", 10 * HOUR));
        // Paused again while paused: flagged, so it ends nothing.
        order.record(&id("e3"), &EventKind::Started, &edit("tech", 11 * HOUR));
        order.record(&id("e4"), &EventKind::Paused { reason: String::new() }, &edit("tech", 12 * HOUR));
        order.record(&id("e5"), &EventKind::Paused { reason: String::new() }, &edit("tech", 12 * HOUR + 60_000));
        order.record(&id("e6"), &EventKind::Started, &edit("tech", 13 * HOUR));
        let view = order.read().unwrap();
        let (done, under_way) = stretches(&view);
        assert_eq!(done.iter().map(|stretch| stretch.minutes).collect::<Vec<_>>(), [60, 60]);
        assert_eq!(under_way, Some((user("tech"), Timestamp::from_millis(13 * HOUR))));
        let catalog = catalog.read().unwrap();
        let rates = Rates { rates: &catalog.rates, role_of: technicians };
        let cost = OrderCost::of(ORDER_URL, &CostFacts::of(&view), &rates, &[], &Valuation::default());
        assert_eq!(cost.labour_total(), Money::yuan(30 + 50));
        assert_eq!(cost.labour[0].per_hour, Some(Money::yuan(40)), "two stretches at two rates show the mean");
        // Work done before any rate was set is costed at the first one.
        assert_eq!(rates.per_hour(&user("tech"), Timestamp::from_millis(-HOUR)), Some(Money::yuan(30)));
    }

    #[test]
    fn parts_returned_to_the_store_are_taken_off_and_parts_not_issued_yet_count_at_the_average() {
        let mut catalog = catalog();
        receive(&mut catalog, "r1", "bulbs", 10, 5, HOUR);
        let mut order = order();
        order.add_part(&id("p1"), "bulbs", Quantity::units(4), &edit("tech", 2 * HOUR)).unwrap();
        let facts = CostFacts::of(&order.read().unwrap());
        let rates = Rates { rates: &[], role_of: technicians };
        let view = catalog.read().unwrap();
        let before_issue = OrderCost::of(ORDER_URL, &facts, &rates, &view.ledger, &Valuation::of(&view.ledger));
        assert_eq!(before_issue.parts_total(), Money::yuan(20));

        catalog.issue_parts(ORDER_URL, &order.read().unwrap().parts, &edit("tech", 3 * HOUR)).unwrap();
        order.correct_part(&id("p1"), Quantity::units(1), &edit("tech", 4 * HOUR)).unwrap();
        let view = order.read().unwrap();
        catalog.issue_parts(ORDER_URL, &view.parts, &edit("tech", 5 * HOUR)).unwrap();
        let ledger = catalog.read().unwrap().ledger;
        let cost = OrderCost::of(ORDER_URL, &CostFacts::of(&view), &rates, &ledger, &Valuation::of(&ledger));
        assert_eq!(cost.parts_total(), Money::yuan(5), "4 issued, 3 back");
        assert_eq!(Valuation::of(&ledger).holding("bulbs").value, Money::yuan(45));
        assert_eq!(cost.labour, [], "no work, no labour; no rate set");
    }

    /// A ledger of one item: receipts (units, price in fen) and issues (units).
    fn ledger_of(steps: &[(bool, i64, i64)]) -> Vec<Movement> {
        let mut on_hand = 0;
        let mut ledger = Vec::new();
        for (index, (receipt, units, price)) in steps.iter().enumerate() {
            let units = if *receipt { *units } else { (*units).min(on_hand) };
            if units == 0 {
                continue;
            }
            on_hand += if *receipt { units } else { -units };
            ledger.push(Movement {
                id: id(&format!("m{index:03}")),
                kind: if *receipt { MovementKind::Receive } else { MovementKind::Issue },
                item: id("bulbs"),
                quantity: Quantity::units(units),
                reference: "维修班".to_owned(),
                user: user("store"),
                at: Timestamp::from_millis(index as i64 * 1000),
                unit_cost: receipt.then(|| Money::from_fen(*price)),
                supplier: None,
            });
        }
        ledger
    }

    proptest! {
        /// What was received is what was issued plus what is on hand, to the fen; every
        /// issue is valued between the lowest and the highest price paid.
        #[test]
        fn stock_value_is_conserved_and_issues_are_valued_within_the_prices_paid(
            steps in proptest::collection::vec((proptest::bool::ANY, 1i64..30, 0i64..100_000), 1..40),
        ) {
            let ledger = ledger_of(&steps);
            let valuation = Valuation::of(&ledger);
            let value = |kind: MovementKind| -> Money {
                ledger.iter().filter(|movement| movement.kind == kind).map(|movement| valuation.movements[&movement.id]).sum()
            };
            let holding = valuation.holding("bulbs");
            prop_assert_eq!(value(MovementKind::Receive), value(MovementKind::Issue).saturating_add(holding.value));
            let on_hand: Quantity = ledger.iter().map(Movement::delta).sum();
            prop_assert_eq!(holding.quantity, on_hand);
            let prices: Vec<Money> = ledger.iter().filter_map(|movement| movement.unit_cost).collect();
            let (Some(low), Some(high)) = (prices.iter().min(), prices.iter().max()) else { return Ok(()) };
            for movement in ledger.iter().filter(|movement| movement.kind == MovementKind::Issue) {
                let issued = valuation.movements[&movement.id];
                // Each earlier issue rounds to the fen: a fen of slack per movement.
                let slack = Money::from_fen(ledger.len() as i64);
                prop_assert!(issued >= low.times(movement.quantity).saturating_sub(slack), "{issued} below {low} each");
                prop_assert!(issued <= high.times(movement.quantity).saturating_add(slack), "{issued} above {high} each");
            }
        }

        /// The dashboard's repair cost is the sum of the costs of the orders completed in the
        /// period, and its breakdowns add up to it.
        #[test]
        fn the_dashboards_repair_cost_is_the_sum_of_the_orders_completed_in_the_period(
            orders in proptest::collection::vec(
                (proptest::option::of(0i64..40), 0i64..600, 0usize..3, 0usize..2, 0i64..50_000, 0usize..8),
                0..30,
            ),
        ) {
            let mut catalog = catalog();
            rate(&mut catalog, "everyone", RateFor::Everyone, 45, 0);
            let catalog = catalog.read().unwrap();
            let summaries: Vec<WorkOrderSummary> = orders
                .iter()
                .enumerate()
                .map(|(n, (completed_day, minutes, place, asset, invoice, category))| WorkOrderSummary {
                    id: format!("order{n}"),
                    location: ["hq-a", "hq-b", "hq-c"][*place].to_owned(),
                    asset: (*asset == 1).then(|| format!("asset{}", n % 3)),
                    priority: Priority::Normal,
                    status: if completed_day.is_some() { crate::document::work_order::Status::Completed } else { crate::document::work_order::Status::InProgress },
                    reported_at: Timestamp::from_millis(0),
                    due_at: None,
                    first_response_at: None,
                    completed_at: completed_day.map(|day| Timestamp::from_millis(day * 24 * HOUR)),
                    rating: None,
                    open_flags: 0,
                    from_public: false,
                    spam: false,
                    category: Category::ALL[*category],
                    cost: CostFacts {
                        stretches: vec![Stretch { person: user("tech"), from: Timestamp::from_millis(0), minutes: *minutes }],
                        corrections: Vec::new(),
                        parts: Vec::new(),
                        invoices: if *invoice > 0 { vec![(Money::from_fen(*invoice), "公司".to_owned())] } else { Vec::new() },
                    },
                })
                .collect();
            let period = Period { from: Timestamp::from_millis(10 * 24 * HOUR), to: Timestamp::from_millis(30 * 24 * HOUR) };
            let report = CostReport::of(period, &summaries, &catalog, technicians);
            let rates = Rates { rates: &catalog.rates, role_of: technicians };
            let cost_of = |summary: &WorkOrderSummary| {
                OrderCost::of(&format!("automerge:{}", summary.id), &summary.cost, &rates, &[], &Valuation::default()).total()
            };
            let completed_in = |period: Period| summaries.iter().filter(move |summary| summary.completed_at.is_some_and(|at| period.contains(at)));
            let expected: Money = completed_in(period).map(cost_of).sum();
            prop_assert_eq!(report.repairs, expected);
            prop_assert_eq!(report.orders, completed_in(period).count());
            prop_assert_eq!(report.labour.saturating_add(report.parts).saturating_add(report.outside), report.repairs);
            prop_assert_eq!(report.by_place.values().copied().sum::<Money>(), report.repairs);
            prop_assert_eq!(report.by_category.values().copied().sum::<Money>(), report.repairs);
            let before = Period { from: Timestamp::from_millis(-10 * 24 * HOUR), to: period.from };
            prop_assert_eq!(report.repairs_before, completed_in(before).map(cost_of).sum::<Money>());
            prop_assert!(report.top_assets.windows(2).all(|pair| pair[0].1 >= pair[1].1));
        }
    }

    #[test]
    fn supply_spend_is_the_value_issued_by_department_and_category_against_the_period_before() {
        let mut catalog = catalog();
        receive(&mut catalog, "r1", "bulbs", 10, 2, 0);
        receive(&mut catalog, "r2", "pipes", 10, 10, 0);
        let issue = |catalog: &mut SiteCatalog, movement: &str, item: &str, units: i64, to: &str, day: i64| {
            catalog
                .record_movement(&id(movement), MovementKind::Issue, &id(item), Quantity::units(units), to, &edit("store", day * 24 * HOUR))
                .unwrap();
        };
        issue(&mut catalog, "i1", "bulbs", 2, "食堂", 5); // before the period
        issue(&mut catalog, "i2", "bulbs", 3, "食堂", 12);
        issue(&mut catalog, "i3", "pipes", 1, ORDER_URL, 13);
        issue(&mut catalog, "i4", "pipes", 2, "宿舍楼", 14);
        let catalog = catalog.read().unwrap();
        let period = Period { from: Timestamp::from_millis(10 * 24 * HOUR), to: Timestamp::from_millis(20 * 24 * HOUR) };
        let report = CostReport::of(period, &[], &catalog, technicians);
        assert_eq!(report.spend, Money::yuan(6 + 10 + 20));
        assert_eq!(report.spend_before, Money::yuan(4));
        let departments: Vec<(&str, Money)> = report.spend_by_department.iter().map(|(name, value)| (name.as_str(), *value)).collect();
        assert_eq!(departments, [("work_orders", Money::yuan(10)), ("宿舍楼", Money::yuan(20)), ("食堂", Money::yuan(6))]);
        assert_eq!(report.spend_by_category.get("supplies"), Some(&Money::yuan(36)));
        assert_eq!(report.stock_value, Money::yuan(10 + 70));
    }
}
