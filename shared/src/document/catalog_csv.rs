//! A catalog's places, assets and stock items as CSV files: exported for a spreadsheet,
//! edited there, imported back.
//!
//! An import is all or nothing: every row is checked against the file and the catalog
//! first, and the first row that is wrong is reported with its line; nothing is written
//! then. A row updates the entry with its `id`, else the entry with its code (tag), else
//! adds one whose id is derived from the code — so two administrators importing the same
//! file on two phones offline make the same entries, not duplicates.
//!
//! Columns are found by their header names, in any order; unknown columns are refused (a
//! misspelt header would otherwise drop a column silently).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::catalog::{Asset, CatalogList, CatalogView, Place, PlaceKind, SiteCatalog, StockCategory, StockItem, same_code};
use super::{DocumentError, Edit, EntryId};
use crate::csv::{self, Record};
use crate::quantity::Quantity;
use crate::time::Timestamp;

/// Why a file was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// The line of the file (from 1).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ImportError {}

/// What a checked file will write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Import {
    pub places: Vec<Place>,
    pub assets: Vec<Asset>,
    pub stock_items: Vec<StockItem>,
    /// How many rows add an entry (the others change one).
    pub added: usize,
}

impl Import {
    pub fn rows(&self) -> usize {
        self.places.len() + self.assets.len() + self.stock_items.len()
    }
}

/// The columns of each list, in the order an export writes them.
pub const fn columns(list: CatalogList) -> &'static [&'static str] {
    match list {
        CatalogList::Places => &["id", "code", "name", "kind", "parent_code"],
        CatalogList::Assets => &["id", "tag", "name", "type", "place_code", "installed"],
        CatalogList::StockItems => &["id", "code", "name", "unit", "category", "bin", "reorder_point"],
        CatalogList::Templates | CatalogList::Schedules | CatalogList::Maintenance => &[],
    }
}

/// The list as a CSV file (with a byte-order mark, so spreadsheets read the Chinese).
pub fn export(view: &CatalogView, list: CatalogList) -> String {
    let code_of = |place: &Option<EntryId>| {
        place.as_ref().and_then(|place| view.place(place.as_str())).map(|place| place.code.clone()).unwrap_or_default()
    };
    let rows: Vec<Vec<String>> = match list {
        CatalogList::Places => view
            .places
            .iter()
            .map(|place| {
                vec![place.id.to_string(), place.code.clone(), place.name.clone(), place.kind.as_str().to_owned(), code_of(&place.parent)]
            })
            .collect(),
        CatalogList::Assets => view
            .assets
            .iter()
            .map(|asset| {
                let installed = asset.installed_at.map(Timestamp::date).unwrap_or_default();
                vec![
                    asset.id.to_string(),
                    asset.tag.clone(),
                    asset.name.clone(),
                    asset.asset_type.clone(),
                    code_of(&asset.place),
                    installed,
                ]
            })
            .collect(),
        CatalogList::StockItems => view
            .stock_items
            .iter()
            .map(|item| {
                let reorder_point = item.reorder_point.map(|quantity| quantity.to_string()).unwrap_or_default();
                vec![
                    item.id.to_string(),
                    item.code.clone(),
                    item.name.clone(),
                    item.unit.clone(),
                    item.category.clone(),
                    item.bin.clone().unwrap_or_default(),
                    reorder_point,
                ]
            })
            .collect(),
        CatalogList::Templates | CatalogList::Schedules | CatalogList::Maintenance => Vec::new(),
    };
    let header = columns(list).to_vec();
    csv::write(std::iter::once(header).chain(rows.iter().map(|row| row.iter().map(String::as_str).collect())))
}

