//! The pages' words in French (default) and English: a small catalogue of constants, no
//! crate. A page picks its language from `?lang=`, then the `ch_lang` cookie, then
//! `Accept-Language`.

use axum::http::HeaderMap;

/// A language the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// `?lang=` wins, then the cookie, then the browser's first preference; French otherwise.
    pub fn pick(query: Option<&str>, cookie: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query.or(cookie).and_then(Lang::parse) {
            return lang;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match accept.trim_start().get(..2) {
            Some(first) if first.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    pub fn t(self, message: &Msg) -> &'static str {
        match self {
            Lang::Fr => message.0,
            Lang::En => message.1,
        }
    }
}

/// One message: (French, English). `{}` marks where [`Lang::fill`] puts its arguments.
pub struct Msg(pub &'static str, pub &'static str);

impl Lang {
    /// The message with each `{}` replaced by the next argument, in order.
    pub fn fill(self, message: &Msg, args: &[&dyn std::fmt::Display]) -> String {
        let mut out = String::new();
        let mut args = args.iter();
        let mut parts = self.t(message).split("{}").peekable();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some()
                && let Some(arg) = args.next()
            {
                out.push_str(&arg.to_string());
            }
        }
        out
    }
}

// The check page's verdicts.
pub const NOT_JSON: Msg = Msg(
    "ce n'est pas du JSON valide ({})",
    "this is not valid JSON ({})",
);
pub const PERIOD_BUNDLE_VERIFIES: Msg = Msg(
    "Paquet de la période {} : {} entrées prouvées dans le journal de taille {} ; {} relevés recalculés au centime près{}.",
    "Period bundle {}: {} entries proven in the log of size {}; {} statements recomputed to the cent{}.",
);
pub const EQUAL_TO_CLOSING: Msg = Msg(
    ", identiques aux empreintes de la clôture",
    ", equal to the closing's hashes",
);
pub const AUDIT_BUNDLE_VERIFIES: Msg = Msg(
    "Paquet d'audit : {} entrées, chacune prouvée dans le journal signé de taille {}.",
    "Audit bundle: {} entries, each proven in the signed log of size {}.",
);
pub const BUNDLE_NOT_COMPLETENESS: Msg = Msg(
    "Un paquet prouve que ses entrées sont dans le journal, pas que la sélection est complète.",
    "A bundle proves that its entries are in the log, not that the selection is complete.",
);
pub const RECEIPT_VERIFIES: Msg = Msg(
    "Reçu : l'entrée {} est incluse dans le journal signé de taille {}.",
    "Receipt: entry {} is included in the signed log of size {}.",
);
pub const NEITHER_BUNDLE_NOR_RECEIPT: Msg = Msg(
    "ni un paquet (champ format) ni un reçu (leaf_hash, inclusion_path, checkpoint)",
    "neither a bundle (format field) nor a receipt (leaf_hash, inclusion_path, checkpoint)",
);

