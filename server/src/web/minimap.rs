//! A small map of where a household's visits were made, drawn on the server as SVG: no tiles,
//! no script, a few hundred bytes. Each visit's article shows its own point (with the circle of
//! its GPS accuracy) among the household's other points, and a scale bar, so a supervisor sees
//! at once whether two visits were made at the same house.

/// The drawing's size in CSS pixels.
pub const WIDTH: f64 = 180.0;
pub const HEIGHT: f64 = 120.0;
/// The smallest span shown: a point alone is drawn in a neighbourhood, not a dot on nothing.
const MIN_SPAN_M: f64 = 150.0;
const METRES_PER_DEGREE: f64 = 111_320.0;

pub struct Dot {
    pub x: f64,
    pub y: f64,
    /// The GPS accuracy as a radius on the drawing.
    pub r: f64,
    pub current: bool,
}

pub struct MiniMap {
    pub dots: Vec<Dot>,
    pub scale_px: f64,
    pub scale_label: String,
}

/// A point: latitude, longitude and accuracy in metres.
pub type Point = (f64, f64, f64);

/// The map of `points` with the one at `current` marked; `None` when that visit has no point.
pub fn draw(points: &[Option<Point>], current: usize) -> Option<MiniMap> {
    points.get(current).copied().flatten()?;
    let all: Vec<(usize, Point)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    let lat0 = all.iter().map(|(_, p)| p.0).sum::<f64>() / all.len() as f64;
    let lon_scale = lat0.to_radians().cos().max(0.01);
    // Metres east and north of the first point.
    let (base_lat, base_lon) = (all[0].1.0, all[0].1.1);
    let metres = |p: &Point| {
        (
            (p.1 - base_lon) * METRES_PER_DEGREE * lon_scale,
            (p.0 - base_lat) * METRES_PER_DEGREE,
        )
    };
    let placed: Vec<(usize, (f64, f64), f64)> =
        all.iter().map(|(i, p)| (*i, metres(p), p.2)).collect();
    let (min_x, max_x) = bounds(placed.iter().map(|p| p.1.0));
    let (min_y, max_y) = bounds(placed.iter().map(|p| p.1.1));
    let span = ((max_x - min_x) / WIDTH)
        .max((max_y - min_y) / HEIGHT)
        .max(MIN_SPAN_M / WIDTH)
        * 1.25; // metres per pixel, with a margin
    let (mid_x, mid_y) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
    let dots = placed
        .iter()
        .map(|(i, (x, y), accuracy)| Dot {
            x: round(WIDTH / 2.0 + (x - mid_x) / span),
            y: round(HEIGHT / 2.0 - (y - mid_y) / span),
            r: round((accuracy / span).clamp(2.0, WIDTH)),
            current: *i == current,
        })
        .collect();
    let scale_m = nice_length(span * WIDTH / 3.0);
    Some(MiniMap {
        dots,
        scale_px: round(scale_m / span),
        scale_label: if scale_m >= 1000.0 {
            format!("{} km", scale_m / 1000.0)
        } else {
            format!("{scale_m} m")
        },
    })
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The longest of 1, 2 or 5 times a power of ten not above `m`.
fn nice_length(m: f64) -> f64 {
    let power = 10f64.powf(m.max(1.0).log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|f| f * power)
        .find(|l| *l <= m)
        .unwrap_or(power)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_visits_at_one_house_are_drawn_close_and_one_far_away_apart() {
        let near = [
            Some((-3.78, 103.53, 10.0)),
            Some((-3.78005, 103.53004, 25.0)),
            None,
        ];
        let map = draw(&near, 1).unwrap();
        assert_eq!(map.dots.len(), 2);
        assert!(map.dots[1].current && !map.dots[0].current);
        let gap = (map.dots[0].x - map.dots[1].x).hypot(map.dots[0].y - map.dots[1].y);
        assert!(gap < 30.0, "7 m apart on a 150 m map: {gap}");
        assert_eq!(map.scale_label, "50 m");
        assert!(
            draw(&near, 2).is_none(),
            "a visit without a point has no map"
        );

        let far = [Some((-3.78, 103.53, 10.0)), Some((-3.80, 103.53, 10.0))];
        let map = draw(&far, 0).unwrap();
        let gap = (map.dots[0].y - map.dots[1].y).abs();
        assert!(gap > HEIGHT / 2.0, "2.2 km apart fill the map: {gap}");
        assert_eq!(map.scale_label, "1 km");
        for dot in &map.dots {
            assert!((0.0..=WIDTH).contains(&dot.x) && (0.0..=HEIGHT).contains(&dot.y));
        }
    }
}
