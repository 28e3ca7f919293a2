//! The real TLC files in `crates/testdata/real` are the ones PROVENANCE.md describes: every
//! file it lists is there with its sha256, and every file there is listed.

use std::collections::BTreeMap;

use atl_testdata::real;
use sha2::{Digest, Sha256};

/// PROVENANCE.md's table: file name → sha256.
fn listed() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(real::dir().join("PROVENANCE.md")).unwrap();
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (name, sha) = (cells.get(1)?, cells.get(2)?);
            (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| ((*name).to_owned(), (*sha).to_owned()))
        })
        .collect()
}

#[test]
fn every_real_file_matches_its_provenance() {
    let listed = listed();
    let mut on_disk: Vec<String> = std::fs::read_dir(real::dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "PROVENANCE.md")
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, listed.keys().cloned().collect::<Vec<_>>(), "files on disk vs PROVENANCE.md");
    let mut named: Vec<&str> = real::ALL.to_vec();
    named.sort();
    assert_eq!(named, on_disk, "atl_testdata::real::ALL vs the folder");
    for (name, sha) in &listed {
        let bytes = std::fs::read(real::path(name)).unwrap();
        let got: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(&got, sha, "{name}: sha256 differs from PROVENANCE.md");
    }
}
