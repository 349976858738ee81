//! The department's own measures (响应速度, 服务质量, 运营稳定性), computed from document
//! summaries: repair response and completion times, overdue work, inspection pass rates,
//! open and overdue hazards, stock variance, failures per asset, satisfaction.
//!
//! Pure functions over summaries, so the server's projections and the app compute the same
//! numbers from the same code. `now` is always an argument.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cost::CostFacts;
use crate::document::food_samples::FoodSamplesView;
use crate::document::inspection::InspectionView;
use crate::document::stocktake::StocktakeView;
use crate::document::work_order::{Category, Priority, Status, WorkOrderView};
use crate::quantity::Quantity;
use crate::time::Timestamp;

/// A half-open interval of time, `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }
}

/// What the measures need of a work order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrderSummary {
    pub id: String,
    pub location: String,
    pub asset: Option<String>,
    pub priority: Priority,
    pub status: Status,
    pub reported_at: Timestamp,
    pub due_at: Option<Timestamp>,
    pub first_response_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub rating: Option<u8>,
    pub open_flags: usize,
    /// Reported by someone without an account, from a label ([`crate::public`]).
    #[serde(default)]
    pub from_public: bool,
    /// Cancelled as spam by a manager.
    #[serde(default)]
    pub spam: bool,
    #[serde(default = "other_category")]
    pub category: Category,
    /// What its cost is worked out from ([`crate::cost`]).
    #[serde(default)]
    pub cost: CostFacts,
}

const fn other_category() -> Category {
    Category::Other
}

impl WorkOrderSummary {
    pub fn from_view(id: &str, view: &WorkOrderView) -> WorkOrderSummary {
        let state = view.state();
        WorkOrderSummary {
            id: id.to_owned(),
            location: view.location.clone(),
            asset: view.asset.clone(),
            priority: view.priority,
            status: state.status,
            reported_at: state.reported_at,
            due_at: view.due_at,
            first_response_at: state.first_response_at,
            completed_at: state.completed_at,
            rating: state.rating.map(super::document::work_order::Rating::stars),
            open_flags: state.open_flags().count(),
            from_public: view.header.created_by.as_str() == crate::public::PUBLIC_REPORTER,
            spam: view.is_spam(),
            category: view.category,
            cost: CostFacts::of(view),
        }
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status.is_open() && self.due_at.is_some_and(|due| due < now)
    }
}

/// One dish's food sample, as lists and exports for the authorities show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleSummary {
    pub dish: String,
    pub grams: i64,
    pub storage: String,
    pub taken_by: String,
    pub taken_at: Timestamp,
    pub discarded_at: Option<Timestamp>,
    pub discarded_by: Option<String>,
}

impl SampleSummary {
    /// What an inspector from the authorities checks, at `now`: `ok` (kept its 48 hours,
    /// then discarded), `discarded_early`, `keeping` or `to_discard` — the words of
    /// [`crate::document::food_samples::SampleState`], by the same rule.
    pub fn check(&self, now: Timestamp) -> &'static str {
        let keep_until = self.taken_at.plus(crate::document::food_samples::KEEP);
        match self.discarded_at {
            Some(at) if at < keep_until => "discarded_early",
            Some(_) => "ok",
            None if now < keep_until => "keeping",
            None => "to_discard",
        }
    }
}

/// A meal's food samples ([`crate::document::food_samples`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoodSamplesSummary {
    pub id: String,
    pub canteen: String,
    pub meal: String,
    pub date: String,
    pub samples: Vec<SampleSummary>,
}

impl FoodSamplesSummary {
    pub fn from_view(id: &str, view: &FoodSamplesView) -> FoodSamplesSummary {
        let samples = view
            .samples
            .iter()
            .map(|sample| {
                let discard = view.discards.iter().filter(|discard| discard.sample == sample.id).min_by_key(|discard| discard.at);
                SampleSummary {
                    dish: sample.dish.clone(),
                    grams: sample.grams,
                    storage: sample.storage.clone(),
                    taken_by: sample.user.to_string(),
                    taken_at: sample.at,
                    discarded_at: discard.map(|discard| discard.at),
                    discarded_by: discard.map(|discard| discard.user.to_string()),
                }
            })
            .collect();
        FoodSamplesSummary { id: id.to_owned(), canteen: view.canteen.clone(), meal: view.meal.clone(), date: view.date.clone(), samples }
    }
}

