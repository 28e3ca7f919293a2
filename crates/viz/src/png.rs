//! PNG exports of the charts: each plotters SVG rasterised by resvg (pure Rust), at
//! [`SCALE`]× its size for crisp output on high-density screens and in slides.
//!
//! The SVGs leave their text as `<text>` for the browser, so the rasteriser needs a font.
//! It gets exactly one, embedded in the binary: DejaVu Sans (`fonts/DejaVuSans.ttf`, from
//! Debian's `fonts-dejavu-core` 2.37; licence in `fonts/LICENSE`). No system font is read,
//! so a PNG is the same on every machine, and text can never silently vanish because a
//! machine has no fonts: every family the SVG names (`sans-serif`, `serif`, any name)
//! resolves to it.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use maud::html;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, fontdb};

use crate::chart::{Chart, FONT as FAMILY};
use crate::error::VizError;

/// PNG pixels per SVG pixel.
pub const SCALE: f32 = 2.0;

/// The embedded font's family name.
pub const FONT_FAMILY: &str = "DejaVu Sans";

static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The font database every rendering shares: the embedded font only, parsed once.
fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            db.load_font_source(fontdb::Source::Binary(Arc::new(FONT)));
            // Generic families and the fallback (usvg falls back to `serif`) all map to it.
            db.set_sans_serif_family(FONT_FAMILY);
            db.set_serif_family(FONT_FAMILY);
            db.set_monospace_family(FONT_FAMILY);
            db.set_cursive_family(FONT_FAMILY);
            db.set_fantasy_family(FONT_FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// Rasterises `svg` at `scale`× its size into a PNG file's bytes. `name` labels errors.
pub fn svg_to_png(name: &str, svg: &str, scale: f32) -> Result<Vec<u8>, VizError> {
    let fail = |message: String| VizError::Png { chart: name.to_owned(), message };
    let options =
        usvg::Options { font_family: FONT_FAMILY.to_owned(), fontdb: fonts(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| fail(e.to_string()))?;
    let size = tree.size().to_int_size().scale_by(scale).ok_or_else(|| fail("empty size".into()))?;
    let mut pixmap =
        Pixmap::new(size.width(), size.height()).ok_or_else(|| fail(format!("cannot allocate {size:?}")))?;
    resvg::render(&tree, Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| fail(e.to_string()))
}

/// Height of the band above the chart that holds its title (and legend, if any).
const TITLE_BAND: u32 = 30;
const LEGEND_BAND: u32 = 22;
/// The page's text colour (`--ink`).
const INK: &str = "#1d2430";

/// The chart as its PNG export shows it: the page's `<h3>` title (and the legend, when the
/// chart has one) drawn above the plotters SVG, so the PNG reads on its own. The SVG's size
/// is `width × (height + band)`; the chart keeps its own coordinates, moved down the band.
pub fn titled_svg(chart: &Chart) -> String {
    let svg = &chart.svg;
    let (open_end, close) = match (svg.find('>'), svg.rfind("</svg>")) {
        (Some(open_end), Some(close)) if open_end < close => (open_end, close),
        _ => return svg.clone(),
    };
    let root = &svg[..open_end];
    let attr = |name: &str| -> Option<u32> {
        let key = format!(" {name}=\"");
        let v = &root[root.find(&key)? + key.len()..];
        v[..v.find('"')?].parse().ok()
    };
    let (Some(width), Some(height)) = (attr("width"), attr("height")) else { return svg.clone() };
    let band = TITLE_BAND + if chart.legend.is_empty() { 0 } else { LEGEND_BAND };
    let total = height + band;
    let mut out = String::with_capacity(svg.len() + 1024);
    let _ = write!(
        out,
        r#"<svg width="{width}" height="{total}" viewBox="0 0 {width} {total}" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="{width}" height="{band}" fill="white" stroke="none"/>
"#
    );
    // The title and legend are the chart's text: maud escapes them.
    let title = html! { text x="12" y="21" font-family=(FAMILY) font-size="16" fill=(INK) { (chart.title) } };
    out.push_str(&title.into_string());
    out.push('\n');
    let mut x = 12.0;
    for (label, colour) in &chart.legend {
        let y = TITLE_BAND;
        let item = html! {
            rect x=(x) y=(y) width="12" height="12" rx="2" fill=(colour) {}
            text x=(x + 17.0) y=(y + 11) font-family=(FAMILY) font-size="13" fill=(INK) { (label) }
        };
        out.push_str(&item.into_string());
        out.push('\n');
        // DejaVu Sans at 13 px: about 8 px a character, generous for short legend labels.
        x += 17.0 + 8.0 * label.chars().count() as f64 + 16.0;
    }
    let _ = write!(out, "<g transform=\"translate(0,{band})\">{}</g>\n</svg>\n", &svg[open_end + 1..close]);
    out
}

/// Each chart's PNG ([`titled_svg`] at [`SCALE`]×), in the charts' order, rasterised on up to as many threads
/// as the machine has cores (the charts are independent).
pub fn charts_to_png(charts: &[Chart]) -> Result<Vec<Vec<u8>>, VizError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, charts.len().max(1));
    let per_thread = charts.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = charts
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|c| svg_to_png(c.name, &titled_svg(c), SCALE))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut pngs = Vec::with_capacity(charts.len());
        for worker in workers {
            pngs.extend(worker.join().expect("a PNG rendering thread panicked")?);
        }
        Ok(pngs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels that differ between two decoded PNGs of the same size.
    fn differing_pixels(a: &[u8], b: &[u8]) -> usize {
        let (a, b) = (Pixmap::decode_png(a).unwrap(), Pixmap::decode_png(b).unwrap());
        assert_eq!((a.width(), a.height()), (b.width(), b.height()));
        a.pixels().iter().zip(b.pixels()).filter(|(x, y)| x != y).count()
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font_whatever_the_family() {
        let svg = |text: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50">
                <rect width="200" height="50" fill="white"/>{text}</svg>"#
            )
        };
        let blank = svg_to_png("blank", &svg(""), SCALE).unwrap();
        let decoded = Pixmap::decode_png(&blank).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (400, 100), "rendered at 2x");
        for family in ["sans-serif", "serif", "monospace", "No Such Font", FONT_FAMILY] {
            let text =
                format!(r#"<text x="10" y="30" font-family="{family}" font-size="16">Trips 1,234</text>"#);
            let png = svg_to_png("text", &svg(&text), SCALE).unwrap();
            assert!(differing_pixels(&blank, &png) > 200, "no text drawn for font-family {family}");
        }
    }

    #[test]
    fn a_plotters_chart_renders_with_its_text() {
        use plotters::prelude::*;
        let (svg, _) = crate::chart::render_sized("test", 300, 200, |root| {
            let mut chart = ChartBuilder::on(root)
                .caption("A chart", (crate::chart::FONT, 14))
                .x_label_area_size(30)
                .y_label_area_size(40)
                .build_cartesian_2d(0..10, 0..100)?;
            chart.configure_mesh().x_desc("Hours").label_style((crate::chart::FONT, 12)).draw()?;
            chart.draw_series(LineSeries::new((0..10).map(|x| (x, x * x)), &BLUE))?;
            Ok(10)
        })
        .unwrap();
        assert!(svg.contains("<text"));
        let without_text = strip_text(&svg);
        assert!(!without_text.contains("<text"));
        let (png, bare) =
            (svg_to_png("test", &svg, SCALE).unwrap(), svg_to_png("test", &without_text, SCALE).unwrap());
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(differing_pixels(&png, &bare) > 500, "the labels were not drawn");
    }

    /// `svg` without its `<text …>…</text>` elements.
    pub(crate) fn strip_text(svg: &str) -> String {
        let mut out = String::with_capacity(svg.len());
        let mut rest = svg;
        while let Some(start) = rest.find("<text") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("</text>").expect("closed <text>") + start + "</text>".len();
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn the_export_has_the_title_and_legend_above_the_chart() {
        use plotters::prelude::*;
        let (svg, marks) = crate::chart::render_sized("test", 300, 200, |root| {
            root.draw(&Rectangle::new([(10, 10), (290, 190)], BLUE.filled()))?;
            Ok(1)
        })
        .unwrap();
        let chart = Chart {
            name: "test",
            title: "Trips & fares <by day>".into(),
            svg,
            marks,
            legend: vec![("Yellow".into(), "#f2b705".into()), ("Green".into(), "#2e9e5b".into())],
            count: None,
        };
        let titled = titled_svg(&chart);
        assert!(titled.contains("Trips &amp; fares &lt;by day&gt;"), "{titled}");
        assert!(titled.contains(">Green</text>"), "{titled}");
        let png = Pixmap::decode_png(&svg_to_png("test", &titled, SCALE).unwrap()).unwrap();
        let band = TITLE_BAND + LEGEND_BAND;
        assert_eq!((png.width(), png.height()), (600, 2 * (200 + band)));
        // The band has ink (title, swatches); the chart below it is the chart, moved down.
        let rows = |from: u32, to: u32| {
            png.pixels()[(from * png.width()) as usize..(to * png.width()) as usize].to_vec()
        };
        let white = rows(0, 1)[0];
        assert!(rows(0, 2 * band).iter().filter(|p| **p != white).count() > 500, "no title drawn");
        let plain = Pixmap::decode_png(&svg_to_png("test", &chart.svg, SCALE).unwrap()).unwrap();
        assert_eq!(rows(2 * band, png.height()), plain.pixels(), "the chart is not below the band");
        // Without a legend the band is the title's only.
        let no_legend = Chart { legend: Vec::new(), ..chart };
        assert!(titled_svg(&no_legend).contains(&format!("height=\"{}\"", 200 + TITLE_BAND)));
    }

    #[test]
    fn a_broken_svg_is_an_error_naming_the_chart() {
        let e = svg_to_png("top_zones", "<svg", SCALE).unwrap_err();
        assert!(e.to_string().contains("top_zones"), "{e}");
    }
}
