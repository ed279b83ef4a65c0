//! Finds libsquall for linking.
//!
//! Order: `SQUALL_LIB_DIR` (a directory holding libsquall.so), else the
//! `pkg-config` program (`PKG_CONFIG` overrides its name), else the linker's
//! default search path.  `SQUALL_STATIC=1` links libsquall.a instead (its
//! private dependencies then come from `pkg-config --static`).

use std::env;
use std::process::Command;

fn pkg_config(args: &[&str]) -> Option<String> {
    let prog = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(prog).args(args).arg("squall").output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

fn main() {
    println!("cargo:rerun-if-env-changed=SQUALL_LIB_DIR");
    println!("cargo:rerun-if-env-changed=SQUALL_STATIC");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-changed=build.rs");

    let statik = env::var("SQUALL_STATIC").map(|v| v == "1").unwrap_or(false);

    if let Ok(dir) = env::var("SQUALL_LIB_DIR") {
        if !dir.is_empty() {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:lib_dir={dir}");
        }
    } else if let Some(flags) = pkg_config(&["--libs-only-L"]) {
        for tok in flags.split_whitespace() {
            if let Some(dir) = tok.strip_prefix("-L") {
                println!("cargo:rustc-link-search=native={dir}");
                println!("cargo:lib_dir={dir}");
            }
        }
    }

    if statik {
        println!("cargo:rustc-link-lib=static=squall");
        if let Some(flags) = pkg_config(&["--static", "--libs-only-l"]) {
            for tok in flags.split_whitespace() {
                if let Some(lib) = tok.strip_prefix("-l") {
                    if lib != "squall" {
                        println!("cargo:rustc-link-lib={lib}");
                    }
                }
            }
        } else {
            for lib in ["event_core", "ssl", "crypto", "z", "stdc++", "pthread"] {
                println!("cargo:rustc-link-lib={lib}");
            }
        }
    } else {
        println!("cargo:rustc-link-lib=dylib=squall");
    }
}
