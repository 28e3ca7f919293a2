//! Throwaway and persistent PostgreSQL clusters really start, are distinct servers, and
//! survive a `kill -9`.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;
use std::time::Instant;

use atl_devservices::{PgCluster, PgServer, PgStatus, StartOutcome};

#[test]
fn two_temp_servers_are_distinct_and_usable() {
    let a = PgServer::temp().expect("start temp server a");
    let b = PgServer::temp().expect("start temp server b");

    assert_ne!(a.port(), b.port());
    let id = "SELECT system_identifier FROM pg_control_system()";
    let id_a = a.psql("postgres", id).unwrap();
    let id_b = b.psql("postgres", id).unwrap();
    assert!(!id_a.is_empty());
    assert_ne!(id_a, id_b, "two clusters, not two databases of one");

    a.create_database("warehouse").unwrap();
    a.psql(
        "warehouse",
        "CREATE TABLE t (id int PRIMARY KEY, name text); \
         INSERT INTO t VALUES (1, 'one'), (2, 'two');",
    )
    .unwrap();
    assert_eq!(a.psql("warehouse", "SELECT id, name FROM t ORDER BY id").unwrap(), "1|one\n2|two");
    assert_eq!(a.url("warehouse"), format!("postgres://postgres@127.0.0.1:{}/warehouse", a.port()));
    assert_eq!(a.psql("warehouse", "SHOW wal_level").unwrap(), "minimal");
    assert_eq!(a.psql("warehouse", "SHOW fsync").unwrap(), "off");

    let err = a.psql("warehouse", "SELECT * FROM missing").unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");

    // The benches' CPU per server: a query's work is counted on its own server once its
    // backend has ended (the postmaster reaps it a moment after psql returns).
    let (a0, b0) = (a.cluster().cpu_seconds().unwrap(), b.cluster().cpu_seconds().unwrap());
    b.psql("postgres", "SELECT count(*) FROM generate_series(1, 5000000) g WHERE g % 7 = 0").unwrap();
    let clock = Instant::now();
    while b.cluster().cpu_seconds().unwrap() - b0 < 0.2 && clock.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (a1, b1) = (a.cluster().cpu_seconds().unwrap(), b.cluster().cpu_seconds().unwrap());
    assert!(b1 - b0 >= 0.2, "the query's CPU on b: {:.2} s", b1 - b0);
    assert!(a1 - a0 < (b1 - b0) / 2.0, "a did not run it: {:.2} s on a, {:.2} s on b", a1 - a0, b1 - b0);

    let dir = a.data_dir().to_owned();
    drop(a);
    assert!(!dir.exists(), "the cluster folder is removed on drop");
}

#[test]
fn persistent_cluster_is_idempotent_and_survives_kill_9() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("pg").join("warehouse");
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
    let cluster = PgCluster::new(&data_dir, port).unwrap();
    let _stop = StopOnDrop(&cluster);

    assert_eq!(cluster.status().unwrap(), PgStatus::Absent);
    assert_eq!(cluster.ensure_running().unwrap(), StartOutcome::Created);
    assert_eq!(cluster.ensure_running().unwrap(), StartOutcome::AlreadyRunning);
    assert_eq!(cluster.psql("postgres", "SHOW fsync").unwrap(), "on");
    cluster.psql("postgres", "CREATE TABLE kept AS SELECT 42 AS answer").unwrap();

    let PgStatus::Running { pid, port: running } = cluster.status().unwrap() else {
        panic!("not running after ensure_running");
    };
    assert_eq!(running, port);

    let killed = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(killed.success());
    wait_until_stopped(&cluster);

    assert_eq!(cluster.ensure_running().unwrap(), StartOutcome::Started);
    assert_eq!(cluster.psql("postgres", "SELECT answer FROM kept").unwrap(), "42");

    assert!(cluster.stop().unwrap());
    assert_eq!(cluster.status().unwrap(), PgStatus::Stopped);
    assert!(!cluster.stop().unwrap(), "stopping twice is harmless");
}

fn wait_until_stopped(cluster: &PgCluster) {
    let started = Instant::now();
    while cluster.status().unwrap() != PgStatus::Stopped {
        assert!(started.elapsed().as_secs() < 10, "still running after kill -9");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

struct StopOnDrop<'a>(&'a PgCluster);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.stop();
    }
}