/// What the measures need of an inspection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionSummary {
    pub id: String,
    pub template: String,
    pub category: String,
    pub location: String,
    pub submitted_at: Option<Timestamp>,
    pub passed: usize,
    pub failed: usize,
    /// The work orders raised for failed items.
    pub hazard_work_orders: Vec<String>,
}

impl InspectionSummary {
    pub fn from_view(id: &str, view: &InspectionView) -> InspectionSummary {
        let result = view.result();
        InspectionSummary {
            id: id.to_owned(),
            template: view.template.clone(),
            category: view.checklist.category.clone(),
            location: view.location.clone(),
            submitted_at: view.submitted.as_ref().map(|(_, at)| *at),
            passed: result.passed,
            failed: result.failed,
            hazard_work_orders: view.hazards.iter().map(|hazard| hazard.work_order.clone()).collect(),
        }
    }
}

/// What the measures need of a stocktake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StocktakeSummary {
    pub id: String,
    pub location: String,
    pub started_at: Timestamp,
    /// (item, counted, expected) for every item of the snapshot or counted; counted is
    /// `None` while nobody has counted the item.
    pub items: Vec<(String, Option<Quantity>, Option<Quantity>)>,
}

impl StocktakeSummary {
    pub fn from_view(id: &str, view: &StocktakeView) -> StocktakeSummary {
        StocktakeSummary {
            id: id.to_owned(),
            location: view.location.clone(),
            started_at: view.header.created_at,
            items: view.totals().into_iter().map(|total| (total.item, total.counted, total.expected)).collect(),
        }
    }
}

/// Summary statistics of durations, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    pub count: usize,
    pub mean: i64,
    pub median: i64,
    pub p90: i64,
}

impl Durations {
    /// `None` for no samples. Percentiles by nearest rank, so each is a real sample.
    pub fn of(mut samples: Vec<i64>) -> Option<Durations> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |percent: usize| samples[(samples.len() * percent).div_ceil(100).max(1) - 1];
        let total: i128 = samples.iter().map(|&sample| i128::from(sample)).sum();
        Some(Durations { count: samples.len(), mean: (total / samples.len() as i128) as i64, median: rank(50), p90: rank(90) })
    }
}

/// Passed and failed answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassRate {
    pub passed: usize,
    pub failed: usize,
}

impl PassRate {
    pub fn per_mille(&self) -> Option<u32> {
        per_mille(self.passed as u64, (self.passed + self.failed) as u64)
    }
}

/// `part` of `whole` in thousandths, rounded to the nearest (halves up), so that 7 of 9
/// reads 77.8%, never 77.7%; `None` for a share of nothing.
pub fn per_mille(part: u64, whole: u64) -> Option<u32> {
    (whole > 0).then(|| ((part.saturating_mul(1000) + whole / 2) / whole) as u32)
}

/// The dashboard of one site and period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kpis {
    /// Work orders reported in the period.
    pub reported: usize,
    /// Of those, the ones reported by people without an account (spam left out).
    #[serde(default)]
    pub reported_by_public: usize,
    /// From report to first response, for orders reported in the period.
    pub response: Option<Durations>,
    /// From report to completion, for orders completed in the period.
    pub completion: Option<Durations>,
    /// Open and past due at `now`, whenever reported.
    pub overdue: usize,
    /// Orders whose merged log has steps waiting for a manager's decision.
    pub flagged: usize,
    /// Mean satisfaction of orders verified in the period, in tenths of a star.
    pub satisfaction_tenths: Option<u32>,
    /// Inspections submitted in the period.
    pub inspections: usize,
    pub pass_rate: PassRate,
    pub pass_rate_by_category: BTreeMap<String, PassRate>,
    /// By the template's document (`automerge:` URL).
    #[serde(default)]
    pub pass_rate_by_template: BTreeMap<String, PassRate>,
    pub pass_rate_by_location: BTreeMap<String, PassRate>,
    /// Hazards raised by inspections in the period whose work order is still open.
    pub open_hazards: usize,
    /// Of those, the ones whose work order is overdue.
    pub overdue_hazards: usize,
    /// Stocktakes started in the period: items counted different from expected, and the
    /// sum of absolute differences.
    pub stock_items_with_variance: usize,
    pub stock_absolute_variance: Quantity,
    /// Work orders reported in the period per asset: equipment failures.
    pub failures_by_asset: BTreeMap<String, usize>,
}

