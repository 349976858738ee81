//! The checklists a new site starts with: fire safety, electrical, canteen food safety and
//! the dormitory room check, in Chinese and English. Admins edit them like any template.

use super::EntryId;
use super::template::{Checklist, ChecklistItem, ItemKind, Label, Section};

/// One row of a seed: section, item id, Chinese, English, kind, required, photo on fail.
type Row = (&'static str, &'static str, &'static str, &'static str, Kind, bool, bool);

/// Item kinds as seeds spell them.
#[derive(Clone, Copy)]
enum Kind {
    PassFail,
    /// Unit and limits in whole units.
    Number(&'static str, Option<i64>, Option<i64>),
    Text,
    /// Clean / acceptable / dirty, the last failing.
    Hygiene,
    Photo,
    Signature,
}

fn build(name: Label, category: &str, sections: &[(&str, &str, &str)], rows: &[Row]) -> Checklist {
    let id = |text: &str| EntryId::parse(text).expect("seed ids are valid");
    let sections = sections
        .iter()
        .enumerate()
        .map(|(order, (section, zh, en))| Section { id: id(section), order: order as i64, title: Label::new(zh, en) })
        .collect();
    let items = rows
        .iter()
        .enumerate()
        .map(|(order, (section, item, zh, en, kind, required, photo_on_fail))| ChecklistItem {
            id: id(item),
            section: id(section),
            order: order as i64,
            label: Label::new(zh, en),
            kind: match kind {
                Kind::PassFail => ItemKind::PassFail,
                Kind::Number(unit, min, max) => {
                    ItemKind::Number { unit: (*unit).to_owned(), min: min.map(|units| units * 1000), max: max.map(|units| units * 1000) }
                }
                Kind::Text => ItemKind::Text,
                Kind::Hygiene => ItemKind::Choice {
                    options: vec![
                        (id("clean"), Label::new("整洁", "Clean")),
                        (id("acceptable"), Label::new("一般", "Acceptable")),
                        (id("dirty"), Label::new("脏乱", "Dirty")),
                    ],
                    failing: vec![id("dirty")],
                },
                Kind::Photo => ItemKind::Photo,
                Kind::Signature => ItemKind::Signature,
            },
            required: *required,
            photo_on_fail: *photo_on_fail,
            weight: None,
        })
        .collect();
    Checklist { name, category: category.to_owned(), version: 1, sections, items }
}

/// Monthly fire-safety round: extinguishers, hydrants, exits, alarms.
pub fn fire_safety() -> Checklist {
    build(
        Label::new("消防安全巡检", "Fire safety round"),
        "fire_safety",
        &[
            ("extinguishers", "灭火器", "Extinguishers"),
            ("exits", "疏散通道", "Escape routes"),
            ("alarms", "报警与照明", "Alarms and lighting"),
        ],
        &[
            (
                "extinguishers",
                "extinguisher-present",
                "灭火器在位、数量齐全",
                "Extinguishers in place and complete",
                Kind::PassFail,
                true,
                true,
            ),
            (
                "extinguishers",
                "extinguisher-pressure",
                "灭火器压力 (MPa)",
                "Extinguisher pressure (MPa)",
                Kind::Number("MPa", Some(1), Some(2)),
                true,
                true,
            ),
            ("extinguishers", "extinguisher-seal", "铅封完好、未过期", "Seal intact, within service date", Kind::PassFail, true, true),
            ("extinguishers", "hydrant", "消火栓箱完好、水带齐全", "Hydrant cabinet intact, hose complete", Kind::PassFail, true, true),
            ("exits", "exits-clear", "疏散通道畅通无堵塞", "Escape routes clear", Kind::PassFail, true, true),
            ("exits", "fire-doors", "防火门常闭、闭门器有效", "Fire doors closed, closers work", Kind::PassFail, true, true),
            ("exits", "exit-signs", "安全出口标志完好", "Exit signs intact", Kind::PassFail, true, false),
            ("alarms", "emergency-lighting", "应急照明测试正常", "Emergency lighting tested", Kind::PassFail, true, true),
            ("alarms", "alarm-panel", "火灾报警控制器无故障", "Fire alarm panel shows no fault", Kind::PassFail, true, true),
            ("alarms", "remarks", "其他情况", "Other observations", Kind::Text, false, false),
            ("alarms", "signature", "检查人签名", "Inspector's signature", Kind::Signature, true, false),
        ],
    )
}

/// Electrical safety round of a distribution room or floor.
pub fn electrical() -> Checklist {
    build(
        Label::new("用电安全巡检", "Electrical safety round"),
        "electrical",
        &[("room", "配电房", "Distribution room"), ("floor", "楼层用电", "Floor wiring")],
        &[
            ("room", "room-locked", "配电房上锁、无杂物", "Room locked, free of clutter", Kind::PassFail, true, true),
            ("room", "cabinet-temperature", "配电柜温度 (°C)", "Cabinet temperature (°C)", Kind::Number("°C", None, Some(60)), true, true),
            ("room", "insulation-mats", "绝缘垫、绝缘手套完好", "Insulating mats and gloves intact", Kind::PassFail, true, false),
            ("room", "breakers-labelled", "开关标识清晰", "Breakers clearly labelled", Kind::PassFail, true, false),
            ("floor", "no-overload", "无私拉乱接、插座不过载", "No improvised wiring or overloaded sockets", Kind::PassFail, true, true),
            ("floor", "rcd-test", "漏电保护器试跳正常", "Residual-current devices trip on test", Kind::PassFail, true, true),
            ("floor", "remarks", "其他情况", "Other observations", Kind::Text, false, false),
        ],
    )
}

/// Daily canteen food-safety check.
pub fn canteen_food_safety() -> Checklist {
    build(
        Label::new("食堂食品安全检查", "Canteen food safety check"),
        "food_safety",
        &[("storage", "储存", "Storage"), ("kitchen", "加工区", "Kitchen"), ("staff", "人员", "Staff")],
        &[
            (
                "storage",
                "fridge-temperature",
                "冷藏温度 (°C)",
                "Refrigerator temperature (°C)",
                Kind::Number("°C", Some(0), Some(8)),
                true,
                true,
            ),
            (
                "storage",
                "freezer-temperature",
                "冷冻温度 (°C)",
                "Freezer temperature (°C)",
                Kind::Number("°C", None, Some(-18)),
                true,
                true,
            ),
            ("storage", "raw-cooked-separated", "生熟分开存放", "Raw and cooked food stored apart", Kind::PassFail, true, true),
            ("storage", "dates", "食材在保质期内、标签齐全", "Ingredients within date and labelled", Kind::PassFail, true, true),
            ("kitchen", "cleanliness", "操作台及地面卫生", "Work surfaces and floor", Kind::Hygiene, true, true),
            ("kitchen", "samples", "留样 48 小时、记录完整", "48-hour food samples kept and logged", Kind::PassFail, true, false),
            ("kitchen", "pests", "无虫害迹象", "No sign of pests", Kind::PassFail, true, true),
            ("staff", "health-certificates", "从业人员健康证有效", "Staff health certificates valid", Kind::PassFail, true, false),
            ("staff", "protective-wear", "穿戴工作服、帽、口罩", "Uniform, cap and mask worn", Kind::PassFail, true, false),
            ("staff", "photo", "现场照片", "Photo of the kitchen", Kind::Photo, false, false),
        ],
    )
}

/// Room-by-room dormitory check.
pub fn dorm_room() -> Checklist {
    build(
        Label::new("宿舍房间检查", "Dormitory room check"),
        "dorm_room",
        &[("room", "房间", "Room")],
        &[
            ("room", "hygiene", "卫生状况", "Hygiene", Kind::Hygiene, true, true),
            ("room", "no-prohibited-appliances", "无违章电器", "No prohibited appliances", Kind::PassFail, true, true),
            ("room", "no-damage", "门窗家具无损坏", "Doors, windows and furniture undamaged", Kind::PassFail, true, true),
            ("room", "smoke-detector", "烟感完好", "Smoke detector intact", Kind::PassFail, true, true),
            ("room", "occupants", "在住人数", "Occupants present", Kind::Number("人", Some(0), Some(8)), true, false),
            ("room", "remarks", "备注", "Remarks", Kind::Text, false, false),
        ],
    )
}

/// Every seed checklist.
pub fn all() -> Vec<Checklist> {
    vec![fire_safety(), electrical(), canteen_food_safety(), dorm_room()]
}
