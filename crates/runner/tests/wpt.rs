//! Web platform API tests modelled on the Web Platform Tests: each file in
//! tests/wpt runs inside a worker under a small testharness subset.

mod common;

use common::{test_limits, TestRunner};

const HARNESS: &str = include_str!("wpt/harness.js");

async fn run(name: &str, source: &str) {
    let r = TestRunner::start(test_limits()).await;
    let code = format!("{HARNESS}\n{source}");
    r.deploy(name, "module", &code).await;
    r.fetch(name, "").await.assert_all_passed(name);
}

macro_rules! wpt {
    ($($test:ident => $file:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            run(stringify!($test), include_str!(concat!("wpt/", $file))).await;
        }
    )*};
}

wpt! {
    url => "url.js",
    urlsearchparams => "urlsearchparams.js",
    encoding => "encoding.js",
    base64 => "base64.js",
    headers => "headers.js",
    request_response => "request_response.js",
    events_and_abort => "events.js",
    timers => "timers.js",
    structured_clone => "structured_clone.js",
    streams => "streams.js",
    blob_formdata_crypto => "blob_crypto.js",
}
