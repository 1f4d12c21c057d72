//! Suggestions shown beside the enumerator's own assessment, never replacing it: which of the
//! 14 BPS criteria of a poor household the answers meet, and the per-capita expenditure against
//! the extreme-poverty line (domain.md §3).

use serde::{Deserialize, Serialize};

use crate::model::*;

labelled_enum! {
    /// The 14 BPS criteria of a poor household (a household meeting 9 or more counts as poor).
    BpsCriterion {
        FloorArea = "FLOOR_AREA", "Luas lantai < 8 m² per orang", "Floor area under 8 m² per person";
        Floor = "FLOOR", "Lantai tanah/bambu/kayu murahan", "Earth, bamboo or cheap wood floor";
        Wall = "WALL", "Dinding bambu/rumbia/kayu murah/tembok tanpa plester", "Bamboo, thatch, cheap wood or unplastered wall";
        Toilet = "TOILET", "Tidak punya jamban sendiri", "No own toilet";
        Lighting = "LIGHTING", "Penerangan bukan listrik", "No electric lighting";
        Water = "WATER", "Air minum dari sumur/mata air tak terlindung, sungai, air hujan", "Water from an unprotected well or spring, river or rain";
        CookingFuel = "COOKING_FUEL", "Memasak dengan kayu bakar/arang/minyak tanah", "Cooks with firewood, charcoal or kerosene";
        Protein = "PROTEIN", "Daging/susu/ayam hanya sekali seminggu", "Meat, milk or chicken at most once a week";
        Clothing = "CLOTHING", "Hanya satu stel pakaian baru setahun", "At most one set of new clothes a year";
        Meals = "MEALS", "Makan hanya satu/dua kali sehari", "Only one or two meals a day";
        Clinic = "CLINIC", "Tidak sanggup berobat ke puskesmas/poliklinik", "Cannot pay for a clinic";
        Income = "INCOME", "Penghasilan kepala keluarga rendah (< Rp600.000/bulan)", "Head's income is low (under Rp600,000 a month)";
        Education = "EDUCATION", "Pendidikan kepala keluarga paling tinggi SD", "Head has primary schooling at most";
        Savings = "SAVINGS", "Tidak punya tabungan/barang ≥ Rp500.000", "No savings or goods worth Rp500,000";
    }
}

/// The extreme-poverty line used when the district sets none: BPS's ≈ Rp391,000 per capita per
/// month (USD 2.15 PPP 2017, January 2025; domain.md §3.1).
pub const DEFAULT_EXTREME_POVERTY_LINE_RP: u64 = 391_000;
/// A household meeting this many BPS criteria counts as poor on the checklist.
pub const BPS_POOR_THRESHOLD: usize = 9;
const LOW_INCOME_RP: u64 = 600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestionConfig {
    /// Rupiah per person per month.
    pub extreme_poverty_line_rp: u64,
}

