use super::*;

fn place(agency: &str, text: &str, year: Option<i32>) -> Resolution {
    resolve(&Clues {
        agency,
        text,
        titles: &[],
        source: None,
        url: None,
        year,
    })
}

fn path(r: &Resolution) -> String {
    let g = &r.region;
    format!(
        "{}/{}/{}/{}/{}",
        g.province, g.city, g.county, g.township, g.code
    )
}

#[test]
fn resolves_by_the_names_the_text_gives() {
    // (agency, text, year, province/prefecture/county/township/code)
    let cases: &[(&str, &str, Option<i32>, &str)] = &[
        ("淮安市人民政府", "", Some(2024), "江苏省/淮安市///320800"),
        (
            "句容市水利局",
            "",
            Some(2022),
            "江苏省/镇江市/句容市//321183",
        ),
        ("廣州市國資委", "", Some(2020), "广东省/广州市///440100"),
        (
            "北京市朝阳区人民政府",
            "",
            Some(2019),
            "北京市//朝阳区//110105",
        ),
        (
            "平潭综合实验区",
            "",
            Some(2019),
            "福建省/福州市/平潭县//350128",
        ),
        (
            "神木市沙峁镇人民政府",
            "",
            Some(2020),
            "陕西省/榆林市/神木市/沙峁镇/610881113",
        ),
        (
            "郑州高新区沟赵办事处",
            "",
            Some(2021),
            "河南省/郑州市///410100",
        ),
        (
            "内蒙古自治区人民政府",
            "",
            Some(2021),
            "内蒙古自治区////150000",
        ),
    ];
    for (agency, text, year, want) in cases {
        assert_eq!(path(&place(agency, text, *year)), *want, "{agency}");
    }
}

#[test]
fn a_name_of_several_places_is_not_guessed() {
    let r = place("朝阳区人民政府", "一、总体情况\n本区积极推进。", Some(2020));
    assert_eq!(path(&r), "////");
    let why = r.reason.expect("a reason");
    assert!(why.contains("朝阳区") && why.contains("北京市"), "{why}");
    // The signature names the ancestor that decides.
    let r = place(
        "朝阳区人民政府",
        "一、总体情况\n……\n北京市朝阳区人民政府\n",
        Some(2020),
    );
    assert_eq!(path(&r), "北京市//朝阳区//110105");
    assert_eq!(r.reason, None);
}

#[test]
fn a_national_body_has_no_place_and_no_reason() {
    let r = place("交通运输部", "一、总体情况", Some(2019));
    assert_eq!(r, Resolution::default());
}

#[test]
fn words_are_not_places() {
    let r = place("市场监督管理局", "一、总体情况\n区域发展", Some(2020));
    assert_eq!(r.region, Region::default());
    assert!(r.reason.is_some());
}

#[test]
fn a_body_is_named_without_the_divisions_above_a_place_of_one_name() {
    let names = |r: &Resolution| {
        let g = r.region.clone();
        [g.province, g.city, g.county, g.township]
    };
    let body_of = |agency: &str| {
        let n = names(&place(agency, "", Some(2024)));
        body(agency, [&n[0], &n[1], &n[2], &n[3]], Some(2024)).to_owned()
    };
    // One 洪泽区 and one 淮安市: the names above them are dropped, whatever the body.
    assert_eq!(body_of("淮安市洪泽区人民政府"), "洪泽区人民政府");
    assert_eq!(body_of("江苏省淮安市洪泽区人民政府"), "洪泽区人民政府");
    assert_eq!(body_of("洪泽区人民政府"), "洪泽区人民政府");
    assert_eq!(body_of("淮安市洪泽区交通运输局"), "洪泽区交通运输局");
    assert_eq!(body_of("江苏省淮安市人民政府"), "淮安市人民政府");
    assert_eq!(
        body_named("淮安市洪泽区交通运输局", 2024),
        "洪泽区交通运输局"
    );
    // 朝阳区 is Beijing's and Changchun's: the city stays.
    assert_eq!(body_of("北京市朝阳区人民政府"), "北京市朝阳区人民政府");
    // No place, or a place whose own name does not follow the names dropped: as printed.
    assert_eq!(body_of("某区人民政府"), "某区人民政府");
    assert_eq!(
        body(
            "淮安市人民政府办公室",
            ["江苏省", "淮安市", "洪泽区", ""],
            Some(2024)
        ),
        "淮安市人民政府办公室"
    );
    assert_eq!(
        body("  国务院办公厅 ", ["", "", "", ""], Some(2024)),
        "国务院办公厅"
    );
}

proptest::proptest! {
    /// The one-pass search for publisher lines keeps exactly the lines a line-by-line test
    /// keeps: trimmed, cut at MAX_ANCHOR_LINE_BYTES, holding a key before the cut.
    #[test]
    fn publisher_lines_are_those_a_line_by_line_test_keeps(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "来源", "信息来源：", "发布机构", "发文", "单位", "发布", "机关", "来",
                "源", "淮安市洪泽区人民政府", "一二三四五六七八九十", "abcdefghij",
                "\n", "\r\n", "\n\n", " ", "\u{3000}", "\t", "|",
            ]),
            0..120,
        )
    ) {
        let text: String = pieces.concat();
        let slow: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| head_of(l, MAX_ANCHOR_LINE_BYTES))
            .filter(|l| PUBLISHER_KEYS.iter().any(|k| l.contains(k)))
            .collect();
        let fast: Vec<&str> = publisher_lines(&text).collect();
        proptest::prop_assert_eq!(fast, slow);
    }
}

#[test]
fn a_short_name_stands_for_its_one_full_name() {
    assert_eq!(full_name(Level::Province, "江苏"), Ok("江苏省"));
    assert_eq!(full_name(Level::Province, " 广西 "), Ok("广西壮族自治区"));
    assert_eq!(full_name(Level::Prefecture, "淮安"), Ok("淮安市"));
    assert_eq!(full_name(Level::Province, "北京市"), Ok("北京市"));
    assert_eq!(full_name(Level::Province, "火星"), Err(Vec::new()));
    let Err(several) = full_name(Level::County, "朝阳") else {
        panic!("朝阳 names more than one county");
    };
    assert!(several.contains(&"朝阳区") && several.contains(&"朝阳县"));
    assert!(several.windows(2).all(|w| w[0] < w[1]));
}

/// Every name and stem of the gazetteer means, at its level, what a map from each to the
/// set of full names it stands for says.
#[test]
fn full_names_are_those_a_map_of_sets_gives() {
    use std::collections::{BTreeSet, HashMap};
    let mut by_level: [HashMap<&str, BTreeSet<&str>>; 4] = Default::default();
    for d in &gazetteer::get().divisions {
        let map = &mut by_level[d.level() as usize];
        map.entry(d.name).or_default().insert(d.name);
        if let Some(stem) = gazetteer::stem(d) {
            map.entry(stem).or_default().insert(d.name);
        }
    }
    let levels = [
        Level::Province,
        Level::Prefecture,
        Level::County,
        Level::Township,
    ];
    for level in levels {
        for (given, full) in &by_level[level as usize] {
            let want = if full.contains(given) {
                Ok(*given)
            } else if full.len() == 1 {
                Ok(*full.first().expect("one"))
            } else {
                Err(full.iter().copied().collect())
            };
            assert_eq!(full_name(level, given), want, "{given} at {level:?}");
        }
    }
}
