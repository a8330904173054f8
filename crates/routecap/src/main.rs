//! The `routecap` command-line tool.
//!
//! Exit status: 0 success; 1 when some replay lines were errors; 2 usage or
//! input error (message on stderr, nothing on stdout). Never 101: a panic is
//! caught and reported as an internal error with status 2.

mod cli;

fn main() {
    let code = match std::panic::catch_unwind(cli::run) {
        Ok(code) => code,
        Err(_) => {
            eprintln!("routecap: internal error (this is a bug; please report it with the input that caused it)");
            2
        }
    };
    std::process::exit(code);
}
