//! The managers' screens' texts, in Chinese and English.

use leptos::prelude::*;

use crate::i18n::text_table;

text_table! {
#[derive(Debug, PartialEq, Eq)]
pub struct ReviewTexts {
    pub dashboard: &'static str,
    pub managers_only: &'static str,
    pub period: &'static str,
    /// A period offered: `{}` is its number of days.
    pub last_days: &'static str,
    pub as_of: &'static str,
    pub kept_from: &'static str,
    pub minutes_ago: &'static str,
    pub needs_network: &'static str,
    pub response_time: &'static str,
    pub completion_time: &'static str,
    pub p90: &'static str,
    pub reported: &'static str,
    /// Of the orders reported, those from the public (by scanning a label).
    pub reported_by_public: &'static str,
    pub overdue_orders: &'static str,
    pub flagged_orders: &'static str,
    pub inspections: &'static str,
    pub open_hazards: &'static str,
    pub overdue_hazards: &'static str,
    pub stock_variance: &'static str,
    pub items: &'static str,
    pub pass_rate_by_checklist: &'static str,
    pub pass_rate_by_place: &'static str,
    pub failures_by_asset: &'static str,
    pub nothing_yet: &'static str,
    pub documents: &'static str,
    /// The types of document the lists show (`ReviewTexts::document_type`).
    pub type_work_orders: &'static str,
    pub type_inspections: &'static str,
    pub type_stocktakes: &'static str,
    pub type_food_samples: &'static str,
    pub any_status: &'static str,
    pub more: &'static str,
    pub of_total: &'static str,
    pub device: &'static str,
    pub conflicts: &'static str,
    pub no_conflicts: &'static str,
    pub keep_this: &'static str,
    pub kept: &'static str,
    pub open_page: &'static str,
    pub hours: &'static str,
    pub minutes: &'static str,
    pub order_one: &'static str,
    pub order_many: &'static str,
    pub round_one: &'static str,
    pub round_many: &'static str,
    pub hazard_one: &'static str,
    pub hazard_many: &'static str,
    pub times: &'static str,
    pub overdue_only: &'static str,
    pub clear_filter: &'static str,
    pub none_overdue: &'static str,
    pub none_matching: &'static str,
    pub none_yet: &'static str,
}
}

const CHINESE: ReviewTexts = ReviewTexts {
    dashboard: "数据看板",
    managers_only: "数据看板供各场所的经理和管理员使用。",
    period: "时段",
    last_days: "近 {} 天",
    as_of: "截至",
    kept_from: "离线：显示的是本机保存的数据，获取于",
    minutes_ago: "分钟前",
    needs_network: "需要连接服务器（本机尚无保存的数据）",
    response_time: "报修响应（中位数）",
    completion_time: "维修完成（中位数）",
    p90: "90 分位：",
    reported: "报修",
    reported_by_public: "其中扫码报修",
    overdue_orders: "逾期工单",
    flagged_orders: "待裁决工单",
    inspections: "已提交巡检",
    open_hazards: "未整改隐患",
    overdue_hazards: "其中逾期",
    stock_variance: "盘点差异",
    items: "项",
    pass_rate_by_checklist: "各检查表合格率",
    pass_rate_by_place: "各地点合格率",
    failures_by_asset: "设备故障次数",
    nothing_yet: "本时段暂无数据",
    documents: "文档",
    type_work_orders: "工单",
    type_inspections: "巡检",
    type_stocktakes: "盘点",
    type_food_samples: "食品留样",
    any_status: "全部状态",
    more: "更多",
    of_total: "共",
    device: "设备",
    conflicts: "冲突的值",
    no_conflicts: "没有冲突。",
    keep_this: "保留这个",
    kept: "已保留，正在同步",
    open_page: "打开并处理",
    hours: "小时",
    minutes: "分钟",
    overdue_only: "已逾期",
    clear_filter: "清除筛选",
    none_overdue: "这里没有逾期的工单。",
    none_matching: "没有符合这些筛选条件的单据。",
    none_yet: "这个地点在这段时间还没有此类单据。",
    times: "次",
    order_one: "单",
    order_many: "单",
    round_one: "次",
    round_many: "次",
    hazard_one: "项",
    hazard_many: "项",
};

