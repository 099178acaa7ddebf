//! French administrative areas for the `spatial` left operand, identified by INSEE codes.
//!
//! A territorial data space constrains use to a territory: a commune, a département, a
//! région. Containment (commune ⊂ département ⊂ région ⊂ France) is decided without a
//! database:
//! - commune → département by the INSEE prefix rule: the first two characters of the commune
//!   code (`69123` → `69`, `2A004` → `2A`), the first three for the overseas départements
//!   whose codes start with `97` (`97411` → `974`);
//! - municipal arrondissements of Paris, Lyon and Marseille (`75101`…`75120`, `69381`…
//!   `69389`, `13201`…`13216`) → their commune (`75056`, `69123`, `13055`);
//! - département → région by the table below, from the INSEE *Code officiel géographique*
//!   (COG) 2024, file `v_departement_2024` (101 départements, 18 régions).
//!
//! Written forms: `"69123"` (commune), `"69"`, `"2A"`, `"971"` (département), `"region:84"`
//! (région), `"FR"` (France); prefixed forms `commune:`, `departement:`, `region:`; and the
//! INSEE IRIs `http://id.insee.fr/geo/{commune,departement,region}/CODE`. A bare two-character
//! code is a département: `84` is Vaucluse, and région 84 (Auvergne-Rhône-Alpes) must be
//! written `region:84`, because the two code lists overlap (11, 24, 27, 28, 32, 44, 52, 53, 75,
//! 76, 84, 93, 94). Any other IRI is an area the evaluator knows nothing about, equal only to
//! itself.

use std::fmt;

/// One administrative area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    /// The whole of France.
    France,
    /// A région, by its two-digit INSEE code.
    Region(&'static Region),
    /// A département, by its INSEE code (`69`, `2A`, `971`).
    Departement(&'static Departement),
    /// A commune, by its five-character INSEE code.
    Commune(String),
    /// A municipal arrondissement of Paris, Lyon or Marseille.
    Arrondissement(String),
    /// An area this module does not know (an IRI from another gazetteer).
    Other(String),
}

/// A région of the COG.
#[derive(Debug, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
}

/// A département of the COG and the région it belongs to.
#[derive(Debug, PartialEq, Eq)]
pub struct Departement {
    pub code: &'static str,
    pub name: &'static str,
    pub region: &'static str,
}

/// Why a written area is not a valid INSEE code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AreaError {
    #[error("`{0}` is not an INSEE région code (COG 2024 has 01–06, 11, 24–53, 75–94)")]
    UnknownRegion(String),
    #[error("`{0}` is not an INSEE département code (COG 2024 has 01–95, 2A, 2B, 971–976)")]
    UnknownDepartement(String),
    #[error(
        "`{0}` is not an INSEE commune code (five characters, starting with a département code)"
    )]
    BadCommune(String),
}

const INSEE_IRI_PREFIXES: [&str; 2] = ["http://id.insee.fr/geo/", "https://id.insee.fr/geo/"];

impl Area {
    /// Read an area in one of the written forms described in the module documentation.
    pub fn parse(text: &str) -> Result<Area, AreaError> {
        let text = text.trim();
        for prefix in INSEE_IRI_PREFIXES {
            if let Some(rest) = text.strip_prefix(prefix)
                && let Some((kind, code)) = rest.split_once('/')
            {
                return Area::parse_kind(kind, code, text);
            }
        }
        if let Some((kind, code)) = text.split_once(':') {
            if matches!(kind, "commune" | "departement" | "region" | "pays") {
                return Area::parse_kind(kind, code, text);
            }
            return Ok(Area::Other(text.to_owned()));
        }
        if text.eq_ignore_ascii_case("FR") {
            return Ok(Area::France);
        }
        match text.len() {
            5 => Area::parse_kind("commune", text, text),
            2 | 3 => Area::parse_kind("departement", text, text),
            _ => Ok(Area::Other(text.to_owned())),
        }
    }

