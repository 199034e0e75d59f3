//! A realistic corpus of any size, made from the real reports in tests/corpus.
//!
//! Report `i` belongs to body `i / 6` and year `2019 + i % 6`. Its text is a corpus report of
//! the format that year uses (2019 format for 2019-2020, 2021 format after), in that report's
//! own layout (tab rows, one cell per line, PDF text, pdftotext -layout) or as an HTML page,
//! with the body's name and the year written in, and every table figure multiplied by a
//! factor 1-4 (the table rules are sums, so they still hold). About 3% are deliberately
//! broken: one table figure is raised by one.

use std::path::Path;

use nianbao::pb::Template;

/// The metrics the comparison queries use, in CSV column order.
pub const METRICS: [&str; 4] = [
    "applications.new_received.total",
    "applications.disclosed.total",
    "applications.partially_disclosed.total",
    "applications.closed_total.total",
];

/// The first 20 provinces the parser knows (municipalities aside: their city is the province).
fn province(k: usize) -> &'static str {
    use nianbao::parse::meta::{MUNICIPALITIES, PROVINCES};
    PROVINCES
        .iter()
        .filter(|p| !MUNICIPALITIES.contains(p))
        .nth(k % 20)
        .expect("20 provinces")
}
const SYLLABLES: [&str; 20] = [
    "安", "宁", "平", "东", "西", "南", "北", "华", "江", "河", "山", "海", "阳", "兴", "泰", "昌",
    "嘉", "德", "林", "云",
];
const DEPARTMENTS: [&str; 12] = [
    "人民政府",
    "人民政府办公室",
    "发展和改革委员会",
    "教育局",
    "公安局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "卫生健康委员会",
];

/// Bodies the naming scheme can tell apart (20 provinces × 40 cities × 50 counties × 12).
pub const MAX_BODIES: usize = 20 * 40 * 50 * 12;

/// One corpus report as a pattern.
pub struct Pattern {
    pub name: String,
    /// The report's lines, each split into text and the figures to scale.
    lines: Vec<Line>,
    agency: String,
    year: i32,
    pub template: Template,
    html: bool,
    /// The pattern's own values of [`METRICS`].
    pub facts: [Option<f64>; 4],
    /// Every figure of tables 三 and 四 is scaled with the rest (checked on a sample).
    pub scalable: bool,
}

/// The table 三/四 facts of a parsed report.
fn table_facts(r: &nianbao::pb::Report) -> Vec<(&'static str, f64)> {
    nianbao::catalogue::facts(r)
        .into_iter()
        .filter(|(p, _)| {
            p.starts_with("applications.")
                || p.starts_with("review.")
                || p.starts_with("litigation")
        })
        .collect()
}

impl Pattern {
    /// Renders the pattern for a body and year of its format and parses it back: whether
    /// the agency and year read as written, and whether every table figure scales.
    fn check(&mut self, reference: &nianbao::pb::Report) -> Result<(), String> {
        let year = if self.template == Template::Template2019 {
            2020
        } else {
            2023
        };
        let want = table_facts(reference);
        for factor in [3, 1] {
            let g = render(self, 12_345, year, factor, false);
            let r = nianbao::parse_document(&g.content, &g.hints());
            if r.agency != g.agency || r.year != Some(year) {
                return Err(format!(
                    "reads as {:?} {:?}, written {:?} {year}",
                    r.agency, r.year, g.agency
                ));
            }
            let scaled: Vec<(&str, f64)> =
                want.iter().map(|(p, v)| (*p, v * factor as f64)).collect();
            if table_facts(&r) == scaled {
                self.scalable = factor != 1;
                return Ok(());
            }
        }
        Err("its table figures do not read back".into())
    }
}

enum Line {
    Text(String),
    /// Cells of a row (tab-separated, or space-separated figures); `true` marks a figure.
    Cells(Vec<(String, bool)>, char),
}

fn is_figure(s: &str) -> bool {
    !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit())
}

