//! `mastery dev check`.
use std::process::ExitCode;
use anyhow::Result;
use crate::course::Course;
pub fn cmd_check(_course: &Course, _project: Option<&str>) -> Result<ExitCode> { todo!() }
