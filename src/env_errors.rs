//! Command-line errors that name the environment variable a bad value came from. clap reports
//! a refused value by its flag (`--rate-limit-login <RATE_LIMIT_LOGIN>`) even when the value
//! was read from `SYMPHAINY_RATE_LIMIT_LOGIN`; an operator who never typed the flag is left
//! guessing. Values of secret variables are never repeated.

use clap::error::{ContextKind, ContextValue};

/// Rewrites `err` when the refused value came from an environment variable rather than from a
/// flag on the command line (`argv`, without the program name is fine too).
pub fn name_env_source(mut err: clap::Error, cmd: &clap::Command, argv: &[String]) -> clap::Error {
    let Some(ContextValue::String(shown)) = err.get(ContextKind::InvalidArg) else {
        return err;
    };
    // `--rate-limit-login <RATE_LIMIT_LOGIN>` → `rate-limit-login`
    let Some(long) = shown
        .strip_prefix("--")
        .and_then(|s| s.split([' ', '=']).next())
        .map(str::to_string)
    else {
        return err;
    };
    let on_command_line = argv
        .iter()
        .any(|a| *a == format!("--{long}") || a.starts_with(&format!("--{long}=")));
    if on_command_line {
        return err;
    }
    let Some(arg) = find_arg(cmd, &long) else {
        return err;
    };
    let Some(var) = arg.get_env().and_then(|v| v.to_str()) else {
        return err;
    };
    if std::env::var_os(var).is_none() {
        return err;
    }
    err.insert(
        ContextKind::InvalidArg,
        ContextValue::String(format!("{var} (environment variable; flag --{long})")),
    );
    if arg.is_hide_env_values_set() {
        err.insert(
            ContextKind::InvalidValue,
            ContextValue::String("<hidden>".into()),
        );
    }
    err
}

/// The argument with this long name in `cmd` or any of its subcommands.
fn find_arg<'a>(cmd: &'a clap::Command, long: &str) -> Option<&'a clap::Arg> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(long))
        .or_else(|| cmd.get_subcommands().find_map(|sub| find_arg(sub, long)))
}