fn split_line(line: &str) -> Line {
    if line.contains('\t') {
        let cells: Vec<(String, bool)> = line
            .split('\t')
            .map(|c| (c.to_owned(), is_figure(c.trim())))
            .collect();
        if cells.iter().any(|c| c.1) {
            return Line::Cells(cells, '\t');
        }
    } else {
        let words: Vec<&str> = line.split(' ').collect();
        if words.iter().any(|w| !w.is_empty()) && words.iter().all(|w| w.is_empty() || is_figure(w))
        {
            return Line::Cells(
                words
                    .iter()
                    .map(|w| ((*w).to_owned(), !w.is_empty()))
                    .collect(),
                ' ',
            );
        }
    }
    Line::Text(line.to_owned())
}

/// The corpus reports as patterns, plus HTML renderings of those in tab rows; and the
/// reports that cannot be patterns, with the reason.
pub fn patterns(corpus: &Path) -> (Vec<Pattern>, Vec<String>) {
    let mut unusable = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(corpus)
        .expect("corpus directory")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
        let report = nianbao::parse_document(text.as_bytes(), &Default::default());
        let (Some(year), false) = (report.year, report.agency.is_empty()) else {
            continue;
        };
        let facts = METRICS.map(|m| {
            nianbao::catalogue::get(&report, nianbao::catalogue::index_of(m).expect("metric"))
        });
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let tabbed = text
            .lines()
            .map(split_line)
            .any(|l| matches!(l, Line::Cells(_, '\t')));
        let template = Template::try_from(report.template).unwrap_or(Template::Unknown);
        for html in [false, true] {
            if html && !tabbed {
                continue;
            }
            let mut pattern = Pattern {
                name: format!("{name}{}", if html { " (html)" } else { "" }),
                lines: text.lines().map(split_line).collect(),
                agency: report.agency.clone(),
                year,
                template,
                html,
                facts,
                scalable: true,
            };
            match pattern.check(&report) {
                Ok(()) => out.push(pattern),
                Err(why) => unusable.push(format!("{}: {why}", pattern.name)),
            }
        }
    }
    (out, unusable)
}

/// A body's name, unique for `body < MAX_BODIES`: a real province and one of its real
/// prefectures (so that groupings by city are the gazetteer's, as for real reports), a
/// made-up county named after the city slot and county slot together, and a department.
pub fn agency(body: usize) -> String {
    let province = province(body);
    let city = body / 20 % 40;
    let county = body / 800 % 50;
    let dept = DEPARTMENTS[body / 40_000 % 12];
    let suffix = if county % 3 == 0 { "县" } else { "区" };
    let u = city * 50 + county;
    format!(
        "{province}{}{}{}{}{suffix}{dept}",
        prefecture(province, city),
        SYLLABLES[u % 20],
        SYLLABLES[u / 20 % 20],
        SYLLABLES[u / 400],
    )
}

/// The `k`th prefecture of `province` (cycling through them), as of the gazetteer's last
/// edition.
fn prefecture(province: &str, k: usize) -> &'static str {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static CITIES: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    let cities = CITIES.get_or_init(|| {
        use nianbao::place::{divisions_under, Level};
        divisions_under("", Level::Province, 2023)
            .into_iter()
            .map(|(code, name)| {
                let cities = divisions_under(code, Level::Prefecture, 2023)
                    .into_iter()
                    .map(|(_, city)| city)
                    .collect();
                (name, cities)
            })
            .collect()
    });
    let list = &cities[province];
    list[k % list.len()]
}

/// A cheap deterministic hash of `i` (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Generated {
    /// What a scraper knows besides the bytes: the site's body, the year, HTML or not.
    pub fn hints(&self) -> nianbao::Hints {
        nianbao::Hints {
            agency: Some(self.agency.clone()),
            year: Some(self.year),
            content_type: if self.html { "text/html" } else { "" }.to_owned(),
            ..Default::default()
        }
    }
}

