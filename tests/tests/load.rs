//! The load program stays runnable: a small run (20 families) must end with its own check that
//! nothing was lost or duplicated. The figures at 100 and 1,000 families are in BENCHMARKS.md.

#[test]
fn a_small_load_run_loses_and_duplicates_nothing() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cjg-load"))
        .args(["20", "5"])
        .env("LOAD_MAX_SECONDS", "300")
        .env("LOAD_SYNC_EVERY", "1")
        .env("LOAD_STEADY_SECONDS", "3")
        .output()
        .expect("run cjg-load");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cjg-load failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("CHECK: nothing lost, nothing duplicated"), "{text}");
    assert!(text.contains("| GET /v1/sync (first pull)"), "{text}");
    assert!(text.contains("| GET /v1/sync (steady, every 1 s)"), "{text}");
}
