//! A canteen's food samples (留样): of every dish a meal serves, a portion of at least
//! 125 g is kept, sealed and labelled, in cold storage for 48 hours, then discarded — so
//! that if anyone falls ill, the authorities can test what was served. One document per
//! meal, like a round.
//!
//! Layout: header; `canteen` (the place served), `meal` (its name: 早, 中, 晚, a slot's
//! name), `date` (the meal's local date, `YYYY-MM-DD`), all fixed at creation; `samples`
//! (map keyed by entry id: `dish`, `grams`, `storage` (a place id: the sample fridge),
//! `photo` (optional), `user`, `at`); `discards` (map keyed by the sample's id: `user`,
//! `at`). Entries are added, never changed.

use automerge::{ActorId, AutoCommit, ROOT};

use super::{
    BlobRef, DocumentError, DocumentType, Edit, EntryId, Fields, Header, UnreadableEntry, commit, invalid, map_at, put, put_map, read_root,
};
use crate::directory::{SiteId, Username};
use crate::time::{Span, Timestamp};

/// The least a sample may weigh, in grams (GB 31654 and the school canteen rules: 每个品种
/// 留样量不少于 125 克).
pub const MIN_GRAMS: i64 = 125;

/// The most one sample may weigh: 100 kg is a typing mistake, not a sample.
pub const MAX_GRAMS: i64 = 100_000;

/// How long a sample is kept before it may be discarded.
pub const KEEP: Span = Span::hours(48);

/// How long after its discard time a sample still in the fridge is flagged.
pub const DISCARD_GRACE: Span = Span::hours(24);

/// One dish's sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub id: EntryId,
    pub dish: String,
    pub grams: i64,
    /// Where it is kept: a place of the site's catalog.
    pub storage: String,
    pub photo: Option<BlobRef>,
    pub user: Username,
    pub at: Timestamp,
}

impl Sample {
    /// When it may be discarded: 48 hours after it was taken.
    pub fn discard_at(&self) -> Timestamp {
        self.at.plus(KEEP)
    }
}

/// A sample taken out of the fridge and thrown away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discard {
    pub sample: EntryId,
    pub user: Username,
    pub at: Timestamp,
}

/// Where a sample stands at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleState {
    /// In the fridge, to be kept until `until`.
    Keeping { until: Timestamp },
    /// Kept its 48 hours: to be discarded.
    ToDiscard { since: Timestamp },
    /// Still in the fridge a day after it was to be discarded.
    DiscardOverdue { since: Timestamp },
    /// Discarded at `at`; `early` if before its 48 hours were up, which the rules forbid.
    Discarded { at: Timestamp, early: bool },
}

impl SampleState {
    /// Whether someone should look at it: to discard, overdue, or thrown away too early.
    pub fn needs_attention(self) -> bool {
        matches!(self, SampleState::ToDiscard { .. } | SampleState::DiscardOverdue { .. } | SampleState::Discarded { early: true, .. })
    }

    pub const fn word(self) -> &'static str {
        match self {
            SampleState::Keeping { .. } => "keeping",
            SampleState::ToDiscard { .. } => "to_discard",
            SampleState::DiscardOverdue { .. } => "discard_overdue",
            SampleState::Discarded { early: false, .. } => "discarded",
            SampleState::Discarded { early: true, .. } => "discarded_early",
        }
    }
}

/// What a cook enters to start a meal's samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMeal {
    pub site: SiteId,
    pub canteen: String,
    pub meal: String,
    /// `YYYY-MM-DD`, the meal's local date.
    pub date: String,
}

/// A dish's sample as entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSample {
    pub dish: String,
    pub grams: i64,
    pub storage: String,
    pub photo: Option<BlobRef>,
}

/// Everything a meal's log holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoodSamplesView {
    pub header: Header,
    pub canteen: String,
    pub meal: String,
    pub date: String,
    pub samples: Vec<Sample>,
    pub discards: Vec<Discard>,
    pub unreadable: Vec<UnreadableEntry>,
}

impl FoodSamplesView {
    /// Where `sample` stands at `now` (the first discard recorded counts).
    pub fn state(&self, sample: &Sample, now: Timestamp) -> SampleState {
        let discard = self.discards.iter().filter(|discard| discard.sample == sample.id).min_by_key(|discard| (discard.at, &discard.user));
        let until = sample.discard_at();
        match discard {
            Some(discard) => SampleState::Discarded { at: discard.at, early: discard.at < until },
            None if now < until => SampleState::Keeping { until },
            None if now < until.plus(DISCARD_GRACE) => SampleState::ToDiscard { since: until },
            None => SampleState::DiscardOverdue { since: until },
        }
    }

