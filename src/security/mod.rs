//! The Security Guard: secrets now; users, tenants, passwords and tokens with the Experience
//! Plane.

pub mod secrets;
