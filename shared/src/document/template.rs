//! Checklist templates: sections and items an inspector answers, in Chinese and English.
//!
//! A template is a document, so admins edit it offline and edits merge. `version` counts
//! publications; an inspection copies the items of the version it started from, so a
//! round in progress never changes under the inspector's feet.
//!
//! Layout: header; `name` and `category` (scalars; the name as `name_zh`, `name_en`);
//! `version`; `sections` and `items` (maps keyed by id, each with an `order`).

use automerge::transaction::Transactable as _;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc as _, Value};

use super::{DocumentError, DocumentType, Edit, EntryId, Fields, Header, commit, invalid, map_at, put, put_map, read_root};
use crate::directory::{Role, SiteId};

/// A text in both interface languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    pub fn new(zh: &str, en: &str) -> Label {
        Label { zh: zh.to_owned(), en: en.to_owned() }
    }
}

/// What kind of answer an item takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// Pass, fail or not applicable.
    PassFail,
    /// A reading; outside `[min, max]` (thousandths of `unit`) it fails.
    Number {
        unit: String,
        min: Option<i64>,
        max: Option<i64>,
    },
    Text,
    /// One of several options; those listed in `failing` fail the item.
    Choice {
        options: Vec<(EntryId, Label)>,
        failing: Vec<EntryId>,
    },
    Photo,
    Signature,
}

impl ItemKind {
    pub const fn name(&self) -> &'static str {
        match self {
            ItemKind::PassFail => "pass_fail",
            ItemKind::Number { .. } => "number",
            ItemKind::Text => "text",
            ItemKind::Choice { .. } => "choice",
            ItemKind::Photo => "photo",
            ItemKind::Signature => "signature",
        }
    }
}

/// One question of a checklist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecklistItem {
    pub id: EntryId,
    pub section: EntryId,
    pub order: i64,
    pub label: Label,
    pub kind: ItemKind,
    pub required: bool,
    /// A failed answer needs at least one photo before the inspection can be submitted.
    pub photo_on_fail: bool,
    /// Weight in the score; items without one weigh 1.
    pub weight: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub id: EntryId,
    pub order: i64,
    pub title: Label,
}

super::text_enum! {
    /// What a checklist is about: it decides who walks its rounds and the trade a failed
    /// item's repair needs. Stored as text (`Checklist::category`); a value this release
    /// does not know reads as no category ([`Checklist::known_category`]).
    pub enum ChecklistCategory as "category" {
        FireSafety = "fire_safety",
        Electrical = "electrical",
        FoodSafety = "food_safety",
        DormRoom = "dorm_room",
        General = "general",
    }
}

impl ChecklistCategory {
    /// Whether a round of this category started at a building or floor goes room by room
    /// (every room inside it), as dorm checks do.
    pub const fn walks_room_by_room(self) -> bool {
        matches!(self, ChecklistCategory::DormRoom)
    }

    /// Whether someone with `role` at a site walks its rounds of a checklist of `category`:
    /// dorm staff check dormitory rooms and nothing else, inspectors everything else
    /// (a category this release does not know included), managers and administrators
    /// everything; technicians and storekeepers walk none.
    pub fn walked_by(category: Option<ChecklistCategory>, role: Role) -> bool {
        let dorm_room = category == Some(ChecklistCategory::DormRoom);
        match role {
            Role::DormStaff => dorm_room,
            Role::Inspector => !dorm_room,
            Role::Manager | Role::Admin => true,
            Role::Technician | Role::Storekeeper => false,
        }
    }
}

/// A checklist's content: what an inspection copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checklist {
    pub name: Label,
    /// A [`ChecklistCategory`] as stored.
    pub category: String,
    pub version: i64,
    /// In order.
    pub sections: Vec<Section>,
    /// In order: by section order, then item order, then id.
    pub items: Vec<ChecklistItem>,
}

