//! Bytes stored per tree of a (stopped) data directory, to see where disk goes:
//! cargo run --release --example store_sizes -- DATA_DIR
fn main() {
    let dir = std::env::args().nth(1).expect("DATA_DIR");
    let db = sled::Config::new().path(&dir).open().expect("open");
    for name in db.tree_names() {
        let tree = db.open_tree(&name).expect("tree");
        let (mut n, mut keys, mut values) = (0u64, 0u64, 0u64);
        for kv in tree.iter() {
            let (k, v) = kv.expect("read");
            n += 1;
            keys += k.len() as u64;
            values += v.len() as u64;
        }
        println!(
            "{:<12} {n:>8} entries {keys:>12} key bytes {values:>12} value bytes ({:.0} B/entry)",
            String::from_utf8_lossy(&name),
            (keys + values) as f64 / n.max(1) as f64
        );
    }
    println!("size_on_disk {}", db.size_on_disk().expect("size"));
}
