//! Checklist templates: sections and items an inspector answers, in Chinese and English.
//!
//! A template is a document, so admins edit it offline and edits merge. `version` counts
//! publications; an inspection copies the items of the version it started from, so a
//! round in progress never changes under the inspector's feet.
//!
//! Layout: header; `name` and `category` (scalars; the name as `name_zh`, `name_en`);
//! `version`; `sections` and `items` (maps keyed by id, each with an `order`).

use automerge::{ActorId, AutoCommit, ObjId, ROOT};

use super::{DocumentError, DocumentType, EntryId, Edit, Fields, Header, commit, invalid, put, put_map, read_root};
use crate::directory::SiteId;

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
    Number { unit: String, min: Option<i64>, max: Option<i64> },
    Text,
    /// One of several options; those listed in `failing` fail the item.
    Choice { options: Vec<(EntryId, Label)>, failing: Vec<EntryId> },
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

/// A checklist's content: what an inspection copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checklist {
    pub name: Label,
    /// e.g. `fire_safety`, `electrical`, `food_safety`, `dorm_room`.
    pub category: String,
    pub version: i64,
    /// In order.
    pub sections: Vec<Section>,
    /// In order: by section order, then item order, then id.
    pub items: Vec<ChecklistItem>,
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

/// Writes a checklist's fields into `object` (a template's root or an inspection's copy).
pub(crate) fn write_checklist(doc: &mut AutoCommit, object: &ObjId, checklist: &Checklist) -> Result<(), DocumentError> {
    for item in &checklist.items {
        if !checklist.sections.iter().any(|section| section.id == item.section) {
            return Err(invalid("item section", item.section.as_str(), "the id of one of the checklist's sections"));
        }
        if let ItemKind::Number { min: Some(min), max: Some(max), .. } = item.kind
            && min > max
        {
            return Err(invalid("limits", &format!("{min}..{max}"), "a minimum no larger than the maximum"));
        }
    }
    put(doc, object, "name_zh", checklist.name.zh.as_str());
    put(doc, object, "name_en", checklist.name.en.as_str());
    put(doc, object, "category", checklist.category.as_str());
    put(doc, object, "version", checklist.version);
    let sections = put_map(doc, object, "sections");
    for section in &checklist.sections {
        let map = put_map(doc, &sections, section.id.as_str());
        put(doc, &map, "order", section.order);
        put(doc, &map, "title_zh", section.title.zh.as_str());
        put(doc, &map, "title_en", section.title.en.as_str());
    }
    let items = put_map(doc, object, "items");
    for item in &checklist.items {
        let map = put_map(doc, &items, item.id.as_str());
        put(doc, &map, "section", item.section.as_str());
        put(doc, &map, "order", item.order);
        put(doc, &map, "label_zh", item.label.zh.as_str());
        put(doc, &map, "label_en", item.label.en.as_str());
        put(doc, &map, "kind", item.kind.name());
        put(doc, &map, "required", item.required);
        put(doc, &map, "photo_on_fail", item.photo_on_fail);
        if let Some(weight) = item.weight {
            put(doc, &map, "weight", weight);
        }
        match &item.kind {
            ItemKind::Number { unit, min, max } => {
                put(doc, &map, "unit", unit.as_str());
                if let Some(min) = min {
                    put(doc, &map, "min", *min);
                }
                if let Some(max) = max {
                    put(doc, &map, "max", *max);
                }
            }
            ItemKind::Choice { options, failing } => {
                let options_map = put_map(doc, &map, "options");
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
    }
    Ok(())
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
            let mut options = item.entries("options", |id, option| Ok((option.i64("order")?, id, label(option, "label")?, option.bool("fails")?)))?;
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
    let sections = fields.entries("sections", |id, section| Ok(Section { id, order: section.i64("order")?, title: label(section, "title")? }))?;
    let items = fields.entries("items", read_item)?;
    let mut checklist = Checklist {
        name: label(fields, "name")?,
        category: fields.str("category")?,
        version: fields.i64("version")?,
        sections,
        items,
    };
    checklist.sort();
    Ok(checklist)
}

/// A checklist template document.
pub struct ChecklistTemplate {
    doc: AutoCommit,
}

super::typed_document!(ChecklistTemplate);

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

    pub fn read(&self) -> Result<(Header, Checklist), DocumentError> {
        let (header, root) = read_root(&self.doc, DocumentType::ChecklistTemplate)?;
        Ok((header, read_checklist(&root)?))
    }

    /// Marks the current content as a new published version.
    pub fn publish(&mut self, edit: &Edit) -> Result<i64, DocumentError> {
        let (_, checklist) = self.read()?;
        let version = checklist.version + 1;
        put(&mut self.doc, &ROOT, "version", version);
        commit(&mut self.doc, edit, &format!("published version {version}"));
        Ok(version)
    }
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
}
