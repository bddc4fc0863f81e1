// Runs once, on the first start of an empty data directory (the image's entrypoint), as the
// root user: creates Taqib's own user, with readWrite on the taqib database only.
const user = process.env.TAQIB_DB_USER;
const pwd = process.env.TAQIB_DB_PASSWORD;
if (!user || !pwd) throw new Error("TAQIB_DB_USER and TAQIB_DB_PASSWORD must be set");
db.getSiblingDB("taqib").createUser({ user, pwd, roles: [{ role: "readWrite", db: "taqib" }] });
