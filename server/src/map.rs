//! The dashboard's map: visit points clustered on the server (the browser receives one marker
//! per grid cell of the view, never every point), and village outlines imported from GeoJSON,
//! coloured by the share of their target households visited.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use verivali_core::model::{Code, RegionCode};

use crate::auth::SupervisorAuth;
use crate::db::{Db, DbError};
use crate::error::{self, ApiError};
use crate::reports::code_range;
use crate::store::{self, Conn};
use crate::supervision::region_in_scope;
use crate::tallies;

/// The most zoom the map asks for; past it every point stands alone anyway.
const MAX_ZOOM: u8 = 20;
/// A view this wide in cells is refused: no screen shows it.
const MAX_CELLS_ACROSS: f64 = 400.0;

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterQuery {
    #[serde(default)]
    pub region: Option<String>,
    /// `west,south,east,north` in degrees.
    pub bbox: String,
    pub zoom: u8,
}

pub use crate::store::map::Cluster;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clusters {
    /// The grid's cell size in degrees.
    pub cell_deg: f64,
    pub clusters: Vec<Cluster>,
}

/// A view's bounding box, checked.
#[derive(Debug, Clone, Copy)]
struct Bbox {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
}

fn parse_bbox(text: &str) -> Result<Bbox, ApiError> {
    let bad = || {
        let mut e = ApiError::bad_request(error::BAD_FILTER);
        e.body.field = Some("bbox".into());
        e
    };
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [west, south, east, north] = parts[..] else {
        return Err(bad());
    };
    let fits = |v: f64, limit: f64| v.is_finite() && v.abs() <= limit;
    if !(fits(west, 180.0) && fits(east, 180.0) && fits(south, 90.0) && fits(north, 90.0))
        || west > east
        || south > north
    {
        return Err(bad());
    }
    Ok(Bbox {
        west,
        south,
        east,
        north,
    })
}

/// The visits inside the view, clustered for its zoom, of the households of `region`.
pub async fn clusters(
    db: &Db,
    who: &SupervisorAuth,
    query: ClusterQuery,
) -> Result<Clusters, ApiError> {
    let region = region_in_scope(who, query.region.as_deref())?;
    let bbox = parse_bbox(&query.bbox)?;
    let zoom = query.zoom.min(MAX_ZOOM);
    // A marker per 64 px square at most: four cells across a 256 px tile.
    let cell_deg = tallies::cell_deg(zoom);
    if (bbox.east - bbox.west) / cell_deg > MAX_CELLS_ACROSS {
        let mut e = ApiError::bad_request(error::BAD_FILTER);
        e.body.field = Some("zoom".into());
        return Err(e);
    }
    let clusters = db
        .read(move |conn| {
            if zoom <= tallies::CELL_ZOOM {
                tallied_clusters(conn, &region, bbox, zoom)
            } else {
                cluster_rows(conn, &region, bbox, cell_deg)
            }
            .map_err(ApiError::from)
        })
        .await?;
    Ok(Clusters { cell_deg, clusters })
}

/// Clusters from the tallied cells: at the zoom of a kabupaten or a kecamatan the view holds
/// most of the district's visits, and reading them one by one took a second. A fine cell is
/// in the view when it overlaps it, so a cluster may count points up to one fine cell (about
/// 600 m) outside the view's edge.
fn tallied_clusters(
    conn: Conn<'_>,
    region: &RegionCode,
    bbox: Bbox,
    zoom: u8,
) -> Result<Vec<Cluster>, DbError> {
    let (south, west) = tallies::cell_of(bbox.south, bbox.west);
    let (north, east) = tallies::cell_of(bbox.north, bbox.east);
    let cells = tallies::cells(
        conn,
        region,
        (south, north),
        (west, east),
        tallies::CELL_ZOOM - zoom,
    )?;
    Ok(cells
        .into_iter()
        .map(|c| Cluster {
            lat: c.lat,
            lon: c.lon,
            visits: c.visits,
            flagged: c.flagged,
            household_id: (c.visits == 1).then_some(c.household_id),
        })
        .collect())
}

/// Clusters counted from the visits themselves: past the tallied zoom a view holds few.
fn cluster_rows(
    conn: Conn<'_>,
    region: &RegionCode,
    bbox: Bbox,
    cell: f64,
) -> Result<Vec<Cluster>, DbError> {
    let (from, to) = code_range(region);
    let bounds = (bbox.south, bbox.north, bbox.west, bbox.east);
    store::map::clusters(conn, (&from, &to), bounds, cell)
}

/// The imported outlines of the villages of `region`, as a GeoJSON FeatureCollection whose
/// features carry `code`, `name`, `targets`, `visited` and `percent_visited`.
pub async fn boundaries(
    db: &Db,
    who: &SupervisorAuth,
    region: Option<&str>,
) -> Result<Value, ApiError> {
    let region = region_in_scope(who, region)?;
    db.read(move |conn| boundary_features(conn, &region).map_err(ApiError::from))
        .await
}

