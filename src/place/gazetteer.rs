//! The administrative divisions of `divisions.tsv` (see `DATA.md`), parsed once, and the two
//! automata that find their names in text. PURE: the data is compiled into the binary.
//!
//! A division is found by its full name (淮安市, 洪泽区, 高良涧街道) or by its stem (淮安,
//! 洪泽, 江苏, 内蒙古); a stem is only a candidate, which the resolver accepts where the text
//! around it says it is a place (a body word follows, or a child division, or a zone's name).

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

/// The merged editions: code, name, first and last data year, one per line.
const DATA: &str = include_str!("divisions.tsv");
/// The first and last edition in the data: a name listed by the first is taken as valid
/// before it, a name listed by the last as valid after it.
const FIRST_EDITION: i32 = 2019;
const LAST_EDITION: i32 = 2023;
/// Names of fewer characters (城区, 郊区, 和县, 沛县) are words or phrases of running text
/// too often to be read as places.
const MIN_NAME_CHARS: usize = 3;
/// The shortest stem read (淮安 of 淮安市).
const MIN_STEM_CHARS: usize = 2;

/// Zones that govern exactly one division, by the code of that division. Other zones (西咸新区
/// spans two prefectures, 高新区 name nothing) are not divisions and resolve to no county.
const ZONES: &[(&str, &str)] = &[("平潭综合实验区", "350128")];

/// Words of the ethnic groups that stand between a stem and 自治州/自治县/自治区.
const ETHNIC: &[&str] = &[
    "壮族",
    "回族",
    "维吾尔",
    "土家族",
    "苗族",
    "藏族",
    "彝族",
    "傣族",
    "白族",
    "哈尼族",
    "朝鲜族",
    "蒙古族",
    "蒙古",
    "哈萨克",
    "柯尔克孜",
    "布依族",
    "侗族",
    "景颇族",
    "傈僳族",
    "羌族",
    "瑶族",
    "黎族",
    "畲族",
    "满族",
    "仡佬族",
    "水族",
    "纳西族",
    "拉祜族",
    "佤族",
    "布朗族",
    "普米族",
    "怒族",
    "独龙族",
    "土族",
    "撒拉族",
    "东乡族",
    "保安族",
    "裕固族",
    "达斡尔族",
    "鄂温克族",
    "鄂伦春族",
    "锡伯族",
    "毛南族",
    "仫佬族",
    "各族",
];

/// The four levels, shallowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Province,
    Prefecture,
    County,
    Township,
}

impl Level {
    fn of_code(code: &str) -> Level {
        match code.len() {
            2 => Level::Province,
            4 => Level::Prefecture,
            6 => Level::County,
            _ => Level::Township,
        }
    }

    /// The length of this level's code (2, 4, 6, 9).
    pub fn code_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::Prefecture => 4,
            Level::County => 6,
            Level::Township => 9,
        }
    }
}

/// One (code, name) pair of the data, with the editions that list it.
#[derive(Debug)]
pub struct Division {
    pub code: &'static str,
    pub name: &'static str,
    first: i32,
    last: i32,
}

impl Division {
    pub fn level(&self) -> Level {
        Level::of_code(self.code)
    }

    /// True when the name is valid in `year` (always when the year is unknown).
    pub fn valid_in(&self, year: Option<i32>) -> bool {
        let Some(y) = year else { return true };
        (self.first == FIRST_EDITION || self.first <= y)
            && (self.last == LAST_EDITION || y <= self.last)
    }

    /// True when `self` lies inside `other` (a strictly shallower division).
    pub fn within(&self, other: &Division) -> bool {
        other.code.len() < self.code.len() && self.code.starts_with(other.code)
    }
}

/// A division a pattern names, and whether it names it by its stem only.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub division: u32,
    pub stem: bool,
}

/// An automaton over names and, for each pattern, the divisions it names.
pub struct Finder {
    pub automaton: AhoCorasick,
    pub candidates: Vec<Vec<Candidate>>,
}

pub struct Gazetteer {
    pub divisions: Vec<Division>,
    by_code: HashMap<&'static str, Vec<u32>>,
    by_name: HashMap<&'static str, Vec<u32>>,
    /// Every level: for the short strings that name the body (agency, title, publisher).
    pub all: Finder,
    /// Provinces, prefectures and counties only: for the whole text, where only the
    /// ancestors of a body are looked for.
    pub upper: Finder,
}

impl Gazetteer {
    /// The divisions of one code (a renamed division has several lines).
    pub fn by_code(&self, code: &str) -> &[u32] {
        self.by_code.get(code).map_or(&[], Vec::as_slice)
    }

