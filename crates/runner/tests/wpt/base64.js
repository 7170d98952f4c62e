// Modelled on WPT html/webappapis/atob/base64.any.js.
test(() => {
  assert_equals(btoa(""), "");
  assert_equals(btoa("f"), "Zg==");
  assert_equals(btoa("fo"), "Zm8=");
  assert_equals(btoa("foo"), "Zm9v");
  assert_equals(btoa("\xff\xfe\x00"), "//4A");
  assert_equals(btoa(12), "MTI=");
  assert_throws_dom("InvalidCharacterError", () => btoa("€"));
  assert_throws_js(TypeError, () => btoa());
}, "btoa");
test(() => {
  assert_equals(atob(""), "");
  assert_equals(atob("Zg=="), "f");
  assert_equals(atob("Zg"), "f");
  assert_equals(atob(" Z m 9\tv\n"), "foo");
  assert_equals(atob("//4A"), "\xff\xfe\x00");
  for (const bad of ["Z", "Zg=", "Zg===", "Zm9v=", "a*b=", "Zg==Zg=="]) {
    assert_throws_dom("InvalidCharacterError", () => atob(bad), bad);
  }
}, "atob (forgiving-base64)");