impl Checklist {
    /// `item` moved one place up or down among its section's items: it and its neighbour
    /// with the orders that swap them, to write both. Equal orders (two phones adding at
    /// once) sort by id, so they are set apart with the moved item on the side it goes to.
    /// `None` at the section's edge, or for an item not in the checklist.
    pub fn move_item(&self, item: &EntryId, up: bool) -> Option<(ChecklistItem, ChecklistItem)> {
        let section = &self.items.iter().find(|other| other.id == *item)?.section;
        let siblings: Vec<&ChecklistItem> = self.items.iter().filter(|other| other.section == *section).collect();
        let at = siblings.iter().position(|other| other.id == *item)?;
        let neighbour = if up { at.checked_sub(1)? } else { at + 1 };
        let (mut moved, mut other) = (siblings[at].clone(), (*siblings.get(neighbour)?).clone());
        if moved.order == other.order {
            (moved.order, other.order) = if up { (other.order, other.order + 1) } else { (other.order + 1, other.order) };
        } else {
            std::mem::swap(&mut moved.order, &mut other.order);
        }
        Some((moved, other))
    }

    /// The category, if it is one this release knows.
    pub fn known_category(&self) -> Option<ChecklistCategory> {
        ChecklistCategory::parse(&self.category).ok()
    }
}

impl Checklist {
    pub fn item(&self, id: &EntryId) -> Option<&ChecklistItem> {
        self.items.iter().find(|item| &item.id == id)
    }

    fn sort(&mut self) {
        self.sections.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        let section_order = |id: &EntryId| self.sections.iter().position(|section| &section.id == id).unwrap_or(usize::MAX);
        let mut items = std::mem::take(&mut self.items);
        items.sort_by(|a, b| (section_order(&a.section), a.order, &a.id).cmp(&(section_order(&b.section), b.order, &b.id)));
        self.items = items;
    }
}

/// Checks what [`write_checklist`] would write: items in known sections, limits in order.
fn check_consistent(checklist: &Checklist) -> Result<(), DocumentError> {
    for item in &checklist.items {
        if !checklist.sections.iter().any(|section| section.id == item.section) {
            return Err(invalid("item section", item.section.as_str(), "the id of one of the checklist's sections"));
        }
        check_item(item)?;
    }
    Ok(())
}

fn check_item(item: &ChecklistItem) -> Result<(), DocumentError> {
    if let ItemKind::Number { min: Some(min), max: Some(max), .. } = item.kind
        && min > max
    {
        return Err(invalid("limits", &format!("{min}..{max}"), "a minimum no larger than the maximum"));
    }
    if let Some(weight) = item.weight
        && weight < 0
    {
        return Err(invalid("weight", &weight.to_string(), "zero or more"));
    }
    Ok(())
}

/// Writes a checklist's fields into `object` (a template's root, its draft, or an
/// inspection's copy).
pub(crate) fn write_checklist(doc: &mut AutoCommit, object: &ObjId, checklist: &Checklist) -> Result<(), DocumentError> {
    check_consistent(checklist)?;
    put(doc, object, "name_zh", checklist.name.zh.as_str());
    put(doc, object, "name_en", checklist.name.en.as_str());
    put(doc, object, "category", checklist.category.as_str());
    put(doc, object, "version", checklist.version);
    let sections = put_map(doc, object, "sections");
    for section in &checklist.sections {
        let map = put_map(doc, &sections, section.id.as_str());
        write_section(doc, &map, section);
    }
    let items = put_map(doc, object, "items");
    for item in &checklist.items {
        let map = put_map(doc, &items, item.id.as_str());
        write_item(doc, &map, item);
    }
    Ok(())
}

fn write_section(doc: &mut AutoCommit, map: &ObjId, section: &Section) {
    put(doc, map, "order", section.order);
    put(doc, map, "title_zh", section.title.zh.as_str());
    put(doc, map, "title_en", section.title.en.as_str());
}

