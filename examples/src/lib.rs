//! Helpers shared by the examples: command-line flags, nothing more.

use std::str::FromStr;

/// Returns the value after `--name` on the command line, parsed, or
/// `default` when the flag is absent. Exits with a usage message when the
/// value does not parse, so a typo never silently runs with a default.
pub fn flag<T: FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    let Some(position) = args.iter().position(|arg| *arg == flag) else {
        return default;
    };
    match args.get(position + 1).map(|value| value.parse()) {
        Some(Ok(value)) => value,
        _ => {
            eprintln!("error: {flag} needs a valid value");
            std::process::exit(2);
        }
    }
}
