//! The texts of a canteen's food samples, in Chinese and English.

use leptos::prelude::*;

use crate::i18n::text_table;

text_table! {
#[derive(Debug, PartialEq, Eq)]
pub struct SampleTexts {
    pub food_samples: &'static str,
    pub start_meal: &'static str,
    pub canteen: &'static str,
    pub meal: &'static str,
    /// Breakfast, lunch, dinner, other: the meals `MEALS` names.
    pub meal_names: [&'static str; 4],
    pub date: &'static str,
    pub start: &'static str,
    pub meals_here: &'static str,
    pub no_meals: &'static str,
    /// `{}`: how many samples.
    pub samples_count: &'static str,
    pub to_discard: &'static str,
    pub add_sample: &'static str,
    pub dish: &'static str,
    pub grams: &'static str,
    pub storage: &'static str,
    pub photo: &'static str,
    pub save: &'static str,
    pub grams_needed: &'static str,
    pub dish_needed: &'static str,
    pub storage_needed: &'static str,
    pub canteen_needed: &'static str,
    pub keep_until: &'static str,
    pub discard: &'static str,
    pub discard_confirm: &'static str,
    pub keeping: &'static str,
    pub state_to_discard: &'static str,
    pub discard_overdue: &'static str,
    pub discarded: &'static str,
    pub discarded_early: &'static str,
    pub export: &'static str,
    pub meal_not_here: &'static str,
    pub rules: &'static str,
    pub not_yours: &'static str,
}
}

const CHINESE: SampleTexts = SampleTexts {
    food_samples: "食品留样",
    start_meal: "开始本餐留样",
    canteen: "食堂",
    meal: "餐次",
    meal_names: ["早餐", "午餐", "晚餐", "其他"],
    date: "日期",
    start: "开始",
    meals_here: "留样记录",
    no_meals: "本机还没有留样记录。",
    samples_count: "{} 份",
    to_discard: "待处理留样",
    add_sample: "添加留样",
    dish: "菜品",
    grams: "重量（克）",
    storage: "存放位置",
    photo: "照片",
    save: "保存",
    grams_needed: "每份留样不少于 125 克。",
    dish_needed: "请填写菜品名称。",
    storage_needed: "请选择存放位置（留样冰箱）。",
    canteen_needed: "请选择食堂。",
    keep_until: "保存至",
    discard: "处理",
    discard_confirm: "确认这份留样已销毁？",
    keeping: "留存中",
    state_to_discard: "可处理",
    discard_overdue: "逾期未处理",
    discarded: "已处理",
    discarded_early: "未满 48 小时即处理",
    export: "导出留样台账（CSV）",
    meal_not_here: "本机没有这份留样记录。",
    rules: "每个菜品留样不少于 125 克，密封冷藏保存 48 小时后方可处理。",
    not_yours: "食品留样由安全员和经理记录。",
};

const ENGLISH: SampleTexts = SampleTexts {
    food_samples: "Food samples",
    start_meal: "Start a meal's samples",
    canteen: "Canteen",
    meal: "Meal",
    meal_names: ["Breakfast", "Lunch", "Dinner", "Other"],
    date: "Date",
    start: "Start",
    meals_here: "Meals sampled",
    no_meals: "No meals sampled on this phone yet.",
    samples_count: "{} samples",
    to_discard: "Samples to discard",
    add_sample: "Add a sample",
    dish: "Dish",
    grams: "Weight (g)",
    storage: "Kept in",
    photo: "Photo",
    save: "Save",
    grams_needed: "Each sample weighs at least 125 g.",
    dish_needed: "Enter the dish.",
    storage_needed: "Choose where it is kept (the sample fridge).",
    canteen_needed: "Choose the canteen.",
    keep_until: "Keep until",
    discard: "Discard",
    discard_confirm: "Has this sample been thrown away?",
    keeping: "Keeping",
    state_to_discard: "To discard",
    discard_overdue: "Overdue",
    discarded: "Discarded",
    discarded_early: "Discarded before 48 h",
    export: "Export the samples log (CSV)",
    meal_not_here: "This meal's samples are not on this phone.",
    rules: "Keep at least 125 g of every dish, sealed and cold, for 48 hours before discarding it.",
    not_yours: "Food samples are recorded by inspectors and managers.",
};

pub fn use_sample_texts() -> Signal<&'static SampleTexts> {
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