/// Writes an item's fields into its map, removing those its kind no longer has, so the
/// same map can be rewritten as the item changes.
fn write_item(doc: &mut AutoCommit, map: &ObjId, item: &ChecklistItem) {
    put(doc, map, "section", item.section.as_str());
    put(doc, map, "order", item.order);
    put(doc, map, "label_zh", item.label.zh.as_str());
    put(doc, map, "label_en", item.label.en.as_str());
    put(doc, map, "kind", item.kind.name());
    put(doc, map, "required", item.required);
    put(doc, map, "photo_on_fail", item.photo_on_fail);
    let mut stale: Vec<&str> = vec!["weight", "unit", "min", "max", "options"];
    let mut keep = |key: &str| stale.retain(|stale| *stale != key);
    if let Some(weight) = item.weight {
        put(doc, map, "weight", weight);
        keep("weight");
    }
    match &item.kind {
        ItemKind::Number { unit, min, max } => {
            put(doc, map, "unit", unit.as_str());
            keep("unit");
            for (key, limit) in [("min", min), ("max", max)] {
                if let Some(limit) = limit {
                    put(doc, map, key, *limit);
                    keep(key);
                }
            }
        }
        ItemKind::Choice { options, failing } => {
            let options_map = put_map(doc, map, "options");
            keep("options");
            for (index, (id, label)) in options.iter().enumerate() {
                let option = put_map(doc, &options_map, id.as_str());
                put(doc, &option, "order", index as i64);
                put(doc, &option, "label_zh", label.zh.as_str());
                put(doc, &option, "label_en", label.en.as_str());
                put(doc, &option, "fails", failing.contains(id));
            }
        }
        ItemKind::PassFail | ItemKind::Text | ItemKind::Photo | ItemKind::Signature => {}
    }
    for key in stale {
        if doc.get(map, key).ok().flatten().is_some() {
            doc.delete(map, key).expect("deleting a key of this document");
        }
    }
}

fn label(fields: &Fields<'_>, prefix: &str) -> Result<Label, DocumentError> {
    Ok(Label { zh: fields.str(&format!("{prefix}_zh"))?, en: fields.str(&format!("{prefix}_en"))? })
}

/// Reads one item of a checklist.
pub(crate) fn read_item(id: EntryId, item: &Fields<'_>) -> Result<ChecklistItem, DocumentError> {
    let kind = match item.str("kind")?.as_str() {
        "pass_fail" => ItemKind::PassFail,
        "number" => ItemKind::Number {
            unit: item.optional_str("unit")?.unwrap_or_default(),
            min: item.optional_i64("min")?,
            max: item.optional_i64("max")?,
        },
        "text" => ItemKind::Text,
        "choice" => {
            let mut options =
                item.entries("options", |id, option| Ok((option.i64("order")?, id, label(option, "label")?, option.bool("fails")?)))?;
            options.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let failing = options.iter().filter(|option| option.3).map(|option| option.1.clone()).collect();
            ItemKind::Choice { options: options.into_iter().map(|(_, id, label, _)| (id, label)).collect(), failing }
        }
        "photo" => ItemKind::Photo,
        "signature" => ItemKind::Signature,
        other => return Err(invalid(&item.path("kind"), other, "pass_fail, number, text, choice, photo or signature")),
    };
    Ok(ChecklistItem {
        id,
        section: item.id("section")?,
        order: item.i64("order")?,
        label: label(item, "label")?,
        kind,
        required: item.bool("required")?,
        photo_on_fail: item.bool("photo_on_fail")?,
        weight: item.optional_i64("weight")?,
    })
}

/// Reads a checklist from the fields of a template's root or an inspection's copy.
pub(crate) fn read_checklist(fields: &Fields<'_>) -> Result<Checklist, DocumentError> {
    let sections =
        fields.entries("sections", |id, section| Ok(Section { id, order: section.i64("order")?, title: label(section, "title")? }))?;
    let items = fields.entries("items", read_item)?;
    let mut checklist =
        Checklist { name: label(fields, "name")?, category: fields.str("category")?, version: fields.i64("version")?, sections, items };
    checklist.sort();
    Ok(checklist)
}

/// A checklist template document.
pub struct ChecklistTemplate {
    doc: AutoCommit,
}

super::typed_document!(ChecklistTemplate, (Header, Checklist));

