//! AWS's own clock, read from the `Date` header of its answers: what a receipt's issue time
//! is measured by, since the resources it lists carry AWS's timestamps and a learner's
//! machine may be minutes off.

use std::sync::Mutex;
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::DateTime;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::Format;

/// The time AWS gave in its last answer, and when (on this machine's monotonic clock) that
/// answer came.
#[derive(Debug, Default)]
pub struct AwsClock {
    seen: Mutex<Option<(DateTime, Instant)>>,
}

impl AwsClock {
    /// Records a `Date` header (`Thu, 03 Dec 2026 08:01:02 GMT`); anything unreadable is
    /// ignored, and the machine's clock is used instead.
    pub fn observe(&self, date_header: &str) {
        if let Ok(at) = DateTime::from_str(date_header.trim(), Format::HttpDate) {
            *self.seen.lock().expect("clock lock") = Some((at, Instant::now()));
        }
    }

    /// Now by AWS's clock (the last `Date` it sent, plus the time since), or `None` when no
    /// answer has carried one.
    pub fn now(&self) -> Option<DateTime> {
        let (at, when) = (*self.seen.lock().expect("clock lock"))?;
        let elapsed = when.elapsed();
        Some(DateTime::from_secs(at.secs() + elapsed.as_secs() as i64))
    }
}

/// An interceptor that hands every answer's `Date` header to an [`AwsClock`].
#[derive(Debug)]
pub struct DateHeader(pub std::sync::Arc<AwsClock>);

impl Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "DateHeader"
    }

    fn read_after_transmit(&self, context: &BeforeDeserializationInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            self.0.observe(date);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_header_sets_the_clock_and_garbage_does_not() {
        let clock = AwsClock::default();
        assert_eq!(clock.now(), None);
        clock.observe("yesterday");
        assert_eq!(clock.now(), None);
        clock.observe("Thu, 03 Dec 2026 08:01:02 GMT");
        assert_eq!(crate::timestamp::of(&clock.now().unwrap()), "2026-12-03T08:01:02Z");
    }
}
