//! Where headless Chromium is: the dashboard tests open the page in it.

use std::env;
use std::path::PathBuf;

/// The environment variable naming the browser binary, overriding the search of `PATH`.
pub const CHROMIUM_ENV: &str = "ATL_CHROMIUM";

/// The names Chromium goes by: Debian's `chromium`, Ubuntu's older `chromium-browser`,
/// Google's build.
pub const CHROMIUM_NAMES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// `ATL_CHROMIUM` when set (`None` when it names no file: an explicit setting that is wrong
/// is not a reason to guess), else the first of [`CHROMIUM_NAMES`] on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = env::var_os(CHROMIUM_ENV) {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path = env::var_os("PATH")?;
    CHROMIUM_NAMES
        .iter()
        .flat_map(|name| env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}
