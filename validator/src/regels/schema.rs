//! Rules of the XSD layer (emitted by `validator::xsd`), and the one melding the LVBB response
//! XML needs when there is nothing else to report (`validator::lvbb_xml`).

use crate::regel::Regel;

regel!(RB4001, Fout, Technisch, Schema, Schema, "regelbank", "Every XML file validates against the XSD of its schema set (STOP 1.3.0/LVBB 1.2.0 up to schemaversie 1.3.x, STOP 1.4.1/LVBB 1.3.0-ic for 1.4.x; opdracht.xml and manifest.xml against lvbb-transport.xsd)",
    "{bestand} voldoet niet aan het schema ({schema}): {fout}");
regel!(RB4002, Informatie, Technisch, Schema, Schema, "regelbank", "The report says when the XSD layer did not run because no schema directory is configured",
    "XSD-laag niet uitgevoerd: geen schemamap ingesteld (--schemas DIR of REGELBANK_SCHEMAS). De bestanden zijn niet tegen de XML-schema's gevalideerd.");
regel!(RB4003, Waarschuwing, Technisch, Schema, Schema, "regelbank", "A STOP file can be validated: its schemaversie names a schema set we have and that schema loads",
    "Het bestand '{bestand}' is niet tegen een XML-schema gevalideerd: {reden}.");
regel!(RB4004, Informatie, Technisch, Schema, Schema, "regelbank", "An LVBB response without findings carries this one melding (the transport schema requires at least one)",
    "Geen bevindingen: de levering voldoet aan alle uitgevoerde controles.");

pub static REGELS: &[&Regel] = &[&RB4001, &RB4002, &RB4003, &RB4004];
