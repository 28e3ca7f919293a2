//! `atl-viz grant-readonly`: the role's password never on the command line, never in logs.

mod common;

use common::MartFixture;

#[test]
fn the_role_password_is_neither_a_flag_nor_logged() {
    let mart = MartFixture::start();
    let grant = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_atl-viz"));
        command
            .arg("grant-readonly")
            .args(args)
            .env("ATL__MART__URL", mart.url())
            .env_remove("ATL_VIZ_PASSWORD")
            // Every statement sqlx runs, were it to log them.
            .env("RUST_LOG", "trace");
        command
    };
    // A flag would show in `ps`: there is none.
    let output = grant(&["--password", "pw-on-the-command-line"]).output().unwrap();
    let refusal = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{refusal}");
    assert!(refusal.contains("unexpected argument '--password' found"), "{refusal}");
    assert!(!refusal.contains("pw-on-the-command-line"), "the refusal repeats the password: {refusal}");
    assert_eq!(mart.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'atl_viz'"), "0");

    let output = grant(&["--role", "atl_viz"]).env("ATL_VIZ_PASSWORD", "pw-from-env-1").output().unwrap();
    let logs =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{logs}");
    assert!(!logs.contains("pw-from-env-1"), "the password was logged: {logs}");
    assert_eq!(mart.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'atl_viz'"), "t");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "pw-from-file-2\n").unwrap();
    let output = grant(&["--role", "atl_viz", "--password-file", file.to_str().unwrap()]).output().unwrap();
    let logs =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && !logs.contains("pw-from-file-2"), "{logs}");
    let output = grant(&["--role", "atl_viz"]).output().unwrap();
    let refusal = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{refusal}");
    assert!(refusal.contains("no password: set ATL_VIZ_PASSWORD or pass --password-file FILE"), "{refusal}");
}
