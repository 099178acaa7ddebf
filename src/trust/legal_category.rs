//! INSEE catégories juridiques and the class of organisation each implies.
//!
//! The table (niveau III, 260 codes, INSEE September 2022, as used by Sirene's
//! `categorieJuridiqueUniteLegale`) ships in `src/trust/data/`, with its provenance in
//! `SOURCE.md` there. The class drives billing (public bodies may be exempt) and which path
//! leads to a mandate (ProConnect's officer certification does not cover public bodies and
//! associations).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

const TABLE: &str = include_str!("data/categories_juridiques.csv");

/// The kinds of participants the clearing house distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrganisationClass {
    /// State, local authorities, public establishments (administrative or commercial).
    PublicBody,
    /// Commercial companies and other bodies registered at the RCS, foreign legal persons.
    Company,
    /// Associations, foundations and other private non-profit bodies.
    Association,
    /// Sole traders (entrepreneur individuel).
    SoleTrader,
}

impl OrganisationClass {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrganisationClass::PublicBody => "public-body",
            OrganisationClass::Company => "company",
            OrganisationClass::Association => "association",
            OrganisationClass::SoleTrader => "sole-trader",
        }
    }
}

static CATEGORIES: LazyLock<BTreeMap<&'static str, &'static str>> = LazyLock::new(|| {
    TABLE
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(','))
        .map(|(code, label)| (code, label.trim_matches('"')))
        .collect()
});

/// The INSEE label of a catégorie juridique, if the code exists.
pub fn label(code: &str) -> Option<&'static str> {
    CATEGORIES.get(code).copied()
}

/// The class of a catégorie juridique, by its INSEE niveau I group (first digit):
///
/// | niveau I | INSEE group                                                | class        |
/// |----------|------------------------------------------------------------|--------------|
/// | 1        | entrepreneur individuel                                    | sole trader  |
/// | 2, 3     | groupements sans personnalité morale, droit étranger       | company      |
/// | 4        | personne morale de droit public soumise au droit commercial | public body  |
/// | 5, 6     | sociétés commerciales, autres immatriculées au RCS         | company      |
/// | 7        | personne morale soumise au droit administratif              | public body  |
/// | 8        | organismes privés spécialisés (mutuelles, syndicats, CSE)  | association  |
/// | 9        | groupements de droit privé (associations, fondations)      | association  |
/// | 0        | OPCVM sans personnalité morale                             | company      |
///
/// `None` for a code that is not in the table.
pub fn class_of(code: &str) -> Option<OrganisationClass> {
    label(code)?;
    Some(match code.as_bytes().first()? {
        b'1' => OrganisationClass::SoleTrader,
        b'4' | b'7' => OrganisationClass::PublicBody,
        b'8' | b'9' => OrganisationClass::Association,
        _ => OrganisationClass::Company,
    })
}

/// Does ProConnect's officer certification (`certification-dirigeant`) cover this category?
/// It relies on the registers of company officers, which public bodies (7xxx) and
/// associations (92xx) are not in: their representatives need an operator-recorded
/// délibération or arrêté de délégation instead.
pub fn officer_certification_covers(code: &str) -> bool {
    !(code.starts_with('7') || code.starts_with("92"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_well_formed() {
        assert_eq!(CATEGORIES.len(), 260);
        assert!(CATEGORIES.keys().all(|c| c.len() == 4));
        assert_eq!(label("5710"), Some("SAS, société par actions simplifiée"));
    }

    #[test]
    fn classes_follow_the_niveau_i_groups() {
        assert_eq!(class_of("7210"), Some(OrganisationClass::PublicBody)); // commune
        assert_eq!(class_of("7230"), Some(OrganisationClass::PublicBody)); // région
        assert_eq!(class_of("4110"), Some(OrganisationClass::PublicBody)); // EPIC
        assert_eq!(class_of("5710"), Some(OrganisationClass::Company));
        assert_eq!(class_of("9220"), Some(OrganisationClass::Association));
        assert_eq!(class_of("1000"), Some(OrganisationClass::SoleTrader));
        assert_eq!(class_of("9999"), None);
        assert!(!officer_certification_covers("7210"));
        assert!(!officer_certification_covers("9220"));
        assert!(officer_certification_covers("5710"));
    }
}
