//! Package reading (being written).
