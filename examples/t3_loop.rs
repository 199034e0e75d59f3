//! Runs table 三 reading in a loop (a profiling aid): cargo run --release --example t3_loop -- FILE
use nianbao::parse::{sections, sheet::Sheet, tables};
fn main() {
    let file = std::env::args().nth(1).expect("FILE");
    let text = nianbao::decode::decode(
        &std::fs::read(file).expect("read"),
        None,
        Default::default(),
    )
    .text;
    let sec = sections(&text);
    let (a, b) = sec.t3.expect("table 三");
    let mut n = 0;
    for _ in 0..5000 {
        n += tables::read_t3(
            &text[a..b],
            nianbao::pb::Template::Template2021,
            false,
            &mut Sheet::default(),
        )
        .numbers;
    }
    println!("{n}");
}
