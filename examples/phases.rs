//! Times each parsing phase on one file (a profiling aid): cargo run --release --example phases -- FILE
use std::time::Instant;

use nianbao::parse::{meta, sections, sheet::Sheet, tables};

fn main() {
    let file = std::env::args().nth(1).expect("FILE");
    let bytes = std::fs::read(file).expect("read");
    let n = 500;
    let time = |name: &str, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!(
            "{name:>12}: {:>8.1} µs",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    };
    let text = nianbao::decode::decode(&bytes, None, Default::default()).text;
    let sec = sections(&text);
    let region = |r: Option<(usize, usize)>| r.map_or("", |(a, b)| &text[a..b]);
    let raw = std::str::from_utf8(&bytes).unwrap();
    time("utf8+own", &mut || {
        sink(std::str::from_utf8(&bytes).unwrap().to_owned())
    });
    time("normalize", &mut || sink(nianbao::decode::normalize(raw)));
    time("decode", &mut || {
        sink(nianbao::decode::decode(&bytes, None, Default::default()))
    });
    time("sections", &mut || sink(sections(&text)));
    time("t2", &mut || {
        sink(tables::read_t2(
            region(sec.t2),
            nianbao::pb::Template::Template2021,
            &mut Sheet::default(),
        ))
    });
    time("t3", &mut || {
        sink(tables::read_t3(
            region(sec.t3),
            nianbao::pb::Template::Template2021,
            false,
            &mut Sheet::default(),
        ))
    });
    time("t4", &mut || {
        sink(tables::read_t4(region(sec.t4), &mut Sheet::default()))
    });
    let titles = meta::titles(&text);
    time("titles", &mut || sink(meta::titles(&text)));
    time("year", &mut || sink(meta::year(&text, &titles)));
    time("agency", &mut || sink(meta::agency(&text, &titles)));
    time("overview", &mut || {
        sink(meta::overview(&text[sec.overview.0..sec.overview.1]))
    });
    time("fees", &mut || {
        sink(sec.s6.map(|(a, b)| meta::fees(&text[a..b])))
    });
    time("sheet", &mut || sink(Sheet::default()));
    time("whole", &mut || {
        sink(nianbao::parse_document(&bytes, &Default::default()))
    });
}

fn sink<T>(value: T) {
    std::hint::black_box(value);
}
