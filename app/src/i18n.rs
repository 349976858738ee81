//! Chinese and English texts, and the reader's choice of language.
//!
//! Chinese is the default: the organisation writes in Chinese. A browser that prefers
//! English gets English until the reader chooses otherwise in Settings.

use gloo_storage::Storage as _;
use leptos::prelude::*;

pub use shared::language::Language;

/// The texts written in `language`.
pub const fn texts_in(language: Language) -> &'static Texts {
    match language {
        Language::Chinese => &CHINESE,
        Language::English => &ENGLISH,
    }
}
/// Declares a table of texts (one struct, a value per language) and `every_text`, which
/// lists each field's texts by name, so tests cover every text with no list kept by hand.
macro_rules! text_table {
    ($(#[$meta:meta])* pub struct $name:ident { $( $(#[$field_meta:meta])* pub $field:ident: $type:ty, )* }) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $type, )*
        }

        impl $name {
            /// Every text of the table by its field's name (a list's texts under one name).
            #[cfg(test)]
            pub fn every_text(&self) -> Vec<(&'static str, Vec<&'static str>)> {
                vec![$( (stringify!($field), $crate::i18n::TextValue::texts(&self.$field)) ),*]
            }
        }
    };
}
pub(crate) use text_table;

/// A field of a text table: one text, or a list of them.
pub trait TextValue {
    fn texts(&self) -> Vec<&'static str>;
}

impl TextValue for &'static str {
    fn texts(&self) -> Vec<&'static str> {
        vec![*self]
    }
}

impl<const N: usize> TextValue for [&'static str; N] {
    fn texts(&self) -> Vec<&'static str> {
        self.to_vec()
    }
}