/// Checks a file against the catalog and says what it would write.
pub fn import(view: &CatalogView, list: CatalogList, text: &str) -> Result<Import, ImportError> {
    let records = csv::parse(text).map_err(|error| ImportError { line: error.line, message: error.message.to_owned() })?;
    let Some((header, rows)) = records.split_first() else {
        return Err(ImportError { line: 1, message: "the file is empty".to_owned() });
    };
    let table = Table::new(list, header)?;
    match list {
        CatalogList::Places => import_places(view, &table, rows),
        CatalogList::Assets => import_assets(view, &table, rows),
        CatalogList::StockItems => import_stock_items(view, &table, rows),
        CatalogList::Templates | CatalogList::Schedules | CatalogList::Maintenance => {
            Err(ImportError { line: 1, message: "this list is not imported from a file".to_owned() })
        }
    }
}

impl SiteCatalog {
    /// Writes a checked import.
    pub fn apply_import(&mut self, import: &Import, edit: &Edit) -> Result<(), DocumentError> {
        for place in &import.places {
            self.put_place(place, edit)?;
        }
        for asset in &import.assets {
            self.put_asset(asset, edit)?;
        }
        for item in &import.stock_items {
            self.put_stock_item(item, edit)?;
        }
        Ok(())
    }
}

/// The header of a file: which column holds which field.
struct Table {
    positions: BTreeMap<&'static str, usize>,
}

impl Table {
    fn new(list: CatalogList, header: &Record) -> Result<Table, ImportError> {
        let known = columns(list);
        let mut positions = BTreeMap::new();
        for (index, name) in header.fields.iter().enumerate() {
            let name = name.trim();
            let Some(column) = known.iter().find(|column| column.eq_ignore_ascii_case(name)) else {
                return Err(ImportError {
                    line: header.line,
                    message: format!("unknown column {name:?}; the columns are {}", known.join(", ")),
                });
            };
            if positions.insert(*column, index).is_some() {
                return Err(ImportError { line: header.line, message: format!("the column {column:?} appears twice") });
            }
        }
        // Everything but the id and the optional fields must be there.
        let required =
            known.iter().filter(|column| !matches!(**column, "id" | "parent_code" | "place_code" | "installed" | "bin" | "reorder_point"));
        for column in required {
            if !positions.contains_key(column) {
                return Err(ImportError { line: header.line, message: format!("the column {column:?} is missing") });
            }
        }
        Ok(Table { positions })
    }

    /// The trimmed text of `column` in `row`, empty if the column or the field is absent.
    fn get<'a>(&self, row: &'a Record, column: &str) -> &'a str {
        self.positions.get(column).and_then(|index| row.fields.get(*index)).map_or("", |field| field.trim())
    }

    fn required<'a>(&self, row: &'a Record, column: &str) -> Result<&'a str, ImportError> {
        let value = self.get(row, column);
        if value.is_empty() {
            return Err(ImportError { line: row.line, message: format!("{column} is empty") });
        }
        Ok(value)
    }

    fn check_width(&self, row: &Record) -> Result<(), ImportError> {
        let width = self.positions.len();
        if row.fields.len() > width {
            return Err(ImportError { line: row.line, message: format!("{} fields where the header has {width}", row.fields.len()) });
        }
        Ok(())
    }
}

/// The entry a row is about: by id if given, else by code; a new id otherwise.
struct Ids<'a> {
    /// Existing entries: id → code.
    existing: BTreeMap<&'a str, &'a str>,
    /// Ids given out to the rows so far.
    taken: BTreeSet<String>,
    prefix: &'static str,
}

