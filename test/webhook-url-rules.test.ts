/**
 * Where a webhook may point (worker/validate/webhook-url.ts), address by
 * address: every refused range at its edges and just past them, IPv6 forms
 * (compressed, mapped, 6to4 around public and private IPv4, Teredo,
 * documentation), names that only mean something inside a network, and the
 * exact words an admin is given. test/webhook-targets.test.ts checks the same
 * rule through the API and before each delivery.
 */
import { describe, expect, it } from "vitest";
import { parseV4, parseV6, webhookTargetProblem } from "../worker/validate/webhook-url";

const refusedAddress = (host: string) =>
  `The webhook URL points at a loopback, private, link-local or reserved address (${host}); use a public address`;
const internal = (host: string) =>
  `The webhook URL names a host that is only reachable inside a network (${host}); use a public host name`;

describe("webhook targets", () => {
  it.each([
    "https://hooks.example.com/x",
    "https://example.com:8443/",
    "https://example.com:2053/",
    "https://Example.COM./path",
    "https://local.example.com/",
    "https://notlocal.com/",
    "https://1.1.1.1/",
    "https://8.8.8.8:2096/",
    "https://9.255.255.255/",
    "https://11.0.0.1/",
    "https://100.63.255.255/",
    "https://100.128.0.1/",
    "https://126.255.255.255/",
    "https://128.0.0.1/",
    "https://169.253.255.255/",
    "https://169.255.0.1/",
    "https://172.15.255.255/",
    "https://172.32.0.1/",
    "https://192.0.1.1/",
    "https://192.167.255.255/",
    "https://192.169.0.1/",
    "https://198.17.255.255/",
    "https://198.20.0.1/",
    "https://223.255.255.255/",
    "https://[2606:4700::1111]/",
    "https://[2606:4700:4700:0:0:0:0:1111]/",
    "https://[2001:4860::8888]/",
    "https://[2001:1::1]/",
    "https://[2002:808:808::1]/",
    "https://[3fff:ffff::1]/",
  ])("%s is a public HTTPS address", (url) => {
    expect(webhookTargetProblem(url)).toBeNull();
  });

  it.each([
    ["https://127.0.0.1/", "127.0.0.1"],
    ["https://2130706433/", "127.0.0.1"],
    ["https://0x7f.1/", "127.0.0.1"],
    ["https://0177.0.0.1/", "127.0.0.1"],
    ["https://0.0.0.0/", "0.0.0.0"],
    ["https://10.0.0.0/", "10.0.0.0"],
    ["https://10.255.255.255/", "10.255.255.255"],
    ["https://100.64.0.1/", "100.64.0.1"],
    ["https://100.127.255.255/", "100.127.255.255"],
    ["https://169.254.169.254/", "169.254.169.254"],
    ["https://172.16.0.1/", "172.16.0.1"],
    ["https://172.31.255.255/", "172.31.255.255"],
    ["https://192.0.0.1/", "192.0.0.1"],
    ["https://192.0.2.1/", "192.0.2.1"],
    ["https://192.88.99.1/", "192.88.99.1"],
    ["https://192.168.1.1/", "192.168.1.1"],
    ["https://198.18.0.1/", "198.18.0.1"],
    ["https://198.19.255.255/", "198.19.255.255"],
    ["https://198.51.100.1/", "198.51.100.1"],
    ["https://203.0.113.1/", "203.0.113.1"],
    ["https://224.0.0.1/", "224.0.0.1"],
    ["https://239.255.255.255/", "239.255.255.255"],
    ["https://240.0.0.1/", "240.0.0.1"],
    ["https://255.255.255.255/", "255.255.255.255"],
    ["https://[::1]/", "[::1]"],
    ["https://[::]/", "[::]"],
    ["https://[fe80::1]/", "[fe80::1]"],
    ["https://[fc00::1]/", "[fc00::1]"],
    ["https://[fd12:3456::1]/", "[fd12:3456::1]"],
    ["https://[ff02::1]/", "[ff02::1]"],
    ["https://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
    ["https://[64:ff9b::1.2.3.4]/", "[64:ff9b::102:304]"],
    ["https://[4000::1]/", "[4000::1]"],
    ["https://[2001:db8::1]/", "[2001:db8::1]"],
    ["https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]"],
    ["https://[2002:7f00:1::1]/", "[2002:7f00:1::1]"],
    ["https://[2002:a00:1::]/", "[2002:a00:1::]"],
    ["https://[2002:c0a8:101::1]/", "[2002:c0a8:101::1]"],
  ])("%s is refused as an address that is not public", (url, host) => {
    expect(webhookTargetProblem(url)).toBe(refusedAddress(host));
  });

  it.each([
    ["https://intranet/", "intranet"],
    ["https://mylocal/", "mylocal"],
    ["https://localhost/", "localhost"],
    ["https://LOCALHOST./", "localhost"],
    ["https://app.localhost/", "app.localhost"],
    ["https://printer.local/", "printer.local"],
    ["https://db.internal/", "db.internal"],
    ["https://host.localdomain/", "host.localdomain"],
    ["https://1.0.0.127.in-addr.arpa/", "1.0.0.127.in-addr.arpa"],
    ["https://router.home.arpa/", "router.home.arpa"],
    ["https://nas.lan/", "nas.lan"],
    ["https://box.home/", "box.home"],
    ["https://srv.corp/", "srv.corp"],
    ["https://wiki.intranet/", "wiki.intranet"],
    ["https://x.private/", "x.private"],
  ])("%s is refused as a name inside a network", (url, host) => {
    expect(webhookTargetProblem(url)).toBe(internal(host));
  });

  it("the scheme, credentials, port and form, each refused in words", () => {
    expect(webhookTargetProblem("not a url")).toBe("The webhook URL is not a valid URL");
    expect(webhookTargetProblem("https://256.1.1.1/")).toBe("The webhook URL is not a valid URL");
    expect(webhookTargetProblem("http://example.com/")).toBe("The webhook URL must start with https://");
    const credentials =
      "The webhook URL must not contain a user name or password; authenticate with the signature instead";
    expect(webhookTargetProblem("https://user@example.com/")).toBe(credentials);
    expect(webhookTargetProblem("https://:secret@example.com/")).toBe(credentials);
    expect(webhookTargetProblem("https://user:secret@example.com/")).toBe(credentials);
    expect(webhookTargetProblem("https://example.com:22/")).toBe(
      "Port 22 is not allowed for webhooks; use 443 (or 2053, 2083, 2087, 2096, 8443)",
    );
    expect(webhookTargetProblem("https://example.com:80/")).toMatch(/^Port 80 is not allowed/);
  });
});

describe("the address parsers, on their own", () => {
  it("IPv4: four decimal octets up to 255, nothing around them", () => {
    expect(parseV4("1.2.3.4")).toEqual([1, 2, 3, 4]);
    expect(parseV4("255.255.255.255")).toEqual([255, 255, 255, 255]);
    for (const bad of ["256.1.1.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "a1.2.3.4", "1.2.3.4x", "1.2.3.", ""]) {
      expect(parseV4(bad), bad).toBeNull();
    }
  });

  it("IPv6: eight groups, `::` once for the missing ones, a dotted IPv4 tail", () => {
    const zeros = [0, 0, 0, 0, 0, 0, 0, 0];
    expect(parseV6("::")).toEqual(zeros);
    expect(parseV6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseV6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseV6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseV6("1:2:3:4:5:6::8")).toEqual([1, 2, 3, 4, 5, 6, 0, 8]);
    expect(parseV6("ABCD:ef01::")).toEqual([0xabcd, 0xef01, 0, 0, 0, 0, 0, 0]);
    expect(parseV6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseV6("1:2:3:4:5:6:10.0.0.1")).toEqual([1, 2, 3, 4, 5, 6, 0x0a00, 0x0001]);
    for (const bad of [
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "1:2:3:4::5:6:7:8",
      "12345::",
      "g::",
      ":1",
      "::ffff:1.2.3.256",
      "::ffff:1.2.3",
      "1.2.3.4",
      "",
    ]) {
      expect(parseV6(bad), bad).toBeNull();
    }
  });

  it("ranges end where they end: the first address past each is public", () => {
    for (const url of ["https://11.0.0.0/", "https://128.0.0.0/", "https://172.32.0.0/", "https://198.20.0.0/"]) {
      expect(webhookTargetProblem(url), url).toBeNull();
    }
    // Documentation and Teredo are two groups each: the second group alone refuses nothing.
    expect(webhookTargetProblem("https://[2400:db8::1]/")).toBeNull();
    expect(webhookTargetProblem("https://[2400:0:1::1]/")).toBeNull();
  });
});