    /// The samples still in the fridge.
    pub fn kept(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|sample| !self.discards.iter().any(|discard| discard.sample == sample.id))
    }

    /// A title for lists: `2026-12-06 中 · 留样`.
    pub fn title(&self) -> String {
        format!("{} {}", self.date, self.meal)
    }
}

/// A meal's food samples document.
pub struct FoodSamples {
    doc: AutoCommit,
}

super::typed_document!(FoodSamples, FoodSamplesView);

impl FoodSamples {
    /// Starts a meal's log.
    pub fn start(actor: ActorId, new: &NewMeal, edit: &Edit) -> Result<FoodSamples, DocumentError> {
        if new.meal.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "meal".to_owned() });
        }
        if Timestamp::parse_date(&new.date).is_none() {
            return Err(invalid("date", &new.date, "a date YYYY-MM-DD"));
        }
        let header = Header {
            document_type: DocumentType::FoodSamples,
            schema: DocumentType::FoodSamples.current_schema(),
            site: new.site.clone(),
            created_by: edit.user.clone(),
            created_at: edit.at,
        };
        let mut doc = super::create(actor, &header);
        put(&mut doc, &ROOT, "canteen", new.canteen.as_str());
        put(&mut doc, &ROOT, "meal", new.meal.trim());
        put(&mut doc, &ROOT, "date", new.date.as_str());
        put_map(&mut doc, &ROOT, "samples");
        put_map(&mut doc, &ROOT, "discards");
        commit(&mut doc, edit, "meal started");
        Ok(FoodSamples { doc })
    }

    /// Records a dish's sample, taken now: named, at least [`MIN_GRAMS`], put somewhere.
    pub fn add_sample(&mut self, id: &EntryId, sample: &NewSample, edit: &Edit) -> Result<(), DocumentError> {
        if sample.dish.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "dish".to_owned() });
        }
        if !(MIN_GRAMS..=MAX_GRAMS).contains(&sample.grams) {
            return Err(invalid("grams", &sample.grams.to_string(), "at least 125 grams"));
        }
        if sample.storage.trim().is_empty() {
            return Err(DocumentError::MissingField { field: "storage".to_owned() });
        }
        let samples = map_at(&self.doc, &ROOT, "samples", "samples")?;
        if automerge::ReadDoc::get(&self.doc, &samples, id.as_str())?.is_some() {
            return Err(invalid("sample id", id.as_str(), "a new id; this one is taken"));
        }
        let entry = put_map(&mut self.doc, &samples, id.as_str());
        put(&mut self.doc, &entry, "dish", sample.dish.trim());
        put(&mut self.doc, &entry, "grams", sample.grams);
        put(&mut self.doc, &entry, "storage", sample.storage.as_str());
        put(&mut self.doc, &entry, "user", edit.user.as_str());
        put(&mut self.doc, &entry, "at", edit.at.as_millis());
        if let Some(photo) = &sample.photo {
            let map = put_map(&mut self.doc, &entry, "photo");
            photo.write(&mut self.doc, &map);
        }
        commit(&mut self.doc, edit, "sample taken");
        Ok(())
    }

    /// Records that a sample was discarded, now. Discarding one twice is no change.
    pub fn discard(&mut self, sample: &EntryId, edit: &Edit) -> Result<(), DocumentError> {
        let view = self.read()?;
        if !view.samples.iter().any(|known| known.id == *sample) {
            return Err(invalid("sample", sample.as_str(), "a sample of this meal"));
        }
        let discards = map_at(&self.doc, &ROOT, "discards", "discards")?;
        if automerge::ReadDoc::get(&self.doc, &discards, sample.as_str())?.is_some() {
            return Ok(());
        }
        let entry = put_map(&mut self.doc, &discards, sample.as_str());
        put(&mut self.doc, &entry, "user", edit.user.as_str());
        put(&mut self.doc, &entry, "at", edit.at.as_millis());
        commit(&mut self.doc, edit, "sample discarded");
        Ok(())
    }

    pub fn read_doc(doc: &AutoCommit) -> Result<FoodSamplesView, DocumentError> {
        let (header, root) = read_root(doc, DocumentType::FoodSamples)?;
        let mut unreadable = Vec::new();
        let bad = &mut unreadable;
        Ok(FoodSamplesView {
            header,
            canteen: root.str("canteen")?,
            meal: root.str("meal")?,
            date: root.str("date")?,
            samples: root.entries_forgiving("samples", read_sample, bad),
            discards: root.entries_forgiving(
                "discards",
                |sample, discard| Ok(Discard { sample, user: discard.user("user")?, at: discard.time("at")? }),
                bad,
            ),
            unreadable,
        })
    }
}

