//! The pages as a browser or a client gets them: fetched over HTTP by a real client
//! (reqwest), read by an HTML parser (scraper) with CSS selectors, so that a test asserts on
//! elements and attributes, not on where a substring happens to fall in the markup.

use std::sync::OnceLock;
use std::time::Duration;

use scraper::Selector;
pub use scraper::{ElementRef, Html};

/// What the server answered.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Response {
    /// The body parsed as an HTML document.
    pub fn page(&self) -> Html {
        Html::parse_document(&self.body)
    }
}

/// One client for every test thread (it pools connections; 200 readers share it).
fn client() -> &'static reqwest::blocking::Client {
    static CLIENT: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client")
    })
}

/// `GET http://{addr}{path}`; a connection or read error fails the test, naming the URL.
pub fn get(addr: &str, path: &str) -> Response {
    try_get(addr, path).unwrap_or_else(|e| panic!("GET http://{addr}{path}: {e}"))
}

/// As [`get`], the error returned (a server not listening yet, say).
pub fn try_get(addr: &str, path: &str) -> Result<Response, reqwest::Error> {
    let response = client().get(format!("http://{addr}{path}")).send()?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok(Response { status, content_type, body: response.text()? })
}

/// `GET` and its (status, body): for the tests that only need those.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let response = get(addr, path);
    (response.status, response.body)
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e:?}"))
}

/// Every element under `scope` (itself included) matching `css`, in document order.
pub fn all<'a>(scope: ElementRef<'a>, css: &str) -> Vec<ElementRef<'a>> {
    let selector = selector(css);
    let itself = selector.matches(&scope).then_some(scope);
    itself.into_iter().chain(scope.select(&selector)).collect()
}

/// The first element under `scope` (itself included) matching `css`.
pub fn one<'a>(scope: ElementRef<'a>, css: &str) -> Option<ElementRef<'a>> {
    all(scope, css).into_iter().next()
}

/// Attribute `name` of the first element matching `css` under `scope`.
pub fn attr(scope: ElementRef<'_>, css: &str, name: &str) -> Option<String> {
    one(scope, css)?.value().attr(name).map(str::to_owned)
}

/// Attribute `name` of the first element that has it, under `scope`.
pub fn data(scope: ElementRef<'_>, name: &str) -> Option<String> {
    attr(scope, &format!("[{name}]"), name)
}

/// The element's text, its runs of white space made single spaces.
pub fn text(element: ElementRef<'_>) -> String {
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `<figure data-chart="{name}">` of a page.
pub fn figure<'a>(page: &'a Html, name: &str) -> Option<ElementRef<'a>> {
    one(page.root_element(), &format!("figure[data-chart=\"{name}\"]"))
}

/// The text of every `<text>` element of a chart's SVG.
pub fn svg_labels(figure: ElementRef<'_>) -> Vec<String> {
    all(figure, "text").into_iter().map(text).collect()
}

/// The names a chart shows: its legend's entries (HTML above the SVG) and its SVG labels.
pub fn names(figure: ElementRef<'_>) -> Vec<String> {
    let legend = all(figure, ".legend > span").into_iter().map(text);
    legend.chain(svg_labels(figure)).collect()
}