    fn parse_kind(kind: &str, code: &str, written: &str) -> Result<Area, AreaError> {
        match kind {
            "region" => REGIONS
                .iter()
                .find(|r| r.code == code)
                .map(Area::Region)
                .ok_or_else(|| AreaError::UnknownRegion(code.to_owned())),
            "departement" => departement(code)
                .map(Area::Departement)
                .ok_or_else(|| AreaError::UnknownDepartement(code.to_owned())),
            "commune" => {
                if code.len() != 5
                    || !code.is_ascii()
                    || departement_code_of_commune(code)
                        .and_then(departement)
                        .is_none()
                    || !code[2..].bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(AreaError::BadCommune(code.to_owned()));
                }
                if arrondissement_commune(code).is_some() {
                    Ok(Area::Arrondissement(code.to_owned()))
                } else {
                    Ok(Area::Commune(code.to_owned()))
                }
            }
            "pays" if code == "FR" || code == "99100" => Ok(Area::France),
            _ => Ok(Area::Other(written.to_owned())),
        }
    }

    /// The areas directly containing this one (none for France and unknown areas).
    fn parent(&self) -> Option<Area> {
        match self {
            Area::France | Area::Other(_) => None,
            Area::Region(_) => Some(Area::France),
            Area::Departement(d) => REGIONS
                .iter()
                .find(|r| r.code == d.region)
                .map(Area::Region),
            Area::Commune(code) => departement_code_of_commune(code)
                .and_then(departement)
                .map(Area::Departement),
            Area::Arrondissement(code) => {
                arrondissement_commune(code).map(|commune| Area::Commune(commune.to_owned()))
            }
        }
    }

    /// Whether this area lies within `outer` (an area lies within itself).
    pub fn is_within(&self, outer: &Area) -> bool {
        let mut current = Some(self.clone());
        while let Some(area) = current {
            if &area == outer {
                return true;
            }
            current = area.parent();
        }
        false
    }

    /// The chain from this area up to France, for explanations ("69123 ⊂ 69 ⊂ 84 ⊂ FR").
    pub fn describe_with_parents(&self) -> String {
        let mut parts = vec![self.to_string()];
        let mut current = self.parent();
        while let Some(area) = current {
            parts.push(area.to_string());
            current = area.parent();
        }
        parts.join(" ⊂ ")
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Area::France => write!(f, "France"),
            Area::Region(r) => write!(f, "région {} ({})", r.code, r.name),
            Area::Departement(d) => write!(f, "département {} ({})", d.code, d.name),
            Area::Commune(code) => write!(f, "commune {code}"),
            Area::Arrondissement(code) => write!(f, "arrondissement {code}"),
            Area::Other(iri) => write!(f, "{iri}"),
        }
    }
}

/// The département code a commune code starts with (3 characters for `97x`).
fn departement_code_of_commune(code: &str) -> Option<&str> {
    if code.starts_with("97") {
        code.get(..3)
    } else {
        code.get(..2)
    }
}

/// The commune a municipal arrondissement belongs to.
fn arrondissement_commune(code: &str) -> Option<&'static str> {
    let number: u32 = code.parse().ok()?;
    match number {
        75101..=75120 => Some("75056"),
        69381..=69389 => Some("69123"),
        13201..=13216 => Some("13055"),
        _ => None,
    }
}

fn departement(code: &str) -> Option<&'static Departement> {
    DEPARTEMENTS.iter().find(|d| d.code == code)
}

