//! The texts of meters and their readings, in Chinese and English.

use leptos::prelude::*;

use crate::i18n::text_table;

text_table! {
#[derive(Debug, PartialEq, Eq)]
pub struct MeterTexts {
    pub meters: &'static str,
    pub meters_hint: &'static str,
    pub no_meters: &'static str,
    /// Electricity, water, gas, running hours, a reading: `MeterKind::ALL`'s order.
    pub kinds: [&'static str; 5],
    pub meter_not_here: &'static str,
    pub new_reading: &'static str,
    pub value: &'static str,
    pub save_reading: &'static str,
    pub value_needed: &'static str,
    /// `{}`: the last reading.
    pub doubt_lower: &'static str,
    /// `{}`: the last reading.
    pub doubt_jump: &'static str,
    /// `{}`: the limits, e.g. "2–8 °C".
    pub limits: &'static str,
    /// `{}`: the limits.
    pub saved_out_of_limits: &'static str,
    pub saved: &'static str,
    pub last_reading: &'static str,
    pub no_readings: &'static str,
    pub readings: &'static str,
    pub from_round: &'static str,
    pub series: &'static str,
    pub usage: &'static str,
    /// `{}`: the most, e.g. "500 kWh per month".
    pub usage_limit: &'static str,
    /// Per day, week, month: `Per::ALL`'s order.
    pub per: [&'static str; 3],
    /// Day, week, month as a period's name.
    pub periods: [&'static str; 3],
    pub over_limit: &'static str,
    pub out_of_limits: &'static str,
    /// `{}`: how many readings in a row.
    pub run_of: &'static str,
    /// `{}`: how many readings out of limits in a row raise an order.
    pub alarm_rule: &'static str,
    pub order_raised: &'static str,
    pub runs: &'static str,
    pub read_meter: &'static str,
    pub not_yours: &'static str,
    pub raised_by_meter: &'static str,
    pub energy: &'static str,
    pub energy_hint: &'static str,
    pub year_before: &'static str,
    /// `{}`: the share saved, e.g. "12.5%".
    pub saved_share: &'static str,
    /// `{}`: the share used above a year before.
    pub more_share: &'static str,
    pub not_compared: &'static str,
    // The administrator's card.
    pub add_meter: &'static str,
    pub name: &'static str,
    pub asset: &'static str,
    pub kind: &'static str,
    pub unit: &'static str,
    pub tag: &'static str,
    pub low: &'static str,
    pub high: &'static str,
    pub alarm_after: &'static str,
    pub usage_most: &'static str,
    pub round_item: &'static str,
    pub no_round_item: &'static str,
    pub name_needed: &'static str,
    pub asset_needed: &'static str,
    pub number_needed: &'static str,
    pub limits_order: &'static str,
    pub alarm_range: &'static str,
    pub remove: &'static str,
    pub print_labels: &'static str,
}
}

const CHINESE: MeterTexts = MeterTexts {
    meters: "仪表读数",
    meters_hint: "电表、水表、燃气表、运行小时和巡检读数（温度、压力）。扫描仪表标签即可录入读数。",
    no_meters: "还没有仪表。管理员可在站点管理页添加。",
    kinds: ["电表", "水表", "燃气表", "运行小时", "读数"],
    meter_not_here: "本机没有这个仪表。",
    new_reading: "录入读数",
    value: "读数",
    save_reading: "保存读数",
    value_needed: "请输入数字读数，例如 12.5。",
    doubt_lower: "比上次读数（{}）还低：是换了新表吗？读数保存后不能修改，仍然保存？",
    doubt_jump: "比上次读数（{}）高出很多，远超平常用量：是否多输了一位？读数保存后不能修改，仍然保存？",
    limits: "正常范围 {}",
    saved_out_of_limits: "已保存——读数超出正常范围（{}）。",
    saved: "读数已保存。",
    last_reading: "最近读数",
    no_readings: "还没有读数。",
    readings: "读数记录",
    from_round: "巡检",
    series: "读数走势",
    usage: "用量",
    usage_limit: "用量上限 {}",
    per: ["每天", "每周", "每月"],
    periods: ["日", "周", "月"],
    over_limit: "超出上限",
    out_of_limits: "超出范围",
    run_of: "连续 {} 次",
    alarm_rule: "连续 {} 次超出范围即自动生成工单",
    order_raised: "已生成工单",
    runs: "超范围记录",
    read_meter: "录入读数",
    not_yours: "仪表读数由巡检、宿管、维修人员和经理录入。",
    raised_by_meter: "仪表告警",
    energy: "能耗",
    energy_hint: "与去年同期（52 周前）相比；只比较两段时间都有读数的仪表。",
    year_before: "去年同期",
    saved_share: "节约 {}",
    more_share: "多用 {}",
    not_compared: "无去年同期读数",
    add_meter: "添加仪表",
    name: "名称",
    asset: "所属设备",
    kind: "类型",
    unit: "单位",
    tag: "标签编码",
    low: "下限",
    high: "上限",
    alarm_after: "连续超限几次生成工单",
    usage_most: "用量上限",
    round_item: "巡检读数项",
    no_round_item: "不从巡检读取",
    name_needed: "请填写仪表名称。",
    asset_needed: "请选择所属设备。",
    number_needed: "请输入数字，例如 12.5。",
    limits_order: "上限不能低于下限。",
    alarm_range: "请输入 1 到 30 之间的次数。",
    remove: "删除",
    print_labels: "打印仪表二维码标签",
};

const ENGLISH: MeterTexts = MeterTexts {
    meters: "Meters",
    meters_hint: "Electricity, water and gas meters, running hours and readings taken on rounds (temperatures, pressures). Scan a meter's label to enter a reading.",
    no_meters: "No meters yet. An administrator adds them on the site's page.",
    kinds: ["Electricity", "Water", "Gas", "Running hours", "Reading"],
    meter_not_here: "This meter is not on this phone.",
    new_reading: "New reading",
    value: "Reading",
    save_reading: "Save reading",
    value_needed: "Enter the reading as a number, e.g. 12.5.",
    doubt_lower: "Lower than the last reading ({}): a new meter? A saved reading cannot be changed. Save it anyway?",
    doubt_jump: "Far above the last reading ({}) for the usual use: a digit too many? A saved reading cannot be changed. Save it anyway?",
    limits: "Normal {}",
    saved_out_of_limits: "Saved — the reading is out of limits ({}).",
    saved: "Reading saved.",
    last_reading: "Last reading",
    no_readings: "No readings yet.",
    readings: "Readings",
    from_round: "round",
    series: "Trend",
    usage: "Use",
    usage_limit: "Limit {}",
    per: ["per day", "per week", "per month"],
    periods: ["Day", "Week", "Month"],
    over_limit: "Over the limit",
    out_of_limits: "Out of limits",
    run_of: "{} in a row",
    alarm_rule: "{} readings out of limits in a row raise a work order",
    order_raised: "Work order raised",
    runs: "Out of limits",
    read_meter: "Enter a reading",
    not_yours: "Meter readings are entered by inspectors, dorm staff, technicians and managers.",
    raised_by_meter: "Meter alarm",
    energy: "Energy",
    energy_hint: "Against the same weeks a year before; only meters read in both are compared.",
    year_before: "A year before",
    saved_share: "{} saved",
    more_share: "{} more",
    not_compared: "No readings a year before",
    add_meter: "Add a meter",
    name: "Name",
    asset: "Asset",
    kind: "Kind",
    unit: "Unit",
    tag: "Label code",
    low: "Low limit",
    high: "High limit",
    alarm_after: "Readings out of limits in a row that raise an order",
    usage_most: "Use limit",
    round_item: "Read on rounds as",
    no_round_item: "Not read on rounds",
    name_needed: "Give the meter a name.",
    asset_needed: "Choose the asset it is on.",
    number_needed: "Enter a number, e.g. 12.5.",
    limits_order: "The high limit cannot be below the low one.",
    alarm_range: "Enter a count from 1 to 30.",
    remove: "Remove",
    print_labels: "Print the meters' QR labels",
};

pub fn use_meter_texts() -> Signal<&'static MeterTexts> {
    crate::i18n::use_table(&CHINESE, &ENGLISH)
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