text_table! {
    /// Every text of the interface in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Texts {
    pub app_name: &'static str,
    pub nav_settings: &'static str,
    /// The bottom bar's tabs (`Texts::tab`).
    pub tab_todo: &'static str,
    pub tab_rounds: &'static str,
    pub tab_orders: &'static str,
    pub tab_report: &'static str,
    pub tab_store: &'static str,
    pub tab_stocktakes: &'static str,
    pub tab_dashboard: &'static str,
    pub tab_admin: &'static str,
    pub tab_me: &'static str,
    /// The bar itself, for screen readers.
    pub tab_bar: &'static str,
    /// From a list on the to-do page to the whole of it.
    pub see_all: &'static str,
    /// Repairs of one's reports, done, waiting for one to check.
    pub to_verify: &'static str,
    pub decisions_waiting: &'static str,
    /// `{}` is a count of items.
    pub answers_differ: &'static str,
    /// After a fault is reported: where it is kept.
    pub report_kept: &'static str,
    pub view_my_report: &'static str,
    pub nothing_waiting: &'static str,
    /// On the to-do tab: `{}` is how many waiting items are new.
    pub new_waiting: &'static str,
    /// A line of the to-do page new since it was last opened.
    pub new_item: &'static str,
    /// Open orders past their due time at the sites one manages.
    pub overdue_orders: &'static str,
    /// Lists one may use that have no tab.
    pub more_lists: &'static str,
    pub this_phone: &'static str,
    pub checking_server: &'static str,
    pub server_reachable: &'static str,
    /// The server answers but its disk is nearly full.
    pub server_disk_full: &'static str,
    pub server_damaged: &'static str,
    pub server_unreachable: &'static str,
    pub app_version: &'static str,
    pub server_version: &'static str,
    pub language: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,
    /// Back to the page before, inside the app.
    pub back: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    /// `{}` is the number of seconds.
    pub too_many_attempts: &'static str,
    pub sign_in_needs_network: &'static str,
    pub sign_in_failed: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub my_sites: &'static str,
    /// Role names (`Texts::role`).
    pub role_inspector: &'static str,
    pub role_dorm_staff: &'static str,
    pub role_technician: &'static str,
    pub role_storekeeper: &'static str,
    pub role_manager: &'static str,
    pub role_admin: &'static str,
    /// `{}` is the number of changes.
    pub sign_out_warning: &'static str,
    pub synced: &'static str,
    /// Syncing, with how many documents are still to come: `{}`.
    pub syncing_left: &'static str,
    /// Photos not yet on the server: `{}` is how many.
    pub photos_waiting: &'static str,
    pub unavailable: &'static str,
    /// `{}` is the number of changes.
    pub changes_on_phone: &'static str,
    pub not_yet_synced: &'static str,
    pub refused: &'static str,
    /// Why the server refused this phone's changes, by the policy's code (`Texts::refused`).
    pub refused_role: &'static str,
    pub refused_name: &'static str,
    pub refused_fixed: &'static str,
    pub refused_written: &'static str,
    pub refused_unreadable: &'static str,
    pub refused_too_large: &'static str,
    /// A record's entries that do not read and are left out; `{}` is how many.
    pub hidden_entries: &'static str,
    /// `{}` is a time of day.
    pub offline_since: &'static str,
    pub connecting: &'static str,
    pub report_fault: &'static str,
    pub fault_title: &'static str,
    pub site: &'static str,
    pub report: &'static str,
    pub my_reports: &'static str,
    /// Heading of the faults this person reported, on the report page.
    pub reported_by_me: &'static str,
    pub no_reports: &'static str,
    pub no_orders: &'static str,
    /// A long list's "show more": `{}` is how many more there are.
    pub show_more: &'static str,
    /// How many notes an order has, in its list line: `{}` is the number (two or more).
    pub notes_count: &'static str,
    pub one_note: &'static str,
    pub add_comment: &'static str,
    pub add: &'static str,
    pub take_photo: &'static str,
    pub history: &'static str,
    pub raise_hazard: &'static str,
    /// `{}` is the work order's status.
    pub hazard_raised: &'static str,
    pub history_needs_network: &'static str,
    pub someone: &'static str,
    pub start_round: &'static str,
    pub checklist: &'static str,
    pub place: &'static str,
    pub start: &'static str,
    pub catalog_not_here: &'static str,
    pub template_not_here: &'static str,
    pub round_not_here: &'static str,
    pub rounds: &'static str,
    /// `{answered}` and `{total}` are counts.
    pub answered: &'static str,
    pub pass: &'static str,
    pub fail: &'static str,
    pub not_applicable: &'static str,
    pub outside_limits: &'static str,
    pub submit: &'static str,
    pub submitted: &'static str,
    /// `{}` is a count.
    pub still_missing: &'static str,
    pub update_ready: &'static str,
    pub update_now: &'static str,
    /// Shown where the page is not a secure context (plain HTTP by a LAN name or address).
    pub insecure_context: &'static str,
    pub insecure_context_help: &'static str,
    /// The label page (`/l/<code>`).
    pub label_heading: &'static str,
    pub label_looking: &'static str,
    /// `{}` is the code.
    pub label_unknown: &'static str,
    /// `{}` is where the asset is (its place within its buildings).
    pub label_asset_at: &'static str,
    pub round_here: &'static str,
    pub fault_here: &'static str,
    pub not_a_label: &'static str,
    pub storage: &'static str,
    /// `{used}` and `{quota}` are sizes.
    pub storage_used: &'static str,
    pub notices: &'static str,
    pub notices_offline: &'static str,
    pub push_is_on: &'static str,
    pub push_is_off: &'static str,
    pub push_turn_on: &'static str,
    pub push_turn_off: &'static str,
    pub push_unsupported: &'static str,
    pub push_denied: &'static str,
    pub notice_email: &'static str,
    pub notice_email_hint: &'static str,
    pub notify_me_when: &'static str,
    pub notify_assigned: &'static str,
    pub notify_to_verify: &'static str,
    pub notify_urgent_hazard: &'static str,
    pub notify_overdue: &'static str,
    pub notify_undispatched: &'static str,
    pub notify_to_approve: &'static str,
    pub notify_conflict: &'static str,
    pub notify_low_stock: &'static str,
    pub notify_missed_round: &'static str,
    pub notify_contract_ending: &'static str,
    pub notify_meter_over_limit: &'static str,
    pub quiet_hours: &'static str,
    pub quiet_hours_on: &'static str,
    pub quiet_from: &'static str,
    pub quiet_to: &'static str,
    pub quiet_hours_hint: &'static str,
    pub quiet_hours_invalid: &'static str,
    pub mute_order: &'static str,
    pub unmute_order: &'static str,
    pub order_muted: &'static str,
    pub storage_persistent: &'static str,
    pub storage_not_persistent: &'static str,
    pub all: &'static str,
    pub all_answered: &'static str,
    pub answer: &'static str,
    pub answered_differently: &'static str,
    pub back_to_round: &'static str,
    pub building: &'static str,
    pub camera_unavailable: &'static str,
    pub cancel: &'static str,
    pub clear: &'static str,
    /// `{}` is a count.
    pub conflicts_here: &'static str,
    pub due_rounds: &'static str,
    pub failed_items: &'static str,
    pub hazard_reported: &'static str,
    pub in_progress: &'static str,
    pub item: &'static str,
    pub keep_this: &'static str,
    pub label_code: &'static str,
    pub next_unanswered: &'static str,
    pub not_signed: &'static str,
    pub not_submitted: &'static str,
    pub notes_and_photos: &'static str,
    pub nothing_due: &'static str,
    pub overdue: &'static str,
    pub pass_rate: &'static str,
    pub photo_on_fail: &'static str,
    pub picture: &'static str,
    pub print: &'static str,
    pub print_report: &'static str,
    pub recently_submitted: &'static str,
    pub review_note: &'static str,
    pub rooms: &'static str,
    pub save: &'static str,
    pub save_signature: &'static str,
    pub scan: &'static str,
    pub score: &'static str,
    pub search: &'static str,
    pub sign_here: &'static str,
    pub started: &'static str,
    /// `{user}` and `{time}`.
    pub submitted_by: &'static str,
    /// `{}` is the code typed or scanned.
    pub unknown_code: &'static str,
    /// The search field of a place picker.
    pub find_place: &'static str,
    /// Under a place list cut short: {} is how many more places match.
    pub more_places: &'static str,
    pub no_place_matches: &'static str,
    /// Lists every place of a long list cut short; {} is how many.
    pub show_all_places: &'static str,
    /// Under an asset list cut short: {} is how many more assets there are.
    pub more_assets: &'static str,
    pub qr_labels: &'static str,
    pub export_csv: &'static str,
    /// Work-order statuses (`Texts::status`).
    pub status_reported: &'static str,
    pub status_assigned: &'static str,
    pub status_acknowledged: &'static str,
    pub status_in_progress: &'static str,
    pub status_paused: &'static str,
    pub status_completed: &'static str,
    pub status_verified: &'static str,
    pub status_reopened: &'static str,
    pub status_cancelled: &'static str,
    pub action_acknowledge: &'static str,
    pub action_assign: &'static str,
    pub action_cancel: &'static str,
    pub action_complete: &'static str,
    pub action_merge: &'static str,
    pub action_pause: &'static str,
    pub action_reopen: &'static str,
    pub action_start: &'static str,
    pub action_verify: &'static str,
    pub asset: &'static str,
    pub assignee: &'static str,
    pub category_label: &'static str,
    pub choose_original: &'static str,
    pub choose_technician: &'static str,
    pub comment: &'static str,
    pub completion_notes: &'static str,
    pub decision: &'static str,
    pub dispatch_queue: &'static str,
    /// Hazards raised on rounds, not yet repaired (to-do page, managers).
    pub hazards_open: &'static str,
    pub due: &'static str,
    pub duplicate_of: &'static str,
    pub event_acknowledged: &'static str,
    /// `{}` is a name.
    pub event_assigned: &'static str,
    pub event_cancelled: &'static str,
    pub event_completed: &'static str,
    pub event_paused: &'static str,
    pub event_reopened: &'static str,
    pub event_reported: &'static str,
    pub event_resolved: &'static str,
    pub event_started: &'static str,
    pub event_verified: &'static str,
    pub flag_duplicate_report: &'static str,
    /// `{user}`, `{event}`, `{status}`.
    pub flag_illegal: &'static str,
    pub flag_other: &'static str,
    pub flags: &'static str,
    pub my_work: &'static str,
    pub no_work: &'static str,
    pub order_not_here: &'static str,
    pub original_order: &'static str,
    pub part_used: &'static str,
    pub add_part: &'static str,
    pub priority_label: &'static str,
    pub quantity: &'static str,
    pub quantity_needed: &'static str,
    pub reason: &'static str,
    pub reason_needed: &'static str,
    pub reported_by: &'static str,
    pub resolve: &'static str,
    pub satisfaction: &'static str,
    pub the_original: &'static str,
    pub timeline: &'static str,
    /// Priorities (`Texts::priority`).
    pub priority_low: &'static str,
    pub priority_normal: &'static str,
    pub priority_high: &'static str,
    pub priority_urgent: &'static str,
    /// A work order's categories (`Texts::category`).
    pub category_hvac: &'static str,
    pub category_electrical: &'static str,
    pub category_plumbing: &'static str,
    pub category_building: &'static str,
    pub category_furniture: &'static str,
    pub category_vehicle: &'static str,
    pub category_other: &'static str,
    pub category_fire_safety: &'static str,
    pub adjustments: &'static str,
    pub approve_count: &'static str,
    pub bin: &'static str,
    pub blind_hint: &'static str,
    pub choose_item: &'static str,
    pub close_count: &'static str,
    pub reopen_count: &'static str,
    pub code: &'static str,
    pub correct: &'static str,
    pub count: &'static str,
    pub count_mode: &'static str,
    pub counted: &'static str,
    pub expected: &'static str,
    pub mode_blind: &'static str,
    pub mode_open: &'static str,
    pub moved_during: &'static str,
    pub movement: &'static str,
    pub movement_adjust: &'static str,
    pub movement_issue: &'static str,
    pub movement_receive: &'static str,
    pub movement_reference: &'static str,
    pub movement_scrap: &'static str,
    pub my_counts: &'static str,
    pub on_hand: &'static str,
    /// The stocktakes page's list: every stocktake at one's sites.
    pub all_stocktakes: &'static str,
    /// The rounds page's list: due, overdue and under way.
    pub rounds_due_and_open: &'static str,
    pub phase_approved: &'static str,
    pub phase_closed: &'static str,
    pub phase_counting: &'static str,
    pub recount: &'static str,
    pub ask_recount: &'static str,
    pub recount_requested_by: &'static str,
    pub recounts: &'static str,
    pub record: &'static str,
    pub record_movement: &'static str,
    pub start_stocktake: &'static str,
    pub stocktake: &'static str,
    pub stocktake_location: &'static str,
    pub stocktake_not_here: &'static str,
    pub stocktakes: &'static str,
    pub totals: &'static str,
    pub variance: &'static str,
    /// Stock categories (`Texts::stock_category`).
    pub stock_category_supplies: &'static str,
    pub stock_category_consumables: &'static str,
    pub stock_category_protective_equipment: &'static str,
    pub stock_category_fixed_asset: &'static str,
    /// Checklist categories (`Texts::checklist_category`).
    pub checklist_category_fire_safety: &'static str,
    pub checklist_category_electrical: &'static str,
    pub checklist_category_food_safety: &'static str,
    pub checklist_category_dorm_room: &'static str,
    pub checklist_category_general: &'static str,
    pub asset_audit: &'static str,
    pub asset_tag: &'static str,
    pub audit_elsewhere: &'static str,
    pub audit_in_place: &'static str,
    pub audit_missing: &'static str,
    pub audit_not_yet_found: &'static str,
    pub audit_result: &'static str,
    pub audit_unexpected: &'static str,
    pub find_assets: &'static str,
    pub found: &'static str,
    pub found_at: &'static str,
    pub should_be_at: &'static str,
    pub stock_items: &'static str,
    pub what_to_count: &'static str,
    pub where_it_belongs: &'static str,
    pub where_you_are: &'static str,
    pub parts_used: &'static str,
    pub phone_of: &'static str,
    /// The moment's confirmation of a change saved.
    pub saved_on_phone: &'static str,
    pub saved_and_synced: &'static str,
    /// Who made a preventive order: the maintenance plan; and the device its changes came from.
    pub maintenance_plan: &'static str,
    pub made_by_a_phone: &'static str,
    /// Who a public report (from a label, without an account) is by.
    pub public_reporter: &'static str,
    /// Where a public report's changes come from.
    pub made_by_the_public_page: &'static str,
    /// On the sign-in page opened from a label: the public page instead.
    pub report_without_account: &'static str,
    /// A manager's button on a public report.
    pub mark_spam: &'static str,
    pub mark_spam_confirm: &'static str,
    pub marked_spam: &'static str,
    /// Read out for the mark on a required checklist item.
    pub required_item: &'static str,
    pub history_answered: &'static str,
    pub devices_here: &'static str,
    pub first_last: &'static str,
    pub error_bad_request: &'static str,
    pub error_unauthorized: &'static str,
    pub error_wrong_login: &'static str,
    pub error_forbidden: &'static str,
    pub error_not_found: &'static str,
    pub error_exists: &'static str,
    pub error_password_too_short: &'static str,
    pub error_too_large: &'static str,
    pub error_too_many_attempts: &'static str,
    pub error_server: &'static str,
    pub error_busy: &'static str,
    pub error_unsupported_file: &'static str,
    pub error_quota_exceeded: &'static str,
    pub error_disk_full: &'static str,
    pub server_answered: &'static str,
    pub discarded: &'static str,
    pub discard_round: &'static str,
    pub discarded_by: &'static str,
    pub choose_checklist: &'static str,
    pub choose_place: &'static str,
    pub missing_answer: &'static str,
    pub missing_photo: &'static str,
    pub missing_follow_up: &'static str,
    pub next_room: &'static str,
    pub item_needs_attention: &'static str,
    pub no_action_needed: &'static str,
    pub no_action_reason: &'static str,
    pub no_action_by: &'static str,
    pub stock_item: &'static str,
    pub not_enough_stock: &'static str,
    pub below_zero: &'static str,
    pub below_zero_because: &'static str,
    pub to_reorder: &'static str,
    pub reorder_point: &'static str,
    pub movement_history: &'static str,
    pub when_who: &'static str,
    pub balance: &'static str,
    pub no_movements: &'static str,
    pub work_order: &'static str,
    pub document_not_on_phone: &'static str,
    pub not_counted: &'static str,
    pub my_count: &'static str,
    pub counters_disagree: &'static str,
    pub recount_this: &'static str,
    pub recounting: &'static str,
    pub recount_save: &'static str,
    pub recount_marker: &'static str,
    pub settle_at: &'static str,
    pub settled_by: &'static str,
    pub approval_blocked: &'static str,
    pub not_adjusted: &'static str,
    pub blind_hint_manager: &'static str,
    /// What a change did, by the summary it carries (`Texts::change`): steps of work orders
    /// and stocktakes, catalog edits and a round's steps.
    pub change_started_inspection: &'static str,
    pub change_note: &'static str,
    pub change_photo: &'static str,
    pub change_comment: &'static str,
    pub change_raised_hazard: &'static str,
    pub change_no_action_needed: &'static str,
    pub change_signed: &'static str,
    pub change_submitted: &'static str,
    pub change_discarded: &'static str,
    pub change_reviewed: &'static str,
    pub change_reported: &'static str,
    pub change_scheduled: &'static str,
    pub change_assigned: &'static str,
    pub change_acknowledged: &'static str,
    pub change_started: &'static str,
    pub change_paused: &'static str,
    pub change_completed: &'static str,
    pub change_verified: &'static str,
    pub change_reopened: &'static str,
    pub change_cancelled: &'static str,
    pub change_merged_as_a_duplicate: &'static str,
    pub change_part_used: &'static str,
    pub change_part_corrected: &'static str,
    pub change_priority: &'static str,
    pub change_due_time: &'static str,
    pub change_category: &'static str,
    pub change_title: &'static str,
    pub change_description: &'static str,
    pub change_started_stocktake: &'static str,
    pub change_count: &'static str,
    pub change_recount: &'static str,
    pub change_corrected_count: &'static str,
    pub change_recount_requested: &'static str,
    pub change_settled_bin: &'static str,
    pub change_closed: &'static str,
    pub change_approved: &'static str,
    pub change_found_asset: &'static str,
    pub change_invoice: &'static str,
    pub change_labour_corrected: &'static str,
    pub change_meal_started: &'static str,
    pub change_sample_taken: &'static str,
    pub change_sample_discarded: &'static str,
}
}