impl ChecklistTemplate {
    pub fn create(actor: ActorId, site: &SiteId, checklist: &Checklist, edit: &Edit) -> Result<ChecklistTemplate, DocumentError> {
        let header = Header {
            document_type: DocumentType::ChecklistTemplate,
            schema: DocumentType::ChecklistTemplate.current_schema(),
            site: site.clone(),
            created_by: edit.user.clone(),
            created_at: edit.at,
        };
        let mut doc = super::create(actor, &header);
        write_checklist(&mut doc, &ROOT, checklist)?;
        commit(&mut doc, edit, "created template");
        Ok(ChecklistTemplate { doc })
    }

    /// A new template with nothing published yet: an empty version 0, and a draft with
    /// the given names and one section to put items in.
    pub fn create_draft(
        actor: ActorId,
        site: &SiteId,
        name: &Label,
        category: &str,
        first_section: Section,
        edit: &Edit,
    ) -> Result<ChecklistTemplate, DocumentError> {
        let unpublished =
            Checklist { name: name.clone(), category: category.to_owned(), version: 0, sections: Vec::new(), items: Vec::new() };
        let mut template = ChecklistTemplate::create(actor, site, &unpublished, edit)?;
        let draft = Checklist { sections: vec![first_section], ..unpublished };
        let map = put_map(&mut template.doc, &ROOT, DRAFT);
        write_checklist(&mut template.doc, &map, &draft)?;
        commit(&mut template.doc, edit, "started a draft");
        Ok(template)
    }

    /// The published checklist: what rounds start from. Version 0 has never been published.
    pub fn read_doc(doc: &AutoCommit) -> Result<(Header, Checklist), DocumentError> {
        let (header, root) = read_root(doc, DocumentType::ChecklistTemplate)?;
        Ok((header, read_checklist(&root)?))
    }

    /// The checklist being edited: the draft, or the published one if nobody has started
    /// editing since. Its `version` is the published version it will follow.
    pub fn draft(&self) -> Result<Checklist, DocumentError> {
        let (_, root) = read_root(&self.doc, DocumentType::ChecklistTemplate)?;
        let published = root.i64("version")?;
        let mut draft = match root.optional_map(DRAFT)? {
            Some(_) => read_checklist(&root.fields(DRAFT)?)?,
            None => read_checklist(&root)?,
        };
        draft.version = published;
        Ok(draft)
    }

    /// The draft's map, made from the published checklist the first time it is edited.
    fn draft_map(&mut self, edit: &Edit) -> Result<ObjId, DocumentError> {
        if let Some((Value::Object(ObjType::Map), map)) = self.doc.get(&ROOT, DRAFT)? {
            return Ok(map);
        }
        let (_, published) = self.read()?;
        let map = put_map(&mut self.doc, &ROOT, DRAFT);
        write_checklist(&mut self.doc, &map, &published)?;
        commit(&mut self.doc, edit, "started a draft");
        Ok(map)
    }

    /// Renames the draft or changes its category.
    pub fn set_names(&mut self, name: &Label, category: &str, edit: &Edit) -> Result<(), DocumentError> {
        let draft = self.draft_map(edit)?;
        put(&mut self.doc, &draft, "name_zh", name.zh.as_str());
        put(&mut self.doc, &draft, "name_en", name.en.as_str());
        put(&mut self.doc, &draft, "category", category);
        commit(&mut self.doc, edit, "renamed the draft");
        Ok(())
    }

    /// Adds a section to the draft, or changes one.
    pub fn put_section(&mut self, section: &Section, edit: &Edit) -> Result<(), DocumentError> {
        let draft = self.draft_map(edit)?;
        let sections = map_at(&self.doc, &draft, "sections", "draft sections")?;
        let map = self.entry_map(&sections, section.id.as_str());
        write_section(&mut self.doc, &map, section);
        commit(&mut self.doc, edit, "section");
        Ok(())
    }

    /// Adds an item to the draft, or changes one (field by field, so two admins editing
    /// different fields of one item keep both).
    pub fn put_item(&mut self, item: &ChecklistItem, edit: &Edit) -> Result<(), DocumentError> {
        check_item(item)?;
        let draft = self.draft_map(edit)?;
        let sections = map_at(&self.doc, &draft, "sections", "draft sections")?;
        if self.doc.get(&sections, item.section.as_str())?.is_none() {
            return Err(invalid("item section", item.section.as_str(), "the id of one of the checklist's sections"));
        }
        let items = map_at(&self.doc, &draft, "items", "draft items")?;
        let map = self.entry_map(&items, item.id.as_str());
        write_item(&mut self.doc, &map, item);
        commit(&mut self.doc, edit, "item");
        Ok(())
    }

