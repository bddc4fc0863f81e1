import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crossSiteRefusal, type DashboardRequest } from "./agendash.ts";

const host = "127.0.0.1:3100";
const json = "application/json";

describe("crossSiteRefusal: the job dashboard changes jobs only from its own pages", () => {
  const cases: [string, DashboardRequest, number | undefined][] = [
    ["a page is read with any headers", { method: "GET", headers: { host, origin: "https://evil.example" } }, undefined],
    ["the dashboard's own script (JSON, its origin)", { method: "POST", headers: { host, origin: `http://${host}`, "content-type": json, "sec-fetch-site": "same-origin" } }, undefined],
    ["a script or curl without Origin, JSON", { method: "POST", headers: { host, "content-type": `${json}; charset=utf-8` } }, undefined],
    ["a form from another site (urlencoded)", { method: "POST", headers: { host, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" } }, 415],
    ["a form posted as text/plain", { method: "POST", headers: { host, "content-type": "text/plain" } }, 415],
    ["a multipart form", { method: "POST", headers: { host, "content-type": "multipart/form-data; boundary=x" } }, 415],
    ["no body type", { method: "DELETE", headers: { host } }, 415],
    ["JSON from another origin", { method: "POST", headers: { host, origin: "https://evil.example", "content-type": json } }, 403],
    ["JSON from the same host on another port", { method: "POST", headers: { host, origin: "http://127.0.0.1:8080", "content-type": json } }, 403],
    ["a cross-site fetch named by the browser", { method: "POST", headers: { host, "content-type": json, "sec-fetch-site": "cross-site" } }, 403],
    ["a same-site (not same-origin) fetch", { method: "POST", headers: { host, "content-type": json, "sec-fetch-site": "same-site" } }, 403],
    ["an opaque origin (sandboxed frame)", { method: "POST", headers: { host, origin: "null", "content-type": json } }, 403],
  ];
  for (const [name, req, status] of cases) {
    it(name, () => assert.equal(crossSiteRefusal(req)?.status, status));
  }
});