/// When something happened, as people read it: the time of day if it was today, else the
/// date and time, in the phone's zone and the reader's language.
pub fn moment(at: shared::time::Timestamp, language: Language) -> String {
    let time = js_sys::Date::new(&(at.as_millis() as f64).into());
    let today = js_sys::Date::new_0();
    if time.to_date_string() == today.to_date_string() {
        String::from(time.to_locale_time_string(language.tag()))
    } else {
        String::from(time.to_locale_string(language.tag(), &wasm_bindgen::JsValue::UNDEFINED))
    }
}

/// When something is due, in words people use ("today", "by Fri", a date), read now in
/// the phone's zone (`shared::time::due_in_words`).
pub fn due_words(due: shared::time::Timestamp, language: Language) -> String {
    use shared::time::{DueDay, due_in_words};
    let now = shared::time::Timestamp::from_millis(js_sys::Date::now() as i64);
    let offset = crate::edits::local_offset_minutes();
    let words = due_in_words(due, now, offset);
    let time = words.time.map(|(hour, minute)| format!("{hour:02}:{minute:02}"));
    match language {
        Language::Chinese => {
            const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
            let day = match words.day {
                DueDay::Today => "今天".to_owned(),
                DueDay::Tomorrow => "明天".to_owned(),
                DueDay::Weekday(weekday) => WEEKDAYS[usize::from(weekday)].to_owned(),
                DueDay::Date { month, day, .. } if words.this_year => format!("{month}月{day}日"),
                DueDay::Date { year, month, day } => format!("{year}年{month}月{day}日"),
            };
            match time {
                Some(time) => format!("{day} {time} 前"),
                None if words.day == DueDay::Today => "今天内".to_owned(),
                None => format!("{day}前"),
            }
        }
        Language::English => {
            const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            let day = match words.day {
                DueDay::Today => "today".to_owned(),
                DueDay::Tomorrow => "tomorrow".to_owned(),
                DueDay::Weekday(weekday) => WEEKDAYS[usize::from(weekday)].to_owned(),
                DueDay::Date { month, day, .. } if words.this_year => format!("{day} {}", MONTHS[usize::from(month) - 1]),
                DueDay::Date { year, month, day } => format!("{day} {} {year}", MONTHS[usize::from(month) - 1]),
            };
            match time {
                Some(time) => format!("by {day} {time}"),
                None => format!("by {day}"),
            }
        }
    }
}