impl<'a> Ids<'a> {
    fn new(existing: impl Iterator<Item = (&'a str, &'a str)>, prefix: &'static str) -> Ids<'a> {
        Ids { existing: existing.collect(), taken: BTreeSet::new(), prefix }
    }

    fn resolve(&mut self, row: &Record, id: &str, code: &str) -> Result<(EntryId, bool), ImportError> {
        let (id, new) = if !id.is_empty() {
            let parsed = EntryId::parse(id).map_err(|error| ImportError { line: row.line, message: error.to_string() })?;
            let new = !self.existing.contains_key(id);
            (parsed, new)
        } else if let Some((id, _)) = self.existing.iter().find(|(_, known)| known.eq_ignore_ascii_case(code)) {
            (EntryId::parse(id).expect("stored ids are valid"), false)
        } else {
            (self.derive(code), true)
        };
        if !self.taken.insert(id.to_string()) {
            return Err(ImportError { line: row.line, message: format!("a second row for {:?}", id.as_str()) });
        }
        Ok((id, new))
    }

    /// An id made from the code alone, the same on every phone.
    fn derive(&self, code: &str) -> EntryId {
        // An ASCII code reads as its id; any other gets a digest of itself.
        let slug: String = code
            .to_ascii_lowercase()
            .chars()
            .map(|char| if char.is_ascii_alphanumeric() || char == '-' || char == '_' { char } else { '-' })
            .collect();
        let slug = slug.trim_matches('-');
        let readable = code.is_ascii() && !slug.is_empty() && slug.len() <= 48;
        let candidate = if readable { slug.to_owned() } else { String::new() };
        let free = |id: &str| !id.is_empty() && !self.existing.contains_key(id) && !self.taken.contains(id);
        if free(&candidate) {
            return EntryId::parse(&candidate).expect("a slug of letters, digits and dashes");
        }
        let digest = hex::encode(&Sha256::digest(code.as_bytes())[..6]);
        EntryId::parse(&format!("{}-{digest}", self.prefix)).expect("letters, digits and dashes")
    }
}

/// Refuses a code used by another entry of the catalog or an earlier row.
fn unique_code<'a>(
    codes: &mut BTreeMap<String, &'a str>,
    row: &Record,
    what: &str,
    code: &str,
    id: &'a str,
    existing: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), ImportError> {
    let key = code.to_ascii_lowercase();
    if let Some(other) = codes.get(&key).filter(|other| **other != id) {
        return Err(ImportError { line: row.line, message: format!("the {what} {code:?} is used twice in the file (also by {other:?})") });
    }
    for (other_id, other_code) in existing {
        if other_id != id && same_code(other_code, code) {
            return Err(ImportError { line: row.line, message: format!("the {what} {code:?} already belongs to {other_id:?}") });
        }
    }
    codes.insert(key, id);
    Ok(())
}

/// The rows of a file with the entry each is about, and the catalog's entries the file
/// leaves alone (whose codes the rows must not take). `existing` is (id, code) of every
/// entry of the list; `column` names the code column.
fn key_rows<'a>(
    existing: Vec<(&'a str, &'a str)>,
    prefix: &'static str,
    table: &Table,
    rows: &'a [Record],
    column: &str,
) -> Result<KeyedRows<'a>, ImportError> {
    let mut ids = Ids::new(existing.iter().copied(), prefix);
    let mut keyed = Vec::new();
    for row in rows {
        table.check_width(row)?;
        let code = table.required(row, column)?;
        let (id, new) = ids.resolve(row, table.get(row, "id"), code)?;
        keyed.push((row, id, new, code));
    }
    // Codes are checked once every row has its id: a row may take the code another row
    // gives up.
    let file_ids: BTreeSet<&str> = keyed.iter().map(|(_, id, _, _)| id.as_str()).collect();
    let untouched = existing.into_iter().filter(|(id, _)| !file_ids.contains(id)).collect();
    Ok((keyed, untouched))
}

/// Rows with (row, entry id, whether it is new, code), and the entries no row is about.
type KeyedRows<'a> = (Vec<(&'a Record, EntryId, bool, &'a str)>, Vec<(&'a str, &'a str)>);