    /// Removes an item from the draft.
    pub fn remove_item(&mut self, id: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        let draft = self.draft_map(edit)?;
        let items = map_at(&self.doc, &draft, "items", "draft items")?;
        if self.doc.get(&items, id.as_str())?.is_some() {
            self.doc.delete(&items, id.as_str())?;
            commit(&mut self.doc, edit, "removed an item");
        }
        Ok(())
    }

    /// Removes a section and the items in it from the draft.
    pub fn remove_section(&mut self, id: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        let draft = self.draft()?;
        let map = self.draft_map(edit)?;
        let items = map_at(&self.doc, &map, "items", "draft items")?;
        for item in draft.items.iter().filter(|item| &item.section == id) {
            self.doc.delete(&items, item.id.as_str())?;
        }
        let sections = map_at(&self.doc, &map, "sections", "draft sections")?;
        if self.doc.get(&sections, id.as_str())?.is_some() {
            self.doc.delete(&sections, id.as_str())?;
        }
        commit(&mut self.doc, edit, "removed a section");
        Ok(())
    }

    fn entry_map(&mut self, parent: &ObjId, key: &str) -> ObjId {
        match self.doc.get(parent, key).ok().flatten() {
            Some((Value::Object(ObjType::Map), map)) => map,
            _ => put_map(&mut self.doc, parent, key),
        }
    }

    /// Publishes the draft as the next version: rounds started from now on copy it;
    /// rounds in progress keep the version they copied. A checklist with no items, an
    /// unnamed one, or a choice with fewer than two options is refused.
    pub fn publish(&mut self, edit: &Edit) -> Result<i64, DocumentError> {
        let mut checklist = self.draft()?;
        check_publishable(&checklist)?;
        checklist.version += 1;
        write_checklist(&mut self.doc, &ROOT, &checklist)?;
        commit(&mut self.doc, edit, &format!("published version {}", checklist.version));
        Ok(checklist.version)
    }
}

/// Where a template keeps the checklist being edited.
const DRAFT: &str = "draft";

