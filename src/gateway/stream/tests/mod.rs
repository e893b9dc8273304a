//! Tests of the stream readers on real-shaped provider answers.

mod body;
mod fixtures;
mod request;
mod tap;