pub const APP: Msg = Msg("Chambre de compensation", "Clearing house");
pub const OVERVIEW: Msg = Msg("Vue d'ensemble", "Overview");
pub const PARTICIPANTS: Msg = Msg("Participants", "Participants");
pub const CONTRACTS: Msg = Msg("Contrats", "Contracts");
pub const EXCHANGES: Msg = Msg("Décisions et transferts", "Decisions and transfers");
pub const INDICATORS: Msg = Msg("Indicateurs", "Indicators");
pub const BILLING: Msg = Msg("Facturation", "Billing");
pub const AUDIT: Msg = Msg("Audit", "Audit");
pub const CHECK: Msg = Msg("Vérifier", "Check");
pub const SIGN_IN: Msg = Msg("Connexion", "Sign in");
pub const SIGN_OUT: Msg = Msg("Se déconnecter", "Sign out");
pub const SIGN_IN_PROCONNECT: Msg = Msg("Se connecter avec ProConnect", "Sign in with ProConnect");
pub const SIGN_IN_DEMO: Msg = Msg(
    "Entrer comme membre du CTD (démonstration)",
    "Enter as a CTD member (demo)",
);
pub const SIGN_IN_OPERATOR: Msg = Msg("Connexion de l'opérateur", "Operator sign-in");
pub const OPERATOR_TOKEN: Msg = Msg("Jeton de l'opérateur", "Operator token");
pub const SUBMIT: Msg = Msg("Valider", "Submit");
pub const NO_PROCONNECT: Msg = Msg(
    "ProConnect n'est pas configuré sur ce service.",
    "ProConnect is not configured on this service.",
);
pub const DEMO_BANNER: Msg = Msg(
    "Démonstration : connecté sans ProConnect comme",
    "Demo: signed in without ProConnect as",
);
pub const DEMO_NOT_SIGNED: Msg = Msg(
    "Démonstration : données fictives, connexion sans ProConnect possible.",
    "Demo: fictitious data; sign-in without ProConnect available.",
);
pub const SIGNED_IN_AS: Msg = Msg("Connecté :", "Signed in:");
pub const COMMITTEE_MEMBER: Msg = Msg("membre du CTD", "CTD member");
pub const OPERATOR: Msg = Msg("opérateur", "operator");
pub const SEES_ALL: Msg = Msg("voit tout le journal", "sees the whole log");
pub const SEES_OWN: Msg = Msg(
    "voit les données de son organisation seulement",
    "sees its own organisation's data only",
);
pub const SWITCH_LANG: Msg = Msg("English", "Français");
pub const SKIP: Msg = Msg("Aller au contenu", "Skip to content");
pub const MENU: Msg = Msg("Menu principal", "Main menu");
pub const LOG_SIZE: Msg = Msg("Taille du journal", "Log size");
pub const ENTRIES: Msg = Msg("entrées", "entries");
pub const CHECKPOINT: Msg = Msg(
    "Dernier point de contrôle signé",
    "Latest signed checkpoint",
);
pub const COSIGNATURES: Msg = Msg("Signatures", "Signatures");
pub const SIGNER: Msg = Msg("Signataire", "Signer");
pub const ROLE: Msg = Msg("Rôle", "Role");
pub const THE_LOG: Msg = Msg("le journal", "the log");
pub const WITNESS: Msg = Msg("témoin", "witness");
pub const NO_WITNESS: Msg = Msg(
    "Aucun témoin n'a encore cosigné ce point de contrôle.",
    "No witness has cosigned this checkpoint yet.",
);
pub const PER_DAY: Msg = Msg(
    "Entrées par jour (30 derniers jours)",
    "Entries per day (last 30 days)",
);
pub const RECENT: Msg = Msg("Activité récente", "Recent activity");
pub const DAY: Msg = Msg("Jour", "Day");
pub const COUNT: Msg = Msg("Nombre", "Count");
pub const INDEX: Msg = Msg("Index", "Index");
pub const TYPE: Msg = Msg("Type", "Type");
pub const TIME: Msg = Msg("Heure", "Time");
pub const SUMMARY: Msg = Msg("Résumé", "Summary");
pub const NAME: Msg = Msg("Nom", "Name");
pub const CLASS: Msg = Msg("Catégorie", "Class");
pub const STATUS: Msg = Msg("Statut", "Status");
pub const EVIDENCE: Msg = Msg("Preuves", "Evidence");
pub const LEGAL_CATEGORY: Msg = Msg("Catégorie juridique", "Catégorie juridique");
pub const REGISTERED_AT: Msg = Msg("inscrit à l'entrée", "registered at entry");
pub const KEYS: Msg = Msg("clés de connecteur actives", "active connector keys");
pub const PARTIES: Msg = Msg("Parties", "Parties");
pub const STATE: Msg = Msg("État", "State");
pub const HISTORY: Msg = Msg("Historique", "History");
pub const POLICY: Msg = Msg("Ce que le contrat permet", "What the contract allows");
pub const FILTER: Msg = Msg("Filtrer", "Filter");
pub const PARTICIPANT: Msg = Msg("Participant (SIREN)", "Participant (SIREN)");
pub const CONTRACT: Msg = Msg("Contrat", "Contract");
pub const KIND: Msg = Msg("Nature", "Kind");
pub const ALL: Msg = Msg("Tout", "All");
pub const DECISIONS: Msg = Msg("Décisions", "Decisions");
pub const RECEIPTS: Msg = Msg("Reçus de transfert", "Transfer receipts");
pub const MISMATCHES: Msg = Msg("Reçus discordants", "Mismatched receipts");
pub const MISMATCH: Msg = Msg("DISCORDANCE", "MISMATCH");
pub const ON_THIS_PAGE: Msg = Msg(
    "Entrées dans l'ordre du journal ; les compteurs portent sur cette page.",
    "Entries in log order; the counts are for this page.",
);
pub const PAGES: Msg = Msg("Pages", "Pages");
pub const FIRST_PAGE: Msg = Msg("Première page", "First page");
pub const NEXT_PAGE: Msg = Msg("Page suivante", "Next page");
pub const NOTHING: Msg = Msg("Rien à afficher.", "Nothing to show.");
pub const PERIOD: Msg = Msg("Période", "Period");
pub const BY: Msg = Msg("Par", "By");
pub const DATASET: Msg = Msg("Jeu de données", "Dataset");
pub const CONSULTATIONS: Msg = Msg("Consultations", "Consultations");
pub const REQUESTS: Msg = Msg("Demandes autorisées", "Permitted requests");
pub const DOWNLOADS: Msg = Msg("Téléchargements", "Downloads");
pub const BYTES: Msg = Msg("Octets", "Bytes");
pub const RECORDS: Msg = Msg("Enregistrements", "Records");
pub const OVER_TIME: Msg = Msg("Évolution par mois", "Over time, by month");
pub const BY_CLASS: Msg = Msg("Par catégorie de participant", "By participant class");
pub const BY_DATASET: Msg = Msg("Par jeu de données", "By dataset");
pub const DOWNLOAD_CSV: Msg = Msg(
    "Télécharger les chiffres (CSV)",
    "Download the figures (CSV)",
);
pub const WHOLE_LOG_ONLY: Msg = Msg(
    "Ces chiffres couvrent tous les participants : ils sont réservés au comité, aux auditeurs et à l'opérateur.",
    "These figures cover every participant: they are for the committee, auditors and the operator.",
);
pub const STATEMENTS: Msg = Msg("Relevés", "Statements");
pub const GROSS: Msg = Msg("Montant brut", "Gross");
pub const FINANCED: Msg = Msg("Financé", "Financed");
pub const OWN_SHARE: Msg = Msg("À la charge du participant", "Participant's share");
pub const LINES: Msg = Msg("lignes", "lines");
pub const FINANCING: Msg = Msg("Rapport de financement", "Financing report");
pub const PUBLIC_FUNDING: Msg = Msg("Financement public", "Public funding");
pub const PARTICIPANTS_SHARE: Msg = Msg("Part des participants", "Participants' share");
pub const FINANCER: Msg = Msg("Financeur", "Financer");
pub const COVERED: Msg = Msg("Couvert", "Covered");
pub const ENVELOPE_LEFT: Msg = Msg("Enveloppe restante", "Envelope left");
pub const INVOICES: Msg = Msg("Factures et avoirs", "Invoices and credit notes");
pub const NUMBER: Msg = Msg("Numéro", "Number");
pub const NET: Msg = Msg("Net HT", "Net");
pub const INVOICE: Msg = Msg("facture", "invoice");
pub const CREDIT_NOTE: Msg = Msg("avoir", "credit note");
pub const NOT_CLOSED: Msg = Msg(
    "Période non close : les factures sont émises après la clôture.",
    "Period not closed: invoices are issued once it is.",
);
pub const PERIOD_BUNDLE: Msg = Msg(
    "Télécharger le paquet de la période (recalculable hors ligne)",
    "Download the period bundle (recomputable offline)",
);
pub const BUNDLE: Msg = Msg("Paquet d'audit hors ligne", "Offline audit bundle");
pub const BUNDLE_HELP: Msg = Msg(
    "Les entrées choisies, leurs preuves d'inclusion vers le dernier point de contrôle signé et les ancres de confiance. Vérifiable sans réseau : clearinghouse verify bundle FICHIER --key CLÉ.",
    "The selected entries, their inclusion proofs to the latest signed checkpoint and the trust anchors. Verifiable offline: clearinghouse verify bundle FILE --key KEY.",
);
pub const FROM: Msg = Msg("Du (inclus)", "From (inclusive)");
pub const TO: Msg = Msg("Au (exclu)", "To (exclusive)");
pub const DOWNLOAD: Msg = Msg("Télécharger", "Download");
pub const CHECK_TITLE: Msg = Msg("Vérifier un reçu ou un paquet", "Check a receipt or bundle");
pub const CHECK_HELP: Msg = Msg(
    "Collez un reçu du journal (réponse d'écriture : index, leaf_hash, inclusion_path, checkpoint) ou un paquet d'audit ou de période (JSON). La vérification se fait avec la clé publique du journal ci-dessous, sans faire confiance à la base de données.",
    "Paste a log receipt (a write's answer: index, leaf_hash, inclusion_path, checkpoint) or an audit or period bundle (JSON). It is checked with the log's public key below, without trusting the database.",
);
pub const DOCUMENT: Msg = Msg("Reçu ou paquet (JSON)", "Receipt or bundle (JSON)");
pub const LOG_KEY: Msg = Msg("Clé publique du journal", "Log public key");
pub const VERIFIES: Msg = Msg("Vérifié.", "Verifies.");
pub const FAILS: Msg = Msg("Ne vérifie pas.", "Does not verify.");
pub const REASON: Msg = Msg("Raison :", "Reason:");
pub const CSRF_REFUSED: Msg = Msg(
    "Requête refusée : le jeton anti-falsification (CSRF) du formulaire est absent ou invalide. Rien n'a été modifié. Rechargez la page et recommencez.",
    "Request refused: the form's anti-forgery (CSRF) token is missing or wrong. Nothing was changed. Reload the page and try again.",
);
pub const WRONG_TOKEN: Msg = Msg(
    "Ce jeton n'est pas celui de l'opérateur.",
    "This is not the operator's token.",
);
pub const ERROR: Msg = Msg("Erreur", "Error");
pub const BACK: Msg = Msg("Retour à la vue d'ensemble", "Back to the overview");
pub const FOOTER: Msg = Msg(
    "Tout ce qui est affiché provient du journal vérifiable ; chaque lecture est elle-même journalisée.",
    "Everything shown comes from the verifiable log; every read is itself logged.",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_puts_arguments_in_order() {
        assert_eq!(
            Lang::En.fill(&RECEIPT_VERIFIES, &[&41, &"1000"]),
            "Receipt: entry 41 is included in the signed log of size 1000."
        );
        assert_eq!(
            Lang::Fr.fill(&NOT_JSON, &[&"EOF"]),
            "ce n'est pas du JSON valide (EOF)"
        );
    }
}
