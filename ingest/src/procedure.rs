//! The procedureverloop of a besluit over time: the besluit's own Procedureverloop, updated by
//! every kennisgeving and procedureverloopmutatie that concerns it (voegStappenToe,
//! vervangStappen, verwijderStappen). Stored per besluit expression as a JSON blob; the latest
//! record naming one counts.

use serde::{Deserialize, Serialize};
use stop::module::{Inhoud, Procedurestap, Procedureverloopmutatie};
use validator::Module;

/// The current procedure of a besluit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Procedure {
    /// Expression of the besluit.
    pub besluit: String,
    pub bekend_op: Option<String>,
    pub stappen: Vec<Procedurestap>,
    /// Expressions of the kennisgevingen (or mutation deliveries) that changed it, in order.
    pub gewijzigd_door: Vec<String>,
}

impl Procedure {
    /// Apply a procedureverloopmutatie: removed steps leave, replaced steps (same soortStap)
    /// take the new values, added steps come in (a step already present is replaced, so a
    /// repeated delivery does not duplicate it). Steps stay in order of voltooidOp.
    pub fn pas_toe(&mut self, m: &Procedureverloopmutatie, door: &str) {
        let zelfde = |a: &Procedurestap, b: &Procedurestap| a.soort_stap.trim() == b.soort_stap.trim();
        for s in &m.verwijder_stappen {
            self.stappen.retain(|x| !zelfde(x, s));
        }
        for s in m.vervang_stappen.iter().chain(&m.voeg_stappen_toe) {
            match self.stappen.iter_mut().find(|x| zelfde(x, s)) {
                Some(x) => *x = s.clone(),
                None => self.stappen.push(s.clone()),
            }
        }
        self.stappen.sort_by(|a, b| a.voltooid_op.cmp(&b.voltooid_op));
        if m.bekend_op.is_some() {
            self.bekend_op = m.bekend_op.clone();
        }
        self.gewijzigd_door.push(door.to_string());
    }
}

/// Where the current procedure of a besluit comes from when it is not in this package.
pub trait Bron {
    fn procedure(&self, besluit: &str) -> Result<Option<Procedure>, crate::IngestError>;
}

/// The procedures a package sets or changes: (besluit expression, new procedure).
pub fn procedures(modules: &[Module], bron: &dyn Bron) -> Result<Vec<(String, Procedure)>, crate::IngestError> {
    let mut out: Vec<(String, Procedure)> = Vec::new();
    for m in modules {
        if let Inhoud::Besluit(b) = &m.inhoud
            && let Some(p) = &b.procedureverloop
        {
            let besluit = b.id.expression.trim().to_string();
            out.push((besluit.clone(), Procedure { besluit, bekend_op: p.bekend_op.clone(), stappen: p.stappen.clone(), gewijzigd_door: Vec::new() }));
        }
    }
    for m in modules {
        let (besluit, mutatie, door) = match &m.inhoud {
            Inhoud::Kennisgeving(k) => (k.metadata.get("mededelingOver"), k.procedureverloopmutatie.as_ref(), k.id.expression.as_str()),
            Inhoud::Procedureverloopmutatie { mededeling_over, mutatie } => (mededeling_over.as_deref(), mutatie.as_ref(), m.bestand.as_str()),
            _ => continue,
        };
        let (Some(besluit), Some(mutatie)) = (besluit.map(str::trim), mutatie) else { continue };
        let huidig = match out.iter().position(|(b, _)| b == besluit) {
            Some(i) => Some(out.remove(i).1),
            None => bron.procedure(besluit)?,
        };
        let mut p = huidig.unwrap_or_else(|| Procedure { besluit: besluit.to_string(), ..Default::default() });
        p.pas_toe(mutatie, door);
        out.push((besluit.to_string(), p));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stap(s: &str, d: &str) -> Procedurestap {
        Procedurestap { soort_stap: s.into(), voltooid_op: Some(d.into()), actor: None }
    }

    #[test]
    fn mutations_add_replace_and_remove_steps() {
        let mut p = Procedure { besluit: "b".into(), stappen: vec![stap("stap_002", "2027-01-10"), stap("stap_003", "2027-01-11")], ..Default::default() };
        p.pas_toe(&Procedureverloopmutatie { voeg_stappen_toe: vec![stap("stap_015", "2027-04-20")], ..Default::default() }, "k1");
        assert_eq!(p.stappen.iter().map(|s| s.soort_stap.as_str()).collect::<Vec<_>>(), ["stap_002", "stap_003", "stap_015"]);
        p.pas_toe(&Procedureverloopmutatie { vervang_stappen: vec![stap("stap_015", "2027-04-22")], verwijder_stappen: vec![stap("stap_002", "")], ..Default::default() }, "k2");
        assert_eq!(p.stappen.len(), 2);
        assert_eq!(p.stappen[1].voltooid_op.as_deref(), Some("2027-04-22"));
        assert_eq!(p.gewijzigd_door, ["k1", "k2"]);
    }
}