fn import_places(view: &CatalogView, table: &Table, rows: &[Record]) -> Result<Import, ImportError> {
    let existing = view.places.iter().map(|place| (place.id.as_str(), place.code.as_str())).collect();
    let (resolved, untouched) = key_rows(existing, "place", table, rows, "code")?;
    let mut import = Import::default();
    let mut parents = Vec::new();
    let mut codes = BTreeMap::new();
    for (row, id, new, code) in &resolved {
        unique_code(&mut codes, row, "code", code, id.as_str(), untouched.iter().copied())?;
        let name = table.required(row, "name")?;
        let kind = PlaceKind::parse(&table.required(row, "kind")?.to_lowercase())
            .map_err(|error| ImportError { line: row.line, message: error.to_string() })?;
        parents.push((row, table.get(row, "parent_code")));
        import.added += usize::from(*new);
        import.places.push(Place { id: id.clone(), kind, parent: None, name: name.to_owned(), code: (*code).to_owned() });
    }
    // Parents by code, among the file's places and the catalog's others.
    let by_code = |code: &str| -> Option<EntryId> {
        import.places.iter().find(|place| place.code.eq_ignore_ascii_case(code)).map(|place| place.id.clone()).or_else(|| {
            untouched
                .iter()
                .find(|(_, known)| known.eq_ignore_ascii_case(code))
                .map(|(id, _)| EntryId::parse(id).expect("stored ids are valid"))
        })
    };
    let links: Vec<Option<EntryId>> = parents
        .iter()
        .map(|(row, parent)| {
            if parent.is_empty() {
                return Ok(None);
            }
            by_code(parent).map(Some).ok_or_else(|| ImportError { line: row.line, message: format!("no place has the code {parent:?}") })
        })
        .collect::<Result<_, _>>()?;
    for (place, parent) in import.places.iter_mut().zip(links) {
        place.parent = parent;
    }
    // The places as they will be, to find a parent chain that loops.
    let mut after: BTreeMap<&str, Option<&str>> =
        view.places.iter().map(|place| (place.id.as_str(), place.parent.as_ref().map(EntryId::as_str))).collect();
    for place in &import.places {
        after.insert(place.id.as_str(), place.parent.as_ref().map(EntryId::as_str));
    }
    for ((row, _), place) in parents.iter().zip(&import.places) {
        let mut current = place.parent.as_ref().map(EntryId::as_str);
        for _ in 0..=after.len() {
            match current {
                None => break,
                Some(id) if id == place.id.as_str() => {
                    return Err(ImportError { line: row.line, message: format!("{:?} would be inside itself", place.code) });
                }
                Some(id) => current = after.get(id).copied().flatten(),
            }
        }
    }
    Ok(import)
}

fn import_assets(view: &CatalogView, table: &Table, rows: &[Record]) -> Result<Import, ImportError> {
    let existing = view.assets.iter().map(|asset| (asset.id.as_str(), asset.tag.as_str())).collect();
    let (resolved, untouched) = key_rows(existing, "asset", table, rows, "tag")?;
    let mut import = Import::default();
    let mut tags = BTreeMap::new();
    for (row, id, new, tag) in &resolved {
        unique_code(&mut tags, row, "tag", tag, id.as_str(), untouched.iter().copied())?;
        let place_code = table.get(row, "place_code");
        let place = if place_code.is_empty() {
            None
        } else {
            let place = view.places.iter().find(|place| place.code.eq_ignore_ascii_case(place_code));
            Some(place.ok_or_else(|| ImportError { line: row.line, message: format!("no place has the code {place_code:?}") })?.id.clone())
        };
        let installed = table.get(row, "installed");
        let installed_at = if installed.is_empty() {
            None
        } else {
            Some(Timestamp::parse_date(installed).ok_or_else(|| ImportError {
                line: row.line,
                message: format!("installed {installed:?} is not a date written YYYY-MM-DD"),
            })?)
        };
        import.added += usize::from(*new);
        import.assets.push(Asset {
            id: id.clone(),
            name: table.required(row, "name")?.to_owned(),
            asset_type: table.required(row, "type")?.to_owned(),
            tag: (*tag).to_owned(),
            place,
            installed_at,
        });
    }
    Ok(import)
}

