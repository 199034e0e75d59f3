//! The panic hook of the targets that go through `extract`, which runs every third-party
//! reader under `catch_unwind` and calls the document unreadable when one panics.

use std::panic::PanicHookInfo;

/// libFuzzer's hook aborts on any panic, even one `extract` catches. This one lets a panic
/// raised in a dependency's code (a crate under cargo's registry) unwind to that catch and
/// prints it; a panic raised anywhere else (nianbao's own code, the standard library) still
/// goes to libFuzzer's hook and fails the run, and so does any panic that escapes `extract`
/// (`fuzz_target!` aborts on it).
pub fn tolerate_dependency_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fatal = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if in_dependency(info) {
                eprintln!("caught in a dependency: {info}");
            } else {
                fatal(info);
            }
        }));
    });
}

fn in_dependency(info: &PanicHookInfo<'_>) -> bool {
    info.location()
        .is_some_and(|at| at.file().contains("/registry/src/"))
}
