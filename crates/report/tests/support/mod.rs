//! Helpers shared by the tests.

pub mod browser;
