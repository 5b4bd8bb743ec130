//! The benchmark corpus: regelingen of generated Dutch legal text (deterministic per work and
//! seed). Sentences are built from templates whose slots draw from pools of a few hundred
//! activities, objects, places, conditions and headings with a skewed (Zipf-like) choice, so
//! term frequencies range from stop-word-like ("vergunning", "college") to rare (street names,
//! compound nouns). Version 2 of each work rewrites 10–20 % of the articles (one sentence
//! replaced, sometimes one added, often in the vocabulary of the Omgevingswet).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Bump when the generated text changes (part of the cache keys).
pub const GENERATOR: u32 = 1;

const PLAATS: &[&str] = &[
    "Amersfoort", "Zwolle", "Deventer", "Leeuwarden", "Assen", "Emmen", "Hoorn", "Alkmaar", "Haarlem", "Leiden",
    "Delft", "Gouda", "Dordrecht", "Breda", "Tilburg", "Eindhoven", "Helmond", "Venlo", "Roermond", "Maastricht",
    "Heerlen", "Sittard", "Nijmegen", "Arnhem", "Ede", "Apeldoorn", "Zutphen", "Doetinchem", "Winterswijk", "Enschede",
    "Hengelo", "Almelo", "Hardenberg", "Kampen", "Harderwijk", "Lelystad", "Almere", "Hilversum", "Baarn", "Zeist",
    "Utrecht", "Houten", "Nieuwegein", "Woerden", "Bodegraven", "Alphen", "Katwijk", "Noordwijk", "Zandvoort", "Velsen",
    "Beverwijk", "Heemskerk", "Castricum", "Bergen", "Schagen", "Texel", "Enkhuizen", "Medemblik", "Purmerend", "Edam",
    "Zaanstad", "Wormerland", "Oostzaan", "Diemen", "Weesp", "Huizen", "Laren", "Blaricum", "Bussum", "Naarden",
    "Vlissingen", "Middelburg", "Goes", "Terneuzen", "Hulst", "Zierikzee", "Bergen op Zoom", "Roosendaal", "Leusden",
    "Oosterhout", "Waalwijk", "Oss", "Uden", "Veghel", "Boxtel", "Vught", "Veldhoven", "Weert", "Venray", "Gennep",
    "Tiel", "Culemborg", "Zaltbommel", "Gorinchem", "Leerdam", "Vianen", "Oudewater", "Montfoort", "Meppel", "Steenwijk",
    "Hoogeveen", "Coevorden", "Stadskanaal", "Veendam", "Winschoten", "Delfzijl", "Appingedam", "Groningen", "Drachten",
    "Heerenveen", "Sneek", "Bolsward", "Harlingen", "Franeker", "Dokkum", "Lemmer", "Urk", "Dronten", "Zeewolde",
];
const REGELING: &[(&str, &str)] = &[
    ("Omgevingsplan", "Omgevingsplan"),
    ("Omgevingsplan", "Omgevingsplan"),
    ("Omgevingsplan", "Omgevingsplan"),
    ("Algemene plaatselijke verordening", "Verordening"),
    ("Bomenverordening", "Verordening"),
    ("Erfgoedverordening", "Verordening"),
    ("Huisvestingsverordening", "Verordening"),
    ("Parkeerverordening", "Verordening"),
    ("Afvalstoffenverordening", "Verordening"),
    ("Verordening fysieke leefomgeving", "Verordening"),
    ("Beleidsregel evenementen", "Beleidsregel"),
    ("Beleidsregel kamerverhuur", "Beleidsregel"),
    ("Beleidsregel reclame", "Beleidsregel"),
    ("Omgevingsverordening", "Omgevingsverordening"),
];
const WIJK: &[&str] = &[
    "Binnenstad", "Molenveld", "De Schans", "Bedrijventerrein Noord", "Oude Haven", "Buitengebied Oost", "Stationskwartier",
    "Kerkbuurt", "Dijkzone", "Parkwijk", "Havenkwartier", "Westrand", "Zuiderpark", "Vinkenbuurt", "Hoogveld", "Lindenhof",
];
const STRAAT_A: &[&str] = &[
    "Kerk", "Molen", "Dorps", "Haven", "Stations", "Beuken", "Eiken", "Linden", "Wilgen", "Konings", "Prinsen", "Burg",
    "Markt", "Vest", "Schans", "Dijk", "Zand", "Veen", "Heide", "Bos", "Meidoorn", "Vlier", "Esdoorn", "Hazel",
];
const STRAAT_B: &[&str] = &["straat", "weg", "laan", "plein", "kade", "singel", "dijk", "pad", "hof", "gracht", "steeg", "veld"];
const ORGAAN: &[&str] = &[
    "het college van burgemeester en wethouders",
    "het college",
    "de burgemeester",
    "de gemeenteraad",
    "het bevoegd gezag",
    "gedeputeerde staten",
    "het dagelijks bestuur",
];
const SUBJECT: &[&str] = &[
    "de aanvrager",
    "de initiatiefnemer",
    "degene die een bouwwerk gebruikt",
    "de eigenaar van een bouwwerk",
    "de exploitant van een horecabedrijf",
    "degene die de activiteit verricht",
    "de organisator van een evenement",
    "de rechthebbende op een perceel",
    "de beheerder van een openbare weg",
    "de vergunninghouder",
    "de verhuurder",
    "de gebruiker van een standplaats",
];
const HANDELING: &[&str] = &[
    "bouwen", "slopen", "kappen", "aanleggen", "plaatsen", "gebruiken", "verbouwen", "vergroten", "dempen", "graven",
    "ophogen", "exploiteren", "uitbreiden", "wijzigen", "onderhouden", "verwijderen", "opslaan", "lozen", "afvoeren",
    "verharden", "beplanten", "realiseren", "herstellen", "vervangen", "inrichten", "aanbrengen", "splitsen",
    "samenvoegen", "verhuren", "organiseren", "houden", "stallen", "ontgronden", "bemalen", "verlichten", "afsluiten",
    "innemen", "verplaatsen", "ombouwen", "isoleren", "afbreken", "aansluiten", "onttrekken", "bewonen", "gedogen",
];
const OBJECT: &[&str] = &[
    "een bouwwerk", "een bijbehorend bouwwerk", "een houtopstand", "een uitweg", "een reclamebord", "een dakkapel",
    "een sloot", "een gemeentelijk monument", "een hoofdgebouw", "een terras", "een zonnepark", "een windturbine",
    "een kelder", "een woonwagen", "een steiger", "een aanlegsteiger", "een schuur", "een erfafscheiding", "een carport",
    "een zwembad", "een paardenbak", "een mestsilo", "een bedrijfswoning", "een recreatiewoning", "een parkeerterrein",
    "een fietsenstalling", "een laadpaal", "een warmtepomp", "een zendmast", "een antenne", "een tuinhuis",
    "een overkapping", "een woning", "een winkelpand", "een bedrijfsgebouw", "een kas", "een loods", "een stal",
    "een kapschuur", "een duiventil", "een volière", "een vlaggenmast", "een lichtmast", "een keermuur", "een damwand",
    "een beschoeiing", "een duiker", "een brug", "een waterput", "een bron", "een grondwaterwarmtepomp",
    "een ondergrondse container", "een afvalcontainer", "een bouwkeet", "een evenemententerrein", "een standplaats",
    "een ligplaats", "een woonboot", "een rijksmonument", "een historische boerderij", "een molenbiotoop",
    "een karakteristiek pand", "een gevel", "een dakterras", "een balkon", "een erker", "een serre", "een aanbouw",
    "een uitbouw", "een bijgebouw", "een garage", "een inrit", "een parkeerplaats", "een speelvoorziening",
    "een hondenuitlaatplaats", "een kunstwerk", "een beeldbepalende boom", "een monumentale boom", "een houtwal",
    "een singel", "een poel", "een natuurvriendelijke oever", "een wadi", "een infiltratievoorziening",
    "een regenwaterafvoer", "een septictank", "een olietank", "een opslagtank", "een brandstofpomp",
    "een telecommunicatievoorziening", "een transformatorhuisje", "een gasdrukmeetstation", "een nutsvoorziening",
    "gronden", "bomen", "gebouwen", "bouwwerken", "woningen", "kamers", "standplaatsen", "evenementen", "reclame",
    "afvalstoffen", "goederen", "gevaarlijke stoffen", "voertuigen", "fietsen", "kampeermiddelen", "paarden",
    "huisdieren", "vuurwerk", "consumentenvuurwerk", "mest", "bagger", "grond", "hemelwater", "afvalwater",
];
const VOORWAARDE: &[&str] = &[
    "de bouwhoogte niet meer bedraagt dan de maximale bouwhoogte",
    "het woon- en leefklimaat van omwonenden niet onevenredig wordt aangetast",
    "de verkeersveiligheid niet in gevaar komt",
    "de cultuurhistorische waarde van het gebied behouden blijft",
    "wordt voorzien in voldoende parkeergelegenheid op eigen terrein",
    "de waterhuishouding niet nadelig wordt beïnvloed",
    "er geen onevenredige afbreuk wordt gedaan aan de groenstructuur",
    "de activiteit past binnen de milieuzonering",
    "het advies van de gemeentelijke adviescommissie omgevingskwaliteit is gevolgd",
    "de gebruiksmogelijkheden van aangrenzende gronden niet onevenredig worden beperkt",
    "de brandveiligheid is gewaarborgd",
    "de externe veiligheid niet wordt aangetast",
    "geen sprake is van onevenredige geluidhinder",
    "de ecologische waarden van het gebied niet worden aangetast",
    "het bouwwerk past in het straatbeeld",
    "de sociale veiligheid is gewaarborgd",
    "de bereikbaarheid voor hulpdiensten verzekerd is",
    "de archeologische waarden voldoende zijn vastgesteld",
    "de bodem geschikt is voor het beoogde gebruik",
    "een goede ruimtelijke ordening is gewaarborgd",
];
const GEGEVENS: &[&str] = &[
    "de naam en het adres van de aanvrager",
    "een situatietekening",
    "de datum en de verwachte duur van de activiteit",
    "een beschrijving van de maatregelen ter beperking van geluidhinder",
    "een bomeneffectanalyse",
    "een akoestisch onderzoek",
    "foto's van de bestaande situatie",
    "een berekening van de parkeerbehoefte",
    "een archeologisch rapport",
    "een bouwhistorisch onderzoek",
    "een verkennend bodemonderzoek",
    "een veiligheidsplan",
    "een verkeersplan",
    "een inrichtingstekening",
    "een constructieberekening",
    "een ecologische quickscan",
    "een waterparagraaf",
    "een beplantingsplan",
];
const ONDERWERP: &[&str] = &[
    "de situering van bouwwerken",
    "de kleur en het materiaalgebruik van gevels",
    "de openingstijden van een horecabedrijf",
    "de geluidsniveaus bij evenementen",
    "de inrichting van het erf",
    "de herplant van bomen",
    "de afvoer van hemelwater",
    "de verlichting van terreinen",
    "het aantal parkeerplaatsen",
    "de maatvoering van dakkapellen",
    "de plaatsing van zonnepanelen",
    "de inzameling van huishoudelijke afvalstoffen",
    "het tijdstip van laden en lossen",
    "de breedte van een uitweg",
    "de landschappelijke inpassing",
    "het gebruik van de openbare ruimte",
    "de bescherming van het stads- en dorpsgezicht",
    "de hoogte van erfafscheidingen",
];
const GEBIED: &[&str] = &[
    "de historische binnenstad",
    "het bedrijventerrein",
    "het buitengebied",
    "de dijkzone",
    "het beschermd dorpsgezicht",
    "de groene zone langs de rivier",
    "het winkelgebied",
    "het centrumgebied",
    "het woongebied",
    "het natuurgebied",
    "de uiterwaarden",
    "het glastuinbouwgebied",
    "het recreatiegebied",
    "de kernrandzone",
    "het waterwingebied",
];
const GEBRUIK: &[&str] = &[
    "het bewonen van recreatiewoningen",
    "detailhandel in volumineuze goederen",
    "het stallen van kampeermiddelen",
    "het houden van paarden",
    "prostitutie",
    "het opslaan van gevaarlijke stoffen",
    "kamerverhuur",
    "vakantieverhuur",
    "het exploiteren van een speelautomatenhal",
    "het uitoefenen van een aan huis verbonden beroep",
    "mantelzorg in een bijbehorend bouwwerk",
    "het telen van gewassen onder glas",
    "het houden van intensieve veehouderij",
];
const UITZONDERING: &[&str] = &[
    "bouwwerken die niet hoger zijn dan een meter",
    "werkzaamheden ter uitvoering van normaal onderhoud",
    "activiteiten die uitsluitend in het kader van de openbare nutsvoorziening plaatsvinden",
    "evenementen met minder dan honderd bezoekers",
    "het kappen van vruchtbomen",
    "tijdelijke bouwwerken voor ten hoogste vier weken",
    "het dunnen van een houtopstand",
    "werkzaamheden in het kader van de uitvoering van een omgevingsvergunning",
    "noodzakelijke werkzaamheden bij calamiteiten",
    "bouwwerken ten behoeve van de landbouw",
];
const EFFECT: &[&str] = &[
    "geluidhinder",
    "geurhinder",
    "lichthinder",
    "trillingen",
    "verontreiniging van de bodem",
    "aantasting van het landschap",
    "overlast voor omwonenden",
    "schade aan de openbare ruimte",
    "wateroverlast",
    "stofhinder",
    "verkeershinder",
    "aantasting van de monumentale waarde",
];
const BEGRIP: &[&str] = &[
    "bouwwerk", "bijbehorend bouwwerk", "hoofdgebouw", "bouwhoogte", "peil", "voorgevelrooilijn", "erf", "evenement",
    "houtopstand", "kamerverhuur", "standplaats", "uitweg", "reclame", "mantelzorg", "recreatiewoning", "dakkapel",
    "kap", "goothoogte", "bouwperceel", "bouwvlak", "onderkomen", "seksinrichting", "horecabedrijf", "terras",
];
const DEFINITIE: &[&str] = &[
    "elke constructie van enige omvang van hout, steen, metaal of ander materiaal",
    "een gebouw dat vanwege zijn functie of afmetingen als belangrijkste bouwwerk op een perceel kan worden aangemerkt",
    "de hoogte van een bouwwerk gemeten vanaf het peil tot aan het hoogste punt",
    "de hoogte van het terrein ter plaatse van de hoofdtoegang",
    "een voor het publiek toegankelijke verrichting van vermaak",
    "een of meer bomen, heesters of struiken die een zelfstandige eenheid vormen",
    "het gebruik van een woning voor de huisvesting van meer dan twee personen die geen huishouden vormen",
    "een plaats op een openbare plaats waar een kraam of wagen wordt ingenomen",
    "een verbinding van een perceel met de openbare weg",
    "het bieden van hulp aan een hulpbehoevende",
];
const ARTIKEL_TITEL: &[&str] = &[
    "Vergunningplicht", "Meldingsplicht", "Maatwerkvoorschriften", "Beoordelingsregels", "Aanvraagvereisten",
    "Bouwhoogte", "Afwijken van de regels", "Gebruiksregels", "Uitzonderingen", "Termijnen", "Parkeren", "Geluid",
    "Bomen", "Erfgoed", "Specifieke zorgplicht", "Gegevens en bescheiden", "Voorschriften", "Vrijstelling",
    "Begrippen", "Toepassingsbereik", "Weigeringsgronden", "Intrekking", "Openingstijden", "Evenementen",
    "Standplaatsen", "Reclame", "Kamerverhuur", "Dakkapellen", "Uitwegen", "Kappen", "Herplantplicht",
    "Archeologie", "Water", "Bodem", "Geur", "Licht", "Trillingen", "Externe veiligheid", "Overgangsrecht",
    "Citeertitel", "Inwerkingtreding", "Strafbepaling", "Toezicht", "Hardheidsclausule", "Mantelzorgwoning",
    "Zonneparken", "Windturbines", "Recreatiewoningen", "Bedrijfswoningen", "Monumenten", "Beschermd dorpsgezicht",
];