const CHINESE: Texts = Texts {
    app_name: "后勤",
    nav_settings: "设置",
    tab_todo: "待办",
    tab_rounds: "巡检",
    tab_orders: "工单",
    tab_report: "报修",
    tab_store: "仓库",
    tab_stocktakes: "盘点",
    tab_dashboard: "看板",
    tab_admin: "管理",
    tab_me: "我的",
    tab_bar: "主导航",
    see_all: "查看全部 →",
    to_verify: "待我验收",
    decisions_waiting: "待我决定",
    answers_differ: "{} 项回答不一致",
    report_kept: "已报修，保存在本机，联网后自动同步。",
    view_my_report: "查看我的报修",
    nothing_waiting: "暂时没有待办事项。下方标签可进入各项工作。",
    new_waiting: "{} 项新待办",
    new_item: "新",
    overdue_orders: "逾期工单",
    more_lists: "更多",
    this_phone: "本机",
    checking_server: "正在连接服务器…",
    server_reachable: "已连接服务器",
    server_disk_full: "服务器磁盘将满：新的修改暂存在本机，请管理员清理空间",
    server_damaged: "服务器的数据库有损坏，只提供仍可读取的记录：请管理员恢复备份或抢救数据",
    server_unreachable: "未连接服务器：离线工作，联网后自动同步",
    app_version: "应用版本",
    server_version: "服务器版本",
    language: "语言",
    not_found_title: "页面不存在",
    not_found_body: "这个地址没有对应的页面。",
    back_home: "返回首页",
    back: "返回",
    username: "用户名",
    password: "密码",
    sign_in: "登录",
    signing_in: "正在登录…",
    too_many_attempts: "失败次数过多，请 {} 秒后再试",
    sign_in_needs_network: "首次登录需要联网；登录后可离线使用",
    sign_in_failed: "登录失败：",
    sign_out: "退出登录",
    signed_in_as: "当前用户",
    my_sites: "我的厂区",
    role_inspector: "安全巡检员",
    role_dorm_staff: "宿管员",
    role_technician: "维修技术员",
    role_storekeeper: "仓库管理员",
    role_manager: "经理",
    role_admin: "管理员",
    sign_out_warning: "还有 {} 项更改只在本机，尚未同步。退出登录会删除本机上的数据，这些更改将丢失。仍要退出吗？",
    synced: "已同步",
    syncing_left: "正在同步…还有 {} 份",
    photos_waiting: "照片待上传 {} 张",
    unavailable: "服务器上没有（或无权查看）",
    changes_on_phone: "{} 项更改仅在本机",
    not_yet_synced: "等待同步",
    refused: "服务器未接收（无权限）",
    refused_role: "服务器未接收：你的角色不能做这项修改（其他工作照常同步）",
    refused_name: "服务器未接收：修改记在了别人名下",
    refused_fixed: "服务器未接收：这项内容创建后不能再改",
    refused_written: "服务器未接收：已记下的条目不能改，请另加一条",
    refused_unreadable: "服务器未接收：数据格式不对，请更新应用",
    refused_too_large: "服务器未接收：这条记录已经太大，请新建一条",
    hidden_entries: "此记录中有 {} 条内容数据有误，已隐藏；其余内容不受影响。",
    offline_since: "离线，自 {} 起",
    connecting: "正在连接…",
    report_fault: "报修",
    fault_title: "什么坏了？",
    site: "厂区",
    report: "提交报修",
    my_reports: "工单",
    reported_by_me: "我的报修",
    no_reports: "还没有报修过",
    no_orders: "本机还没有工单",
    show_more: "再显示更多（还有 {} 项）",
    notes_count: "备注 {} 条",
    one_note: "备注 1 条",
    add_comment: "添加备注",
    add: "添加",
    take_photo: "拍照",
    history: "修改记录",
    raise_hazard: "上报隐患",
    hazard_raised: "已上报隐患，工单状态：{}",
    history_needs_network: "查看修改记录需要联网",
    someone: "未知用户",
    start_round: "开始巡检",
    checklist: "检查表",
    place: "地点",
    start: "开始",
    catalog_not_here: "厂区资料尚未同步到本机",
    template_not_here: "这个检查表还没有同步到本机，请联网后再试",
    round_not_here: "本机上没有这次巡检",
    rounds: "巡检",
    answered: "已完成 {answered} / {total} 项",
    pass: "合格",
    fail: "不合格",
    not_applicable: "不适用",
    outside_limits: "超出范围",
    submit: "提交",
    submitted: "已提交",
    still_missing: "提交前还需完成 {} 项",
    update_ready: "新版本已就绪",
    update_now: "立即更新",
    insecure_context: "此地址不是 HTTPS：离线使用、相机和扫码都不可用。请联系管理员。",
    insecure_context_help: "如何设置",
    label_heading: "标签",
    label_looking: "正在查找……",
    label_unknown: "你所在的场所中没有编码为 {} 的地点或设备",
    label_asset_at: "位置：{}",
    round_here: "在这里开始巡检",
    fault_here: "在这里报修",
    not_a_label: "这不是 Houqin 的标签",
    storage: "本机存储",
    storage_used: "已用 {used}，可用上限 {quota}",
    notices: "通知",
    notices_offline: "需要连接服务器才能查看和更改通知设置。",
    push_is_on: "本机会收到通知。",
    push_is_off: "本机不接收通知。",
    push_turn_on: "开启本机通知",
    push_turn_off: "关闭本机通知",
    push_unsupported: "此浏览器不能显示通知。请用手机浏览器把应用添加到主屏幕后再试。",
    push_denied: "通知权限被拒绝：请在浏览器设置中允许本站发送通知。",
    notice_email: "邮件地址",
    notice_email_hint: "留空则不发邮件。",
    notify_me_when: "以下情况通知我",
    notify_assigned: "有工单派给我",
    notify_to_verify: "我报的维修已完成，待我验收",
    notify_urgent_hazard: "有紧急隐患待派工",
    notify_overdue: "工单逾期",
    notify_undispatched: "紧急工单超时未派工",
    notify_to_approve: "盘点待我审批",
    notify_conflict: "记录不一致，待我裁定",
    notify_low_stock: "库存到补货点",
    notify_missed_round: "定期巡检上一期未完成",
    notify_contract_ending: "外包单位合同即将到期",
    notify_meter_over_limit: "仪表用量超出上限",
    quiet_hours: "免打扰时段",
    quiet_hours_on: "开启免打扰",
    quiet_from: "从",
    quiet_to: "到",
    quiet_hours_hint: "期间只有紧急通知会提醒，其余在结束时送达。",
    quiet_hours_invalid: "请填写免打扰的开始和结束时间。",
    mute_order: "不再通知此工单",
    unmute_order: "恢复通知",
    order_muted: "此工单已静音，不会推送给你。",
    storage_persistent: "数据已设为持久保存，浏览器不会自动清除",
    storage_not_persistent: "浏览器在空间不足时可能清除数据；请先同步",
    all: "全部",
    all_answered: "所有项目都已回答",
    answer: "结果",
    answered_differently: "两人的回答不同：",
    back_to_round: "返回巡检",
    building: "楼栋",
    camera_unavailable: "无法打开相机，请输入标签上的编码",
    cancel: "取消",
    clear: "清除",
    conflicts_here: "回答不一致的项目：{}，请选择保留哪个",
    due_rounds: "待检",
    failed_items: "不合格项",
    hazard_reported: "已报隐患",
    in_progress: "进行中",
    item: "检查项",
    keep_this: "保留此项",
    label_code: "标签编码",
    next_unanswered: "下一个未答项",
    not_signed: "未签名",
    not_submitted: "未提交",
    notes_and_photos: "备注与照片",
    nothing_due: "暂无待检项目",
    overdue: "已逾期",
    pass_rate: "合格率",
    photo_on_fail: "不合格须拍照",
    picture: "图片",
    print: "打印",
    print_report: "打印报告",
    recently_submitted: "近期已提交",
    review_note: "审核意见",
    rooms: "房间",
    save: "保存",
    save_signature: "保存签名",
    scan: "扫码",
    score: "得分",
    search: "搜索",
    sign_here: "在此签名",
    started: "开始",
    submitted_by: "{user} 于 {time} 提交",
    unknown_code: "找不到编码 {} 对应的地点或设备",
    find_place: "查找地点（名称或编码）",
    more_places: "另有 {} 个地点未列出，输入名称或编码缩小范围",
    no_place_matches: "没有名称或编码相符的地点",
    show_all_places: "显示全部 {} 个地点",
    more_assets: "另有 {} 台设备未列出：先选地点，或扫描设备标签",
    qr_labels: "打印二维码标签",
    export_csv: "导出 CSV",
    status_reported: "已报修",
    status_assigned: "已派工",
    status_acknowledged: "已接单",
    status_in_progress: "维修中",
    status_paused: "已暂停",
    status_completed: "已完工",
    status_verified: "已验收",
    status_reopened: "已返修",
    status_cancelled: "已取消",
    action_acknowledge: "接单",
    action_assign: "派工",
    action_cancel: "取消工单",
    action_complete: "完工",
    action_merge: "合并为重复",
    action_pause: "暂停",
    action_reopen: "返修",
    action_start: "开始维修",
    action_verify: "验收",
    asset: "设备",
    assignee: "维修人",
    category_label: "类别",
    choose_original: "请选择保留的原工单",
    choose_technician: "请选择维修技术员",
    comment: "评价",
    completion_notes: "完工说明",
    decision: "处理决定",
    dispatch_queue: "待派工",
    hazards_open: "未处理的隐患",
    due: "要求完成时间",
    duplicate_of: "重复于",
    event_acknowledged: "已接单",
    event_assigned: "派给 {}",
    event_cancelled: "已取消",
    event_completed: "已完工",
    event_paused: "已暂停",
    event_reopened: "已返修",
    event_reported: "报修",
    event_resolved: "经理处理",
    event_started: "开始维修",
    event_verified: "已验收",
    flag_duplicate_report: "重复的报修记录",
    flag_illegal: "{user} 的“{event}”与当时的状态“{status}”冲突（离线时各自操作）",
    flag_other: "需要经理处理",
    flags: "待处理冲突",
    my_work: "我的维修任务",
    no_work: "暂无维修任务",
    order_not_here: "本机没有这张工单",
    original_order: "保留的工单",
    part_used: "用料",
    add_part: "再加一项用料",
    priority_label: "紧急程度",
    quantity: "数量",
    quantity_needed: "请填写用料数量",
    reason: "原因",
    reason_needed: "请填写原因",
    reported_by: "报修人",
    resolve: "确认",
    satisfaction: "满意度",
    the_original: "原工单",
    timeline: "处理记录",
    priority_low: "低",
    priority_normal: "普通",
    priority_high: "高",
    priority_urgent: "紧急",
    category_hvac: "空调暖通",
    category_electrical: "电气",
    category_plumbing: "给排水",
    category_building: "土建门窗",
    category_furniture: "家具设备",
    category_vehicle: "车辆",
    category_other: "其他",
    category_fire_safety: "消防",
    adjustments: "盘点调整",
    approve_count: "审批盘点",
    bin: "货位",
    blind_hint: "盲盘：结束盘点前只显示你自己的数量，不显示账面数量和他人的数量",
    choose_item: "请选择物料",
    close_count: "结束盘点",
    reopen_count: "继续盘点",
    code: "编码",
    correct: "更正",
    count: "盘点",
    count_mode: "方式",
    counted: "实盘",
    expected: "账面",
    mode_blind: "盲盘",
    mode_open: "明盘",
    moved_during: "盘点期间有出入库",
    movement: "业务",
    movement_adjust: "盘点调整",
    movement_issue: "领用出库",
    movement_receive: "入库",
    movement_reference: "领用部门 / 工单 / 单据号",
    movement_scrap: "报废",
    my_counts: "我的盘点记录",
    on_hand: "库存",
    all_stocktakes: "全部盘点",
    rounds_due_and_open: "待检与进行中",
    phase_approved: "已审批",
    phase_closed: "已结束盘点",
    phase_counting: "盘点中",
    recount: "需复盘",
    ask_recount: "要求复盘",
    recount_requested_by: "复盘要求来自",
    recounts: "需要复盘",
    record: "登记",
    record_movement: "出入库登记",
    start_stocktake: "开始盘点",
    stocktake: "盘点",
    stocktake_location: "盘点范围（仓库 / 区域）",
    stocktake_not_here: "本机没有这次盘点",
    stocktakes: "盘点",
    totals: "汇总",
    variance: "差异",
    stock_category_supplies: "办公用品",
    stock_category_consumables: "耗材",
    stock_category_protective_equipment: "劳保用品",
    stock_category_fixed_asset: "固定资产",
    checklist_category_fire_safety: "消防安全",
    checklist_category_electrical: "电气安全",
    checklist_category_food_safety: "食品安全",
    checklist_category_dorm_room: "宿舍检查",
    checklist_category_general: "综合",
    asset_audit: "固定资产盘点",
    asset_tag: "资产标签",
    audit_elsewhere: "不在原位",
    audit_in_place: "在位",
    audit_missing: "未找到",
    audit_not_yet_found: "尚未找到",
    audit_result: "盘点结果",
    audit_unexpected: "清单外的资产",
    find_assets: "查找资产",
    found: "已找到",
    found_at: "发现于",
    should_be_at: "应在",
    stock_items: "物料",
    what_to_count: "盘点对象",
    where_it_belongs: "（资产的登记位置）",
    where_you_are: "所在位置",
    stock_item: "物料",
    not_enough_stock: "{item} 只有 {on_hand}，不能出库 {wanted}",
    below_zero: "负库存",
    below_zero_because: "以下出库使库存低于零（可能是离线时多台手机同时出库），请核实：",
    to_reorder: "需补货",
    reorder_point: "补货点",
    movement_history: "出入库记录",
    when_who: "时间 / 经办人",
    balance: "结存",
    no_movements: "还没有出入库记录",
    work_order: "工单",
    document_not_on_phone: "（本机没有该单据）",
    not_counted: "未盘",
    my_count: "我的实盘",
    counters_disagree: "盘点人数量不一致",
    recount_this: "复盘此货位",
    recounting: "复盘 {item} · 货位 {bin}：数量将取代之前的盘点",
    recount_save: "保存复盘",
    recount_marker: " （复盘）",
    settle_at: "以 {} 为准",
    settled_by: "由 {} 确定",
    approval_blocked: "盘点不一致的货位：{} 个。复盘或由经理确定后才能审批",
    not_adjusted: "未盘物料不调整，保留账面数量",
    blind_hint_manager: "盲盘：结束盘点后才显示账面数量与差异",
    missing_answer: "未作答",
    missing_photo: "不合格须拍照",
    missing_follow_up: "不合格须处理：上报隐患，或说明无需处理的原因",
    next_room: "下一间",
    item_needs_attention: "提交前须完成此项",
    no_action_needed: "无需处理…",
    no_action_reason: "无需处理的原因",
    no_action_by: "无需处理：{reason}（{user}）",
    choose_checklist: "请选择检查表",
    choose_place: "请选择地点",
    discard_round: "放弃这次检查（误开）",
    discarded_by: "{user} 于 {time} 放弃了这次检查",
    discarded: "已放弃",
    error_bad_request: "服务器无法处理这个请求，请检查填写的内容",
    error_unauthorized: "登录已失效，请重新登录",
    error_wrong_login: "用户名或密码错误",
    error_forbidden: "你没有这项操作的权限",
    error_not_found: "找不到，或你无权查看",
    error_exists: "已经存在同名的记录",
    error_password_too_short: "密码至少需要 8 个字符",
    error_too_large: "文件太大",
    error_too_many_attempts: "尝试次数过多，请稍后再试",
    error_server: "服务器出错了，请稍后再试",
    error_busy: "服务器正忙，请稍后再试",
    error_unsupported_file: "只能上传 JPEG、PNG 或 WebP 图片",
    error_quota_exceeded: "本单位的照片存储空间已满，请联系管理员",
    error_disk_full: "服务器磁盘将满，暂时无法保存，请联系管理员",
    server_answered: "服务器返回了 {}",
    phone_of: "{name}的手机 {n}",
    saved_on_phone: "已保存在本机",
    saved_and_synced: "已保存并同步",
    maintenance_plan: "维护计划",
    made_by_a_phone: "由到期时的手机生成",
    public_reporter: "扫码报修人",
    made_by_the_public_page: "扫码报修页面",
    report_without_account: "没有账号？扫码报修",
    mark_spam: "标记为垃圾报修",
    mark_spam_confirm: "确定这是垃圾报修吗？它会被取消，并计入发送它的网络地址。",
    marked_spam: "已标记为垃圾报修",
    required_item: "必填",
    history_answered: "回答了 {item}",
    devices_here: "设备",
    first_last: "首次 {first}，最近 {last}",
    parts_used: "用料",
    change_started_inspection: "开始了检查",
    change_note: "加了备注",
    change_photo: "拍了照片",
    change_comment: "写了留言",
    change_raised_hazard: "上报了隐患",
    change_no_action_needed: "说明无需处理",
    change_signed: "签了名",
    change_submitted: "提交了检查",
    change_discarded: "放弃了检查",
    change_reviewed: "写了审阅意见",
    change_reported: "报修",
    change_scheduled: "按维护计划生成了工单",
    change_assigned: "派了工",
    change_acknowledged: "接了单",
    change_started: "开始维修",
    change_paused: "暂停了维修",
    change_completed: "完成了维修",
    change_verified: "验收了",
    change_reopened: "重新打开了",
    change_cancelled: "取消了",
    change_merged_as_a_duplicate: "合并为重复报修",
    change_part_used: "用了配件",
    change_part_corrected: "改了配件数量",
    change_priority: "改了紧急程度",
    change_due_time: "改了期限",
    change_category: "改了类别",
    change_title: "改了标题",
    change_description: "改了描述",
    change_started_stocktake: "开始了盘点",
    change_count: "盘点了一个货位",
    change_recount: "复盘了一个货位",
    change_corrected_count: "更正了自己的盘点",
    change_recount_requested: "要求复盘",
    change_settled_bin: "确定了一个货位的数量",
    change_closed: "结束了盘点",
    change_approved: "审批了盘点",
    change_found_asset: "找到了一项资产",
    change_invoice: "添加了外包发票",
    change_labour_corrected: "修正了工时",
    change_meal_started: "开始了本餐留样",
    change_sample_taken: "留了一份样",
    change_sample_discarded: "处理了一份留样",
};

