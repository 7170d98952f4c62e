//! `GET /attestation` with the development NSM (no /dev/nsm here).

mod common;

use common::{test_limits, TestRunner};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_view_carries_the_inputs_and_says_it_is_a_development_document() {
    let r = TestRunner::start(test_limits()).await;
    let reply = r.get("/attestation?format=json&nonce=c0ffee&user_data=0x68656c6c6f").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let view = reply.json();
    assert_eq!(view["nsm"], "development");
    assert_eq!(view["development"], true);
    assert_eq!(view["nonce"], "c0ffee");
    assert_eq!(view["user_data"], "68656c6c6f");
    assert_eq!(view["pcrs"]["0"], "00".repeat(48));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cbor_answer_is_the_signed_document() {
    let r = TestRunner::start(test_limits()).await;
    let reply = r.get("/attestation?nonce=01020304").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/cbor");
    let doc = sworn_attestation::SignedDocument::from_cbor(&reply.body).expect("COSE_Sign1 document");
    assert_eq!(doc.document.nonce.as_deref(), Some(&[1u8, 2, 3, 4][..]));
    assert!(doc.document.module_id.starts_with(sworn_nsm::DEV_MODULE_ID_PREFIX));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_get_400_naming_the_problem() {
    let r = TestRunner::start(test_limits()).await;
    for (query, expected) in [("nonce=xyz", "nonce"), ("format=yaml", "format"), ("pcr=0", "unknown query parameter")] {
        let reply = r.get(&format!("/attestation?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert!(reply.json()["error"].as_str().unwrap_or("").contains(expected), "{query}: {}", reply.text());
    }
    let long = format!("/attestation?user_data={}", "ab".repeat(513));
    let reply = r.get(&long).await;
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("limit of 512"), "{}", reply.text());
    let reply = r.request("POST", "/attestation", &[], "").await;
    assert_eq!(reply.status, 405);
}
