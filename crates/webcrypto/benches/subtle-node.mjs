// Node's crypto.subtle (OpenSSL) on the same operations as benches/subtle.rs.
// Prints {"operation": nanoseconds per call}. Usage: node subtle-node.mjs SECONDS
const { subtle } = globalThis.crypto;
const budgetMs = Number(process.argv[2] ?? 0.5) * 1000;

async function measure(f) {
  await f();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < budgetMs) {
    await f();
    n++;
  }
  return ((performance.now() - start) * 1e6) / n;
}

const kib = new Uint8Array(1024).fill(7);
const mib = new Uint8Array(1 << 20).fill(7);
const r = {};
r["digest SHA-256 1 KiB"] = await measure(() => subtle.digest("SHA-256", kib));
r["digest SHA-256 1 MiB"] = await measure(() => subtle.digest("SHA-256", mib));
const hmac = await subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
r["HMAC-SHA-256 sign 1 KiB"] = await measure(() => subtle.sign("HMAC", hmac, kib));
const gcmKey = await subtle.importKey("raw", new Uint8Array(32).fill(2), "AES-GCM", false, ["encrypt"]);
const iv12 = new Uint8Array(12).fill(3);
r["AES-256-GCM encrypt 1 MiB"] = await measure(() => subtle.encrypt({ name: "AES-GCM", iv: iv12 }, gcmKey, mib));
const cbcKey = await subtle.importKey("raw", new Uint8Array(32).fill(2), "AES-CBC", false, ["encrypt"]);
const iv16 = new Uint8Array(16).fill(3);
r["AES-256-CBC encrypt 1 MiB"] = await measure(() => subtle.encrypt({ name: "AES-CBC", iv: iv16 }, cbcKey, mib));
const ec = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
const ecdsa = { name: "ECDSA", hash: "SHA-256" };
const sig = await subtle.sign(ecdsa, ec.privateKey, kib);
r["ECDSA P-256 sign"] = await measure(() => subtle.sign(ecdsa, ec.privateKey, kib));
r["ECDSA P-256 verify"] = await measure(() => subtle.verify(ecdsa, ec.publicKey, sig, kib));
const ed = await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
const esig = await subtle.sign("Ed25519", ed.privateKey, kib);
r["Ed25519 sign"] = await measure(() => subtle.sign("Ed25519", ed.privateKey, kib));
r["Ed25519 verify"] = await measure(() => subtle.verify("Ed25519", ed.publicKey, esig, kib));
const dh = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
r["ECDH P-256 deriveBits"] = await measure(() => subtle.deriveBits({ name: "ECDH", public: dh.publicKey }, dh.privateKey, 256));
const x = await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
r["X25519 deriveBits"] = await measure(() => subtle.deriveBits({ name: "X25519", public: x.publicKey }, x.privateKey, 256));
const pw = await subtle.importKey("raw", new TextEncoder().encode("password"), "PBKDF2", false, ["deriveBits"]);
const salt = new TextEncoder().encode("salt");
r["PBKDF2-SHA-256 100k iterations"] = await measure(() =>
  subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100000 }, pw, 256));
r["generateKey ECDSA P-256"] = await measure(() => subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]));
process.stdout.write(JSON.stringify(r));
