//! Bar charts as server-rendered SVG (no script), each followed by the same figures as a
//! table for screen readers and copying. Every bar carries its figure in `data-value` and
//! a `<title>` tooltip, so tests (and people) can read exactly what is drawn.

use maud::{Markup, html};

/// One series of figures, one per category.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<i64>,
}

const COLOURS: [&str; 3] = ["#000091", "#5a7d00", "#a35000"];
const WIDTH: i64 = 640;
const HEIGHT: i64 = 260;
const LEFT: i64 = 70;
const BOTTOM: i64 = 50;
const TOP: i64 = 20;

/// A grouped bar chart of `series` over `categories`, labelled with `format`, then its table.
pub fn bars(
    id: &str,
    title: &str,
    categories: &[String],
    series: &[Series<'_>],
    format: &dyn Fn(i64) -> String,
) -> Markup {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_w = WIDTH - LEFT - 10;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let group_w = plot_w / (categories.len().max(1) as i64);
    let bar_w = ((group_w - 10) / (series.len().max(1) as i64)).clamp(2, 60);
    let title_id = format!("{id}-title");
    html! {
        figure {
            svg.chart id=(id) viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
                aria-labelledby=(title_id) xmlns="http://www.w3.org/2000/svg" {
                title id=(title_id) { (title) }
                // Axes: the value axis is labelled with 0 and the largest figure.
                line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(TOP + plot_h) stroke="#1b1b1b" {}
                line x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH - 10) y2=(TOP + plot_h) stroke="#1b1b1b" {}
                text x=(LEFT - 6) y=(TOP + 4) text-anchor="end" { (format(max)) }
                text x=(LEFT - 6) y=(TOP + plot_h) text-anchor="end" { (format(0)) }
                @for (c, category) in categories.iter().enumerate() {
                    @let group_x = LEFT + 5 + c as i64 * group_w;
                    @for (s, serie) in series.iter().enumerate() {
                        @let value = serie.values.get(c).copied().unwrap_or(0);
                        @let h = (value.max(0) * plot_h) / max;
                        rect.bar x=(group_x + s as i64 * bar_w) y=(TOP + plot_h - h)
                            width=(bar_w - 2) height=(h) fill=(COLOURS[s % COLOURS.len()])
                            data-series=(serie.name) data-category=(category) data-value=(value) {
                            title { (category) " — " (serie.name) " : " (format(value)) }
                        }
                    }
                    text x=(group_x + group_w / 2 - 5) y=(TOP + plot_h + 16) text-anchor="middle" {
                        (short(category))
                    }
                }
                @for (s, serie) in series.iter().enumerate() {
                    rect x=(LEFT + s as i64 * 170) y=(HEIGHT - 18) width="12" height="12"
                        fill=(COLOURS[s % COLOURS.len()]) {}
                    text x=(LEFT + s as i64 * 170 + 16) y=(HEIGHT - 8) { (serie.name) }
                }
            }
            figcaption { (title) }
        }
        div.scroll {
            table data-chart=(id) {
                caption { (title) }
                thead { tr { th scope="col" { "" } @for serie in series { th.num scope="col" { (serie.name) } } } }
                tbody {
                    @for (c, category) in categories.iter().enumerate() {
                        tr {
                            th scope="row" { (category) }
                            @for serie in series {
                                td.num { (format(serie.values.get(c).copied().unwrap_or(0))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A category label short enough for the axis (the full one is in each bar's title).
fn short(label: &str) -> String {
    let tail = label.rsplit(['/', ':', '#']).next().unwrap_or(label);
    if tail.chars().count() > 18 {
        format!("{}…", tail.chars().take(17).collect::<String>())
    } else {
        tail.to_owned()
    }
}