/// One generated report.
pub struct Generated {
    pub content: Vec<u8>,
    pub agency: String,
    pub year: i32,
    pub html: bool,
    /// The values of [`METRICS`] it prints, when known without parsing (not broken).
    pub facts: Option<[Option<f64>; 4]>,
    pub source: String,
}

/// Report `i` of the generated corpus.
pub fn report(patterns: &[Pattern], i: usize) -> Generated {
    let body = i / 6;
    let year = 2019 + (i % 6) as i32;
    let want = if year <= 2020 {
        Template::Template2019
    } else {
        Template::Template2021
    };
    let fitting: Vec<&Pattern> = patterns.iter().filter(|p| p.template == want).collect();
    let h = mix(i as u64);
    let pattern = fitting[(h % fitting.len() as u64) as usize];
    let factor = if pattern.scalable {
        1 + (h >> 8) % 4
    } else {
        1
    };
    render(pattern, body, year, factor, (h >> 16) % 100 < 3)
}

/// `pattern` written for body `body` (its own format's year), for timing one layout.
pub fn sample(pattern: &Pattern, body: usize) -> Generated {
    let year = if pattern.template == Template::Template2019 {
        2020
    } else {
        2023
    };
    render(pattern, body, year, 1 + body as u64 % 4, false)
}

/// `pattern` written for `body` and `year`, its figures times `factor`, maybe broken.
fn render(pattern: &Pattern, body: usize, year: i32, factor: u64, broken: bool) -> Generated {
    let agency = agency(body);
    let years = [
        (format!("{}年", pattern.year), format!("{year}年")),
        (format!("{} 年", pattern.year), format!("{year} 年")),
    ];
    let rewrite = |t: &str| {
        let mut t = t.replace(&pattern.agency, &agency);
        for (old, new) in &years {
            t = t.replace(old, new);
        }
        t
    };
    let mut text = String::with_capacity(12 * 1024);
    if pattern.html {
        text.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
        text.push_str(&agency);
        text.push_str("</title></head><body>\n");
    }
    let mut in_table = false;
    let mut figures = 0usize;
    for line in &pattern.lines {
        match line {
            Line::Text(t) => {
                let t = rewrite(t);
                if pattern.html {
                    if in_table {
                        text.push_str("</table>\n");
                        in_table = false;
                    }
                    text.push_str("<p>");
                    text.push_str(&t);
                    text.push_str("</p>\n");
                } else {
                    text.push_str(&t);
                    text.push('\n');
                }
            }
            Line::Cells(cells, sep) => {
                if pattern.html && !in_table {
                    text.push_str("<table border=\"1\">\n");
                    in_table = true;
                }
                if pattern.html {
                    text.push_str("<tr>");
                }
                for (k, (cell, figure)) in cells.iter().enumerate() {
                    let value = if *figure {
                        let v: u64 = cell.trim().parse().expect("a figure");
                        figures += 1;
                        // The broken ones: the 40th figure (well inside table 三) raised by one.
                        let bump = u64::from(broken && figures == 40);
                        (v * factor + bump).to_string()
                    } else {
                        cell.replace(&pattern.agency, &agency)
                    };
                    if pattern.html {
                        text.push_str("<td>");
                        text.push_str(&value);
                        text.push_str("</td>");
                    } else {
                        if k > 0 {
                            text.push(*sep);
                        }
                        text.push_str(&value);
                    }
                }
                text.push_str(if pattern.html { "</tr>\n" } else { "\n" });
            }
        }
    }
    if pattern.html {
        if in_table {
            text.push_str("</table>\n");
        }
        text.push_str("</body></html>\n");
    }
    let scale = factor as f64;
    Generated {
        content: text.into_bytes(),
        source: format!("https://www.gov.example/xxgk/{body}/{year}/ndbg.html"),
        agency,
        year,
        html: pattern.html,
        facts: (!broken).then(|| pattern.facts.map(|f| f.map(|v| v * scale))),
    }
}
