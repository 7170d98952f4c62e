// Modelled on WPT url/url-constructor.any.js, url-setters, url-searchparams.
test(() => {
  const u = new URL("https://user:pass@example.com:8080/a/./b/../c?x=1#frag");
  assert_equals(u.href, "https://user:pass@example.com:8080/a/c?x=1#frag");
  assert_equals(u.protocol, "https:");
  assert_equals(u.username, "user");
  assert_equals(u.password, "pass");
  assert_equals(u.host, "example.com:8080");
  assert_equals(u.hostname, "example.com");
  assert_equals(u.port, "8080");
  assert_equals(u.pathname, "/a/c");
  assert_equals(u.search, "?x=1");
  assert_equals(u.hash, "#frag");
  assert_equals(u.origin, "https://example.com:8080");
}, "URL components");
test(() => {
  assert_equals(new URL("../x?y#z", "http://h/a/b/c").href, "http://h/a/x?y#z");
  assert_equals(new URL("//other/p", "https://h/").href, "https://other/p");
  assert_equals(new URL("HTTP://EXAMPLE.com:80/").href, "http://example.com/");
  assert_equals(new URL("http://[::1]:8080/").hostname, "[::1]");
  assert_equals(new URL("http://0x7f.1/").hostname, "127.0.0.1");
  assert_equals(new URL("http://example.com/ä b").pathname, "/%C3%A4%20b");
  assert_equals(new URL("http://münchen.de/").hostname, "xn--mnchen-3ya.de");
}, "URL parsing with base, normalisation, IPv4/IPv6, IDNA");
test(() => {
  assert_throws_js(TypeError, () => new URL("not a url"));
  assert_throws_js(TypeError, () => new URL("/relative"));
  assert_throws_js(TypeError, () => new URL("http://a b/"));
  assert_throws_js(TypeError, () => new URL("x", "also not a url"));
  assert_false(URL.canParse("nope"));
  assert_true(URL.canParse("/p", "http://h"));
  assert_equals(URL.parse("nope"), null);
}, "URL failures");
test(() => {
  const u = new URL("http://example.com/path?a=1");
  u.pathname = "/new path";
  assert_equals(u.pathname, "/new%20path");
  u.search = "b=2";
  assert_equals(u.search, "?b=2");
  assert_equals(u.searchParams.get("b"), "2");
  u.hash = "h";
  assert_equals(u.hash, "#h");
  u.port = "8443";
  u.protocol = "https";
  assert_equals(u.href, "https://example.com:8443/new%20path?b=2#h");
  u.port = "443";
  assert_equals(u.port, "");
  u.host = "other.org:99";
  assert_equals(u.host, "other.org:99");
  u.username = "me";
  assert_equals(u.href, "https://me@other.org:99/new%20path?b=2#h");
  assert_throws_js(TypeError, () => { u.href = "::::"; });
  u.href = "http://x/";
  assert_equals(u.toString(), "http://x/");
  assert_equals(JSON.stringify({ u }), '{"u":"http://x/"}');
}, "URL setters");
test(() => {
  const u = new URL("http://h/?a=1&b=2");
  u.searchParams.append("c", "x y");
  assert_equals(u.search, "?a=1&b=2&c=x+y");
  u.searchParams.delete("a");
  assert_equals(u.href, "http://h/?b=2&c=x+y");
  u.search = "?z=9";
  assert_equals(u.searchParams.get("z"), "9");
  assert_false(u.searchParams.has("b"));
  u.searchParams.delete("z");
  assert_equals(u.href, "http://h/");
}, "URL.searchParams stays in sync with the URL");