/// The 18 régions of the COG 2024.
pub static REGIONS: [Region; 18] = [
    Region {
        code: "01",
        name: "Guadeloupe",
    },
    Region {
        code: "02",
        name: "Martinique",
    },
    Region {
        code: "03",
        name: "Guyane",
    },
    Region {
        code: "04",
        name: "La Réunion",
    },
    Region {
        code: "06",
        name: "Mayotte",
    },
    Region {
        code: "11",
        name: "Île-de-France",
    },
    Region {
        code: "24",
        name: "Centre-Val de Loire",
    },
    Region {
        code: "27",
        name: "Bourgogne-Franche-Comté",
    },
    Region {
        code: "28",
        name: "Normandie",
    },
    Region {
        code: "32",
        name: "Hauts-de-France",
    },
    Region {
        code: "44",
        name: "Grand Est",
    },
    Region {
        code: "52",
        name: "Pays de la Loire",
    },
    Region {
        code: "53",
        name: "Bretagne",
    },
    Region {
        code: "75",
        name: "Nouvelle-Aquitaine",
    },
    Region {
        code: "76",
        name: "Occitanie",
    },
    Region {
        code: "84",
        name: "Auvergne-Rhône-Alpes",
    },
    Region {
        code: "93",
        name: "Provence-Alpes-Côte d'Azur",
    },
    Region {
        code: "94",
        name: "Corse",
    },
];

macro_rules! departements {
    ($(($code:literal, $name:literal, $region:literal)),* $(,)?) => {
        /// The 101 départements of the COG 2024 with their région.
        pub static DEPARTEMENTS: [Departement; 101] = [
            $(Departement { code: $code, name: $name, region: $region }),*
        ];
    };
}

