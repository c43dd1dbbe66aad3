//! The Fargate course grader: loads lab files and checks an AWS account against them,
//! read-only. `main.rs` is a thin shell around [`cli::run`]. The one write path, the
//! teardown of what the clean-up checks found, lives apart in [`teardown`]; [`selftest`], for
//! authors, runs the book's own commands in a shell and only reads through the grader.

pub mod aws;
pub mod bar;
pub mod book;
pub mod checks;
pub mod cohort;
pub mod cli;
pub mod events;
pub mod exit;
pub mod grading;
pub mod lab;
pub mod policy;
pub mod pricing;
pub mod progress;
pub mod receipt;
pub mod report;
pub mod runner;
pub mod selftest;
pub mod serve;
pub mod suggest;
pub mod teardown;
pub mod timestamp;
