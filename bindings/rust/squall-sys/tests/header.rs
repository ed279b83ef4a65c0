//! The declarations match the public header: every function and every enum
//! constant of squall.h is declared here with the same value.

use std::collections::BTreeMap;
use std::path::PathBuf;

fn header() -> String {
    let src = std::env::var("SQUALL_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.."));
    let path = src.join("capi/include/squall/squall.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const LIB_RS: &str = include_str!("../src/lib.rs");

fn words(s: &str) -> Vec<&str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}

#[test]
fn every_function_is_declared() {
    let h = header();
    // Join lines so that multi-line prototypes are seen whole.
    let flat = h.replace('\n', " ");
    let mut missing = Vec::new();
    let mut n = 0;
    for decl in flat.split("SQUALL_API").skip(1) {
        let Some(paren) = decl.find('(') else { continue };
        let name = *words(&decl[..paren]).last().unwrap();
        if !name.starts_with("squall_") {
            continue;
        }
        n += 1;
        if !LIB_RS.contains(&format!("pub fn {name}(")) {
            missing.push(name.to_string());
        }
    }
    assert!(n > 70, "found only {n} functions in the header");
    assert!(missing.is_empty(), "not declared in squall-sys: {missing:?}");
}

#[test]
fn every_enum_constant_matches() {
    let h = header();
    let mut consts = BTreeMap::new();
    for line in h.lines() {
        let t = line.trim();
        if !t.starts_with("SQUALL_") || !t.contains('=') {
            continue;
        }
        let (name, rest) = t.split_once('=').unwrap();
        let name = name.trim();
        let value: String = rest.trim().chars().take_while(|c| *c == '-' || c.is_ascii_digit()).collect();
        if let Ok(v) = value.parse::<i64>() {
            consts.insert(name.to_string(), v);
        }
    }
    assert!(consts.len() > 60, "found only {} constants", consts.len());
    let mut wrong = Vec::new();
    for (name, v) in &consts {
        let decl = format!("pub const {name}: c_int = {v};");
        if !LIB_RS.contains(&decl) {
            wrong.push(format!("{name} = {v}"));
        }
    }
    assert!(wrong.is_empty(), "missing or different in squall-sys: {wrong:?}");
}

#[test]
fn version_macros_match_the_header() {
    let h = header();
    for (mac, val) in [
        ("SQUALL_VERSION_MAJOR", squall_sys::SQUALL_VERSION_MAJOR),
        ("SQUALL_VERSION_MINOR", squall_sys::SQUALL_VERSION_MINOR),
        ("SQUALL_VERSION_PATCH", squall_sys::SQUALL_VERSION_PATCH),
    ] {
        assert!(h.contains(&format!("#define {mac} {val}\n")), "{mac} differs");
    }
    // SAFETY: plain call.
    let loaded = unsafe { squall_sys::squall_version() };
    assert_eq!(loaded >> 16, squall_sys::SQUALL_VERSION_MAJOR);
}

#[test]
fn squall_header_layout_matches() {
    use squall_sys::squall_header;
    use std::mem::{align_of, offset_of, size_of};
    // The declaration without its comments (the members' documentation).
    let mut h = header();
    while let Some(start) = h.find("/*") {
        let end = h[start..].find("*/").map_or(h.len(), |e| start + e + 2);
        h.replace_range(start..end, " ");
    }
    let flat: String = h.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "typedef struct squall_header { const char *name; size_t name_len; \
             const char *value; size_t value_len; } squall_header;"
        ),
        "struct squall_header changed in squall.h"
    );
    let w = size_of::<usize>();
    assert_eq!(size_of::<squall_header>(), 4 * w);
    assert_eq!(align_of::<squall_header>(), align_of::<usize>());
    assert_eq!(offset_of!(squall_header, name), 0);
    assert_eq!(offset_of!(squall_header, name_len), w);
    assert_eq!(offset_of!(squall_header, value), 2 * w);
    assert_eq!(offset_of!(squall_header, value_len), 3 * w);
}