const ENGLISH: Texts = Texts {
    app_name: "Houqin",
    nav_settings: "Settings",
    tab_todo: "To do",
    tab_rounds: "Rounds",
    tab_orders: "Orders",
    tab_report: "Report",
    tab_store: "Store",
    tab_stocktakes: "Stocktakes",
    tab_dashboard: "Dashboard",
    tab_admin: "Admin",
    tab_me: "Me",
    tab_bar: "Main",
    see_all: "See all →",
    to_verify: "Waiting for you to check",
    decisions_waiting: "Waiting for your decision",
    answers_differ: "{} answered differently",
    report_kept: "Reported: kept on this phone, synced when online.",
    view_my_report: "View my report",
    nothing_waiting: "Nothing is waiting for you. The tabs below open your lists.",
    new_waiting: "{} new",
    new_item: "New",
    overdue_orders: "Overdue orders",
    more_lists: "More",
    this_phone: "This phone",
    checking_server: "Contacting the server…",
    server_reachable: "Connected to the server",
    server_disk_full: "The server's disk is nearly full: new changes stay on this phone until an administrator frees space",
    server_damaged: "The server's database is damaged and serves only what still reads: an administrator restores a backup or salvages it",
    server_unreachable: "Server not reachable: working offline, will sync when connected",
    app_version: "App version",
    server_version: "Server version",
    language: "Language",
    not_found_title: "Page not found",
    not_found_body: "There is no page at this address.",
    back_home: "Back to the start page",
    back: "Back",
    username: "User name",
    password: "Password",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    too_many_attempts: "Too many failed attempts; try again in {} seconds",
    sign_in_needs_network: "Signing in needs a connection once; afterwards the app works offline",
    sign_in_failed: "Signing in failed: ",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",
    my_sites: "My sites",
    role_inspector: "Inspector",
    role_dorm_staff: "Dorm staff",
    role_technician: "Technician",
    role_storekeeper: "Storekeeper",
    role_manager: "Manager",
    role_admin: "Administrator",
    sign_out_warning: "Changes on this phone only, not synced yet: {}. Signing out deletes this phone's data and those changes with it. Sign out anyway?",
    synced: "Synced",
    syncing_left: "Syncing… {} to go",
    photos_waiting: "photos to upload: {}",
    unavailable: "Not on the server (or not yours to see)",
    changes_on_phone: "Changes on this phone only: {}",
    not_yet_synced: "Waiting to sync",
    refused: "Not accepted by the server (no access)",
    refused_role: "Not accepted: your role may not make this change (your other work still syncs)",
    refused_name: "Not accepted: the change is recorded in someone else's name",
    refused_fixed: "Not accepted: this is set when created and cannot change",
    refused_written: "Not accepted: a recorded entry cannot change; add a new one",
    refused_unreadable: "Not accepted: the data is malformed; update the app",
    refused_too_large: "Not accepted: this record has grown too large; start a new one",
    hidden_entries: "{} entries of this record hold data the app cannot read and are hidden; the rest is unaffected.",
    offline_since: "Offline since {}",
    connecting: "Connecting…",
    report_fault: "Report a fault",
    fault_title: "What is broken?",
    site: "Site",
    report: "Report",
    my_reports: "Work orders",
    reported_by_me: "My reports",
    no_reports: "You have not reported anything yet",
    no_orders: "No work orders on this phone yet",
    show_more: "Show more ({} more)",
    notes_count: "{} notes",
    one_note: "1 note",
    add_comment: "Add a note",
    add: "Add",
    take_photo: "Take a photo",
    history: "History",
    raise_hazard: "Raise a hazard",
    hazard_raised: "Hazard raised; work order: {}",
    history_needs_network: "The history needs a connection",
    someone: "someone",
    start_round: "Start a round",
    checklist: "Checklist",
    place: "Place",
    start: "Start",
    catalog_not_here: "The site's catalog has not reached this phone yet",
    template_not_here: "This checklist has not reached this phone yet; connect and try again",
    round_not_here: "This round is not on this phone",
    rounds: "Rounds",
    answered: "{answered} of {total} answered",
    pass: "Pass",
    fail: "Fail",
    not_applicable: "N/A",
    outside_limits: "Outside the limits",
    submit: "Submit",
    submitted: "Submitted",
    still_missing: "Still needed before submitting: {}",
    update_ready: "A new version is ready",
    update_now: "Update now",
    insecure_context: "This address is not HTTPS: offline use, the camera and scanning do not work. Ask your administrator.",
    insecure_context_help: "How to set it up",
    label_heading: "Label",
    label_looking: "Looking it up…",
    label_unknown: "No place or asset at your sites has the code {}",
    label_asset_at: "Where: {}",
    round_here: "Start a round here",
    fault_here: "Report a fault here",
    not_a_label: "This is not a Houqin label",
    storage: "Storage on this phone",
    storage_used: "{used} used of {quota} available",
    notices: "Notices",
    notices_offline: "Notice settings need a connection to the server.",
    push_is_on: "This phone receives notifications.",
    push_is_off: "This phone receives no notifications.",
    push_turn_on: "Turn on for this phone",
    push_turn_off: "Turn off for this phone",
    push_unsupported: "This browser cannot show notifications. Add the app to the home screen and try again.",
    push_denied: "Notifications are blocked: allow them for this site in the browser's settings.",
    notice_email: "Mail address",
    notice_email_hint: "Leave it empty for no mail.",
    notify_me_when: "Tell me when",
    notify_assigned: "An order is assigned to me",
    notify_to_verify: "A repair I reported waits for my check",
    notify_urgent_hazard: "An urgent hazard waits for dispatch",
    notify_overdue: "An order is overdue",
    notify_undispatched: "An urgent order waits too long for dispatch",
    notify_to_approve: "A stocktake waits for my approval",
    notify_conflict: "Records differ and wait for my decision",
    notify_low_stock: "Stock is at its reorder point",
    notify_missed_round: "A scheduled round was missed",
    notify_contract_ending: "A contractor's contract is ending",
    notify_meter_over_limit: "A meter used more than its limit",
    quiet_hours: "Quiet hours",
    quiet_hours_on: "Keep quiet hours",
    quiet_from: "From",
    quiet_to: "To",
    quiet_hours_hint: "Only urgent notices come through; the rest arrive when quiet hours end.",
    quiet_hours_invalid: "Give the quiet hours' start and end.",
    mute_order: "Mute this order",
    unmute_order: "Unmute",
    order_muted: "This order is muted: its notices do not reach you.",
    storage_persistent: "Kept persistently: the browser will not clear it on its own",
    storage_not_persistent: "The browser may clear this data when space runs low; sync first",
    all: "All",
    all_answered: "Every item is answered",
    answer: "Answer",
    answered_differently: "Two people answered differently:",
    back_to_round: "Back to the round",
    building: "Building",
    camera_unavailable: "The camera is unavailable; type the code on the label",
    cancel: "Cancel",
    clear: "Clear",
    conflicts_here: "Items answered differently: {}; choose which to keep",
    due_rounds: "Due",
    failed_items: "Failed items",
    hazard_reported: "Hazard reported",
    in_progress: "In progress",
    item: "Item",
    keep_this: "Keep this",
    label_code: "Label code",
    next_unanswered: "Next unanswered",
    not_signed: "Not signed",
    not_submitted: "Not submitted",
    notes_and_photos: "Notes and photos",
    nothing_due: "Nothing due",
    overdue: "Overdue",
    pass_rate: "Pass rate",
    photo_on_fail: "photo needed if failed",
    picture: "Picture",
    print: "Print",
    print_report: "Print the report",
    recently_submitted: "Recently submitted",
    review_note: "Review note",
    rooms: "Rooms",
    save: "Save",
    save_signature: "Save the signature",
    scan: "Scan",
    score: "Score",
    search: "Search",
    sign_here: "Sign here",
    started: "Started",
    submitted_by: "Submitted by {user} at {time}",
    unknown_code: "No place or asset has the code {}",
    find_place: "Find a place (name or code)",
    more_places: "{} more places not listed: type a name or code to narrow the list",
    no_place_matches: "No place has that name or code",
    show_all_places: "Show all {} places",
    more_assets: "{} more assets not listed: choose a place first, or scan the asset's tag",
    qr_labels: "Print QR labels",
    export_csv: "Export CSV",
    status_reported: "Reported",
    status_assigned: "Assigned",
    status_acknowledged: "Acknowledged",
    status_in_progress: "In progress",
    status_paused: "Paused",
    status_completed: "Completed",
    status_verified: "Verified",
    status_reopened: "Reopened",
    status_cancelled: "Cancelled",
    action_acknowledge: "Acknowledge",
    action_assign: "Assign",
    action_cancel: "Cancel",
    action_complete: "Complete",
    action_merge: "Merge as duplicate",
    action_pause: "Pause",
    action_reopen: "Reopen",
    action_start: "Start",
    action_verify: "Verify",
    asset: "Asset",
    assignee: "Assigned to",
    category_label: "Category",
    choose_original: "Choose the order to keep",
    choose_technician: "Choose a technician",
    comment: "Comment",
    completion_notes: "Completion notes",
    decision: "Decision",
    dispatch_queue: "To dispatch",
    hazards_open: "Hazards not yet repaired",
    due: "Due",
    duplicate_of: "Duplicate of",
    event_acknowledged: "Acknowledged",
    event_assigned: "Assigned to {}",
    event_cancelled: "Cancelled",
    event_completed: "Completed",
    event_paused: "Paused",
    event_reopened: "Reopened",
    event_reported: "Reported",
    event_resolved: "Manager's decision",
    event_started: "Started",
    event_verified: "Verified",
    flag_duplicate_report: "A second report entry",
    flag_illegal: "{user}'s “{event}” clashes with the status it met, “{status}” (steps taken apart offline)",
    flag_other: "Needs a manager's decision",
    flags: "Needs a decision",
    my_work: "My work",
    no_work: "No work right now",
    order_not_here: "This work order is not on this phone",
    original_order: "The order to keep",
    part_used: "Part used",
    add_part: "Add another part",
    priority_label: "Priority",
    quantity: "Quantity",
    quantity_needed: "Enter the quantity used",
    reason: "Reason",
    reason_needed: "Give a reason",
    reported_by: "Reported by",
    resolve: "Record",
    satisfaction: "Satisfaction",
    the_original: "the original",
    timeline: "Timeline",
    priority_low: "Low",
    priority_normal: "Normal",
    priority_high: "High",
    priority_urgent: "Urgent",
    category_hvac: "Heating and cooling",
    category_electrical: "Electrical",
    category_plumbing: "Plumbing",
    category_building: "Building",
    category_furniture: "Furniture",
    category_vehicle: "Vehicle",
    category_other: "Other",
    category_fire_safety: "Fire safety",
    adjustments: "Adjustments",
    approve_count: "Approve",
    bin: "Bin",
    blind_hint: "Blind count: until counting closes you see only your own counts, not the books or other counters' numbers",
    choose_item: "Choose a stock item",
    close_count: "Close counting",
    reopen_count: "Reopen counting",
    code: "Code",
    correct: "Correct",
    count: "Count",
    count_mode: "Mode",
    counted: "Counted",
    expected: "Expected",
    mode_blind: "Blind",
    mode_open: "Open",
    moved_during: "Moved during the count",
    movement: "Movement",
    movement_adjust: "Adjustment",
    movement_issue: "Issue",
    movement_receive: "Receive",
    movement_reference: "Department, work order or document",
    movement_scrap: "Scrap",
    my_counts: "My counts",
    on_hand: "On hand",
    all_stocktakes: "All stocktakes",
    rounds_due_and_open: "Due and under way",
    phase_approved: "Approved",
    phase_closed: "Closed",
    phase_counting: "Counting",
    recount: "Recount",
    ask_recount: "Ask for a recount",
    recount_requested_by: "recount asked by",
    recounts: "Recounts",
    record: "Record",
    record_movement: "Record a movement",
    start_stocktake: "Start a stocktake",
    stocktake: "Stocktake",
    stocktake_location: "Where (store or area)",
    stocktake_not_here: "This stocktake is not on this phone",
    stocktakes: "Stocktakes",
    totals: "Totals",
    variance: "Variance",
    stock_category_supplies: "Supplies",
    stock_category_consumables: "Consumables",
    stock_category_protective_equipment: "Protective equipment",
    stock_category_fixed_asset: "Fixed assets",
    checklist_category_fire_safety: "Fire safety",
    checklist_category_electrical: "Electrical",
    checklist_category_food_safety: "Food safety",
    checklist_category_dorm_room: "Dorm room",
    checklist_category_general: "General",
    asset_audit: "Fixed-asset audit",
    asset_tag: "Asset tag",
    audit_elsewhere: "Found elsewhere",
    audit_in_place: "In place",
    audit_missing: "Not found",
    audit_not_yet_found: "Not found yet",
    audit_result: "Result",
    audit_unexpected: "Not in the list",
    find_assets: "Find assets",
    found: "Found",
    found_at: "found at",
    should_be_at: "belongs at",
    stock_items: "Stock items",
    what_to_count: "What to count",
    where_it_belongs: "(where it belongs)",
    where_you_are: "Where you are",
    stock_item: "Stock item",
    not_enough_stock: "Only {on_hand} of {item} on hand: cannot take out {wanted}",
    below_zero: "Below zero",
    below_zero_because: "These movements took it below zero (phones issuing offline at once, perhaps); check them:",
    to_reorder: "To reorder",
    reorder_point: "reorder point",
    movement_history: "Movements",
    when_who: "When / who",
    balance: "Balance",
    no_movements: "No movements yet",
    work_order: "Work order",
    document_not_on_phone: "(not on this phone)",
    not_counted: "Not counted",
    my_count: "My count",
    counters_disagree: "counters disagree",
    recount_this: "Recount this bin",
    recounting: "Recount of {item} in bin {bin}: it replaces the earlier counts",
    recount_save: "Save recount",
    recount_marker: " (recount)",
    settle_at: "Settle at {}",
    settled_by: "settled by {}",
    approval_blocked: "Bins where counters disagree: {}. Recount or settle them before approving",
    not_adjusted: "Not counted, so not adjusted (they keep their book quantity)",
    blind_hint_manager: "Blind count: expected quantities and variance show once counting closes",
    missing_answer: "not answered",
    missing_photo: "a failure needs a photo",
    missing_follow_up: "a failure needs a follow-up: raise a hazard, or say why no action is needed",
    next_room: "Next room",
    item_needs_attention: "Needed before submitting",
    no_action_needed: "No action needed…",
    no_action_reason: "Why no action is needed",
    no_action_by: "No action needed: {reason} ({user})",
    choose_checklist: "Choose a checklist",
    choose_place: "Choose a place",
    discard_round: "Discard this round (started by mistake)",
    discarded_by: "Discarded by {user} at {time}",
    discarded: "Discarded",
    error_bad_request: "The server could not take this request; check what was filled in",
    error_unauthorized: "Your session has ended; sign in again",
    error_wrong_login: "Wrong user name or password",
    error_forbidden: "You are not allowed to do this",
    error_not_found: "Not found, or not yours to see",
    error_exists: "One with this name exists already",
    error_password_too_short: "A password needs at least 8 characters",
    error_too_large: "The file is too large",
    error_too_many_attempts: "Too many attempts; try again later",
    error_server: "The server ran into a problem; try again later",
    error_busy: "The server is busy; try again in a moment",
    error_unsupported_file: "Only JPEG, PNG and WebP pictures can be uploaded",
    error_quota_exceeded: "Your site's space for photos is full: ask an administrator",
    error_disk_full: "The server's disk is nearly full and cannot store this now: ask an administrator",
    server_answered: "The server answered {}",
    phone_of: "{name}'s phone {n}",
    saved_on_phone: "Saved on this phone",
    saved_and_synced: "Saved and synced",
    maintenance_plan: "Maintenance plan",
    made_by_a_phone: "made by the phone that found it due",
    public_reporter: "Public report",
    made_by_the_public_page: "the label's report page",
    report_without_account: "No account? Report a fault here",
    mark_spam: "Mark as spam",
    mark_spam_confirm: "Is this report spam? It will be cancelled and counted against the address it came from.",
    marked_spam: "Marked as spam",
    required_item: "required",
    history_answered: "answered {item}",
    devices_here: "Devices",
    first_last: "first {first}, last {last}",
    parts_used: "Parts used",
    change_started_inspection: "started the round",
    change_note: "added a note",
    change_photo: "added a photo",
    change_comment: "commented",
    change_raised_hazard: "raised a hazard",
    change_no_action_needed: "decided no action was needed",
    change_signed: "signed",
    change_submitted: "submitted the round",
    change_discarded: "discarded the round",
    change_reviewed: "wrote the review note",
    change_reported: "reported the fault",
    change_scheduled: "made the order from the maintenance plan",
    change_assigned: "dispatched it",
    change_acknowledged: "acknowledged it",
    change_started: "started the repair",
    change_paused: "paused the repair",
    change_completed: "completed the repair",
    change_verified: "verified the repair",
    change_reopened: "reopened it",
    change_cancelled: "cancelled it",
    change_merged_as_a_duplicate: "merged it as a duplicate",
    change_part_used: "used a part",
    change_part_corrected: "corrected a part",
    change_priority: "changed the priority",
    change_due_time: "changed the due time",
    change_category: "changed the category",
    change_title: "changed the title",
    change_description: "changed the description",
    change_started_stocktake: "started the stocktake",
    change_count: "counted a bin",
    change_recount: "recounted a bin",
    change_corrected_count: "corrected a count",
    change_recount_requested: "asked for a recount",
    change_settled_bin: "settled a bin",
    change_closed: "closed counting",
    change_approved: "approved the stocktake",
    change_found_asset: "found an asset",
    change_invoice: "added a contractor's invoice",
    change_labour_corrected: "corrected time worked",
    change_meal_started: "started a meal's samples",
    change_sample_taken: "took a food sample",
    change_sample_discarded: "discarded a food sample",
};