impl Default for SuggestionConfig {
    fn default() -> Self {
        Self {
            extreme_poverty_line_rp: DEFAULT_EXTREME_POVERTY_LINE_RP,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The criteria the answers meet.
    pub criteria_met: Vec<BpsCriterion>,
    /// The criteria the answers say nothing about yet.
    pub criteria_unknown: Vec<BpsCriterion>,
    /// Meets at least 9 criteria.
    pub poor_by_checklist: bool,
    pub household_size: u32,
    pub per_capita_monthly_rp: Option<u64>,
    pub per_capita_daily_rp: Option<u64>,
    pub extreme_poverty_line_rp: u64,
    /// Per-capita expenditure below the line.
    pub below_extreme_line: Option<bool>,
}

/// Suggests from what is known of a household: the housing and welfare answers, and its active
/// members (for the per-capita figures and the head's schooling and work).
pub fn suggest(
    housing: &Housing,
    welfare: &Welfare,
    members: &[Member],
    config: &SuggestionConfig,
) -> Suggestion {
    use BpsCriterion as C;
    let active: Vec<&Member> = members.iter().filter(|m| m.is_active()).collect();
    let size = u32::try_from(active.len()).unwrap_or(u32::MAX);
    let head = active
        .iter()
        .find(|m| m.details.relation == Some(Relation::Head));

    let verdicts: [(C, Option<bool>); 14] = [
        (
            C::FloorArea,
            housing
                .floor_area_m2
                .filter(|_| size > 0)
                .map(|a| a / f64::from(size) < 8.0),
        ),
        (
            C::Floor,
            housing.floor.map(|f| match f {
                FloorMaterial::Earth | FloorMaterial::Bamboo => true,
                FloorMaterial::WoodPlank => housing.floor_quality == Some(Quality::Poor),
                _ => false,
            }),
        ),
        (
            C::Wall,
            housing.wall.map(|w| match w {
                WallMaterial::Bamboo | WallMaterial::MasonryUnplastered => true,
                WallMaterial::WoodPlank => housing.wall_quality == Some(Quality::Poor),
                _ => false,
            }),
        ),
        (C::Toilet, housing.sanitation.map(|s| s != Sanitation::Own)),
        (
            C::Lighting,
            housing.lighting.map(|l| l == Lighting::NotElectricity),
        ),
        (
            C::Water,
            housing.drinking_water.map(|w| {
                matches!(
                    w,
                    DrinkingWater::UnprotectedWell
                        | DrinkingWater::UnprotectedSpring
                        | DrinkingWater::SurfaceWater
                        | DrinkingWater::Rainwater
                )
            }),
        ),
        (
            C::CookingFuel,
            housing.cooking_fuel.map(|f| {
                matches!(
                    f,
                    CookingFuel::Firewood | CookingFuel::CharcoalBriquette | CookingFuel::Kerosene
                )
            }),
        ),
        (C::Protein, welfare.meat_milk_per_week.map(|n| n <= 1)),
        (C::Clothing, welfare.new_clothes_per_year.map(|n| n <= 1)),
        (C::Meals, welfare.meals_per_day.map(|n| n <= 2)),
        (C::Clinic, welfare.can_afford_clinic.map(|can| !can)),
        (
            C::Income,
            welfare
                .head_monthly_income_rp
                .map(|rp| rp < LOW_INCOME_RP)
                .or_else(|| {
                    head.and_then(|h| h.details.occupation).map(|o| {
                        matches!(
                            o,
                            Occupation::Farmer | Occupation::Fisher | Occupation::CasualWorker
                        )
                    })
                }),
        ),
        (
            C::Education,
            head.and_then(|h| h.details.education).map(|e| {
                matches!(
                    e,
                    Education::NoSchooling
                        | Education::PrimaryNotCompleted
                        | Education::InPrimary
                        | Education::PrimaryCompleted
                )
            }),
        ),
        (
            C::Savings,
            welfare.has_savings_500k.map(|has| {
                let sellable = welfare.assets.as_ref().is_some_and(|a| {
                    [
                        Asset::Motorcycle,
                        Asset::GoldSavings,
                        Asset::Livestock,
                        Asset::MotorBoat,
                    ]
                    .iter()
                    .any(|x| a.contains(x))
                });
                !has && !sellable
            }),
        ),
    ];

    let criteria_met: Vec<C> = verdicts
        .iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(c, _)| *c)
        .collect();
    let criteria_unknown: Vec<C> = verdicts
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(c, _)| *c)
        .collect();
    let per_capita = welfare
        .monthly_expenditure_rp
        .filter(|_| size > 0)
        .map(|rp| rp / u64::from(size));
    Suggestion {
        poor_by_checklist: criteria_met.len() >= BPS_POOR_THRESHOLD,
        criteria_met,
        criteria_unknown,
        household_size: size,
        per_capita_monthly_rp: per_capita,
        per_capita_daily_rp: per_capita.map(|m| m / 30),
        extreme_poverty_line_rp: config.extreme_poverty_line_rp,
        below_extreme_line: per_capita.map(|m| m < config.extreme_poverty_line_rp),
    }
}

#[cfg(test)]
mod tests;