fn boundary_features(conn: Conn<'_>, region: &RegionCode) -> Result<Value, DbError> {
    let (from, to) = code_range(region);
    let features: Vec<Value> = store::map::outlines(conn, (&from, &to))?
        .into_iter()
        .map(|o| {
            json!({
                "type": "Feature",
                "geometry": serde_json::from_str::<Value>(&o.geometry).unwrap_or(Value::Null),
                "properties": {
                    "code": o.region,
                    "name": o.name,
                    "targets": o.targets,
                    "visited": o.visited,
                    "percent_visited": (o.visited * 100).checked_div(o.targets),
                },
            })
        })
        .collect();
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

/// What `import-boundaries` did with a file.
#[derive(Debug, Default, Serialize)]
pub struct BoundaryReport {
    pub stored: u64,
    /// Features left out, each with its position in the file and the reason.
    pub left_out: Vec<(usize, String)>,
}

/// The names a region code goes by in the properties of common boundary files.
const CODE_PROPERTIES: &[&str] = &["code", "kode", "kode_desa", "kd_desa", "kdepum", "region"];

/// One feature of a boundary file as read: its region code and outline, or why it is left out.
pub type BoundaryFeature = Result<(RegionCode, String), String>;

/// Reads a GeoJSON FeatureCollection: each feature's region code, found in its properties
/// (`property`, or the usual names), and its Polygon or MultiPolygon, in file order. Also what
/// the fuzzer feeds.
pub fn read_boundaries(
    geojson: &[u8],
    property: Option<&str>,
) -> Result<Vec<BoundaryFeature>, ImportError> {
    let mut document: Value =
        serde_json::from_slice(geojson).map_err(|e| ImportError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
    if document["type"] != "FeatureCollection" {
        return Err(ImportError::NotFeatureCollection);
    }
    let Some(Value::Array(features)) = document.get_mut("features").map(Value::take) else {
        return Err(ImportError::NotFeatureCollection);
    };
    Ok(features
        .iter()
        .map(|feature| {
            let properties = feature["properties"].as_object();
            let code = properties
                .and_then(|p| region_code_in(p, property))
                .ok_or_else(|| "no region code".to_owned())?;
            let geometry = &feature["geometry"];
            if !matches!(geometry["type"].as_str(), Some("Polygon" | "MultiPolygon"))
                || !geometry["coordinates"].is_array()
            {
                return Err("geometry is not a Polygon or MultiPolygon".to_owned());
            }
            Ok((code, geometry.to_string()))
        })
        .collect())
}

/// Stores the outlines of a GeoJSON FeatureCollection ([`read_boundaries`]). A feature without
/// a known region code or without a Polygon or MultiPolygon is left out and reported; the others
/// are stored, replacing an earlier outline of the same region.
pub fn import_boundaries(
    db: &Db,
    geojson: &[u8],
    property: Option<&str>,
) -> Result<BoundaryReport, ImportError> {
    let features = read_boundaries(geojson, property)?;
    db.write_blocking(move |conn| {
        let mut report = BoundaryReport::default();
        for (n, feature) in features.into_iter().enumerate() {
            let (code, geometry) = match feature {
                Ok(found) => found,
                Err(why) => {
                    report.left_out.push((n + 1, why));
                    continue;
                }
            };
            if !store::enumerators::region_known(conn, code.as_str())? {
                report
                    .left_out
                    .push((n + 1, format!("region {code} is not in the region list")));
                continue;
            }
            store::map::put_outline(conn, code.as_str(), &geometry)?;
            report.stored += 1;
        }
        Ok(report)
    })
}

fn region_code_in(properties: &Map<String, Value>, property: Option<&str>) -> Option<RegionCode> {
    let names: Vec<&str> = property.map_or_else(|| CODE_PROPERTIES.to_vec(), |p| vec![p]);
    properties.iter().find_map(|(key, value)| {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(key)) {
            return None;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        RegionCode::parse(&text).ok().or_else(|| dotted(&text))
    })
}

/// A code written without dots (`1604012001`, as many GIS files do) in the dotted form.
fn dotted(digits: &str) -> Option<RegionCode> {
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let text = format!(
        "{}.{}.{}.{}",
        &digits[..2],
        &digits[2..4],
        &digits[4..6],
        &digits[6..]
    );
    RegionCode::parse(&text).ok()
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("the file is not a GeoJSON FeatureCollection")]
    NotFeatureCollection,
    #[error(transparent)]
    Db(#[from] DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounding_box_is_checked() {
        assert!(parse_bbox("103.4,-3.9,103.7,-3.6").is_ok());
        for bad in [
            "",
            "1,2,3",
            "103.7,-3.9,103.4,-3.6",
            "NaN,0,1,1",
            "0,0,200,1",
            "a,b,c,d",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_code_without_dots_is_read() {
        let props: Map<String, Value> =
            serde_json::from_str(r#"{"KDEPUM": 1604012001, "NAMA": "Desa"}"#).unwrap();
        assert_eq!(
            region_code_in(&props, None).map(|c| c.to_string()),
            Some("16.04.01.2001".to_owned())
        );
        assert!(region_code_in(&props, Some("kode")).is_none());
    }
}