fn check_publishable(checklist: &Checklist) -> Result<(), DocumentError> {
    if checklist.name.zh.trim().is_empty() && checklist.name.en.trim().is_empty() {
        return Err(invalid("name", "", "a name in Chinese or English"));
    }
    if checklist.items.is_empty() {
        return Err(invalid("items", "0", "at least one item"));
    }
    for item in &checklist.items {
        if item.label.zh.trim().is_empty() && item.label.en.trim().is_empty() {
            return Err(invalid("item label", item.id.as_str(), "a label in Chinese or English"));
        }
        if let ItemKind::Choice { options, .. } = &item.kind
            && options.len() < 2
        {
            return Err(invalid("choice options", item.id.as_str(), "at least two options"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Username;
    use crate::document::seeds;
    use crate::time::Timestamp;

    fn edit(at: i64) -> Edit {
        Edit::new(Username::parse("admin").unwrap(), Timestamp::from_millis(at))
    }

    #[test]
    fn an_item_moves_past_its_neighbour_even_when_two_phones_gave_them_one_order() {
        let mut checklist = seeds::fire_safety();
        let section = checklist.items[0].section.clone();
        checklist.items.retain(|item| item.section == section);
        checklist.items.truncate(3);
        let ids: Vec<EntryId> = checklist.items.iter().map(|item| item.id.clone()).collect();
        // The second and third were added at once: one order, told apart by id.
        checklist.items[0].order = 1;
        checklist.items[1].order = 2;
        checklist.items[2].order = 2;
        let in_order = |checklist: &Checklist, moved: (ChecklistItem, ChecklistItem)| -> Vec<EntryId> {
            let mut items = checklist.items.clone();
            for changed in [moved.0, moved.1] {
                let at = items.iter().position(|item| item.id == changed.id).unwrap();
                items[at] = changed;
            }
            items.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
            items.into_iter().map(|item| item.id).collect()
        };
        let up = checklist.move_item(&ids[2], true).unwrap();
        assert_eq!(in_order(&checklist, up), [ids[0].clone(), ids[2].clone(), ids[1].clone()]);
        let down = checklist.move_item(&ids[1], false).unwrap();
        assert_eq!(in_order(&checklist, down), [ids[0].clone(), ids[2].clone(), ids[1].clone()]);
        let down = checklist.move_item(&ids[0], false).unwrap();
        assert_eq!(in_order(&checklist, down), [ids[1].clone(), ids[0].clone(), ids[2].clone()]);
        assert!(checklist.move_item(&ids[0], true).is_none(), "the first goes no higher");
        assert!(checklist.move_item(&ids[2], false).is_none(), "the last no lower");
    }

    #[test]
    fn each_role_walks_the_rounds_of_its_checklists() {
        let walked = |role: Role| -> Vec<&str> {
            ChecklistCategory::ALL
                .iter()
                .filter(|category| ChecklistCategory::walked_by(Some(**category), role))
                .map(|category| category.as_str())
                .collect()
        };
        assert_eq!(walked(Role::DormStaff), ["dorm_room"]);
        assert_eq!(walked(Role::Inspector), ["fire_safety", "electrical", "food_safety", "general"]);
        assert_eq!(walked(Role::Manager).len(), ChecklistCategory::ALL.len());
        assert_eq!(walked(Role::Admin).len(), ChecklistCategory::ALL.len());
        assert!(walked(Role::Technician).is_empty() && walked(Role::Storekeeper).is_empty());
        // A category a later release adds is an inspector's, not dorm staff's.
        assert!(ChecklistCategory::walked_by(None, Role::Inspector));
        assert!(!ChecklistCategory::walked_by(None, Role::DormStaff));
    }

    #[test]
    fn every_seeded_checklist_has_a_known_category() {
        for checklist in seeds::all() {
            assert!(checklist.known_category().is_some(), "{}", checklist.category);
        }
    }

    #[test]
    fn every_seed_reads_back_as_written_and_publishing_counts_versions() {
        for seed in seeds::all() {
            let mut template = ChecklistTemplate::create(ActorId::from([1; 16]), &SiteId::parse("hq").unwrap(), &seed, &edit(0)).unwrap();
            let (header, read) = template.read().unwrap();
            assert_eq!(header.document_type, DocumentType::ChecklistTemplate);
            assert_eq!(read, seed, "{}", seed.name.en);
            assert_eq!(template.publish(&edit(1)).unwrap(), 2);
            assert_eq!(template.read().unwrap().1.version, 2);
        }
    }

    #[test]
    fn inconsistent_checklists_are_refused() {
        let mut checklist = seeds::electrical();
        checklist.items[0].section = EntryId::parse("nowhere").unwrap();
        let error = ChecklistTemplate::create(ActorId::from([1; 16]), &SiteId::parse("hq").unwrap(), &checklist, &edit(0)).err().unwrap();
        assert_eq!(error.to_string(), "invalid item section \"nowhere\": the id of one of the checklist's sections");

        let mut checklist = seeds::electrical();
        checklist.items[1].kind = ItemKind::Number { unit: "°C".into(), min: Some(60_000), max: Some(10_000) };
        let error = ChecklistTemplate::create(ActorId::from([1; 16]), &SiteId::parse("hq").unwrap(), &checklist, &edit(0)).err().unwrap();
        assert_eq!(error.to_string(), "invalid limits \"60000..10000\": a minimum no larger than the maximum");
    }

    fn section(id: &str) -> Section {
        Section { id: EntryId::parse(id).unwrap(), order: 0, title: Label::new("消防", "Fire") }
    }

    fn item(id: &str, order: i64, kind: ItemKind) -> ChecklistItem {
        ChecklistItem {
            id: EntryId::parse(id).unwrap(),
            section: EntryId::parse("s1").unwrap(),
            order,
            label: Label::new("灭火器压力正常", "Extinguisher pressure normal"),
            kind,
            required: true,
            photo_on_fail: false,
            weight: None,
        }
    }

    fn draft_template() -> ChecklistTemplate {
        let name = Label::new("仓库巡查", "Warehouse round");
        ChecklistTemplate::create_draft(
            ActorId::from([1; 16]),
            &SiteId::parse("hq").unwrap(),
            &name,
            "fire_safety",
            section("s1"),
            &edit(0),
        )
        .unwrap()
    }

    #[test]
    fn a_draft_is_published_as_versions_and_rounds_keep_the_version_they_copied() {
        let mut template = draft_template();
        assert_eq!(template.read().unwrap().1.version, 0, "nothing published yet");
        assert_eq!(template.publish(&edit(1)).unwrap_err().to_string(), "invalid items \"0\": at least one item");
        template.put_item(&item("i1", 0, ItemKind::PassFail), &edit(2)).unwrap();
        template.put_item(&item("i2", 1, ItemKind::Number { unit: "MPa".into(), min: Some(1_000), max: Some(1_400) }), &edit(3)).unwrap();
        assert_ne!(template.draft().unwrap(), template.read().unwrap().1, "the draft differs from what is published");
        assert_eq!(template.publish(&edit(4)).unwrap(), 1);
        let (_, first) = template.read().unwrap();
        assert_eq!((first.version, first.items.len()), (1, 2));
        assert_eq!(template.draft().unwrap(), first, "publishing leaves nothing unpublished");

        // A round starts from version 1; the draft moves on without it.
        let round = first.clone();
        let mut changed = item("i2", 1, ItemKind::Number { unit: "MPa".into(), min: Some(900), max: None });
        changed.weight = Some(3);
        template.put_item(&changed, &edit(5)).unwrap();
        template.remove_item(&EntryId::parse("i1").unwrap(), &edit(6)).unwrap();
        assert_eq!(template.read().unwrap().1, first, "the published version is untouched by the draft");
        assert_eq!(template.publish(&edit(7)).unwrap(), 2);
        let (_, second) = template.read().unwrap();
        assert_eq!(second.items, [changed.clone()], "the old maximum is gone, the weight is there");
        assert_eq!(round.items.len(), 2, "the copy a round holds does not change");

        let mut broken = item(
            "i3",
            2,
            ItemKind::Choice { options: vec![(EntryId::parse("ok").unwrap(), Label::new("好", "Good"))], failing: Vec::new() },
        );
        template.put_item(&broken, &edit(8)).unwrap();
        assert_eq!(template.publish(&edit(9)).unwrap_err().to_string(), "invalid choice options \"i3\": at least two options");
        broken.section = EntryId::parse("nowhere").unwrap();
        assert!(template.put_item(&broken, &edit(10)).is_err(), "an item needs a section of the draft");
        template.remove_section(&EntryId::parse("s1").unwrap(), &edit(11)).unwrap();
        assert!(template.draft().unwrap().items.is_empty(), "a section goes with its items");
    }

    #[test]
    fn two_admins_editing_a_draft_offline_keep_both_edits() {
        let mut first = draft_template();
        first.put_item(&item("i1", 0, ItemKind::PassFail), &edit(1)).unwrap();
        let mut second = ChecklistTemplate::from_doc(first.doc_mut().fork().with_actor(ActorId::from([2; 16]))).unwrap();
        let mut relabelled = item("i1", 0, ItemKind::PassFail);
        relabelled.label = Label::new("灭火器在位", "Extinguisher in place");
        first.put_item(&relabelled, &edit(2)).unwrap();
        second.put_item(&item("i2", 1, ItemKind::Text), &edit(3)).unwrap();
        second.set_names(&Label::new("仓库消防巡查", "Warehouse fire round"), "fire_safety", &edit(4)).unwrap();
        first.doc_mut().merge(second.doc_mut()).unwrap();
        let draft = first.draft().unwrap();
        assert_eq!(draft.items.len(), 2);
        assert_eq!(draft.items[0].label, relabelled.label);
        assert_eq!(draft.name.en, "Warehouse fire round");
    }
}