/// A skewed choice: the first entries of a pool are far more frequent than the last.
fn kies<'a, T: ?Sized>(rng: &mut StdRng, pool: &[&'a T]) -> &'a T {
    let u: f64 = rng.random();
    pool[((u.powf(2.2) * pool.len() as f64) as usize).min(pool.len() - 1)]
}

fn hoofdletter(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn straat(rng: &mut StdRng) -> String {
    format!("{}{}", kies(rng, STRAAT_A), kies(rng, STRAAT_B))
}

fn activiteit(rng: &mut StdRng) -> String {
    format!("het {} van {}", kies(rng, HANDELING), kies(rng, OBJECT))
}

/// One sentence. `nieuw`: wording of an amendment (the Omgevingswet's vocabulary).
fn zin(rng: &mut StdRng, nieuw: bool, wijk: &str) -> String {
    let n = rng.random_range(2..40);
    let s = match rng.random_range(0..22) {
        0 => format!("{} kan een omgevingsvergunning verlenen voor {}, mits {}.", hoofdletter(kies(rng, ORGAAN)), activiteit(rng), kies(rng, VOORWAARDE)),
        1 => format!("Het is verboden zonder omgevingsvergunning {} aan de {}.", activiteit(rng), straat(rng)),
        2 => format!("{} is toegestaan op gronden met de functie {}, als {}.", hoofdletter(&activiteit(rng)), kies(rng, GEBIED), kies(rng, VOORWAARDE)),
        3 => format!("Bij de aanvraag om een vergunning worden in ieder geval {} en {} verstrekt.", kies(rng, GEGEVENS), kies(rng, GEGEVENS)),
        4 => format!("{} kan maatwerkvoorschriften stellen over {}.", hoofdletter(kies(rng, ORGAAN)), kies(rng, ONDERWERP)),
        5 => format!("De bouwhoogte van {} bedraagt ten hoogste {n} meter.", kies(rng, OBJECT)),
        6 => format!("Het verbod, bedoeld in artikel {n}, geldt niet voor {}.", kies(rng, UITZONDERING)),
        7 => format!("Een melding wordt ten minste {} weken voor de aanvang van {} gedaan.", n % 8 + 2, activiteit(rng)),
        8 => format!("In {} is {} niet toegestaan.", kies(rng, GEBIED), kies(rng, GEBRUIK)),
        9 => format!("{} draagt er zorg voor dat {}.", hoofdletter(kies(rng, SUBJECT)), kies(rng, VOORWAARDE)),
        10 => format!("{} beslist binnen {} weken na ontvangst van de aanvraag.", hoofdletter(kies(rng, ORGAAN)), n % 12 + 2),
        11 => format!("Onder {} wordt in deze regeling verstaan: {}.", kies(rng, BEGRIP), kies(rng, DEFINITIE)),
        12 => format!("De vergunning wordt geweigerd als niet aannemelijk is dat {}.", kies(rng, VOORWAARDE)),
        13 => format!("{} neemt maatregelen om {} te voorkomen of, voor zover dat niet mogelijk is, zoveel mogelijk te beperken.", hoofdletter(kies(rng, SUBJECT)), kies(rng, EFFECT)),
        14 => format!("Van het bepaalde in artikel {n} kan worden afgeweken ten behoeve van {}, mits {}.", activiteit(rng), kies(rng, VOORWAARDE)),
        15 => format!("Overtreding van artikel {n} wordt gestraft met een geldboete van de {}e categorie.", n % 4 + 1),
        16 => format!("De afstand tussen {} en de perceelsgrens bedraagt ten minste {n} meter.", kies(rng, OBJECT)),
        17 => format!("Het geluidniveau vanwege {} bedraagt op de gevel van een woning niet meer dan {} dB(A).", kies(rng, OBJECT), 40 + n),
        18 => format!("{} stelt nadere regels vast over {}.", hoofdletter(kies(rng, ORGAAN)), kies(rng, ONDERWERP)),
        19 => format!("Dit artikel is van toepassing op {} in het gebied {wijk}.", kies(rng, GEBIED)),
        20 => format!("{} wordt niet aangemerkt als {} als {}.", hoofdletter(&activiteit(rng)), kies(rng, GEBRUIK), kies(rng, VOORWAARDE)),
        _ => format!("{} is verplicht {} te melden bij {}.", hoofdletter(kies(rng, SUBJECT)), activiteit(rng), kies(rng, ORGAAN)),
    };
    if nieuw && rng.random_bool(0.5) {
        let t = match rng.random_range(0..4) {
            0 => format!(" Dit geldt ook voor een omgevingsplanactiviteit als bedoeld in artikel {n} van de Omgevingswet."),
            1 => " Op de aanvraag is de uitgebreide voorbereidingsprocedure van toepassing.".to_string(),
            2 => format!(" {} kan een participatieverslag verlangen.", hoofdletter(kies(rng, ORGAAN))),
            _ => " Het digitaal stelsel omgevingswet wordt daarbij gebruikt.".to_string(),
        };
        s + &t
    } else if !nieuw && rng.random_bool(0.08) {
        s + " Dit geldt onverminderd het bepaalde in de Wet algemene bepalingen omgevingsrecht."
    } else {
        s
    }
}

pub struct Artikel {
    pub wid: String,
    pub kop: String,
    /// Sentences (joined by spaces).
    pub zinnen: Vec<String>,
}

impl Artikel {
    pub fn tekst(&self) -> String {
        self.zinnen.join(" ")
    }
}

pub struct Werk {
    pub naam: String,
    pub titel: String,
    pub bg: String,
    pub soort: String,
    /// Day numbers: version 1 applies from `vanaf1`, version 2 from `vanaf2`.
    pub vanaf1: i32,
    pub vanaf2: i32,
    pub expressie1: String,
    pub expressie2: String,
    pub v1: Vec<Artikel>,
    /// Version 2: per article either the index of an unchanged article of v1 or a new text.
    pub v2: Vec<Result<usize, Artikel>>,
}

pub fn bevoegd_gezag(nr: usize) -> String {
    if nr % 25 == 0 { format!("pv{:02}", 20 + (nr / 25) % 12) } else { format!("gm{:04}", (nr * 7919) % 342 + 1) }
}

pub fn werk(seed: u64, nr: usize, artikelen: usize) -> Werk {
    let mut rng = StdRng::seed_from_u64(seed ^ (nr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let bg = bevoegd_gezag(nr);
    let plaats = PLAATS[rng.random_range(0..PLAATS.len())];
    let (regeling, soort) = REGELING[rng.random_range(0..REGELING.len())];
    let wijk = kies(&mut rng, WIJK);
    let titel = if rng.random_bool(0.4) { format!("{regeling} {plaats} {wijk}") } else { format!("{regeling} {plaats}") };
    let jaar = 2019 + nr % 4;
    let naam = format!("/akn/nl/act/{bg}/{jaar}/reg{nr:05}");
    let basis = search::tijd::dag("2020-01-01");
    let vanaf1 = basis + rng.random_range(0..1100);
    let vanaf2 = vanaf1 + rng.random_range(180..1600);
    let expressie1 = format!("{naam}/nld@{};1", search::tijd::datum(vanaf1 - 20));
    let expressie2 = format!("{naam}/nld@{};2", search::tijd::datum(vanaf2 - 20));
    let mut v1 = Vec::with_capacity(artikelen);
    for i in 1..=artikelen {
        let kop_titel = if i == 1 { "Begrippen" } else { kies(&mut rng, ARTIKEL_TITEL) };
        let leden = rng.random_range(1..=4);
        let mut zinnen = Vec::new();
        for _ in 0..leden {
            for _ in 0..rng.random_range(1..=2) {
                zinnen.push(zin(&mut rng, false, wijk));
            }
        }
        v1.push(Artikel { wid: format!("{bg}_1__art_{i}"), kop: format!("Artikel {i} {kop_titel}"), zinnen });
    }
    let aandeel = rng.random_range(0.10..0.20);
    let mut v2 = Vec::with_capacity(artikelen + 2);
    for (i, a) in v1.iter().enumerate() {
        if rng.random_bool(aandeel) {
            let mut zinnen = a.zinnen.clone();
            let j = rng.random_range(0..zinnen.len());
            zinnen[j] = zin(&mut rng, true, wijk);
            if rng.random_bool(0.4) {
                zinnen.push(zin(&mut rng, true, wijk));
            }
            v2.push(Err(Artikel { wid: a.wid.clone(), kop: a.kop.clone(), zinnen }));
        } else {
            v2.push(Ok(i));
        }
    }
    Werk { naam, titel, bg, soort: soort.to_string(), vanaf1, vanaf2, expressie1, expressie2, v1, v2 }
}