const STORAGE_KEY: &str = "houqin.language";

/// The reader's language, provided to every component.
#[derive(Clone, Copy)]
pub struct CurrentLanguage(pub RwSignal<Language>);

/// Reads the stored or browser language and provides it; keeps `<html lang>` and the
/// stored choice in step with it.
pub fn provide_language() {
    let stored = gloo_storage::LocalStorage::get::<String>(STORAGE_KEY).ok();
    let language = stored.as_deref().and_then(Language::from_tag).unwrap_or_else(browser_language);
    let signal = RwSignal::new(language);
    Effect::new(move || {
        let language = signal.get();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", language.tag());
        }
    });
    provide_context(CurrentLanguage(signal));
}

/// The reader's language where no component is at hand (an answer from the server being
/// read): the choice stored on this phone, else the browser's.
pub fn current_language() -> Language {
    let stored = gloo_storage::LocalStorage::get::<String>(STORAGE_KEY).ok();
    stored.as_deref().and_then(Language::from_tag).unwrap_or_else(browser_language)
}

/// Remembers the reader's choice on this phone.
pub fn choose_language(language: Language) {
    use_context::<CurrentLanguage>().expect("provide_language() runs in App").0.set(language);
    let _ = gloo_storage::LocalStorage::set(STORAGE_KEY, language.tag());
}

