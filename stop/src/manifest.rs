//! manifest.xml (being written)
