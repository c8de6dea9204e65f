//! Built-in networks.

pub mod googlenet;
