//! Classification: Classifier, IPClassifier, IPFilter.
pub mod expr;
pub mod lower;
pub mod pattern;
pub mod program;
pub mod reference;
use crate::element::Registry;
pub fn register(_r: &mut Registry) {}
