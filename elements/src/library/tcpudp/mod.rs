//! stub
use crate::element::Registry;
pub fn register(_r: &mut Registry) {}
