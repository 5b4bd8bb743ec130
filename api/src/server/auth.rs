//! Bearer-token authentication for uploads and the mandate check (LVBB1512).
//!
//! The `--auth` file (TOML) lists the aanleveraars:
//!
//! ```toml
//! [[aanleveraar]]
//! naam = "Gemeente Regelbank-Oost"
//! oin = "00000001000000990100"                       # must equal idAanleveraar in opdracht.xml
//! token_sha256 = "9f86d081884c7d659a2feaa0c55ad015…"  # SHA-256 (hex) of the token; or `token = "…"`
//! bevoegde_gezagen = ["00000001000000990100"]        # OINs it may deliver for (mandates)
//! ```
//!
//! Tokens are compared by their SHA-256, so the file need not hold them in the clear and the
//! lookup takes the same time whatever prefix of a token is right. Tokens are never logged: the
//! request span records method, path and request id only.
//!
//! Who may change which work is not decided here: the first delivery of a work fixes its owner
//! (the bevoegd gezag), and the pipeline refuses later deliveries for it on behalf of another
//! bevoegd gezag (RB3101, RB3007 for afbreken).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use stop::opdracht::Opdracht;
use stop::{Locatie, Melding};

/// One aanleveraar from the auth file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aanleveraar {
    #[serde(default)]
    pub naam: Option<String>,
    /// OIN (20 digits).
    pub oin: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    token_sha256: Option<String>,
    /// OINs of the bevoegde gezagen it may deliver for.
    pub bevoegde_gezagen: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bestand {
    #[serde(default)]
    aanleveraar: Vec<Aanleveraar>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Ongeldig { path: String, message: String },
}

/// Tokens → aanleveraars.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    by_hash: HashMap<[u8; 32], Aanleveraar>,
}

fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

impl Auth {
    /// No aanleveraars: every upload is refused (401).
    pub fn none() -> Auth {
        Auth::default()
    }

    pub fn load(path: &Path) -> Result<Auth, AuthError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Io { path: p.clone(), source })?;
        Auth::parse(&text).map_err(|message| AuthError::Ongeldig { path: p, message })
    }

    pub fn parse(text: &str) -> Result<Auth, String> {
        let b: Bestand = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut auth = Auth::default();
        for a in b.aanleveraar {
            let hash = match (&a.token, &a.token_sha256) {
                (Some(t), None) if !t.is_empty() => sha256(t),
                (None, Some(h)) => {
                    let v = hex::decode(h.trim()).map_err(|e| format!("aanleveraar {}: token_sha256: {e}", a.oin))?;
                    v.try_into().map_err(|_| format!("aanleveraar {}: token_sha256 is not 32 bytes", a.oin))?
                }
                _ => return Err(format!("aanleveraar {}: give exactly one of token, token_sha256", a.oin)),
            };
            if a.oin.len() != 20 || !a.oin.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("aanleveraar {}: oin is not 20 digits", a.oin));
            }
            if auth.by_hash.insert(hash, a.clone()).is_some() {
                return Err(format!("aanleveraar {}: the same token twice", a.oin));
            }
        }
        Ok(auth)
    }

    /// A single aanleveraar with a known token (the demo).
    pub fn single(token: &str, oin: &str, bevoegde_gezagen: &[&str]) -> Auth {
        let a = Aanleveraar {
            naam: None,
            oin: oin.into(),
            token: None,
            token_sha256: None,
            bevoegde_gezagen: bevoegde_gezagen.iter().map(|s| s.to_string()).collect(),
        };
        Auth { by_hash: HashMap::from([(sha256(token), a)]) }
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The aanleveraar of an `Authorization` header value (`Bearer <token>`).
    pub fn aanleveraar(&self, authorization: Option<&str>) -> Option<&Aanleveraar> {
        let v = authorization?.trim();
        let (scheme, token) = v.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.by_hash.get(&sha256(token.trim()))
    }
}

impl Aanleveraar {
    /// LVBB1512: the opdracht's idAanleveraar is this aanleveraar, and it holds a mandate for
    /// the opdracht's idBevoegdGezag.
    pub fn mandaat(&self, o: &Opdracht) -> Result<(), Melding> {
        let loc = |veld: &str| o.locatie(veld);
        let fout = |veld: &str, reden: String| {
            Err(validator::regels::opdracht::LVBB1512.melding(loc(veld), &[
                ("aanleveraar", &self.oin),
                ("reden", &reden),
            ]))
        };
        if o.id_aanleveraar != self.oin {
            return fout(
                "idAanleveraar",
                format!("idAanleveraar in opdracht.xml is {}, het token hoort bij {}", o.id_aanleveraar, self.oin),
            );
        }
        if !self.bevoegde_gezagen.iter().any(|b| b == &o.id_bevoegd_gezag) {
            return fout("idBevoegdGezag", format!("er is geen machtiging om te leveren namens bevoegd gezag {}", o.id_bevoegd_gezag));
        }
        Ok(())
    }
}

/// Where a melding without a position in a file points.
pub fn geen_locatie() -> Locatie {
    Locatie::default()
}