departements![
    ("01", "Ain", "84"),
    ("02", "Aisne", "32"),
    ("03", "Allier", "84"),
    ("04", "Alpes-de-Haute-Provence", "93"),
    ("05", "Hautes-Alpes", "93"),
    ("06", "Alpes-Maritimes", "93"),
    ("07", "Ardèche", "84"),
    ("08", "Ardennes", "44"),
    ("09", "Ariège", "76"),
    ("10", "Aube", "44"),
    ("11", "Aude", "76"),
    ("12", "Aveyron", "76"),
    ("13", "Bouches-du-Rhône", "93"),
    ("14", "Calvados", "28"),
    ("15", "Cantal", "84"),
    ("16", "Charente", "75"),
    ("17", "Charente-Maritime", "75"),
    ("18", "Cher", "24"),
    ("19", "Corrèze", "75"),
    ("21", "Côte-d'Or", "27"),
    ("22", "Côtes-d'Armor", "53"),
    ("23", "Creuse", "75"),
    ("24", "Dordogne", "75"),
    ("25", "Doubs", "27"),
    ("26", "Drôme", "84"),
    ("27", "Eure", "28"),
    ("28", "Eure-et-Loir", "24"),
    ("29", "Finistère", "53"),
    ("2A", "Corse-du-Sud", "94"),
    ("2B", "Haute-Corse", "94"),
    ("30", "Gard", "76"),
    ("31", "Haute-Garonne", "76"),
    ("32", "Gers", "76"),
    ("33", "Gironde", "75"),
    ("34", "Hérault", "76"),
    ("35", "Ille-et-Vilaine", "53"),
    ("36", "Indre", "24"),
    ("37", "Indre-et-Loire", "24"),
    ("38", "Isère", "84"),
    ("39", "Jura", "27"),
    ("40", "Landes", "75"),
    ("41", "Loir-et-Cher", "24"),
    ("42", "Loire", "84"),
    ("43", "Haute-Loire", "84"),
    ("44", "Loire-Atlantique", "52"),
    ("45", "Loiret", "24"),
    ("46", "Lot", "76"),
    ("47", "Lot-et-Garonne", "75"),
    ("48", "Lozère", "76"),
    ("49", "Maine-et-Loire", "52"),
    ("50", "Manche", "28"),
    ("51", "Marne", "44"),
    ("52", "Haute-Marne", "44"),
    ("53", "Mayenne", "52"),
    ("54", "Meurthe-et-Moselle", "44"),
    ("55", "Meuse", "44"),
    ("56", "Morbihan", "53"),
    ("57", "Moselle", "44"),
    ("58", "Nièvre", "27"),
    ("59", "Nord", "32"),
    ("60", "Oise", "32"),
    ("61", "Orne", "28"),
    ("62", "Pas-de-Calais", "32"),
    ("63", "Puy-de-Dôme", "84"),
    ("64", "Pyrénées-Atlantiques", "75"),
    ("65", "Hautes-Pyrénées", "76"),
    ("66", "Pyrénées-Orientales", "76"),
    ("67", "Bas-Rhin", "44"),
    ("68", "Haut-Rhin", "44"),
    ("69", "Rhône", "84"),
    ("70", "Haute-Saône", "27"),
    ("71", "Saône-et-Loire", "27"),
    ("72", "Sarthe", "52"),
    ("73", "Savoie", "84"),
    ("74", "Haute-Savoie", "84"),
    ("75", "Paris", "11"),
    ("76", "Seine-Maritime", "28"),
    ("77", "Seine-et-Marne", "11"),
    ("78", "Yvelines", "11"),
    ("79", "Deux-Sèvres", "75"),
    ("80", "Somme", "32"),
    ("81", "Tarn", "76"),
    ("82", "Tarn-et-Garonne", "76"),
    ("83", "Var", "93"),
    ("84", "Vaucluse", "93"),
    ("85", "Vendée", "52"),
    ("86", "Vienne", "75"),
    ("87", "Haute-Vienne", "75"),
    ("88", "Vosges", "44"),
    ("89", "Yonne", "27"),
    ("90", "Territoire de Belfort", "27"),
    ("91", "Essonne", "11"),
    ("92", "Hauts-de-Seine", "11"),
    ("93", "Seine-Saint-Denis", "11"),
    ("94", "Val-de-Marne", "11"),
    ("95", "Val-d'Oise", "11"),
    ("971", "Guadeloupe", "01"),
    ("972", "Martinique", "02"),
    ("973", "Guyane", "03"),
    ("974", "La Réunion", "04"),
    ("976", "Mayotte", "06"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn area(s: &str) -> Area {
        Area::parse(s).unwrap()
    }

    #[test]
    fn every_departement_has_a_known_region() {
        for d in &DEPARTEMENTS {
            assert!(REGIONS.iter().any(|r| r.code == d.region), "{}", d.code);
        }
        for r in &REGIONS {
            assert!(
                DEPARTEMENTS.iter().any(|d| d.region == r.code),
                "{}",
                r.code
            );
        }
    }

    #[test]
    fn containment_follows_the_cog() {
        assert!(area("69123").is_within(&area("69")));
        assert!(area("69123").is_within(&area("region:84")));
        assert!(area("69123").is_within(&area("FR")));
        assert!(area("69381").is_within(&area("69123")));
        assert!(area("2A004").is_within(&area("region:94")));
        assert!(area("97411").is_within(&area("974")));
        assert!(area("97411").is_within(&area("http://id.insee.fr/geo/region/04")));
        assert!(!area("69123").is_within(&area("region:93")));
        assert!(
            !area("84").is_within(&area("region:84")),
            "Vaucluse is in PACA"
        );
        assert!(area("84").is_within(&area("region:93")));
        assert!(!area("region:84").is_within(&area("69")));
    }

    #[test]
    fn bad_codes_are_named() {
        assert_eq!(
            Area::parse("20"),
            Err(AreaError::UnknownDepartement("20".into()))
        );
        assert_eq!(
            Area::parse("region:20"),
            Err(AreaError::UnknownRegion("20".into()))
        );
        assert_eq!(
            Area::parse("99123"),
            Err(AreaError::BadCommune("99123".into()))
        );
        assert_eq!(
            Area::parse("http://sws.geonames.org/2996944/"),
            Ok(Area::Other("http://sws.geonames.org/2996944/".into()))
        );
    }
}