    /// The divisions of one full name, of every edition (朝阳区: Beijing's and Changchun's).
    pub fn by_name(&self, name: &str) -> &[u32] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The name of `code` as of `year`: the line valid that year, else the latest one.
    pub fn name_of(&self, code: &str, year: Option<i32>) -> Option<&'static str> {
        let ids = self.by_code(code);
        let d = |i: &u32| &self.divisions[*i as usize];
        ids.iter()
            .map(d)
            .find(|x| x.valid_in(year))
            .or_else(|| ids.iter().map(d).max_by_key(|x| x.last))
            .map(|x| x.name)
    }
}

/// The edition a year's names are read from: the year's own between the first and the
/// last edition, else the nearest.
pub fn edition_of(year: i32) -> i32 {
    year.clamp(FIRST_EDITION, LAST_EDITION)
}

/// The gazetteer, built on first use.
pub fn get() -> &'static Gazetteer {
    static CELL: OnceLock<Gazetteer> = OnceLock::new();
    CELL.get_or_init(build)
}

fn build() -> Gazetteer {
    let mut divisions = Vec::with_capacity(DATA.len() / 30);
    for line in DATA.lines() {
        let mut f = line.split('\t');
        let (Some(code), Some(name), Some(first), Some(last)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let (Ok(first), Ok(last)) = (first.parse(), last.parse()) else {
            continue;
        };
        divisions.push(Division {
            code,
            name,
            first,
            last,
        });
    }
    let mut by_code: HashMap<&'static str, Vec<u32>> = HashMap::new();
    for (i, d) in divisions.iter().enumerate() {
        by_code.entry(d.code).or_default().push(i as u32);
    }
    let mut by_name: HashMap<&'static str, Vec<u32>> = HashMap::new();
    for (i, d) in divisions.iter().enumerate() {
        by_name.entry(d.name).or_default().push(i as u32);
    }
    let mut all: HashMap<String, Vec<Candidate>> = HashMap::new();
    let mut upper: HashMap<String, Vec<Candidate>> = HashMap::new();
    for (i, d) in divisions.iter().enumerate() {
        let i = i as u32;
        let mut add = |pattern: &str, stem: bool| {
            let c = Candidate { division: i, stem };
            all.entry(pattern.to_owned()).or_default().push(c);
            if d.level() != Level::Township {
                upper.entry(pattern.to_owned()).or_default().push(c);
            }
        };
        if d.name.chars().count() >= MIN_NAME_CHARS {
            add(d.name, false);
        }
        if let Some(stem) = stem(d) {
            add(stem, true);
        }
        // Tianjin's bodies write 佳荣里街 for 佳荣里街道.
        if let Some(street) = d.name.strip_suffix("街道") {
            if street.chars().count() >= MIN_STEM_CHARS {
                add(&format!("{street}街"), false);
            }
        }
    }
    for (zone, code) in ZONES {
        for &i in by_code.get(code).map_or(&[][..], Vec::as_slice) {
            all.entry((*zone).to_owned()).or_default().push(Candidate {
                division: i,
                stem: false,
            });
        }
    }
    Gazetteer {
        divisions,
        by_code,
        by_name,
        all: finder(all),
        upper: finder(upper),
    }
}

fn finder(map: HashMap<String, Vec<Candidate>>) -> Finder {
    let mut pairs: Vec<(String, Vec<Candidate>)> = map.into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(pairs.iter().map(|(p, _)| p.as_str()))
        .expect("gazetteer patterns");
    Finder {
        automaton,
        candidates: pairs.into_iter().map(|(_, c)| c).collect(),
    }
}

/// The stem of a province, prefecture or county: its name without the body word (省, 市,
/// 自治区, 地区, 盟, 县, 区, 旗) and the ethnic words before 自治 (广西 of 广西壮族自治区).
/// Townships have none: their stems are words of running text.
pub(super) fn stem(d: &Division) -> Option<&'static str> {
    let name = d.name;
    let suffixes: &[&str] = match d.level() {
        Level::Province => &["自治区", "省", "市"],
        Level::Prefecture => &["自治州", "地区", "盟", "市"],
        Level::County => &["自治县", "自治旗", "县", "区", "市", "旗"],
        Level::Township => return None,
    };
    let mut s = suffixes.iter().find_map(|suf| name.strip_suffix(suf))?;
    if name.contains("自治") {
        // 内蒙古: an ethnic word at the start is part of the stem.
        let cut = ETHNIC
            .iter()
            .filter_map(|e| s.find(e))
            .filter(|&at| s[..at].chars().count() >= MIN_STEM_CHARS)
            .min();
        if let Some(cut) = cut {
            s = &s[..cut];
        }
    }
    (s.chars().count() >= MIN_STEM_CHARS).then_some(s)
}
