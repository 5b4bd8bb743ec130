//! Rules of the package phase, emitted by `ingest::package` while the zip or directory is read
//! (before any XML is parsed). Declared here so the catalogue is complete.

use crate::regel::Regel;

regel!(LVBB1001, Fout, Technisch, Pakket, Pakket, "LVBB", "The delivery is a readable zip (or directory)",
    "De levering is geen geldig zip-bestand: {reden}. Lever een geldig zip-bestand aan.");
regel!(LVBB1002, Fout, Technisch, Pakket, Pakket, "LVBB", "opdracht.xml is present",
    "De levering bevat geen opdracht.xml. Voeg opdracht.xml toe.");
regel!(LVBB1003, Fout, Technisch, Pakket, Pakket, "LVBB", "manifest.xml is present",
    "De levering bevat geen manifest.xml. Voeg manifest.xml toe.");
regel!(LVBB1004, Fout, Technisch, Pakket, Pakket, "LVBB", "File names use only [0-9A-Za-z._-]",
    "De bestandsnaam '{naam}' bevat ongeldige tekens. Gebruik alleen letters, cijfers, punt, liggend streepje en minteken.");
regel!(LVBB1008, Fout, Technisch, Pakket, Parser, "LVBB", "manifest.xml conforms to the transport schema",
    "manifest.xml voldoet niet aan het schema: {reden}.");
regel!(LVBB1009, Fout, Technisch, Pakket, Pakket, "LVBB", "Every file listed in the manifest is present",
    "Het bestand '{naam}' staat in manifest.xml maar zit niet in de levering. Voeg het toe of verwijder het uit het manifest.");
regel!(LVBB1010, Fout, Technisch, Pakket, Pakket, "LVBB", "Every file in the package is listed in the manifest",
    "Het bestand '{naam}' zit in de levering maar staat niet in manifest.xml. Neem het op in het manifest of verwijder het.");
regel!(LVBB1040, Fout, Technisch, Pakket, Pakket, "LVBB", "Uncompressed package at most 1 GB",
    "De levering is uitgepakt groter dan {limiet} bytes. Splits de levering of verklein de bestanden.");
regel!(LVBB1041, Fout, Technisch, Pakket, Pakket, "LVBB", "Each file between 1 byte and 100 MB",
    "Het bestand '{naam}' is {grootte} bytes; toegestaan is 1 byte tot en met 100 MB.");
regel!(LVBB1042, Fout, Technisch, Pakket, Pakket, "LVBB", "File names in the zip are unique",
    "De bestandsnaam '{naam}' komt meer dan één keer voor in de levering.");
regel!(LVBB1575, Fout, Technisch, Pakket, Pakket, "LVBB", "The manifest lists each file once",
    "Het bestand '{naam}' staat meer dan één keer in manifest.xml.");
regel!(RB1101, Fout, Technisch, Pakket, Pakket, "regelbank", "No absolute paths or `..` in entry names",
    "De naam '{naam}' in de zip verwijst buiten de levering (absoluut pad of '..'). Gebruik alleen eenvoudige bestandsnamen.");
regel!(RB1102, Fout, Technisch, Pakket, Pakket, "regelbank", "No subdirectories in a package",
    "'{naam}' staat in een submap; een levering bevat alleen bestanden op het hoogste niveau.");
regel!(RB1103, Fout, Technisch, Pakket, Pakket, "regelbank", "Only regular files (no symlinks or special files)",
    "'{naam}' is geen gewoon bestand (bijvoorbeeld een symbolische koppeling). Lever alleen gewone bestanden aan.");
regel!(RB1104, Fout, Technisch, Pakket, Pakket, "regelbank", "No encrypted zip entries",
    "'{naam}' is versleuteld in de zip. Lever onversleutelde bestanden aan.");
regel!(RB1105, Fout, Technisch, Pakket, Pakket, "regelbank", "Only stored or deflate compression",
    "'{naam}' gebruikt een niet-ondersteunde compressiemethode. Gebruik 'stored' of 'deflate'.");
regel!(RB1106, Fout, Technisch, Pakket, Pakket, "regelbank", "Compression ratio within limits (zip bomb guard)",
    "'{naam}' pakt uit tot meer dan {ratio} keer de gecomprimeerde grootte; dit wordt als zip-bom geweigerd.");
regel!(RB1107, Fout, Technisch, Pakket, Pakket, "regelbank", "At most 10,000 entries",
    "De levering bevat meer dan {limiet} bestanden.");
regel!(RB1108, Fout, Technisch, Pakket, Pakket, "regelbank", "Declared sizes match the bytes read",
    "'{naam}' is groter of kleiner dan de zip opgeeft. Maak de zip opnieuw aan.");
regel!(RB1109, Fout, Technisch, Pakket, Pakket, "regelbank", "Entry names at most 255 bytes",
    "De naam '{naam}' is langer dan {limiet} tekens.");
regel!(RB1110, Fout, Technisch, Pakket, Pakket, "regelbank", "Zip entries do not overlap",
    "Bestanden in de zip overlappen elkaar ('{naam}'). Maak de zip opnieuw aan.");
regel!(RB1111, Fout, Technisch, Pakket, Pakket, "regelbank", "Every entry can be read",
    "'{naam}' kan niet gelezen worden: {reden}.");

pub static REGELS: &[&Regel] = &[
    &LVBB1001, &LVBB1002, &LVBB1003, &LVBB1004, &LVBB1008, &LVBB1009, &LVBB1010, &LVBB1040, &LVBB1041,
    &LVBB1042, &LVBB1575, &RB1101, &RB1102, &RB1103, &RB1104, &RB1105, &RB1106, &RB1107, &RB1108,
    &RB1109, &RB1110, &RB1111,
];
