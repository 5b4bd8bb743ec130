//! Reading delivery packages and running them through the processing pipeline.
pub mod package;
