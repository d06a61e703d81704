//! Generic actor machinery: restart intensity, registries by id, a one-for-one supervisor and
//! fault-injection hooks.
//! Nothing in here knows about sessions, intents or HTTP.

pub mod children;
pub mod faults;
pub mod intensity;
pub mod panic;
pub mod registry;
pub mod supervisor;

pub use children::{is_abnormal_exit, ChildExit, Children};
pub use faults::{FaultMode, FaultTargets};
pub use intensity::{RestartIntensity, RestartPolicy};
pub use registry::{Registry, Slot};
pub use supervisor::{ChildSpec, Supervisor, SupervisorArgs};
