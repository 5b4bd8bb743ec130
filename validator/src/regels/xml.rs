//! Rules of the parser phase, emitted by `stop` while a file is read into the STOP model.

use crate::regel::Regel;

regel!(LVBB1006, Fout, Technisch, Opdracht, Parser, "LVBB", "opdracht.xml conforms to the transport schema",
    "opdracht.xml voldoet niet aan het schema: {reden}.");
regel!(LVBB1505, Fout, Technisch, Opdracht, Parser, "LVBB", "datumBekendmaking is present in a (validatie/publicatie)opdracht",
    "De opdracht mist datumBekendmaking. Geef de datum van bekendmaking op (JJJJ-MM-DD).");
regel!(LVBB1510, Fout, Technisch, Opdracht, Parser, "LVBB", "opdracht.xml contains idBevoegdGezag",
    "De opdracht mist idBevoegdGezag. Geef het OIN van het bevoegd gezag op.");
regel!(LVBB1511, Fout, Technisch, Opdracht, Parser, "LVBB", "opdracht.xml contains idAanleveraar",
    "De opdracht mist idAanleveraar. Geef het OIN van de aanleveraar op.");
regel!(LVBB1515, Fout, Technisch, Xml, Parser, "LVBB", "A STOP file has a supported schemaversie (1.0.4 up to 1.4.x) and the main file is of the kind the opdracht needs",
    "{bestand} heeft schemaversie '{versie}' of is geen document dat deze opdracht verwacht. Lever een ondersteund document aan.");
regel!(RB2001, Fout, Technisch, Xml, Parser, "regelbank", "A STOP file is well-formed XML with valid namespaces",
    "{bestand} is geen leesbare XML: {reden}. Controleer of het bestand volledig en welgevormd is.");
regel!(RB2002, Fout, Technisch, Xml, Parser, "regelbank", "The root element is a known STOP aanlevering (or GIO) document",
    "{bestand}: '{element}' is geen bekend STOP-aanleveringsdocument.");
regel!(RB2003, Waarschuwing, Technisch, Xml, Parser, "regelbank", "Unknown elements are reported (kept in the stored file, not processed)",
    "Onbekend element '{element}' in {ouder}: het is niet verwerkt, maar blijft bewaard in het aangeleverde bestand.");
regel!(RB2004, Fout, Technisch, Xml, Parser, "regelbank", "Files are UTF-8",
    "{bestand} is geen geldige UTF-8. Lever het bestand aan in UTF-8.");
regel!(RB2005, Fout, Technisch, Xml, Parser, "regelbank", "No DOCTYPE (no DTDs or entity expansion)",
    "{bestand} bevat een DOCTYPE-declaratie. Verwijder de DOCTYPE-declaratie; STOP-bestanden gebruiken geen DTD.");
regel!(RB2006, Fout, Technisch, Xml, Parser, "regelbank", "Nesting depth and attribute length within limits",
    "{bestand} overschrijdt een grens ({reden}). Vereenvoudig de structuur of verkort de waarde.");
regel!(RB2007, Fout, Technisch, Xml, Parser, "regelbank", "Required elements of a STOP module are present",
    "{bestand}: het verplichte element '{element}' ontbreekt in {ouder}.");

pub static REGELS: &[&Regel] = &[
    &LVBB1006, &LVBB1505, &LVBB1510, &LVBB1511, &LVBB1515, &RB2001, &RB2002, &RB2003, &RB2004, &RB2005,
    &RB2006, &RB2007,
];
