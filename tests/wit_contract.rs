//! The host boundary is a contract: each built flavour must target its world
//! in `wit/`, checked with `wasm-tools component targets`.

mod common;

use common::*;
use std::process::Command;

/// Whether `wasm` targets `world` of the WIT package in `dir` (wit/ holds
/// the WASIp2 worlds, wit/p3 the WASIp3 ones).
fn targets(wasm: &std::path::Path, dir: &str, world: &str) -> (bool, String) {
    let out = Command::new(tool("wasm-tools"))
        .args(["component", "targets"])
        .arg(repo_root().join(dir))
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
    let (ok, err) = targets(&component("wasi-p3"), "wit/p3", "llm-proxy-wasi-p3");
    assert!(
        ok,
        "the wasi flavour imports something outside wasi:http/service + wasi:cli: {err}"
    );
    let (ok, err) = targets(&component("wasi-p2"), "wit", "llm-proxy-wasi");
    assert!(
        ok,
        "the wasi p2 build imports something outside wasi:http/proxy + wasi:cli: {err}"
    );
}

#[test]
fn spin_flavour_targets_the_spin_world_and_not_the_portable_one() {
    for (build, dir, spin_world, portable) in [
        (
            "spin-p3",
            "wit/p3",
            "llm-proxy-spin-p3",
            "llm-proxy-wasi-p3",
        ),
        ("spin-p2", "wit", "llm-proxy-spin", "llm-proxy-wasi"),
    ] {
        let spin = component(build);
        let (ok, err) = targets(&spin, dir, spin_world);
        assert!(ok, "{build}: {err}");
        // The check bites: the Spin build imports Spin variables, which the
        // portable world does not offer.
        let (ok, err) = targets(&spin, dir, portable);
        assert!(!ok, "{build} unexpectedly fits the portable world");
        assert!(err.contains("fermyon:spin"), "{build}: {err}");
    }
}

#[test]
fn the_p3_builds_serve_wasi_http_0_3_and_the_p2_builds_0_2() {
    // A p3 build does not fit the p2 world and the other way round: each
    // exports its own handler.
    let (ok, _) = targets(&component("wasi-p3"), "wit", "llm-proxy-wasi");
    assert!(!ok, "the p3 build fits the p2 world");
    let (ok, _) = targets(&component("wasi-p2"), "wit/p3", "llm-proxy-wasi-p3");
    assert!(!ok, "the p2 build fits the p3 world");
}

/// A guard against bloat, not a product limit: 1.5 MiB. With four client
/// dialects' translators, the WASIp3 edge and the clouds' crypto the
/// components are ~1.3 MB at opt-level 3 ("s" costs speed the translators
/// need; docs/performance.md).
#[test]
fn components_stay_small() {
    for build in ["wasi-p3", "spin-p3", "wasi-p2", "spin-p2"] {
        let size = std::fs::metadata(component(build)).unwrap().len();
        assert!(size <= 1536 * 1024, "{build} component is {size} bytes");
    }
}
