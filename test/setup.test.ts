// scripts/setup.sh on a machine whose Go cannot build FerretDB v1.24.2 (Debian 12's 1.19), and
// a build that fails half-way: a message saying what to install, a failing exit, nothing left in TMPDIR.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { tempDir } from "./support/harness.ts";

const tmp = tempDir("taqib-setup-");
after(() => tmp.remove());

/** A copy of the project's scripts (no .tools: FerretDB must be built) and a fake `go` of the given version. */
function world(goVersion: string) {
  const dir = fs.mkdtempSync(path.join(tmp.dir, "w-"));
  const root = path.join(dir, "root");
  fs.cpSync("scripts", path.join(root, "scripts"), { recursive: true });
  const bin = path.join(dir, "bin");
  const modcache = path.join(dir, "modcache");
  // A module cache holding a FerretDB source the patches do not apply to: the build fails after the copy.
  const src = path.join(modcache, "github.com/!ferret!d!b/!ferret!d!b@v1.24.2");
  fs.mkdirSync(path.join(src, "build/version"), { recursive: true });
  fs.writeFileSync(path.join(src, "go.mod"), "module github.com/FerretDB/FerretDB\n\ngo 1.24\n\ntoolchain go1.24.3\n");
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, "go"),
    `#!/bin/sh
case "$1 $2" in
  "env GOVERSION") echo go${goVersion} ;;
  "env GOMODCACHE") echo ${modcache} ;;
  "env GOTOOLCHAIN") echo local ;;
  "version "*) echo "go version go${goVersion} linux/amd64" ;;
  *) echo "fake go: $*" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  const tmpdir = path.join(dir, "tmp");
  fs.mkdirSync(tmpdir);
  const r = spawnSync("bash", [path.join(root, "scripts/setup.sh"), "ferretdb"], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: process.env.HOME, TMPDIR: tmpdir },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ...r, leftInTmp: fs.readdirSync(tmpdir), root };
}

test("Go 1.19 (Debian 12's golang): setup says exactly which Go and how to get it, fails, leaves nothing behind", () => {
  const r = world("1.19.8");
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /FerretDB v1\.24\.2 is built from source with Go >= 1\.24; this go is 1\.19\.8/);
  assert.match(r.stderr, /https:\/\/go\.dev\/dl\/go1\.24\.3\.linux-amd64\.tar\.gz/);
  assert.match(r.stderr, /unknown directive: toolchain/);
  assert.deepEqual(r.leftInTmp, []);
  assert.ok(!fs.existsSync(path.join(r.root, ".tools/bin/ferretdb")));
});

test("a build that fails half-way (a patch that does not apply) shows its steps and removes its temporary source", () => {
  const r = world("1.24.3");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /building FerretDB v1\.24\.2 .* \(once\)/);
  assert.match(r.stderr, /\[ferretdb \d+s\] 1\/4 /);
  assert.match(r.stderr, /\[ferretdb \d+s\] 2\/4 copy and patch/);
  assert.match(r.stderr, /does not apply to FerretDB v1\.24\.2/);
  assert.deepEqual(r.leftInTmp, [], "no ferretdb-build.* directory left");
});
