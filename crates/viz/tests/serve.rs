//! `atl-viz serve` as an operator sees it: filtered pages, 200 readers at once, a mart that
//! is down (nothing about the server on the page, 503 on /healthz), and SIGTERM.

mod common;

use std::time::{Duration, Instant};

use common::page::{self, Html, all, attr, get, http_get, one, svg_labels, text};
use common::{MartFixture, ServeProcess};

#[test]
// The time the 200 pages took is printed for whoever reads the test's output (--nocapture).
#[allow(clippy::print_stderr)]
fn filtered_pages_answer_and_the_server_keeps_up_with_200_readers() {
    let mart = MartFixture::start();
    for m in ["2023-01", "2023-02", "2023-03"] {
        mart.fill_month(m, 1);
    }
    let server = ServeProcess::start(&mart.url());

    // One service, a month range and a borough, as the form sends them.
    let response = get(&server.addr, "/?service=green&period=2023-02..2023-03&borough=Queens");
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.content_type.starts_with("text/html"), "{}", response.content_type);
    let html = response.page();
    let root = html.root_element();
    assert_eq!(attr(root, "body", "data-period").as_deref(), Some("2023-02..2023-03"));
    assert_eq!(attr(root, "body", "data-services").as_deref(), Some("green"));
    assert_eq!(attr(root, "body", "data-borough").as_deref(), Some("Queens"));
    let want: f64 = mart
        .sql(
            "SELECT sum(trips) FROM mart.agg_daily \
             WHERE service_id = 2 AND date_id BETWEEN 20230201 AND 20230331 AND pu_borough_id = 3",
        )
        .parse()
        .unwrap();
    let got: f64 = attr(root, "[data-kpi=trips]", "data-value").unwrap().parse().unwrap();
    assert_eq!(got, want, "trips of green Feb-Mar picked up in Queens (the fixture's borough 3)");
    // The zone panel holds only Queens' zones (the fixture's borough 3).
    let queens_top: String = mart.sql(
        "SELECT z.name FROM mart.agg_zone_month a JOIN mart.dim_zone z ON z.zone_id = a.pu_zone_id
         WHERE a.service_id = 2 AND a.month_id BETWEEN 202302 AND 202303 AND z.borough_id = 3
         GROUP BY a.pu_zone_id, z.name ORDER BY sum(a.trips) DESC, a.pu_zone_id LIMIT 1",
    );
    let top = svg_labels(page::figure(&html, "top_zones").expect("the top zones panel"));
    assert!(top.contains(&queens_top), "{queens_top} missing from {top:?}");
    assert!(!top.contains(&"Midtown Center".to_owned()), "a zone of another borough in the Queens panel");
    // The form that sets them works without script: a GET form with the choices ticked.
    let form = one(root, "form.filters").expect("no filter form");
    assert_eq!(form.value().attr("method"), Some("get"));
    let ticked: Vec<String> = all(form, "input[name=service][checked]")
        .iter()
        .filter_map(|i| i.value().attr("value").map(str::to_owned))
        .collect();
    assert_eq!(ticked, ["green"], "the ticked services");
    let selected: Vec<String> =
        all(form, "select[name=borough] option[selected]").into_iter().map(text).collect();
    assert_eq!(selected, ["Queens"], "the selected borough");
    assert!(all(root, "script").is_empty(), "the page needs no script");

    // A name the mart does not hold is the reader's error, said plainly.
    let (status, body) = http_get(&server.addr, "/?service=tram");
    assert_eq!(status, 400);
    let said = text(Html::parse_document(&body).root_element());
    assert!(said.contains("no service") && said.contains("tram"), "{said}");
    assert_eq!(http_get(&server.addr, "/?borough=Atlantis").0, 400);
    assert_eq!(http_get(&server.addr, "/?period=2023-13").0, 400);

    // 200 readers at once: every one gets the page.
    let started = Instant::now();
    let readers: Vec<_> = (0..200)
        .map(|i| {
            let addr = server.addr.clone();
            std::thread::spawn(move || {
                let path = if i % 2 == 0 { "/" } else { "/?service=yellow" };
                http_get(&addr, path)
            })
        })
        .collect();
    let statuses: Vec<u16> = readers.into_iter().map(|r| r.join().unwrap().0).collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 200, "statuses under load: {statuses:?}");
    eprintln!("200 concurrent pages in {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(120), "200 pages took {:?}", started.elapsed());
    assert_eq!(http_get(&server.addr, "/healthz").0, 200);
}

#[test]
fn a_mart_that_is_down_leaks_nothing_and_healthz_says_so() {
    let port = common::free_port();
    let url = format!("postgres://leaky_role:secret-pw@127.0.0.1:{port}/leaky_db");
    let mut server = ServeProcess::start(&url);
    for path in ["/", "/?service=green", "/index.html"] {
        let (status, body) = http_get(&server.addr, path);
        assert_eq!(status, 503, "{body}");
        let error = attr(Html::parse_document(&body).root_element(), "[data-error]", "data-error");
        assert_eq!(error.as_deref(), Some("unreachable"), "{body}");
        // A leak may hide in an attribute or a comment: the raw bytes are searched.
        for secret in [
            "secret-pw",
            "leaky_role",
            "leaky_db",
            &port.to_string(),
            "127.0.0.1",
            "refused",
            "sqlx",
            "os error",
        ] {
            assert!(!body.contains(secret), "the page shows {secret:?}: {body}");
        }
    }
    let (status, body) = http_get(&server.addr, "/healthz");
    assert_eq!(status, 503, "{body}");
    // Raw bytes again: nothing of the connection string in the health answer.
    assert!(!body.contains("leaky") && !body.contains(&port.to_string()), "{body}");
    assert_eq!(http_get(&server.addr, "/nope").0, 404);
    assert!(server.is_running());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    let mut server = ServeProcess::start(&mart.url());
    assert_eq!(http_get(&server.addr, "/").0, 200);
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "atl-viz serve still running 20 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "atl-viz serve exited with {status} on SIGTERM");
    assert!(page::try_get(&server.addr, "/").is_err(), "still answering after exit");
}

/// With the mart stopped, every one of 50 concurrent readers gets the 503 page within
/// seconds, twice in a row (before, the readers queued behind the renders each waited the
/// pool's timeout, and the last ones got an empty 408 after a minute).
#[test]
fn every_reader_gets_the_503_page_fast_while_the_mart_is_stopped() {
    let mart = MartFixture::start();
    mart.fill_month("2023-01", 1);
    let server = ServeProcess::start(&mart.url());
    assert_eq!(http_get(&server.addr, "/").0, 200);
    assert!(mart.pg.cluster().stop().unwrap(), "the mart was running");
    for round in 1..=2 {
        let readers: Vec<_> = (0..50)
            .map(|i| {
                let addr = server.addr.clone();
                std::thread::spawn(move || {
                    let started = Instant::now();
                    let path = if i % 2 == 0 { "/" } else { "/?service=yellow" };
                    let (status, body) = http_get(&addr, path);
                    let error =
                        attr(Html::parse_document(&body).root_element(), "[data-error]", "data-error");
                    (status, error.as_deref() == Some("unreachable"), started.elapsed())
                })
            })
            .collect();
        let answers: Vec<(u16, bool, Duration)> = readers.into_iter().map(|r| r.join().unwrap()).collect();
        let slow: Vec<&(u16, bool, Duration)> = answers
            .iter()
            .filter(|(status, page, took)| *status != 503 || !page || *took > Duration::from_secs(10))
            .collect();
        assert!(slow.is_empty(), "round {round}: {} of 50 not a fast 503 page: {slow:?}", slow.len());
    }
}
