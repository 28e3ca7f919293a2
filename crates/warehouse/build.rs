// sqlx::migrate! embeds sql/warehouse/migrations at build time; a new migration file must
// rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../sql/warehouse/migrations");
}
