//! Parses one file N times (for profilers): cargo run --release --example parse_loop -- FILE N
fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().expect("FILE");
    let n: usize = args.next().map_or(1000, |s| s.parse().expect("N"));
    let bytes = std::fs::read(&file).expect("read FILE");
    let hints = nianbao::Hints::default();
    let mut facts = 0;
    for _ in 0..n {
        facts += nianbao::catalogue::facts(&nianbao::parse_document(&bytes, &hints)).len();
    }
    println!("{facts}");
}