impl Texts {
    /// What a change did, in this language, by the summary it carries, if the app knows it;
    /// the summaries are the documents' own words, so an unknown one is shown as it is.
    pub fn change(&self, summary: &str) -> Option<&'static str> {
        Some(match summary {
            "started inspection" => self.change_started_inspection,
            "note" => self.change_note,
            "photo" => self.change_photo,
            "comment" => self.change_comment,
            "raised hazard" => self.change_raised_hazard,
            "no action needed" => self.change_no_action_needed,
            "signed" => self.change_signed,
            "submitted" => self.change_submitted,
            "discarded" => self.change_discarded,
            "reviewed" => self.change_reviewed,
            "reported" => self.change_reported,
            "scheduled" => self.change_scheduled,
            "assigned" => self.change_assigned,
            "acknowledged" => self.change_acknowledged,
            "started" => self.change_started,
            "paused" => self.change_paused,
            "completed" => self.change_completed,
            "verified" => self.change_verified,
            "reopened" => self.change_reopened,
            "cancelled" => self.change_cancelled,
            "merged as a duplicate" => self.change_merged_as_a_duplicate,
            "part used" => self.change_part_used,
            "part corrected" => self.change_part_corrected,
            "priority" => self.change_priority,
            "due time" => self.change_due_time,
            "category" => self.change_category,
            "title" => self.change_title,
            "description" => self.change_description,
            "started stocktake" => self.change_started_stocktake,
            "count" => self.change_count,
            "recount" => self.change_recount,
            "corrected count" => self.change_corrected_count,
            "recount requested" => self.change_recount_requested,
            "settled bin" => self.change_settled_bin,
            "closed" => self.change_closed,
            "approved" => self.change_approved,
            "found asset" => self.change_found_asset,
            "invoice" => self.change_invoice,
            "labour corrected" => self.change_labour_corrected,
            "meal started" => self.change_meal_started,
            "sample taken" => self.change_sample_taken,
            "sample discarded" => self.change_sample_discarded,
            _ => return None,
        })
    }

    /// The app's words for a refusal the server gave with `code`, if it knows the code.
    pub fn api_error(&self, code: &str) -> Option<&'static str> {
        Some(match code {
            "bad_request" => self.error_bad_request,
            "unauthorized" => self.error_unauthorized,
            "wrong_login" => self.error_wrong_login,
            "forbidden" => self.error_forbidden,
            "not_found" => self.error_not_found,
            "exists" => self.error_exists,
            "password_too_short" => self.error_password_too_short,
            "too_large" => self.error_too_large,
            "too_many_attempts" => self.error_too_many_attempts,
            "app_not_built" | "internal" => self.error_server,
            "busy" => self.error_busy,
            "unsupported_file" => self.error_unsupported_file,
            "quota_exceeded" => self.error_quota_exceeded,
            "disk_full" => self.error_disk_full,
            _ => return None,
        })
    }

    /// A tab of the bottom bar in this language.
    pub fn tab(&self, tab: shared::routes::Tab) -> &'static str {
        use shared::routes::Tab;
        match tab {
            Tab::Todo => self.tab_todo,
            Tab::Rounds => self.tab_rounds,
            Tab::Orders => self.tab_orders,
            Tab::Report => self.tab_report,
            Tab::Store => self.tab_store,
            Tab::Stocktakes => self.tab_stocktakes,
            Tab::Dashboard => self.tab_dashboard,
            Tab::Admin => self.tab_admin,
            Tab::Me => self.tab_me,
        }
    }

    /// A role at a site in this language.
    pub fn role(&self, role: shared::directory::Role) -> &'static str {
        use shared::directory::Role;
        match role {
            Role::Inspector => self.role_inspector,
            Role::DormStaff => self.role_dorm_staff,
            Role::Technician => self.role_technician,
            Role::Storekeeper => self.role_storekeeper,
            Role::Manager => self.role_manager,
            Role::Admin => self.role_admin,
        }
    }

    /// Why the server refused this phone's changes, by the policy's code.
    pub fn refused(&self, code: crate::replica::RefusalCode) -> &'static str {
        use crate::replica::RefusalCode;
        match code {
            RefusalCode::Role => self.refused_role,
            RefusalCode::Name => self.refused_name,
            RefusalCode::Fixed => self.refused_fixed,
            RefusalCode::Written => self.refused_written,
            RefusalCode::Unreadable => self.refused_unreadable,
            RefusalCode::TooLarge => self.refused_too_large,
        }
    }

    /// A work order's status in this language.
    pub fn status(&self, status: shared::document::work_order::Status) -> &'static str {
        use shared::document::work_order::Status;
        match status {
            Status::Reported => self.status_reported,
            Status::Assigned => self.status_assigned,
            Status::Acknowledged => self.status_acknowledged,
            Status::InProgress => self.status_in_progress,
            Status::Paused => self.status_paused,
            Status::Completed => self.status_completed,
            Status::Verified => self.status_verified,
            Status::Reopened => self.status_reopened,
            Status::Cancelled => self.status_cancelled,
        }
    }

    /// A work order's priority in this language.
    pub fn priority(&self, priority: shared::document::work_order::Priority) -> &'static str {
        use shared::document::work_order::Priority;
        match priority {
            Priority::Low => self.priority_low,
            Priority::Normal => self.priority_normal,
            Priority::High => self.priority_high,
            Priority::Urgent => self.priority_urgent,
        }
    }

    /// A stock item's category (as stored) in this language; one this release does not
    /// know as it is written.
    pub fn stock_category(&self, category: &str) -> String {
        use shared::document::catalog::StockCategory;
        let Ok(known) = StockCategory::parse(category) else { return category.to_owned() };
        match known {
            StockCategory::Supplies => self.stock_category_supplies,
            StockCategory::Consumables => self.stock_category_consumables,
            StockCategory::ProtectiveEquipment => self.stock_category_protective_equipment,
            StockCategory::FixedAsset => self.stock_category_fixed_asset,
        }
        .to_owned()
    }

    /// A document's status as the read API spells it (`verified`, `submitted`,
    /// `counting`…) in this language; another as it is written.
    /// A status as a list of `kind` (`work_order`, `inspection`, `stocktake`) shows it: the
    /// same word means different things for different documents (a round in progress is
    /// 进行中; a work order in progress is being repaired, 维修中).
    pub fn document_status(&self, kind: &str, status: &str) -> String {
        if kind == "work_order"
            && let Ok(status) = shared::document::work_order::Status::parse(status)
        {
            return self.status(status).to_owned();
        }
        match status {
            "in_progress" => self.in_progress,
            "discarded" => self.discarded,
            "submitted" => self.submitted,
            "counting" => self.phase_counting,
            "closed" => self.phase_closed,
            "approved" => self.phase_approved,
            other => return other.to_owned(),
        }
        .to_owned()
    }

    /// A checklist category (as stored) in this language; one this release does not know
    /// as it is written.
    pub fn checklist_category(&self, category: &str) -> String {
        use shared::document::template::ChecklistCategory;
        let Ok(known) = ChecklistCategory::parse(category) else { return category.to_owned() };
        match known {
            ChecklistCategory::FireSafety => self.checklist_category_fire_safety,
            ChecklistCategory::Electrical => self.checklist_category_electrical,
            ChecklistCategory::FoodSafety => self.checklist_category_food_safety,
            ChecklistCategory::DormRoom => self.checklist_category_dorm_room,
            ChecklistCategory::General => self.checklist_category_general,
        }
        .to_owned()
    }

    /// A work order's category in this language.
    pub fn category(&self, category: shared::document::work_order::Category) -> &'static str {
        use shared::document::work_order::Category;
        match category {
            Category::Hvac => self.category_hvac,
            Category::Electrical => self.category_electrical,
            Category::Plumbing => self.category_plumbing,
            Category::Building => self.category_building,
            Category::Furniture => self.category_furniture,
            Category::Vehicle => self.category_vehicle,
            Category::Other => self.category_other,
            Category::FireSafety => self.category_fire_safety,
        }
    }
}

