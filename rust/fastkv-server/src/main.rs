//! `fastkv-server [config-file] [--directive value ...]`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(fastkv_server::main_with_args(&args));
}
