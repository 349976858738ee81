//! The languages Houqin is written in. The app's texts are in `app::i18n`; the server
//! writes notices in the recipient's language (`crate::notice`).

use serde::{Deserialize, Serialize};

/// A language Houqin is written in: its interface, and the notices it sends a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Language {
    /// The default: the organisation writes in Chinese.
    #[default]
    Chinese,
    English,
}

impl Language {
    /// Every language, in the order Settings offers them.
    pub const ALL: [Language; 2] = [Language::Chinese, Language::English];

    /// The BCP 47 tag, also the stored choice.
    pub const fn tag(self) -> &'static str {
        match self {
            Language::Chinese => "zh-CN",
            Language::English => "en",
        }
    }

    /// The language's name in itself, as a chooser shows it.
    pub const fn native_name(self) -> &'static str {
        match self {
            Language::Chinese => "中文",
            Language::English => "English",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|language| language.tag() == tag)
    }

    /// The language for a browser's preference list (`navigator.languages`): the first of
    /// them that we have, else Chinese.
    pub fn from_preferences<'a>(preferences: impl IntoIterator<Item = &'a str>) -> Language {
        preferences
            .into_iter()
            .find_map(|tag| {
                let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
                match primary.as_str() {
                    "zh" => Some(Language::Chinese),
                    "en" => Some(Language::English),
                    _ => None,
                }
            })
            .unwrap_or(Language::Chinese)
    }
}

impl TryFrom<String> for Language {
    type Error = String;

    fn try_from(tag: String) -> Result<Language, String> {
        Language::from_tag(&tag).ok_or_else(|| format!("no language {tag:?}: zh-CN or en"))
    }
}

impl From<Language> for String {
    fn from(language: Language) -> String {
        language.tag().to_owned()
    }
}
