//! The host boundary is a contract: each built flavour must target its world
//! in `wit/`, checked with `wasm-tools component targets`.

mod common;

use common::*;
use std::process::Command;

fn targets(wasm: &std::path::Path, world: &str) -> (bool, String) {
    let out = Command::new(tool("wasm-tools"))
        .args(["component", "targets"])
        .arg(repo_root().join("wit"))
        .arg(wasm)
        .args(["--world", world])
        .output()
        .expect("run wasm-tools");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn wasi_flavour_targets_the_portable_world() {
    let (ok, err) = targets(&component("wasi"), "llm-proxy-wasi");
    assert!(
        ok,
        "the wasi flavour imports something outside wasi:http/proxy + wasi:cli: {err}"
    );
}

#[test]
fn spin_flavour_targets_the_spin_world_and_not_the_portable_one() {
    let spin = component("spin");
    let (ok, err) = targets(&spin, "llm-proxy-spin");
    assert!(ok, "{err}");
    // The check bites: the Spin build imports Spin variables, which the
    // portable world does not offer.
    let (ok, err) = targets(&spin, "llm-proxy-wasi");
    assert!(!ok, "the spin flavour unexpectedly fits the portable world");
    assert!(err.contains("fermyon:spin"), "{err}");
}

/// A guard against bloat, not a product limit: 1.25 MiB. With four client
/// dialects' translators and the clouds' crypto the components are ~1.07 MB
/// at opt-level 3 (~0.98 MB at "s", which costs speed the translators need;
/// docs/performance.md).
#[test]
fn components_stay_small() {
    for flavour in ["wasi", "spin"] {
        let size = std::fs::metadata(component(flavour)).unwrap().len();
        assert!(size <= 1280 * 1024, "{flavour} component is {size} bytes");
    }
}