/// The texts in the reader's language, as a signal.
/// A screen's own text table in the current language: `chinese` or `english`.
pub fn use_table<T: Send + Sync + 'static>(chinese: &'static T, english: &'static T) -> Signal<&'static T> {
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    Signal::derive(move || match language.get() {
        Language::Chinese => chinese,
        Language::English => english,
    })
}

pub fn use_texts() -> Signal<&'static Texts> {
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    Signal::derive(move || texts_in(language.get()))
}

fn browser_language() -> Language {
    let languages = window().navigator().languages();
    let tags: Vec<String> = languages.iter().filter_map(|tag| tag.as_string()).collect();
    Language::from_preferences(tags.iter().map(String::as_str))
}

/// What every table of texts must hold, checked for each table in its own module: the same
/// texts in both languages, none empty, Chinese written in Chinese and English in English
/// (but for the fields `english_may_quote_chinese` names), and the same placeholders
/// (`{name}`, `{}`) in both. Returns what is wrong, one line each.
#[cfg(test)]
pub(crate) fn check_table(
    chinese: Vec<(&'static str, Vec<&'static str>)>,
    english: Vec<(&'static str, Vec<&'static str>)>,
    english_may_quote_chinese: &[&str],
) -> Result<(), String> {
    let is_chinese = |text: &str| text.chars().any(|c| ('\u{3400}'..='\u{9fff}').contains(&c));
    let placeholders = |text: &str| {
        let mut found: Vec<String> =
            text.match_indices('{').filter_map(|(at, _)| Some(text[at..at + text[at..].find('}')? + 1].to_owned())).collect();
        found.sort();
        found
    };
    let mut wrong = Vec::new();
    if chinese.len() != english.len() {
        wrong.push(format!("{} fields in Chinese, {} in English", chinese.len(), english.len()));
    }
    for ((field, zh), (_, en)) in chinese.into_iter().zip(english) {
        if zh.len() != en.len() {
            wrong.push(format!("{field}: {} texts in Chinese, {} in English", zh.len(), en.len()));
        }
        for (zh, en) in zh.into_iter().zip(en) {
            if zh.trim().is_empty() || en.trim().is_empty() {
                wrong.push(format!("{field}: a text is empty"));
            }
            if !is_chinese(zh) {
                wrong.push(format!("{field}: {zh:?} is not written in Chinese"));
            }
            if is_chinese(en) && !english_may_quote_chinese.contains(&field) {
                wrong.push(format!("{field}: {en:?} has Chinese in the English table"));
            }
            if placeholders(zh) != placeholders(en) {
                wrong.push(format!("{field}: {zh:?} and {en:?} fill in different values"));
            }
        }
    }
    if wrong.is_empty() { Ok(()) } else { Err(wrong.join("\n")) }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn every_text_is_in_both_languages_with_the_same_placeholders() {
        check_table(CHINESE.every_text(), ENGLISH.every_text(), &[]).unwrap();
    }

    #[wasm_bindgen_test]
    fn a_missing_placeholder_or_a_text_in_the_wrong_language_is_caught() {
        let wrong =
            check_table(vec![("late", vec!["晚了 {n} 天"]), ("ok", vec!["好"])], vec![("late", vec!["late"]), ("ok", vec!["好"])], &[]);
        assert_eq!(
            wrong,
            Err("late: \"晚了 {n} 天\" and \"late\" fill in different values\nok: \"好\" has Chinese in the English table".to_owned())
        );
    }
}
