//! How a test runs a stage binary as a user would: with its own settings only, and with its
//! whole output in a failed assertion's message.

use std::process::{Command, Output};

/// Removes from `command`'s environment every `ATL*` variable the caller has, so that a
/// developer's own settings (`ATL__WAREHOUSE__URL`, `ATL_CONFIG`, ...) never change what a
/// test sees.
pub fn without_atl_env(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os().filter(|(k, _)| k.to_string_lossy().starts_with("ATL")) {
        command.env_remove(key);
    }
    command
}

/// A finished command's exit code, stdout and stderr, for an assertion's message.
pub fn output_text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