fn import_stock_items(view: &CatalogView, table: &Table, rows: &[Record]) -> Result<Import, ImportError> {
    let existing = view.stock_items.iter().map(|item| (item.id.as_str(), item.code.as_str())).collect();
    let (resolved, untouched) = key_rows(existing, "item", table, rows, "code")?;
    let mut import = Import::default();
    let mut codes = BTreeMap::new();
    for (row, id, new, code) in &resolved {
        unique_code(&mut codes, row, "code", code, id.as_str(), untouched.iter().copied())?;
        let category = table.required(row, "category")?;
        if StockCategory::parse(category).is_err() {
            let known: Vec<&str> = StockCategory::ALL.iter().map(|known| known.as_str()).collect();
            return Err(ImportError { line: row.line, message: format!("category {category:?} is not one of {}", known.join(", ")) });
        }
        let bin = table.get(row, "bin");
        let reorder_point = match table.get(row, "reorder_point").trim() {
            "" => None,
            typed => Some(typed.parse::<Quantity>().ok().filter(|quantity| !quantity.is_negative()).ok_or_else(|| ImportError {
                line: row.line,
                message: format!("reorder_point {typed:?} is not a quantity of zero or more"),
            })?),
        };
        import.added += usize::from(*new);
        import.stock_items.push(StockItem {
            id: id.clone(),
            code: (*code).to_owned(),
            name: table.required(row, "name")?.to_owned(),
            unit: table.required(row, "unit")?.to_owned(),
            category: category.to_owned(),
            bin: (!bin.is_empty()).then(|| bin.to_owned()),
            reorder_point,
        });
    }
    Ok(import)
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::directory::{SiteId, Username};

    fn edit() -> Edit {
        Edit::new(Username::parse("admin").unwrap(), Timestamp::from_millis(1_000))
    }

    fn catalog() -> SiteCatalog {
        let mut catalog = SiteCatalog::create(ActorId::from([7; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit());
        let building = Place {
            id: EntryId::parse("admin-building").unwrap(),
            kind: PlaceKind::Building,
            parent: None,
            name: "行政楼".into(),
            code: "HQ-A".into(),
        };
        catalog.put_place(&building, &edit()).unwrap();
        catalog
    }

    #[test]
    fn places_round_trip_through_a_spreadsheet_file() {
        let mut catalog = catalog();
        let file = "code,name,kind,parent_code\r\nHQ-A,行政楼（新）,building,\r\nHQ-A-2F,二楼,floor,HQ-A\r\nHQ-A-201,\"会议室, 大\",room,HQ-A-2F\r\n";
        let checked = import(&catalog.read().unwrap(), CatalogList::Places, file).unwrap();
        assert_eq!((checked.rows(), checked.added), (3, 2));
        assert_eq!(checked.places[0].id.as_str(), "admin-building", "matched by code");
        assert_eq!(checked.places[2].id.as_str(), "hq-a-201", "derived from the code");
        assert_eq!(checked.places[2].parent.as_ref().map(EntryId::as_str), Some("hq-a-2f"));
        catalog.apply_import(&checked, &edit()).unwrap();
        let view = catalog.read().unwrap();
        assert_eq!(view.places.len(), 3);
        assert_eq!(view.place("admin-building").unwrap().name, "行政楼（新）");

        let exported = export(&view, CatalogList::Places);
        assert!(exported.starts_with(csv::BOM));
        assert!(exported.contains("hq-a-201,HQ-A-201,\"会议室, 大\",room,HQ-A-2F\r\n"), "{exported}");
        let again = import(&view, CatalogList::Places, &exported).unwrap();
        assert_eq!((again.rows(), again.added), (3, 0));
        let mut unchanged = catalog.read().unwrap().places;
        let mut reimported = again.places.clone();
        unchanged.sort_by(|a, b| a.id.cmp(&b.id));
        reimported.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(reimported, unchanged, "an export imports back to the same places");
    }

    #[test]
    fn a_wrong_row_is_named_and_nothing_is_imported() {
        let view = catalog().read().unwrap();
        let cases = [
            (
                "code,name,kind\nHQ-B,食堂,building\nHQ-B-1,一楼,storey\n",
                3,
                "invalid place kind \"storey\": one of building, floor, room, area",
            ),
            ("code,name,kind,parent_code\nHQ-B,食堂,building,HQ-Z\n", 2, "no place has the code \"HQ-Z\""),
            (
                "code,name,kind\nHQ-B,食堂,building\nhq-b,另一个,building\n",
                3,
                "the code \"hq-b\" is used twice in the file (also by \"hq-b\")",
            ),
            ("code,name,kind\n,食堂,building\n", 2, "code is empty"),
            ("code,name\nHQ-B,食堂\n", 1, "the column \"kind\" is missing"),
            ("code,name,kind,floor\n", 1, "unknown column \"floor\"; the columns are id, code, name, kind, parent_code"),
            ("code,name,kind\nHQ-B,食堂,building,extra\n", 2, "4 fields where the header has 3"),
            ("id,code,name,kind,parent_code\nadmin-building,HQ-A,行政楼,building,HQ-A\n", 2, "\"HQ-A\" would be inside itself"),
            ("code,name,kind\nHQ-B,\"食堂,building\n", 2, "a quoted field is never closed"),
            ("", 1, "the file is empty"),
        ];
        for (file, line, message) in cases {
            let error = import(&view, CatalogList::Places, file).unwrap_err();
            assert_eq!(error, ImportError { line, message: message.to_owned() }, "{file}");
        }
    }

    #[test]
    fn assets_and_stock_items_check_their_references() {
        let view = catalog().read().unwrap();
        let assets = "tag,name,type,place_code,installed\nXF-1,灭火器,extinguisher,hq-a,2024-03-01\nXF-2,灭火器,extinguisher,,\n";
        let import_assets = import(&view, CatalogList::Assets, assets).unwrap();
        assert_eq!(import_assets.assets[0].place.as_ref().map(EntryId::as_str), Some("admin-building"));
        assert_eq!(import_assets.assets[0].installed_at.map(Timestamp::date).as_deref(), Some("2024-03-01"));
        assert_eq!(import_assets.assets[1].place, None);
        let bad_date = import(&view, CatalogList::Assets, "tag,name,type,installed\nXF-1,灭火器,extinguisher,1/3/2024\n").unwrap_err();
        assert_eq!(bad_date.to_string(), "line 2: installed \"1/3/2024\" is not a date written YYYY-MM-DD");

        let items = "code,name,unit,category,bin\nGL-01,手套,双,protective_equipment,A-1\nTP-01,胶带,卷,tools,\n";
        let error = import(&view, CatalogList::StockItems, items).unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.starts_with("category \"tools\" is not one of"), "{}", error.message);
        let items = import(&view, CatalogList::StockItems, "code,name,unit,category\n手套-01,手套,双,supplies\n").unwrap();
        assert!(items.stock_items[0].id.as_str().starts_with("item-"), "{}", items.stock_items[0].id);
        assert_eq!(items.stock_items[0].reorder_point, None);
        let items = import(
            &view,
            CatalogList::StockItems,
            "code,name,unit,category,reorder_point\nGL-01,手套,双,supplies,12.5\nGL-02,手套,双,supplies,\n",
        )
        .unwrap();
        assert_eq!(items.stock_items.iter().map(|item| item.reorder_point).collect::<Vec<_>>(), [Some("12.5".parse().unwrap()), None]);
        let negative =
            import(&view, CatalogList::StockItems, "code,name,unit,category,reorder_point\nGL-01,手套,双,supplies,-1\n").unwrap_err();
        assert_eq!(negative.to_string(), "line 2: reorder_point \"-1\" is not a quantity of zero or more");
        let mut written = catalog();
        written.apply_import(&items, &edit()).unwrap();
        let exported = export(&written.read().unwrap(), CatalogList::StockItems);
        assert!(exported.lines().next().unwrap().ends_with("bin,reorder_point"), "{exported}");
        assert!(exported.contains(",12.5\r\n") || exported.contains(",12.5\n"), "{exported}");
    }

    #[test]
    fn the_same_file_imported_on_two_phones_makes_the_same_entries() {
        let file = "code,name,kind\n宿舍-1,一号宿舍楼,building\nD-2,二号宿舍楼,building\n";
        let view = catalog().read().unwrap();
        let first = import(&view, CatalogList::Places, file).unwrap();
        let second = import(&view, CatalogList::Places, file).unwrap();
        assert_eq!(first, second);
        assert!(first.places[0].id.as_str().starts_with("place-"), "a Chinese code gets a digest");
        assert_eq!(first.places[1].id.as_str(), "d-2");
    }
}
