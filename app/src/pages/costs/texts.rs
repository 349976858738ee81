//! The texts of what things cost, in Chinese and English.

use leptos::prelude::*;

use crate::i18n::{CurrentLanguage, Language, text_table};

text_table! {
#[derive(Debug, PartialEq, Eq)]
pub struct CostTexts {
    pub costs: &'static str,
    pub labour: &'static str,
    pub parts: &'static str,
    pub outside: &'static str,
    pub total: &'static str,
    /// Someone at work now: `{}` their name, then since when.
    pub working_since: &'static str,
    pub corrected: &'static str,
    pub no_rate: &'static str,
    pub per_hour: &'static str,
    pub nothing_costed: &'static str,
    pub correct_time: &'static str,
    pub person: &'static str,
    pub hours: &'static str,
    pub rate_optional: &'static str,
    pub rate_per_hour: &'static str,
    pub save: &'static str,
    pub add_invoice: &'static str,
    pub amount: &'static str,
    pub vendor: &'static str,
    pub note: &'static str,
    pub invoice_photo: &'static str,
    pub amount_needed: &'static str,
    pub vendor_needed: &'static str,
    pub hours_needed: &'static str,
    pub rate_needed: &'static str,
    pub choose_person: &'static str,
    pub repair_cost: &'static str,
    /// `{}`: how many orders were completed.
    pub orders_completed: &'static str,
    pub vs_before: &'static str,
    pub supply_spend: &'static str,
    pub stock_value: &'static str,
    pub cost_by_trade: &'static str,
    pub cost_by_asset: &'static str,
    pub cost_by_place: &'static str,
    pub spend_by_department: &'static str,
    pub spend_by_category: &'static str,
    pub work_orders: &'static str,
    pub not_given: &'static str,
    pub unit_price: &'static str,
    pub supplier: &'static str,
    pub price_needed: &'static str,
    pub average_cost: &'static str,
    pub labour_rates: &'static str,
    pub rates_hint: &'static str,
    pub applies_to: &'static str,
    pub everyone: &'static str,
    pub from_date: &'static str,
    pub add_rate: &'static str,
    pub remove: &'static str,
    pub no_rates: &'static str,
}
}

const CHINESE: CostTexts = CostTexts {
    costs: "费用",
    labour: "人工",
    parts: "配件",
    outside: "外包",
    total: "合计",
    working_since: "{} 施工中，自",
    corrected: "已修正",
    no_rate: "未设费率",
    per_hour: "/小时",
    nothing_costed: "暂无费用。",
    correct_time: "修正工时",
    person: "人员",
    hours: "工时（小时）",
    rate_optional: "费率（元/小时，可不填）",
    rate_per_hour: "费率（元/小时）",
    save: "保存",
    add_invoice: "添加外包发票",
    amount: "金额（元）",
    vendor: "单位",
    note: "备注",
    invoice_photo: "发票照片",
    amount_needed: "请填写大于零的金额，如 120 或 35.5。",
    vendor_needed: "请填写单位名称。",
    hours_needed: "请填写工时，如 1.5。",
    rate_needed: "费率请写成 80 或 65.5。",
    choose_person: "请选择人员。",
    repair_cost: "维修费用",
    orders_completed: "完成 {} 单",
    vs_before: "较上期",
    supply_spend: "物资领用",
    stock_value: "库存金额",
    cost_by_trade: "各类维修费用",
    cost_by_asset: "费用最高的设备",
    cost_by_place: "各地点维修费用",
    spend_by_department: "各部门领用",
    spend_by_category: "各类物资领用",
    work_orders: "维修工单",
    not_given: "未注明",
    unit_price: "单价（元）",
    supplier: "供应商",
    price_needed: "单价请写成 12 或 3.5。",
    average_cost: "均价",
    labour_rates: "工时费率",
    rates_hint: "工单人工费 = 工时 × 费率：先用个人费率，其次岗位费率，再次全员费率；新费率从起始日期起适用。",
    applies_to: "适用于",
    everyone: "全员",
    from_date: "起始日期",
    add_rate: "添加费率",
    remove: "删除",
    no_rates: "尚未设置费率：人工费按零计。",
};

const ENGLISH: CostTexts = CostTexts {
    costs: "Costs",
    labour: "Labour",
    parts: "Parts",
    outside: "Outside",
    total: "Total",
    working_since: "{} at work since",
    corrected: "corrected",
    no_rate: "no rate set",
    per_hour: "/h",
    nothing_costed: "No costs yet.",
    correct_time: "Correct time worked",
    person: "Person",
    hours: "Hours",
    rate_optional: "Rate (¥ per hour, optional)",
    rate_per_hour: "Rate (¥ per hour)",
    save: "Save",
    add_invoice: "Add a contractor's invoice",
    amount: "Amount (¥)",
    vendor: "Vendor",
    note: "Note",
    invoice_photo: "Photo of the invoice",
    amount_needed: "Enter an amount above zero, like 120 or 35.5.",
    vendor_needed: "Enter the vendor's name.",
    hours_needed: "Enter the hours, like 1.5.",
    rate_needed: "Write the rate like 80 or 65.5.",
    choose_person: "Choose a person.",
    repair_cost: "Repair cost",
    orders_completed: "{} completed",
    vs_before: "vs previous period",
    supply_spend: "Supplies issued",
    stock_value: "Stock value",
    cost_by_trade: "Repair cost by trade",
    cost_by_asset: "Assets that cost most",
    cost_by_place: "Repair cost by place",
    spend_by_department: "Issued by department",
    spend_by_category: "Issued by category",
    work_orders: "Work orders",
    not_given: "Not given",
    unit_price: "Unit price (¥)",
    supplier: "Supplier",
    price_needed: "Write the unit price like 12 or 3.5.",
    average_cost: "average",
    labour_rates: "Labour rates",
    rates_hint: "Labour on an order is hours × rate: a person's own rate first, then their role's, then everyone's; a new rate applies from its date.",
    applies_to: "For",
    everyone: "Everyone",
    from_date: "From",
    add_rate: "Add rate",
    remove: "Remove",
    no_rates: "No rates yet: labour is costed at nothing.",
};

pub fn use_cost_texts() -> Signal<&'static CostTexts> {
    let CurrentLanguage(language) = use_context().expect("provide_language() runs in App");
    Signal::derive(move || match language.get() {
        Language::Chinese => &CHINESE,
        Language::English => &ENGLISH,
    })
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn every_text_is_in_both_languages_with_the_same_placeholders() {
        crate::i18n::check_table(CHINESE.every_text(), ENGLISH.every_text(), &[]).unwrap();
    }
}
