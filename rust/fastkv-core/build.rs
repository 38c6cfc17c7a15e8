//! Compiles `csrc/ldouble.c`: C `long double` arithmetic for INCRBYFLOAT/HINCRBYFLOAT, which
//! Redis computes in `long double` and Rust cannot express (see `src/types/ldouble.rs`).

fn main() {
    println!("cargo:rerun-if-changed=csrc/ldouble.c");
    cc::Build::new()
        .file("csrc/ldouble.c")
        .warnings(true)
        .compile("fastkv_ldouble");
}
