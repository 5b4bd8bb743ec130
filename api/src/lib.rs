//! The library side of the `regelbank` binary: the HTTP server (`server`). The command line
//! itself lives in `main.rs`.

pub mod server;