fn read_sample(id: EntryId, sample: &Fields<'_>) -> Result<Sample, DocumentError> {
    // The rule holds for every phone's samples, not only this app's: a lighter one does not
    // read, so the server refuses it.
    let grams = sample.i64("grams")?;
    if !(MIN_GRAMS..=MAX_GRAMS).contains(&grams) {
        return Err(invalid("grams", &grams.to_string(), "at least 125 grams"));
    }
    let photo = match sample.optional_map("photo")? {
        Some(_) => Some(BlobRef::read(&sample.fields("photo")?)?),
        None => None,
    };
    Ok(Sample {
        id,
        dish: sample.str("dish")?,
        grams,
        storage: sample.str("storage")?,
        photo,
        user: sample.user("user")?,
        at: sample.time("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::testing::{edit, id};

    const HOUR: i64 = 3_600_000;

    fn lunch() -> FoodSamples {
        let new = NewMeal { site: SiteId::parse("hq").unwrap(), canteen: "canteen".into(), meal: "中".into(), date: "2026-12-06".into() };
        FoodSamples::start(ActorId::from([5; 16]), &new, &edit("inspector", 11 * HOUR)).unwrap()
    }

    fn dish(name: &str, grams: i64) -> NewSample {
        NewSample { dish: name.into(), grams, storage: "sample-fridge".into(), photo: None }
    }

    #[test]
    fn a_sample_is_kept_48_hours_then_to_discard_then_overdue_and_discarding_early_is_flagged() {
        let mut meal = lunch();
        meal.add_sample(&id("s1"), &dish("红烧肉", 150), &edit("inspector", 12 * HOUR)).unwrap();
        meal.add_sample(&id("s2"), &dish("炒青菜", 130), &edit("inspector", 12 * HOUR)).unwrap();
        // Under 125 g, no dish, no fridge: refused, nothing written.
        for (bad, field) in
            [(dish("米饭", 100), "grams"), (dish(" ", 200), "dish"), (NewSample { storage: String::new(), ..dish("汤", 200) }, "storage")]
        {
            let error = meal.add_sample(&id("s3"), &bad, &edit("inspector", 12 * HOUR)).unwrap_err();
            assert!(error.to_string().contains(field), "{error}");
        }
        let view = meal.read().unwrap();
        assert_eq!(view.samples.len(), 2);
        let pork = &view.samples[0];
        let at = |hours: i64| Timestamp::from_millis(hours * HOUR);
        assert_eq!(view.state(pork, at(30)), SampleState::Keeping { until: at(60) });
        assert_eq!(view.state(pork, at(61)), SampleState::ToDiscard { since: at(60) });
        assert_eq!(view.state(pork, at(85)), SampleState::DiscardOverdue { since: at(60) });
        assert!(!view.state(pork, at(30)).needs_attention() && view.state(pork, at(61)).needs_attention());

        meal.discard(&id("s1"), &edit("inspector", 62 * HOUR)).unwrap();
        meal.discard(&id("s2"), &edit("manager", 40 * HOUR)).unwrap();
        meal.discard(&id("s2"), &edit("manager", 70 * HOUR)).unwrap();
        assert!(meal.discard(&id("nothing"), &edit("manager", 70 * HOUR)).is_err());
        let view = meal.read().unwrap();
        assert_eq!(view.state(&view.samples[0], at(100)), SampleState::Discarded { at: at(62), early: false });
        assert_eq!(view.state(&view.samples[1], at(100)), SampleState::Discarded { at: at(40), early: true });
        assert!(view.state(&view.samples[1], at(100)).needs_attention(), "thrown away before its 48 hours: flagged");
        assert_eq!(view.kept().count(), 0);
        assert_eq!(view.title(), "2026-12-06 中");
    }

    #[test]
    fn two_phones_sampling_one_meal_keep_every_dish() {
        let meal = lunch();
        let mut first = FoodSamples::from_doc(meal.doc().clone().with_actor(ActorId::from([6; 16]))).unwrap();
        let mut second = FoodSamples::from_doc(meal.doc().clone().with_actor(ActorId::from([7; 16]))).unwrap();
        first.add_sample(&id("a"), &dish("红烧肉", 150), &edit("inspector", 12 * HOUR)).unwrap();
        second.add_sample(&id("b"), &dish("番茄炒蛋", 140), &edit("manager", 12 * HOUR)).unwrap();
        first.doc_mut().merge(second.doc_mut()).unwrap();
        let dishes: Vec<String> = first.read().unwrap().samples.into_iter().map(|sample| sample.dish).collect();
        assert_eq!(dishes, ["红烧肉", "番茄炒蛋"]);
    }
}