const ENGLISH: ReviewTexts = ReviewTexts {
    dashboard: "Dashboard",
    managers_only: "The dashboard is for the managers and administrators of a site.",
    period: "Period",
    last_days: "Last {} days",
    as_of: "As of",
    kept_from: "Offline: figures kept on this phone, fetched",
    minutes_ago: "min ago",
    needs_network: "Needs a connection to the server (nothing kept on this phone yet)",
    response_time: "Repair response (median)",
    completion_time: "Repair completion (median)",
    p90: "90th percentile:",
    reported: "Reported",
    reported_by_public: "by scan, no account:",
    overdue_orders: "Overdue work orders",
    flagged_orders: "Waiting for a decision",
    inspections: "Rounds submitted",
    open_hazards: "Open hazards",
    overdue_hazards: "of them overdue",
    stock_variance: "Stocktake variance",
    items: "items",
    pass_rate_by_checklist: "Pass rate by checklist",
    pass_rate_by_place: "Pass rate by place",
    failures_by_asset: "Failures per asset",
    nothing_yet: "Nothing in this period yet",
    documents: "Documents",
    type_work_orders: "Work orders",
    type_inspections: "Rounds",
    type_stocktakes: "Stocktakes",
    type_food_samples: "Food samples",
    any_status: "Any status",
    more: "More",
    of_total: "of",
    device: "device",
    conflicts: "Conflicting values",
    no_conflicts: "No conflicts.",
    keep_this: "Keep this",
    kept: "Kept; syncing",
    open_page: "Open to act on it",
    hours: "h",
    minutes: "min",
    overdue_only: "Overdue",
    clear_filter: "Clear filter",
    none_overdue: "No work order here is overdue.",
    none_matching: "Nothing here matches these filters.",
    none_yet: "None of these at this site yet.",
    times: "×",
    order_one: "order",
    order_many: "orders",
    round_one: "round",
    round_many: "rounds",
    hazard_one: "hazard",
    hazard_many: "hazards",
};

impl ReviewTexts {
    /// A type of document as the lists name it; catalogs and checklists are never listed.
    pub fn document_type(&self, kind: shared::document::DocumentType) -> Option<&'static str> {
        use shared::document::DocumentType;
        match kind {
            DocumentType::WorkOrder => Some(self.type_work_orders),
            DocumentType::Inspection => Some(self.type_inspections),
            DocumentType::Stocktake => Some(self.type_stocktakes),
            DocumentType::FoodSamples => Some(self.type_food_samples),
            DocumentType::SiteCatalog | DocumentType::ChecklistTemplate => None,
        }
    }

    /// A count with its unit: "3 orders", "1 order", "3 单".
    pub fn count(&self, count: usize, one: &str, many: &str) -> String {
        format!("{count} {}", if count == 1 { one } else { many })
    }

    /// A duration in hours and minutes.
    pub fn duration(&self, millis: i64) -> String {
        let minutes = millis.max(0) / 60_000;
        if minutes >= 60 {
            format!("{} {} {} {}", minutes / 60, self.hours, minutes % 60, self.minutes)
        } else {
            format!("{minutes} {}", self.minutes)
        }
    }
}

pub fn use_review_texts() -> Signal<&'static ReviewTexts> {
    crate::i18n::use_table(&CHINESE, &ENGLISH)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn every_text_is_in_both_languages_with_the_same_placeholders() {
        // The options' hint shows how an option is written: "中文 / English".
        crate::i18n::check_table(CHINESE.every_text(), ENGLISH.every_text(), &[]).unwrap();
    }
}