/// Computes the dashboard for `period` from a site's summaries.
pub fn compute(
    period: Period,
    now: Timestamp,
    orders: &[WorkOrderSummary],
    inspections: &[InspectionSummary],
    stocktakes: &[StocktakeSummary],
) -> Kpis {
    let reported: Vec<&WorkOrderSummary> = orders.iter().filter(|order| period.contains(order.reported_at)).collect();
    let response =
        Durations::of(reported.iter().filter_map(|order| order.first_response_at.map(|at| at.millis_since(order.reported_at))).collect());
    let completion = Durations::of(
        orders
            .iter()
            .filter_map(|order| order.completed_at.filter(|at| period.contains(*at)).map(|at| at.millis_since(order.reported_at)))
            .collect(),
    );
    let ratings: Vec<u32> = orders
        .iter()
        .filter(|order| order.status == Status::Verified && order.completed_at.is_some_and(|at| period.contains(at)))
        .filter_map(|order| order.rating.map(u32::from))
        .collect();
    let satisfaction_tenths = (!ratings.is_empty()).then(|| ratings.iter().sum::<u32>() * 10 / ratings.len() as u32);
    let mut failures_by_asset = BTreeMap::new();
    for order in &reported {
        if let Some(asset) = &order.asset {
            *failures_by_asset.entry(asset.clone()).or_insert(0) += 1;
        }
    }

    let submitted: Vec<&InspectionSummary> =
        inspections.iter().filter(|inspection| inspection.submitted_at.is_some_and(|at| period.contains(at))).collect();
    let mut pass_rate = PassRate::default();
    let mut pass_rate_by_category: BTreeMap<String, PassRate> = BTreeMap::new();
    let mut pass_rate_by_template: BTreeMap<String, PassRate> = BTreeMap::new();
    let mut pass_rate_by_location: BTreeMap<String, PassRate> = BTreeMap::new();
    let (mut open_hazards, mut overdue_hazards) = (0, 0);
    let orders_by_id: BTreeMap<&str, &WorkOrderSummary> = orders.iter().map(|order| (order.id.as_str(), order)).collect();
    for inspection in &submitted {
        for rate in [
            &mut pass_rate,
            pass_rate_by_category.entry(inspection.category.clone()).or_default(),
            pass_rate_by_template.entry(inspection.template.clone()).or_default(),
            pass_rate_by_location.entry(inspection.location.clone()).or_default(),
        ] {
            rate.passed += inspection.passed;
            rate.failed += inspection.failed;
        }
        for work_order in &inspection.hazard_work_orders {
            // A hazard whose work order has not synced yet is open as far as we know.
            let order = orders_by_id.get(work_order.as_str());
            if order.is_none_or(|order| order.status.is_open()) {
                open_hazards += 1;
                if order.is_some_and(|order| order.is_overdue(now)) {
                    overdue_hazards += 1;
                }
            }
        }
    }

    let mut stock_items_with_variance = 0;
    let mut stock_absolute_variance = Quantity::ZERO;
    for stocktake in stocktakes.iter().filter(|stocktake| period.contains(stocktake.started_at)) {
        // An item nobody counted has no variance yet (and is not adjusted on approval).
        for (_, counted, expected) in &stocktake.items {
            let Some(counted) = counted else { continue };
            let difference = counted.saturating_sub(expected.unwrap_or(Quantity::ZERO));
            if difference != Quantity::ZERO {
                stock_items_with_variance += 1;
                stock_absolute_variance =
                    stock_absolute_variance.saturating_add(Quantity::from_thousandths(difference.thousandths().abs()));
            }
        }
    }

    Kpis {
        reported: reported.len(),
        reported_by_public: reported.iter().filter(|order| order.from_public && !order.spam).count(),
        response,
        completion,
        overdue: orders.iter().filter(|order| order.is_overdue(now)).count(),
        flagged: orders.iter().filter(|order| order.open_flags > 0).count(),
        satisfaction_tenths,
        inspections: submitted.len(),
        pass_rate,
        pass_rate_by_category,
        pass_rate_by_template,
        pass_rate_by_location,
        open_hazards,
        overdue_hazards,
        stock_items_with_variance,
        stock_absolute_variance,
        failures_by_asset,
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The share shown is the nearest thousandth: never more than half a thousandth off.
        #[test]
        fn shares_are_rounded_to_the_nearest_thousandth(whole in 1u64..100_000, part_of in 0u64..=1000) {
            let part = whole * part_of / 1000;
            let shown = u64::from(per_mille(part, whole).unwrap());
            let off = (shown * whole).abs_diff(part * 1000);
            proptest::prop_assert!(2 * off <= whole, "{part}/{whole} shown as {shown}‰");
        }

        /// Requests from the public are those reported in the period by the public
        /// reporter, spam left out: never more than all reported, and each such order
        /// counted once whatever else it is.
        #[test]
        fn public_requests_are_counted_apart_without_spam(
            orders in proptest::collection::vec((-100i64..200, proptest::bool::ANY, proptest::bool::ANY, 0usize..9), 0..40),
        ) {
            let summaries: Vec<WorkOrderSummary> = orders
                .iter()
                .enumerate()
                .map(|(n, (reported, public, spam, status))| {
                    let status = Status::ALL[*status];
                    let mut summary = order(&format!("wo{n}"), None, *reported, None, None, status);
                    summary.from_public = *public;
                    summary.spam = *spam && status == Status::Cancelled;
                    summary
                })
                .collect();
            let period = Period { from: Timestamp::from_millis(0), to: Timestamp::from_millis(100 * MINUTE) };
            let kpis = compute(period, Timestamp::from_millis(0), &summaries, &[], &[]);
            let expected = orders
                .iter()
                .filter(|(reported, public, spam, status)| {
                    (0..100).contains(reported) && *public && !(*spam && Status::ALL[*status] == Status::Cancelled)
                })
                .count();
            proptest::prop_assert_eq!(kpis.reported_by_public, expected);
            proptest::prop_assert!(kpis.reported_by_public <= kpis.reported);
        }
    }

    #[test]
    fn seven_of_nine_is_seventy_seven_point_eight_percent() {
        assert_eq!(per_mille(7, 9), Some(778));
        assert_eq!(per_mille(8, 9), Some(889));
        assert_eq!(per_mille(1, 3), Some(333));
        assert_eq!(per_mille(0, 0), None);
    }

    use expect_test::expect;

    use super::*;

    const MINUTE: i64 = 60_000;

    fn order(
        id: &str,
        asset: Option<&str>,
        reported: i64,
        response: Option<i64>,
        completed: Option<i64>,
        status: Status,
    ) -> WorkOrderSummary {
        WorkOrderSummary {
            id: id.to_owned(),
            location: "hq-b1".to_owned(),
            asset: asset.map(str::to_owned),
            priority: Priority::Normal,
            status,
            reported_at: Timestamp::from_millis(reported * MINUTE),
            due_at: Some(Timestamp::from_millis((reported + 240) * MINUTE)),
            first_response_at: response.map(|minutes| Timestamp::from_millis((reported + minutes) * MINUTE)),
            completed_at: completed.map(|minutes| Timestamp::from_millis((reported + minutes) * MINUTE)),
            rating: (status == Status::Verified).then_some(4),
            open_flags: 0,
            from_public: false,
            spam: false,
            category: Category::Other,
            cost: CostFacts::default(),
        }
    }

    #[test]
    fn percentiles_are_real_samples() {
        assert_eq!(Durations::of(vec![]), None);
        assert_eq!(Durations::of(vec![7]), Some(Durations { count: 1, mean: 7, median: 7, p90: 7 }));
        let ten: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(Durations::of(ten), Some(Durations { count: 10, mean: 5, median: 5, p90: 9 }));
    }

    #[test]
    fn a_sites_month() {
        let orders = [
            order("wo1", Some("ac-301"), 0, Some(10), Some(100), Status::Verified),
            order("wo2", Some("ac-301"), 60, Some(30), None, Status::InProgress),
            order("wo3", None, 120, None, None, Status::Reported),
            order("wo4", Some("pump-2"), 180, Some(5), Some(20), Status::Completed),
            // Reported before the period: only its overdue state counts.
            order("wo0", Some("pump-2"), -1000, Some(5), None, Status::Assigned),
        ];
        let inspections = [
            InspectionSummary {
                id: "in1".into(),
                template: "automerge:fire".into(),
                category: "fire_safety".into(),
                location: "hq-b1".into(),
                submitted_at: Some(Timestamp::from_millis(30 * MINUTE)),
                passed: 9,
                failed: 1,
                hazard_work_orders: vec!["wo2".into()],
            },
            InspectionSummary {
                id: "in2".into(),
                template: "automerge:food".into(),
                category: "food_safety".into(),
                location: "hq-canteen".into(),
                submitted_at: Some(Timestamp::from_millis(40 * MINUTE)),
                passed: 8,
                failed: 2,
                hazard_work_orders: vec!["wo4".into(), "wo-not-synced".into()],
            },
        ];
        let stocktakes = [StocktakeSummary {
            id: "st1".into(),
            location: "store-a".into(),
            started_at: Timestamp::from_millis(50 * MINUTE),
            items: vec![
                ("gloves".into(), Some(Quantity::units(98)), Some(Quantity::units(100))),
                ("masks".into(), Some(Quantity::units(50)), Some(Quantity::units(50))),
                ("bulbs".into(), Some(Quantity::units(3)), None),
                ("fuses".into(), None, Some(Quantity::units(7))),
            ],
        }];
        let period = Period { from: Timestamp::from_millis(0), to: Timestamp::from_millis(1_000 * MINUTE) };
        let kpis = compute(period, Timestamp::from_millis(400 * MINUTE), &orders, &inspections, &stocktakes);
        expect![[r#"
            Kpis {
                reported: 4,
                reported_by_public: 0,
                response: Some(
                    Durations {
                        count: 3,
                        mean: 900000,
                        median: 600000,
                        p90: 1800000,
                    },
                ),
                completion: Some(
                    Durations {
                        count: 2,
                        mean: 3600000,
                        median: 1200000,
                        p90: 6000000,
                    },
                ),
                overdue: 3,
                flagged: 0,
                satisfaction_tenths: Some(
                    40,
                ),
                inspections: 2,
                pass_rate: PassRate {
                    passed: 17,
                    failed: 3,
                },
                pass_rate_by_category: {
                    "fire_safety": PassRate {
                        passed: 9,
                        failed: 1,
                    },
                    "food_safety": PassRate {
                        passed: 8,
                        failed: 2,
                    },
                },
                pass_rate_by_template: {
                    "automerge:fire": PassRate {
                        passed: 9,
                        failed: 1,
                    },
                    "automerge:food": PassRate {
                        passed: 8,
                        failed: 2,
                    },
                },
                pass_rate_by_location: {
                    "hq-b1": PassRate {
                        passed: 9,
                        failed: 1,
                    },
                    "hq-canteen": PassRate {
                        passed: 8,
                        failed: 2,
                    },
                },
                open_hazards: 2,
                overdue_hazards: 1,
                stock_items_with_variance: 2,
                stock_absolute_variance: Quantity(
                    5000,
                ),
                failures_by_asset: {
                    "ac-301": 2,
                    "pump-2": 1,
                },
            }
        "#]]
        .assert_debug_eq(&kpis);
    }
}
