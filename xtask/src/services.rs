//! `up`, `down`, `status`: the two local PostgreSQL servers of the pipeline, warehouse
//! and mart (two servers, not two databases of one, as in production).

use anyhow::Context;
use atl_devservices::{PgCluster, PgStatus, StartOutcome};

use std::path::Path;

use crate::flags::Ports;

/// The application role; its password only matters to clients that send one
/// (the local servers trust 127.0.0.1).
const ROLE: &str = "atl";

/// One of the pipeline's servers.
struct Service {
    /// Also the name of its database and of its folder under `.atl/pg`.
    name: &'static str,
    default_port: u16,
}

const SERVICES: [Service; 2] =
    [Service { name: "warehouse", default_port: 15432 }, Service { name: "mart", default_port: 15435 }];

impl Service {
    /// The cluster under `<root>/.atl/pg/<name>`.
    fn cluster(&self, root: &Path, port: u16) -> anyhow::Result<PgCluster> {
        let dir = root.join(".atl/pg").join(self.name);
        Ok(PgCluster::new(dir, port)?)
    }

    fn url(&self, port: u16) -> String {
        format!("postgres://{ROLE}:{ROLE}@127.0.0.1:{port}/{}", self.name)
    }
}

/// The URLs of the two servers `up` started.
#[derive(Debug)]
pub struct ServerUrls {
    pub warehouse: String,
    pub mart: String,
}

pub fn up(root: &Path, ports: &Ports) -> anyhow::Result<ServerUrls> {
    for (service, port) in SERVICES.iter().zip([ports.warehouse_port, ports.mart_port]) {
        let cluster = service.cluster(root, port)?;
        let outcome =
            cluster.ensure_running().with_context(|| format!("starting the {} server", service.name))?;
        let what = match outcome {
            StartOutcome::Created => "created and started",
            StartOutcome::Started => "started",
            StartOutcome::AlreadyRunning => "already running",
        };
        ensure_role_and_database(&cluster, service.name)
            .with_context(|| format!("preparing the {} server", service.name))?;
        println!("{:<9}  {what:<19}  {}", service.name, service.url(port));
    }
    Ok(ServerUrls {
        warehouse: SERVICES[0].url(ports.warehouse_port),
        mart: SERVICES[1].url(ports.mart_port),
    })
}

/// Creates role `atl` and the database it owns, unless they exist.
fn ensure_role_and_database(cluster: &PgCluster, database: &str) -> anyhow::Result<()> {
    let role_exists =
        cluster.psql("postgres", &format!("SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}'"))?;
    if role_exists.is_empty() {
        cluster.psql("postgres", &format!("CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE}'"))?;
    }
    let database_exists =
        cluster.psql("postgres", &format!("SELECT 1 FROM pg_database WHERE datname = '{database}'"))?;
    if database_exists.is_empty() {
        cluster.psql("postgres", &format!("CREATE DATABASE {database} OWNER {ROLE}"))?;
    }
    Ok(())
}

/// The two clusters `up` started under `root` on `ports`: warehouse, mart.
pub fn clusters(root: &Path, ports: &Ports) -> anyhow::Result<[PgCluster; 2]> {
    Ok([SERVICES[0].cluster(root, ports.warehouse_port)?, SERVICES[1].cluster(root, ports.mart_port)?])
}

pub fn down(root: &Path) -> anyhow::Result<()> {
    for service in &SERVICES {
        let cluster = service.cluster(root, service.default_port)?;
        let what = if cluster.stop()? { "stopped" } else { "was not running" };
        println!("{:<9}  {what}", service.name);
    }
    Ok(())
}

pub fn status(root: &Path) -> anyhow::Result<()> {
    for service in &SERVICES {
        let cluster = service.cluster(root, service.default_port)?;
        let (state, port) = match cluster.status()? {
            PgStatus::Running { pid, port } => (format!("running (pid {pid})"), port),
            PgStatus::Stopped => ("stopped".to_owned(), service.default_port),
            PgStatus::Absent => ("not created".to_owned(), service.default_port),
        };
        println!(
            "{:<9}  {state:<20}  port {port}  {}  {}",
            service.name,
            cluster.data_dir().display(),
            service.url(port)
        );
    }
    Ok(())
}
