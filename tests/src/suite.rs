//! Running async test cases under libtest-mimic, so each test binary's `main` can start the
//! services first and stop them after every test has run.

use libtest_mimic::{Arguments, Failed, Trial};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// A shared tokio runtime for the trials of one binary.
pub fn runtime() -> Arc<tokio::runtime::Runtime> {
    Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    )
}

/// A named async test case. A panic (a failed assert) fails the trial with its message.
pub fn case<C, F, Fut>(rt: &Arc<tokio::runtime::Runtime>, ctx: &C, name: &str, test: F) -> Trial
where
    C: Clone + Send + 'static,
    F: FnOnce(C) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let rt = Arc::clone(rt);
    let ctx = ctx.clone();
    Trial::test(name, move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(test(ctx))));
        outcome.map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the test panicked".to_owned());
            Failed::from(message)
        })
    })
}

/// Parses the usual test-binary arguments (`--nocapture`, filters, `--test-threads`...).
pub fn arguments() -> Arguments {
    Arguments::from_args()
}

/// A trial per async test function, named after the function (so names are sentences):
/// `cases![&rt, &ctx; a_test, another_test]`.
#[macro_export]
macro_rules! cases {
    ($rt:expr, $ctx:expr; $($test:ident),* $(,)?) => {
        vec![$($crate::suite::case($rt, $ctx, stringify!($test), $test)),*]
    };
}
