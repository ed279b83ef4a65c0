//! Finds libsquall for linking, and makes `cargo run` / `cargo test` find it
//! at run time.
//!
//! Where, in order (the first that has the library wins):
//!
//! 1. `SQUALL_LIB_DIR`: a directory holding `libsquall.so` (an install's
//!    `lib/`, or a CMake build tree);
//! 2. the `pkg-config` program (`PKG_CONFIG` overrides its name;
//!    `PKG_CONFIG_PATH` finds a `squall.pc` of another prefix);
//! 3. the usual prefixes: `~/.local/lib`, `/usr/local/lib`, `/opt/squall/lib`,
//!    `/usr/lib` (each also with the target's multiarch and `lib64`).
//!
//! Not found: the build fails with a message that says what to set.
//! `SQUALL_STATIC=1` links `libsquall.a` instead (its private dependencies
//! from `pkg-config --static`, else the usual list).
//!
//! Run time: a shared libsquall outside the loader's own directories is
//! linked through symlinks in `OUT_DIR/lib`, a directory Cargo puts on the
//! library path of `cargo run` and `cargo test`.  A binary run by other
//! means needs `LD_LIBRARY_PATH`, an rpath (`RUSTFLAGS="-C
//! link-arg=-Wl,-rpath,<dir>"`) or libsquall in the loader's path
//! (bindings/rust/README.md).

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pkg_config(args: &[&str]) -> Result<String, String> {
    let prog = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(&prog)
        .args(args)
        .arg("squall")
        .output()
        .map_err(|e| format!("`{prog}` could not run ({e})"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().next().unwrap_or("no squall.pc found").trim().to_string();
        return Err(format!("`{prog} {} squall`: {why}", args.join(" ")));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("`{prog}` printed non-UTF-8"))
}

/// The file the linker needs in a directory.
fn lib_file(statik: bool) -> &'static str {
    if statik { "libsquall.a" } else { "libsquall.so" }
}

/// Debian's multiarch directory name for the target ("x86_64-linux-gnu").
fn multiarch() -> Option<String> {
    let target = env::var("TARGET").ok()?;
    let arch = target.split('-').next()?;
    let abi = if target.ends_with("gnueabihf") { "gnueabihf" } else { "gnu" };
    Some(format!("{arch}-linux-{abi}"))
}

fn usual_dirs() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(home) = env::var_os("HOME") {
        roots.push(Path::new(&home).join(".local"));
    }
    roots.extend(["/usr/local", "/opt/squall", "/usr"].map(PathBuf::from));
    let mut dirs = Vec::new();
    for root in roots {
        if let Some(m) = multiarch() {
            dirs.push(root.join("lib").join(m));
        }
        dirs.push(root.join("lib64"));
        dirs.push(root.join("lib"));
    }
    dirs
}

/// Directories the dynamic loader searches without being told.
fn loader_default(dir: &Path) -> bool {
    let mut defaults: Vec<PathBuf> = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"].map(PathBuf::from).into();
    if let Some(m) = multiarch() {
        defaults.push(Path::new("/lib").join(&m));
        defaults.push(Path::new("/usr/lib").join(&m));
    }
    defaults.iter().any(|d| d == dir)
}

/// Where the library is: Ok(Some(dir)), Ok(None) when pkg-config found it
/// in the linker's default path, Err(what was tried) when nowhere.
fn find(statik: bool) -> Result<Option<PathBuf>, String> {
    let file = lib_file(statik);
    let mut tried = String::new();
    match env::var("SQUALL_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.join(file).exists() {
                return Ok(Some(dir));
            }
            // Explicitly asked for: do not silently take another library.
            return Err(format!("  SQUALL_LIB_DIR={} has no {file}\n", dir.display()));
        }
        _ => tried.push_str("  SQUALL_LIB_DIR: not set\n"),
    }
    match pkg_config(&["--libs-only-L"]) {
        Ok(flags) => {
            let dirs: Vec<PathBuf> =
                flags.split_whitespace().filter_map(|t| t.strip_prefix("-L")).map(PathBuf::from).collect();
            if dirs.is_empty() {
                return Ok(None); // squall.pc found; the library is in the default path
            }
            if let Some(d) = dirs.iter().find(|d| d.join(file).exists()) {
                return Ok(Some(d.clone()));
            }
            let _ = writeln!(tried, "  pkg-config: squall.pc points at {dirs:?}, which has no {file}");
        }
        Err(e) => {
            let _ = writeln!(tried, "  pkg-config: {e}");
        }
    }
    for d in usual_dirs() {
        if d.join(file).exists() {
            return Ok(Some(d));
        }
        let _ = writeln!(tried, "  {}: no {file}", d.display());
    }
    Err(tried)
}

/// libsquall.so and its versioned names, symlinked into OUT_DIR/lib.
fn link_into_out_dir(dir: &Path) -> Option<PathBuf> {
    let out = PathBuf::from(env::var_os("OUT_DIR")?).join("lib");
    std::fs::create_dir_all(&out).ok()?;
    let mut linked = false;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("libsquall.so") {
            continue;
        }
        let link = out.join(&name);
        let _ = std::fs::remove_file(&link);
        #[cfg(unix)]
        {
            linked |= std::os::unix::fs::symlink(entry.path(), &link).is_ok();
        }
    }
    linked.then_some(out)
}

fn main() {
    for var in ["SQUALL_LIB_DIR", "SQUALL_STATIC", "PKG_CONFIG", "PKG_CONFIG_PATH", "HOME"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let statik = env::var("SQUALL_STATIC").map(|v| v == "1").unwrap_or(false);
    let dir = match find(statik) {
        Ok(dir) => dir,
        Err(tried) => panic!(
            "\n\nsquall-sys: cannot find {file} (libsquall, the squall C library).\n\
             Looked in:\n{tried}\n\
             Build and install squall, then tell Cargo where it is, either:\n  \
               export PKG_CONFIG_PATH=<prefix>/lib/pkgconfig   \
             (after `cmake --install build --prefix <prefix>`)\n\
             or\n  \
               export SQUALL_LIB_DIR=<directory holding {file}> (a CMake build tree works)\n",
            file = lib_file(statik)
        ),
    };
    if let Some(d) = &dir {
        println!("cargo:lib_dir={}", d.display());
    }

    if statik {
        if let Some(d) = &dir {
            println!("cargo:rustc-link-search=native={}", d.display());
        }
        println!("cargo:rustc-link-lib=static=squall");
        if let Ok(flags) = pkg_config(&["--static", "--libs-only-l"]) {
            for lib in flags.split_whitespace().filter_map(|t| t.strip_prefix("-l")) {
                if lib != "squall" {
                    println!("cargo:rustc-link-lib={lib}");
                }
            }
        } else {
            for lib in ["event_core", "ssl", "crypto", "z", "stdc++", "pthread"] {
                println!("cargo:rustc-link-lib={lib}");
            }
        }
        return;
    }

    match &dir {
        Some(d) if !loader_default(d) => match link_into_out_dir(d) {
            // Linked from OUT_DIR/lib: on the library path of cargo run/test.
            Some(out) => println!("cargo:rustc-link-search=native={}", out.display()),
            None => println!("cargo:rustc-link-search=native={}", d.display()),
        },
        Some(d) => println!("cargo:rustc-link-search=native={}", d.display()),
        None => {}
    }
    println!("cargo:rustc-link-lib=dylib=squall");
}
